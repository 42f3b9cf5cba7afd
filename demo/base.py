"""The demo planner's state and building blocks (demo/planner.py, demo/supervision.py)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime

from application.bootstrap import Container
from demo.data import (
    FORCED,
    Actors,
    CaseRef,
    Held,
    Project,
    Report,
    Run,
    Step,
    Track,
)
from domain.catalog import Item


class PlannerBase:
    """The planner's state and the building blocks every part of it uses."""

    def __init__(self, container: Container, seed: int) -> None:
        self.c = container
        self.rng = random.Random(seed)  # noqa: S311 — reproducible demo data, not secrets
        self.actors = Actors()
        self.seq = 0
        self.requests = 0
        self.forced = list(FORCED)
        self.codes: set[str] = set()
        self.owners: dict[str, list[tuple[str, str]]] = {}
        self.documents = 0
        self.parcels = 0
        self.scripts: list[list[Step]] = []
        self.cases: list[CaseRef] = []
        self.generated = 0
        self.back_entries = 0
        self.merges = 0
        # the supervision side draws from its own stream, so the approvals stay as they were
        self.srng = random.Random(seed + 1)  # noqa: S311 — reproducible demo data, not secrets
        self.oversight: list[Step] = []  # steps about no single project (feedback, inquiries)
        self.scripts.append(self.oversight)
        self.reports: list[Report] = []
        self.reviews: list[tuple[Project, CaseRef, datetime]] = []  # GJ-3-01 cases in review
        self.back_refs: list[tuple[Project, CaseRef, Item, datetime]] = []
        self.count: Counter[str] = Counter()
        self.projects: list[Project] = []
        self.late_cases: list[tuple[Project, CaseRef, datetime]] = []
        self.bad: list[tuple[Track, Project, Item, Held]] = []  # bad reviews, each with its track

    def add(self, p: Project | list[Step], at: datetime, run: Run) -> None:
        self.seq += 1
        (p.steps if isinstance(p, Project) else p).append(Step(at, self.seq, run))

    def request_id(self) -> str:
        """Assigned when a step runs, so ids follow the log order."""
        self.requests += 1
        return f"demo-{self.requests:06d}"

    def after(self, moment: datetime) -> Track:
        """A track on the supervision stream that starts after `moment`."""
        tr = Track(self.srng)
        tr.last = moment
        return tr
