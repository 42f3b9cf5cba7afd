"""`gongjian` — the command line. Every command reads GONGJIAN_DATABASE_URL / GONGJIAN_REDIS_URL
through Settings and builds what it needs with `bootstrap`. Sub-commands live in typer sub-apps."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from application.bootstrap import Container, bootstrap
from infrastructure.settings import Settings

app = typer.Typer(help="工建 — event-sourced construction-project approval backend.", no_args_is_help=True)
projections = typer.Typer(help="投影 — read models: run, rebuild, status.", no_args_is_help=True)
app.add_typer(projections, name="projections")

console = Console()


def _container() -> Container:
    return bootstrap(Settings())


@projections.command("run")
def projections_run(
    batch_size: Annotated[int | None, typer.Option(min=1, help="events per transaction")] = None,
) -> None:
    """Follow the log and keep every read model up to date, until SIGINT or SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    container = _container()
    if batch_size is not None:
        container.engine.batch_size = batch_size
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()
        container.waker.notify(0)

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    names = ", ".join(container.engine.models)
    console.print(f"projections running: {names} (batch size {container.engine.batch_size})")
    try:
        container.engine.run(stop)
    finally:
        container.close()
    console.print("projections stopped")


@projections.command("rebuild")
def projections_rebuild(name: Annotated[str, typer.Argument(help="read model name")]) -> None:
    """Drop a read model's rows and replay the whole log into it."""
    container = _container()
    try:
        if name not in container.engine.models:
            known = ", ".join(container.engine.models)
            console.print(f"[red]unknown read model {name!r}[/red]; known: {known}")
            raise typer.Exit(code=2)
        count = container.engine.rebuild(name)
        console.print(f"{name}: rebuilt from {count} events, position {container.engine.position(name)}")
    finally:
        container.close()


@projections.command("status")
def projections_status() -> None:
    """Each read model's position against the log's."""
    container = _container()
    try:
        table = Table("read model", "position", "log position", "lag")
        for row in container.engine.status():
            table.add_row(row["name"], str(row["position"]), str(row["log_position"]), str(row["lag"]))
        console.print(table)
    finally:
        container.close()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
