"""A project's way through the stages, and the clean part of the dump: owners with up to 15
projects, phases of one development, names with and without region prefixes and suffixes."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from tests.city_dump.city import (
    CITY_FIRE_REVIEW,
    STEPS,
    Case,
    Plan,
    Project,
    certify,
    permits,
    write_case,
    write_project,
)
from tests.city_dump.model import DISTRICTS, Dump, add_workdays, office, uscc
from tests.imported_scenario import PHASES, PREFIXES, SUFFIXES

PLACES = (
    "江东新区滨江", "美兰临空产业园", "秀英港湾", "龙华金盘", "琼山府城", "桂林洋", "长流起步区", "西海岸南片",
    "观澜湖", "演丰镇", "新埠岛", "五源河", "海甸岛东", "灵山镇", "云龙产业园", "大致坡",
)  # fmt: skip
TYPES = ("安置区", "商业中心", "人才公寓", "学校", "物流园", "医院综合楼", "产业孵化基地", "市政道路")


def instant(day: date, rng: random.Random) -> list[tuple[int, datetime]]:
    """即办件: received, accepted and approved within minutes."""
    received = office(day, rng)
    return [(1, received), (3, received + timedelta(minutes=2, seconds=rng.randint(0, 59))),
            (11, received + timedelta(minutes=rng.randint(6, 25), seconds=rng.randint(0, 59)))]  # fmt: skip


def lifecycle(d: Dump, rng: random.Random, p: Project, start: date, depth: int,
              plans: dict[str, Plan] | None = None, skip: frozenset[str] = frozenset(),
              certificates: bool = True) -> dict[str, Case]:  # fmt: skip
    """The first `depth` steps of the project, each applied for after its prerequisites were
    approved, with weeks of preparation between stages; certificates and permits as issued."""
    plans = plans or {}
    write_project(d, p, office(start, rng))
    cases: dict[str, Case] = {}
    day = add_workdays(start, rng.randint(1, 5))
    for step in STEPS[:depth]:
        if day > d.end:
            break
        ends = []
        for item in step:
            if item in skip:
                continue
            # 容缺通过: now and then approved with a material to follow
            plan = plans.get(item) or Plan(status=12 if rng.random() < 0.08 else 11)
            if item == "GJ-1-01" and not plan.times:
                plan.times = instant(day, rng)
            if item == "GJ-3-02" and plan.city_item is None and rng.random() < 0.4:
                plan.city_item = CITY_FIRE_REVIEW
            case = write_case(d, rng, p, item, day, plan)
            cases[item] = case
            ends.append(case.statuses[-1][1].date())
            if certificates:
                certify(d, rng, p, case)
            permits(d, p, case)
        day = add_workdays(max(ends, default=day), rng.randint(2, 12 if len(step) == 1 else 20))
    return cases


def project_code(n: int, region: str, month: int = 1, legacy: bool = False) -> str:
    prefix = "2019" if legacy else f"26{month:02d}"
    return f"{prefix}-{region}-04-01-{n:06d}"


def name(place: str, kind: str, phase: str | None, variant: int) -> str:
    return f"{PREFIXES[variant % 4]}{place}{kind}{phase or ''}{SUFFIXES[variant % 4]}"


def clean(d: Dump, rng: random.Random, projects: int, first: int = 1) -> list[Project]:
    """`projects` clean projects of owners holding 1–15 projects each; an owner's developments each
    have a place of their own, and run in one to three phases."""
    out: list[Project] = []
    owner, n = 0, first
    while len(out) < projects:
        owner += 1
        holding = min(projects - len(out), rng.choice((1, 1, 2, 3, 4, 6, 9, 15)))
        places = rng.sample(PLACES, k=min(len(PLACES), holding))
        developments = 0
        while holding > 0:
            place, kind = places[developments % len(places)], TYPES[(owner + developments) % len(TYPES)]
            phases = min(holding, rng.choice((1, 1, 2, 3)))
            for k in range(phases):
                phase = PHASES[k] if phases > 1 else None
                region = DISTRICTS[n % len(DISTRICTS)]
                start = date(2026, 1, 5) + timedelta(days=rng.randint(0, 200))
                p = Project(project_code(n, region, start.month), region, uscc(owner),
                            name(place, kind, phase, n), rng.choice(("HK-LC-01", "HK-LC-03")))  # fmt: skip
                depth = rng.randint(2, len(STEPS))
                lifecycle(d, rng, p, start, depth)
                d.clean.add(p.code)
                out.append(p)
                n += 1
                holding -= 1
            developments += 1
    return out
