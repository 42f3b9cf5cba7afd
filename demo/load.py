"""`load_demo`: the planned steps run in time order on the simulated clock."""

from __future__ import annotations

import heapq
import time as timer
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, time

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from application.bootstrap import Container
from application.clock import SimulatedClock
from demo.data import (
    END,
    START,
    DemoSummary,
    Step,
)
from demo.figures import count_overdue
from demo.planner import Planner
from domain.approvals.status import CaseStatus
from domain.shared.errors import Conflict
from domain.shared.events import SHANGHAI


def demo_clock() -> SimulatedClock:
    """The clock the demo runs on: before the first working morning of 2026-01-05."""
    return SimulatedClock(datetime.combine(START, time(8, 0), SHANGHAI).astimezone(UTC))


def load_demo(
    container: Container, clock: SimulatedClock, projects: int = 200, seed: int = 20261127, progress: bool = True
) -> DemoSummary:
    """演示数据 — write the demo year into an empty store through the application services."""
    if container.clock is not clock:
        raise ValueError("the container must run on the simulated clock passed in (bootstrap(settings, clock))")
    if container.app.max_position() > 0:
        raise Conflict("the store already holds events: the demo loads into an empty store only")
    began = timer.perf_counter()
    planner = Planner(container, seed)
    planner.catalogue()
    planner.seals()
    for index in range(projects):
        planner.project(index, projects)
    planner.supervise()
    steps = list(_until(heapq.merge(*(sorted(s) for s in planner.scripts)), END))
    if steps and clock.now() > steps[0].at:
        raise ValueError(f"the simulated clock must start before {steps[0].at.isoformat()} (see demo_clock())")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, disable=not progress) as bar:
        task = bar.add_task("演示数据 demo", total=len(steps))
        for step in steps:
            clock.set(step.at.astimezone(UTC))
            step.run()
            bar.advance(task)
    return _summary(container, planner, timer.perf_counter() - began)


def _until(steps: Iterator[Step], end: datetime) -> Iterator[Step]:
    for step in steps:
        if step.at > end:
            return
        yield step


def _summary(container: Container, planner: Planner, seconds: float) -> DemoSummary:
    today = END.date()
    statuses: Counter[str] = Counter()
    for ref in planner.cases:
        assert ref.status is not None  # set by the submission
        statuses[CaseStatus(ref.status).label] += 1
    # 超期 as `statistics` and the monthly report count it (domain/approvals/overdue.py)
    overdue = count_overdue(container, (ref.uuid() for ref in planner.cases), today, START.year)
    return DemoSummary(
        projects=planner.generated,
        cases=len(planner.cases),
        events=container.app.max_position(),
        by_status=dict(sorted(statuses.items(), key=lambda kv: -kv[1])),
        overdue=overdue,
        back_entries=planner.back_entries,
        merges=planner.merges,
        seconds=round(seconds, 2),
        ratings=planner.count["ratings"],
        bad_reviews=planner.count["bad_reviews"],
        external_records=planner.count["external_records"],
        feedback=planner.count["feedback"],
        inquiries=planner.count["inquiries"],
        seals=planner.count["seals"],
    )
