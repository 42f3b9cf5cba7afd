"""`gongjian import projects FILE --official NAME` for a file with licence columns: 在建工程迁移
(application/migration.py). Exit 0 when migrated or already migrated, 1 with bad rows (nothing
written), 2 when the file or the command cannot be read at all."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

import typer
from rich.console import Console

from application.bootstrap import Container
from application.commands import Invocation
from application.commands.migration import MigrateProjects
from application.migration import MigrationService, check_header, is_migration, read_table
from application.policy import Actor
from domain.shared.errors import DomainError, InvalidValue

MIGRATOR = Actor("cli-integration", "integration", "gongjian", "460000", "在建工程迁移")


def is_migration_file(path: Path) -> bool:
    """An XLSX file always goes through the migration reader; a CSV when it has licence columns."""
    if path.suffix.lower() == ".xlsx":
        return True
    with path.open(encoding="utf-8-sig") as f:
        header = [h.strip() for h in f.readline().split(",")]
    return is_migration(header)


def migrate_file(path: Path, official: str, console: Console, container_of: Callable[[], Container]) -> None:
    try:
        header, rows = read_table(path)
        check_header(header)
        if not official.strip():
            raise InvalidValue("official", "--official NAME: the migrating official is required", "required")
    except (InvalidValue, OSError, ValueError) as exc:
        console.print(f"[red]{exc.message if isinstance(exc, InvalidValue) else exc}[/red]", soft_wrap=True)
        raise typer.Exit(code=2) from None
    container = container_of()
    try:
        service = MigrationService(container.projects, container.licences.keys)
        try:
            by = Invocation(MIGRATOR, f"cli-{uuid.uuid4()}")
            report = service.migrate(by, MigrateProjects(official, path, rows))
        except DomainError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(code=2) from None
    finally:
        container.close()
    say = partial(console.print, soft_wrap=True)  # one line per fact, whatever the terminal's width
    say(f"{path.name} sha256 {report.source_sha256}: {report.rows} rows")
    if report.errors:
        say(f"{len(report.errors)} bad rows: nothing written")
        for err in report.errors:
            say(f"  row {err['row']}: {err['column']} {err['rule']}: {err['message']}")
        raise typer.Exit(code=1)
    say(
        f"{report.projects} projects generated, {report.approvals} approvals and {report.licences} licences migrated,"
        f" {report.unchanged} rows already migrated"
        + (f" (position {report.position})" if report.written else " (nothing written)")
    )
