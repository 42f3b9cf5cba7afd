"""`gongjian projections` — 投影: follow the log (run), rebuild read models, and show where every read
model and every follower of the log stands (status). Added to `gongjian` in interfaces/cli.py."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Column, Table

from interfaces.cli_calendar import warn_if_missing

if TYPE_CHECKING:
    from application.bootstrap import Container

projections = typer.Typer(help="投影 — read models: run, rebuild, status.", no_args_is_help=True)
console = Console()


def _container() -> Container:
    from interfaces.cli import _container as build

    return build()


@projections.command("run")
def projections_run(
    batch_size: Annotated[int | None, typer.Option(min=1, help="events per transaction")] = None,
) -> None:
    """Follow the log: keep every read model up to date and drive the process managers, until SIGINT or SIGTERM."""
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
    managers = ", ".join(container.engine.managers.managers)
    console.print(f"process managers: {managers} (licences, archives, delivery messages)")
    try:
        container.engine.run(stop, managers=True)
    finally:
        container.close()
    console.print("projections stopped")


@projections.command("rebuild")
def projections_rebuild(
    name: Annotated[str | None, typer.Argument(help="read model name")] = None,
    all_: Annotated[bool, typer.Option("--all", help="every read model")] = False,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="processes for --all on PostgreSQL (default: the CPU count; SQLite: 1)"),
    ] = None,
) -> None:
    """Drop a read model's rows (or every read model's, --all) and replay the whole log into it.
    A process manager (automation, delivery_producer) is refused: a replay would issue its commands again."""
    if (name is None) == (not all_):
        console.print("[red]name one read model or give --all[/red]")
        raise typer.Exit(code=2)
    container = _container()
    try:
        if name is not None and name in container.engine.managers.managers:
            try:
                container.engine.managers.refuse_rebuild([name])
            except ValueError as exc:
                console.print(f"[red]{exc}[/red]")
            raise typer.Exit(code=2)
        if name is not None and name not in container.engine.models:
            known = ", ".join(container.engine.models)
            console.print(f"[red]unknown read model {name!r}[/red]; known: {known}")
            raise typer.Exit(code=2)
        if name is not None:
            count = container.engine.rebuild(name)
            console.print(f"{name}: rebuilt from {count} events, position {container.engine.position(name)}")
            return
        engine = container.engine
        n = workers or os.cpu_count() or 1
        groups = engine.rebuild_groups(list(engine.models), n, container.app.max_position())  # as rebuild_all splits
        started = time.perf_counter()
        count = engine.rebuild_all(workers=n, settings=container.settings)
        seconds = time.perf_counter() - started
        console.print(
            f"{len(engine.models)} read models rebuilt from {count} events in {seconds:.1f} s "
            f"({len(groups)} process{'es' if len(groups) > 1 else ''}), position {min(engine.positions().values())}"
        )
    finally:
        container.close()


@projections.command("status")
def projections_status() -> None:
    """Each read model's and process manager's position against the log's, and every runner with its state."""
    container = _container()
    try:
        engine = container.engine
        rows = [*engine.status(), *engine.managers.status(container.app.max_position())]
        # on a narrow terminal only the upgrade notes wrap: names and kinds stay whole
        first = Column("follows the log", no_wrap=True, min_width=max((len(r["name"]) for r in rows), default=0))
        kinds = Column("kind", no_wrap=True, min_width=len("process manager"))
        table = Table(first, kinds, "position", "log position", "lag", "upgrade")
        for row in rows:
            kind = row.get("kind", "read model")
            table.add_row(
                row["name"], kind, str(row["position"]), str(row["log_position"]), str(row["lag"]), _upgrade(row)
            )
        console.print(table)
        runners = Table("follower", "state", "since", "reconnects", "last heard", "last error")
        for r in container.engine.runners():
            runners.add_row(
                r["runner"],
                r["state"],
                r["since"],
                str(r["reconnects"]),
                f"{r['heartbeat_age_s']} s ago",
                r["last_error"] or "",
            )
        console.print(runners)
        warn_if_missing(container)  # 工作日历 (issue 17): from 1 December without next year's schedule
    finally:
        container.close()


def _upgrade(row: dict[str, Any]) -> str:
    """A shadow being built (projections/upgrade.py): its rate and ETA; a read model this version
    does not apply: why (its shadow is being built, or a newer version's shape is live)."""
    if row.get("kind") == "shadow":
        eta = "-" if row["eta_s"] is None else f"{row['eta_s']:.0f} s"
        return f"{row['state']}: {row['rate']:,.0f} events/s, ETA {eta}"
    state = row.get("state", "live")
    return "" if state == "live" else str(state)
