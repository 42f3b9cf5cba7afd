"""The OpenAPI docs, Swagger UI at /docs, with its script and styles from fastapi-offline's copy
(Swagger UI 5.32.6 in fastapi-offline 1.7.7) served under /static/docs, and GraphiQL's under
/static/graphiql: no page loads anything from outside the machine. FastAPI's own /docs loads from
public CDNs, so create_app turns it off. There is no /redoc: ReDoc 2.5.3 (also in fastapi-offline)
renders its logo from cdn.redoc.ly whatever its options."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from interfaces.graphql import ide

ASSETS = Path(str(files("fastapi_offline") / "static"))
URL = "/static/docs"


def install(app: FastAPI, docs_url: str = "/docs") -> None:
    app.mount(URL, StaticFiles(directory=ASSETS), name="docs-assets")
    ide.mount_assets(app)
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = app.swagger_ui_oauth2_redirect_url or f"{docs_url}/oauth2-redirect"

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{URL}/favicon.png",
            oauth2_redirect_url=root + redirect_url,
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
