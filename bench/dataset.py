"""A deterministic Hainan-scale dataset for the benchmarks: projects in every city/county unit, their
cases through the four stages (receipt, acceptance, corrections, review, opinions, special
procedures, approval, refusal and resubmission, withdrawal), offline back-entries, unit works and
the applicants' ratings.

Every event is made by the domain's aggregates (`Project.generate`, `Case.receive`, `case.accept`,
`Rating.rate`, …) with the same metadata the services give, and stored through the application's
recorder (`app.save_all`), one transaction per project and stage. What it skips is the services'
per-command work (loading aggregates back, idempotency receipts, one transaction per command):
that is what makes a million events take minutes rather than hours. Same seed, same events (ids
included; only the recording order of the store is ours).

`python -m bench.dataset` fills GONGJIAN_BENCH_DATABASE_URL with GONGJIAN_BENCH_EVENTS events.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from application.app import GongjianApplication
from application.demo import UNITS
from domain.approvals import Case, Decision
from domain.catalog import CATALOG, Item
from domain.projects import Project
from domain.shared.codes import USCC_ALPHABET, uscc_check_char
from domain.shared.events import SHANGHAI, Channel, Meta
from domain.supervision.rating import DIMENSIONS, Rating

SEED = 20261127
START = datetime(2026, 1, 5, 9, 0, tzinfo=SHANGHAI)
STAGES = (1, 2, 3, 4)
FLOWS = (1, 3, 4, 5)  # building flows (the linear ones need red lines)
CHANNELS = ("pc", "mobile", "window_device", "sms", "hotline")


@dataclass(frozen=True)
class Who:
    actor_id: str
    role: str
    org: str

    def meta(self, now: datetime, request_id: str, channel: Channel = Channel.WINDOW, **kw: Any) -> Meta:
        return Meta(self.actor_id, self.role, self.org, channel, request_id, now, **kw)


class Generator:
    """Writes projects until the log holds at least `events` events more than when it started."""

    def __init__(self, app: GongjianApplication, seed: int = SEED) -> None:
        self.app = app
        self.rng = random.Random(seed)
        self.units = sorted(UNITS)
        self.requests = 0
        self.projects = 0
        self.saved = 0  # events stored by this generator
        self.seconds = 0.0  # time spent in app.save_all (the "bulk import")

    def uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def request(self) -> str:
        self.requests += 1
        return f"bench-{self.requests:09d}"

    def run(self, events: int, progress: Callable[[int], None] | None = None) -> int:
        while self.saved < events:
            self.project(self.projects)
            self.projects += 1
            if progress is not None and self.projects % 200 == 0:
                progress(self.saved)
        return self.saved

    def save(self, *aggregates: Any) -> None:
        count = sum(len(a.pending_events) for a in aggregates)
        started = time.perf_counter()
        self.app.save_all(*aggregates)
        self.seconds += time.perf_counter() - started
        self.saved += count

    # --- one project ---------------------------------------------------------------------------

    def project(self, index: int) -> None:
        rng = self.rng
        unit = self.units[index % len(self.units)]
        now = START + timedelta(minutes=7 * index + rng.randrange(60))
        owner = _uscc(rng, unit)
        clerk = Who(f"clerk-{unit}-{1 + index % 2}", "window_clerk", f"{unit}-zwfw")
        applicant = Who(f"applicant-{owner}", "applicant", owner)
        serial = index + 1
        project = Project.generate(
            applicant.meta(now, self.request(), Channel.ONLINE),
            code=f"{now:%y%m}-{unit}-04-01-{serial % 10**6:06d}",
            name=f"基准项目{serial}号",
            owner_name=f"基准建设公司{serial % 997}",
            owner_uscc=owner,
            region_code=unit,
            flow_type=rng.choice(FLOWS),
            investment_type="enterprise",
            category="房屋建筑",
            total_investment=Decimal(rng.randrange(500, 500_000)),
            planned_start=now.date(),
            planned_end=now.date() + timedelta(days=730),
            red_line=None,
        )
        for n in range(rng.randrange(1, 4)):
            now += timedelta(minutes=rng.randrange(5, 90))
            project.register_unit_work(
                applicant.meta(now, self.request(), Channel.ONLINE),
                name=f"{n + 1}号楼",
                floor_area_m2=Decimal(rng.randrange(800, 40_000)),
                storeys=rng.randrange(2, 33),
            )
        self.save(project)
        for stage in STAGES:
            if stage > 1 and rng.random() < 0.08:
                return  # some projects stop before the next stage
            cases: list[Case] = []
            ratings: list[Rating] = []
            for item in CATALOG.by_stage(stage):
                if project.missing_prerequisites(item.prerequisites):
                    continue
                now += timedelta(days=rng.randrange(1, 6), minutes=rng.randrange(600))
                if rng.random() < 0.02:
                    cases.append(self.back_entry(project, item, now))
                    continue
                now = self.case(project, item, unit, clerk, applicant, now, cases, ratings)
            self.save(project, *cases, *ratings)

    def case(
        self,
        project: Project,
        item: Item,
        unit: str,
        clerk: Who,
        applicant: Who,
        now: datetime,
        cases: list[Case],
        ratings: list[Rating],
    ) -> datetime:
        """One application, resubmitted after a refusal; returns the time it ended."""
        rng = self.rng
        reviewer = Who(f"reviewer-{unit}-{item.department}", "reviewer", f"{unit}-{item.department}")
        approver = Who(f"approver-{unit}-{item.department}", "approver", f"{unit}-{item.department}")
        for _attempt in range(3):
            case = Case.receive(
                clerk.meta(now, self.request()),
                case_id=self.uuid(),
                project_id=project.id,
                project_code=project.code,
                region_code=project.region_code,
                applicant_org=project.owner_uscc,
                item=item,
                situation_codes=[],
                materials=[],
                parallel_application_id=None,
                acceptance_mode=1,
            )
            cases.append(case)
            now += timedelta(minutes=rng.randrange(20, 240))
            if rng.random() < 0.03:
                case.not_accept(clerk.meta(now, self.request()), "材料不属于本事项")
                now += timedelta(days=1)
                continue
            case.accept(clerk.meta(now, self.request()), item)
            if rng.random() < 0.15:
                now += timedelta(days=rng.randrange(1, 3))
                case.request_correction(reviewer.meta(now, self.request()), ["补充图纸"], "一次性告知")
                now += timedelta(days=rng.randrange(1, 5))
                case.complete_correction(applicant.meta(now, self.request(), Channel.ONLINE), "已补正")
            now += timedelta(hours=rng.randrange(2, 30))
            case.start_review(reviewer.meta(now, self.request()))
            for _ in range(rng.randrange(1, 3)):
                now += timedelta(hours=rng.randrange(1, 20))
                case.record_opinion(reviewer.meta(now, self.request()), item.department, "同意", "agree")
            if rng.random() < 0.03:
                now += timedelta(hours=2)
                case.start_special_procedure(approver.meta(now, self.request()), "expert_review", "专家评审", 10, "")
                now += timedelta(days=rng.randrange(3, 16))
                case.end_special_procedure(approver.meta(now, self.request()), "通过")
            now += timedelta(days=rng.randrange(1, 8))
            roll = rng.random()
            if roll < 0.04:
                case.withdraw(applicant.meta(now, self.request(), Channel.ONLINE), "项目调整")
                return now
            if roll < 0.09:
                case.refuse(approver.meta(now, self.request()), "不符合规划条件")
                self.rate(case, applicant, now, ratings, bad=True)
                now += timedelta(days=rng.randrange(2, 10))
                continue
            meta = approver.meta(now, self.request())
            case.approve(meta, f"{item.code}-{project.code}-{case.version}", item.name, None)
            project.record_item_approved(meta, case_id=case.id, item_code=item.code)
            if rng.random() < 0.6:
                self.rate(case, applicant, now, ratings, bad=False)
            return now
        return now

    def back_entry(self, project: Project, item: Item, now: datetime) -> Case:
        """先批后录: approved offline, entered afterwards (the W2 warning)."""
        unit = project.region_code
        recorder = Who(f"approver-{unit}-{item.department}", "approver", f"{unit}-{item.department}")
        decided = now - timedelta(days=3)
        meta = recorder.meta(now, self.request(), Channel.OFFLINE_BACKENTRY, occurred_at=decided)
        case = Case.back_enter(
            meta,
            case_id=self.uuid(),
            project_id=project.id,
            project_code=project.code,
            region_code=project.region_code,
            applicant_org=project.owner_uscc,
            item=item,
            decision=Decision.APPROVED,
            received_on=decided.date() - timedelta(days=10),
            accepted_on=decided.date() - timedelta(days=9),
            document_number=f"{item.code}-{project.code}-offline",
            reason="系统故障期间线下办理",
        )
        project.record_item_approved(meta, case_id=case.id, item_code=item.code)
        return case

    def rate(self, case: Case, applicant: Who, now: datetime, ratings: list[Rating], *, bad: bool) -> None:
        rng = self.rng
        level = rng.choice((1, 2, 3)) if bad else rng.choice((4, 5, 5, 5))
        ratings.append(
            Rating.rate(
                applicant.meta(now + timedelta(days=1), self.request(), Channel.ONLINE),
                case_id=case.id,
                case_status=int(case.status),
                case_facts={
                    "project_code": case.project_code,
                    "item_code": case.item_code,
                    "department": case.department,
                    "region_code": case.region_code,
                    "applicant_org": case.applicant_org,
                },
                level=level,
                evaluation_channel=rng.choice(CHANNELS),
                dimensions=dict.fromkeys(DIMENSIONS, level),
                comment="",
            )
        )


def _uscc(rng: random.Random, unit: str) -> str:
    first17 = "91" + unit + "MA5" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
    return first17 + uscc_check_char(first17)


def main() -> None:
    from bench.common import URL, open_container

    events = int(os.environ.get("GONGJIAN_BENCH_EVENTS", "20000"))
    c = open_container(URL)
    try:
        started = time.perf_counter()
        g = Generator(c.app)
        g.run(events, lambda n: print(f"{n} events", file=sys.stderr))
        print(f"{g.saved} events, {g.projects} projects in {time.perf_counter() - started:.1f}s")
    finally:
        c.close()


if __name__ == "__main__":
    main()
