"""`gongjian calendar` — 工作日历: publish a year's official holiday schedule from a file, and show
which calendar is in force (docs/operations.md, "The working calendar"). Added to `gongjian` in
interfaces/cli.py; `projections status` prints `warn_if_missing`'s line too."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from application.bootstrap import Container

calendar = typer.Typer(help="工作日历 — the working calendar: publish a year's schedule, status.", no_args_is_help=True)
console = Console()
CLI_ADMIN = "cli-admin"


def _container() -> Container:
    from interfaces.cli import _container as build

    return build()


def warn_if_missing(container: Container) -> None:
    """One line when this or next year has no schedule (from 1 December), on the container's clock."""
    warning = container.work_calendars.outlook()["warning"]
    if warning:
        console.print(f"[yellow]工作日历: {warning}[/yellow]")


@calendar.command("publish")
def publish(
    file: Annotated[Path, typer.Argument(help="JSON: {year, notice: {number, date[, title]}, holidays: [...]}")],
    reason: Annotated[str | None, typer.Option(help="why a year is published again (a correction)")] = None,
) -> None:
    """工作日历发布 — publish (or correct) a year's schedule as the admin; open cases are judged again."""
    from pydantic import ValidationError

    from application.commands import Invocation
    from application.commands.calendars import PublishWorkCalendar
    from application.policy import Actor
    from domain.shared.errors import DomainError, InvalidValue
    from interfaces.rest.routers.work_calendar import WorkCalendarPublication

    try:
        body = WorkCalendarPublication.model_validate(
            {**json.loads(file.read_text(encoding="utf-8")), "reason": reason}
        )
    except (ValidationError, ValueError) as exc:
        errors: list[Any] = exc.errors() if isinstance(exc, ValidationError) else [{"loc": ["file"], "msg": str(exc)}]
        for err in errors:
            console.print(f"[red]{'.'.join(str(p) for p in err['loc'])}[/red]: {err['msg']}")
        raise typer.Exit(code=1) from None
    container = _container()
    try:
        actor = Actor(CLI_ADMIN, "admin", "gongjian", "460000", "工作日历发布")
        schedule = body.model_dump(mode="json", exclude={"reason"})
        result = container.work_calendars.publish(
            Invocation(actor, f"cli-{uuid.uuid4()}"), PublishWorkCalendar(schedule, body.reason)
        )
    except InvalidValue as exc:
        console.print(f"[red]{exc.field}[/red] ({exc.rule}): {exc.message}")
        raise typer.Exit(code=1) from None
    except DomainError as exc:
        console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(code=1) from None
    finally:
        container.close()
    console.print(
        f"calendar {result.year} version {result.version} at position {result.position}; "
        f"{len(result.recomputed)} open cases judged again"
    )


@calendar.command("status")
def status() -> None:
    """Which calendar is in force this year and next (published, package, estimated), with the warning."""
    container = _container()
    try:
        outlook = container.work_calendars.outlook()
    finally:
        container.close()
    console.print(f"{outlook['year']}: {outlook['source']}; {outlook['next_year']}: {outlook['next_year_source']}")
    if outlook["warning"]:
        console.print(f"[yellow]{outlook['warning']}[/yellow]")
