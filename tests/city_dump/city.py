"""The city's flows, projects and cases as SPGL rows, and the certificates other systems report.

A clean case: received (1) in office hours, accepted (3) the same day or the next working day,
review started (8), approved (11) within the item's promised limit in working days (corrections and
special procedures pause it), an approval document (PFWH, ZZBH) the same day; every row recorded
by the city minutes after its business time and uploaded in the nightly batch.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from domain.exchange import spgl
from tests.city_dump.model import (
    CITY,
    DEPARTMENT_NAMES,
    ITEMS,
    SHANGHAI,
    STAGE_LIMITS,
    SYSTEM,
    Dump,
    add_workdays,
    is_workday,
    next_workday,
    office,
    stamp,
)

FLOWS = {"HK-LC-01": 1, "HK-LC-03": 3}
CITY_FIRE_REVIEW = "HK-SX-302"  # the city's own code of the fire review (ours: GJ-3-02)
# our items in the order a project applies for them; a tuple runs in parallel
STEPS: tuple[tuple[str, ...], ...] = (
    ("GJ-1-01",), ("GJ-1-02",), ("GJ-1-03",), ("GJ-2-01",), ("GJ-3-01", "GJ-3-02"), ("GJ-3-03",),
    ("GJ-4-01", "GJ-4-02"), ("GJ-4-03",),
)  # fmt: skip
KINDS = {  # ExternalRecord kind of an item's certificate
    "GJ-1-02": "license",
    "GJ-1-03": "planning_permit",
    "GJ-2-01": "planning_permit",
    "GJ-3-01": "drawing_review_certificate",
    "GJ-3-03": "construction_permit",
    "GJ-4-03": "completion_filing",
}
CITES = {"GJ-3-03": {"YDGHXKZBH": "GJ-1-03", "GCGHXKZBH": "GJ-2-01", "SCHGSBH": "GJ-3-01"}, "GJ-4-03": {"SGXKZBH": "GJ-3-03"}}  # fmt: skip


def write_flows(d: Dump, at: datetime) -> None:
    """The city's flows; stage limits are the province's (the seed edition's stages sheet) so both judge alike."""
    for code, flow_type in FLOWS.items():
        d.row(
            spgl.FLOW, code, CITY, at, SPLCBM=code, SPLCMC=f"海口市审批流程{flow_type}", SPLCBBH="2.1", SPLCLX=flow_type
        )
        for stage in (1, 2, 3, 4, 5):
            limit = STAGE_LIMITS.get(stage, "")
            d.row(
                spgl.STAGE, f"{code}-{stage}", CITY, at, SPLCBM=code, SPLCBBH="2.1", SPJDXH=stage,
                SPJDMC=f"第{stage}阶段", DYBZSPJDXH=stage, SPJDSX=limit,
            )  # fmt: skip
        for item in (*ITEMS, CITY_FIRE_REVIEW):
            stage = 3 if item == CITY_FIRE_REVIEW else ITEMS[item]["stage"]
            d.row(
                spgl.STAGE_ITEM, f"{code}-{item}", CITY, at, SPLCBM=code, SPLCBBH="2.1", SPJDXH=stage,
                SPSXBM=item, SPSXBBH="1.0", SPSXMC=ITEMS.get(item, {}).get("name", "消防设计审查"),
                SFLCBSX=int(bool(ITEMS.get(item, {}).get("milestone"))),
            )  # fmt: skip


@dataclass
class Project:
    code: str
    region: str
    owner: str
    name: str
    flow: str
    numbers: dict[str, str] = field(default_factory=dict)  # item → the number certificates cite (ZZBH)
    approved: dict[str, date] = field(default_factory=dict)  # item → approval date

    @property
    def gcdm(self) -> str:
        return f"{self.code}-001"


def write_project(d: Dump, p: Project, on: datetime, key: str | None = None) -> None:
    d.row(
        spgl.PROJECT, key or f"XM-{p.code}", p.region, on, XMDM=p.code, GCDM=p.gcdm, XMMC=p.name, SPLCBM=p.flow,
        SPLCBBH="2.1", SPLCLX=FLOWS[p.flow], JSDW=f"海南{p.owner[-6:]}置业有限公司", JSDWDM=p.owner,
        ZTZE="12000.00", SBSJ=stamp(on), NKGSJ=(on + timedelta(days=200)).date().isoformat(),
    )  # fmt: skip
    d.row(spgl.PARTY, f"ZT-{p.code}", p.region, on, XMDM=p.code, GCDM=p.gcdm, DWLX="建设单位",
          DWMC=f"海南{p.owner[-6:]}置业有限公司", DWTYSHXYDM=p.owner)  # fmt: skip
    n = int(p.code[-6:])
    x, y = 110.2 + (n % 100) * 0.01, 19.9 + (n // 100 % 100) * 0.01  # a small square of its own
    d.row(spgl.RED_LINE, f"HX-{p.code}", p.region, on, GCDM=p.gcdm,
          XMJWDZB=f"{x:.4f},{y:.4f};{x + 0.002:.4f},{y:.4f};{x + 0.002:.4f},{y + 0.002:.4f};{x:.4f},{y + 0.002:.4f}")  # fmt: skip


@dataclass
class Case:
    """What a written case gives back: its number, the times of its statuses, its numbers."""

    case_id: str
    item: str
    statuses: list[tuple[int, datetime]]
    pfwh: str = ""
    zzbh: str = ""

    def at(self, status: int) -> datetime:
        return next(t for s, t in self.statuses if s == status)


@dataclass
class Plan:
    """How one case goes; the defaults are a clean case."""

    days: int | None = None  # working days from acceptance to approval (None: a random clean one)
    corrections: int = 0
    special: tuple[int, int] | None = None  # (limit days, days it lasted)
    closed: bool = True
    status: int = 11  # the closing status
    accept: bool = True
    times: list[tuple[int, datetime]] | None = None  # explicit status times
    shape: Callable[[date, random.Random], list[tuple[int, datetime]]] | None = None  # times from the step's day
    city_item: str | None = None
    document: bool = True
    department: str | None = None
    recorded_lag: timedelta | None = None  # the city recorded its rows this long after the business time
    uploaded: datetime | None = None


def clean_days(item: str, rng: random.Random) -> int:
    promised = ITEMS[item]["promised_limit_days"]
    return rng.randint(1, max(1, promised - 1))


def write_case(d: Dump, rng: random.Random, p: Project, item: str, day: date, plan: Plan | None = None) -> Case:
    plan = plan or Plan()
    case_id = f"HKSL{len(d.rows):07d}"
    statuses = plan.times or (plan.shape(day, rng) if plan.shape else _statuses(rng, item, day, plan))
    code = plan.city_item or item
    dept = plan.department or ITEMS[item]["department"]
    lag = plan.recorded_lag

    def recorded(t: datetime) -> datetime:
        return t + (lag if lag is not None else timedelta(minutes=rng.randint(1, 40)))

    received = statuses[0][1]
    d.row(
        spgl.CASE, case_id, p.region, recorded(received), uploaded=plan.uploaded, GCDM=p.gcdm, SPSXBM=code, SPSXBBH="1.0",
        SPLCBM=p.flow, SPLCBBH="2.1", SPSXSLBM=case_id, SPBMBM=dept, SPBMMC=DEPARTMENT_NAMES.get(dept, dept),
        SLFS=rng.choice((1, 4)), SXBLSX=ITEMS[item]["promised_limit_days"],
    )  # fmt: skip
    for k, (status, t) in enumerate(statuses):
        d.row(
            spgl.STATUS, f"{case_id}-{k}", p.region, recorded(t), uploaded=plan.uploaded, GCDM=p.gcdm, SPSXSLBM=case_id,
            BLCS="海口市政务服务中心", BLR=f"clerk{rng.randint(1, 40)}", BLZT=status, BLSJ=stamp(t), SJLY=SYSTEM,
        )  # fmt: skip
    case = Case(case_id, item, statuses)
    if plan.special:
        start = next(t for s, t in statuses if s == 9)
        d.row(
            spgl.SPECIAL, f"{case_id}-TB", p.region, recorded(start), uploaded=plan.uploaded, SPSXSLBM=case_id, TBCX=1,
            TBCXMC="专家评审", TBCXKSSJ=stamp(start), TBCXSXLX=1, TBCXSX=plan.special[0],
        )  # fmt: skip
    approved = [t for s, t in statuses if s in (11, 12)]
    if approved and plan.document:
        on = approved[0]
        case.pfwh, case.zzbh = f"琼{dept}审〔{on.year}〕{case_id[4:]}号", f"{p.region}{on.year}{case_id[4:]}"
        d.row(
            spgl.DOCUMENT, f"{case_id}-W", p.region, recorded(on), uploaded=plan.uploaded, GCDM=p.gcdm, SPSXSLBM=case_id,
            PFRQ=on.date().isoformat(), PFWH=case.pfwh, PFWJBT=f"关于{p.name}的批复", PFWJYXQX="9999-01-01",
            SPJGLX=1, ZZBH=case.zzbh,
        )  # fmt: skip
        p.numbers[item], p.approved[item] = case.zzbh, on.date()
    return case


def _statuses(rng: random.Random, item: str, day: date, plan: Plan) -> list[tuple[int, datetime]]:
    received = office(day, rng)
    out = [(1, received)]
    if not plan.accept:
        closing = office(add_workdays(day, plan.days or 2), rng)
        return [*out, (8, received + timedelta(minutes=rng.randint(30, 200))), (plan.status, closing)]
    accepted = received + timedelta(minutes=rng.randint(12, 95))
    out.append((3, accepted))
    days = plan.days if plan.days is not None else clean_days(item, rng)
    cur, paused = accepted.date(), 0
    cur = next_workday(cur)
    out.append((8, office(cur, rng)))
    for _ in range(plan.corrections):
        out.append((6, out[-1][1] + timedelta(hours=rng.randint(1, 3), minutes=rng.randint(0, 59))))
        back = add_workdays(out[-1][1].date(), rng.randint(2, 4))
        paused += _workdays_between(out[-1][1].date(), back)
        out.append((7, office(back, rng)))
    if plan.special:
        start = out[-1][1] + timedelta(hours=1, minutes=rng.randint(0, 59))
        end = add_workdays(start.date(), plan.special[1])
        paused += plan.special[1]
        out += [(9, start), (10, office(end, rng))]
    if not plan.closed:
        return out
    on = add_workdays(accepted.date(), days + paused)
    last = out[-1][1]
    closing = office(on, rng) if on > last.date() else last + timedelta(minutes=rng.randint(20, 90))
    return [*out, (plan.status, closing)]


def _workdays_between(start: date, end: date) -> int:
    return sum(is_workday(start + timedelta(days=n)) for n in range(1, (end - start).days + 1))


def certify(d: Dump, rng: random.Random, p: Project, case: Case, **override: object) -> dict[str, object] | None:
    """The licence library (or the industry system) reports the certificate of an approved item,
    numbered by its document number or its licence number, the evening of the approval."""
    if case.item not in KINDS or not case.zzbh:
        return None
    on = p.approved[case.item]
    upstream = {f: p.numbers[i] for f, i in CITES.get(case.item, {}).items() if i in p.numbers}
    fields: dict[str, object] = {
        "kind": KINDS[case.item], "project_code": p.code, "item_code": case.item,
        "number": rng.choice((case.pfwh, case.zzbh)), "issued_on": on, "upstream": upstream,
    }  # fmt: skip
    fields |= override
    reported = datetime.combine(on, datetime.min.time(), SHANGHAI) + timedelta(hours=18, minutes=rng.randint(0, 200))
    return d.certificate(reported, **fields)


def permits(d: Dump, p: Project, case: Case) -> None:
    """The city's permit tables for the items that issue one (they cite upstream licence numbers)."""
    on = case.statuses[-1][1] + timedelta(minutes=30)
    day = p.approved.get(case.item)
    if day is None:
        return
    if case.item == "GJ-1-03":
        d.row(spgl.LAND_PERMIT, f"YD-{case.case_id}", p.region, on, YDGHXKZBH=case.zzbh, GCDM=p.gcdm)
    elif case.item == "GJ-2-01":
        d.row(spgl.WORKS_PERMIT, f"GH-{case.case_id}", p.region, on, GCGHXKZBH=case.zzbh, GCDM=p.gcdm)
    elif case.item == "GJ-3-03":
        cites: dict[str, Any] = {f: p.numbers[i] for f, i in CITES["GJ-3-03"].items() if i in p.numbers}
        d.row(spgl.BUILD_PERMIT, f"SG-{case.case_id}", p.region, on, SGXKZBH=case.zzbh, GCDM=p.gcdm,
              FZJG="海口市住房和城乡建设局", FZRQ=day.isoformat(), **cites)  # fmt: skip
    elif case.item == "GJ-4-03" and "GJ-3-03" in p.numbers:
        d.row(spgl.COMPLETION, f"JG-{case.case_id}", p.region, on, JGYSBABH=case.zzbh, GCDM=p.gcdm,
              SGXKZBH=p.numbers["GJ-3-03"], BARQ=day.isoformat())  # fmt: skip
