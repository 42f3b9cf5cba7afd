"""`gongjian catalogue import PATH` — 事项库发布: publish an edition of the item catalogue from a file
(an .xlsx workbook, a directory of <sheet>.csv or a .zip of them; docs/catalogue.md "The catalogue
file"). Every bad row is printed (sheet, row, column, rule) and nothing is recorded; the file in
force again is refused (409) and records nothing. Added to `gongjian catalogue` in interfaces/cli.py."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
CLI_ADMIN = "cli-admin"


def import_edition(
    path: Annotated[Path, typer.Argument(help="an .xlsx workbook, a directory of <sheet>.csv, or a .zip of them")],
) -> None:
    """事项库发布 — publish an edition of the item catalogue (items, departments, licence types) as the admin."""
    from application.commands import Invocation
    from application.commands.catalogue import PublishCatalogueEdition
    from application.policy import Actor
    from domain.catalog.edition import CatalogueErrors
    from domain.shared.errors import DomainError, InvalidValue
    from infrastructure.catalogue_files import UnreadableFile, read_tables, sha256_of
    from interfaces.cli import _container

    if not path.exists():
        console.print(f"[red]{escape(str(path))}: no such file or directory[/red]")
        raise typer.Exit(code=1)
    try:
        tables = read_tables(path)
    except (UnreadableFile, UnicodeDecodeError) as exc:
        console.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(code=1) from None
    container = _container()
    try:
        actor = Actor(CLI_ADMIN, "admin", "gongjian", "460000", "事项库发布")
        result = container.catalogue_editions.publish(
            Invocation(actor, f"cli-{uuid.uuid4()}"),
            PublishCatalogueEdition(tables, sha256=sha256_of(path), file_name=path.name),
        )
    except CatalogueErrors as exc:
        for e in exc.errors:
            where = f"{e.sheet}" + (f" row {e.row}" if e.row else "") + (f" column {e.column}" if e.column else "")
            console.print(f"[red]{escape(where)}[/red] ({e.rule}): {escape(e.message)}")
        console.print(f"[red]{len(exc.errors)} errors: nothing recorded[/red]")
        raise typer.Exit(code=1) from None
    except InvalidValue as exc:
        console.print(f"[red]{exc.field}[/red] ({exc.rule}): {escape(exc.message)}")
        raise typer.Exit(code=1) from None
    except DomainError as exc:
        console.print(f"[red]refused:[/red] {escape(str(exc))}")
        raise typer.Exit(code=1) from None
    finally:
        container.close()
    flows = ", ".join(f"{f['code']} {f['version']}" for f in result.flows) or "none"
    console.print(
        f"edition {result.version} at position {result.position}: {result.items} items, "
        f"{result.departments} departments, {result.licence_types} licence types; flows published: {flows}"
    )
