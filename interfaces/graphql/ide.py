"""GraphiQL at /graphql with its scripts and styles from our own server, never a CDN: the government
intranets it runs on reach nothing outside. The page is strawberry's template (graphiql.html beside
this module) pointed at the copies under interfaces/static/graphiql (versions and how to update them:
the README there)."""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

ASSETS = Path(__file__).parents[1] / "static" / "graphiql"
URL = "/static/graphiql"
_TEMPLATE = (Path(__file__).parent / "graphiql.html").read_text(encoding="utf-8")


def graphiql_html(root_path: str = "") -> str:
    """The GraphiQL page, its assets under `root_path` (a reverse proxy's prefix, if any)."""
    return _TEMPLATE.replace("{{ static }}", html.escape(root_path.rstrip("/") + URL))


def mount_assets(app: FastAPI) -> None:
    app.mount(URL, StaticFiles(directory=ASSETS), name="graphiql-assets")
