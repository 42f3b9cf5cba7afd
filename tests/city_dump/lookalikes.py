"""Legitimate look-alikes: real work that resembles an anomaly and must raise nothing. Each kind
is derived from a rule's meaning and the thresholds in warning_rules.toml (read, not copied)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta

from domain.exchange import spgl
from tests.city_dump.city import CITY_FIRE_REVIEW, Case, Plan, Project, certify, write_case, write_project
from tests.city_dump.lifecycle import PLACES, TYPES, lifecycle, name, project_code
from tests.city_dump.model import (
    DEPARTMENT_NAMES,
    DISTRICTS,
    ITEMS,
    SHANGHAI,
    THRESHOLDS,
    Dump,
    Row,
    add_workdays,
    office,
    stamp,
    uscc,
)

MAX_LAG_H = THRESHOLDS["W2"]["max_business_lag_hours"]
MIN_MINUTES = THRESHOLDS["W3"]["min_minutes_receipt_to_approval"]
EQUAL_GAPS = THRESHOLDS["W3"]["synthetic_equal_gaps"]
MAX_CORRECTIONS = THRESHOLDS["W7"]["max_corrections"]
# the departments each item consults besides its own (the seed edition's items sheet)
CONSULTED: dict[str, list[str]] = {
    code: [d for d in item["consulted_departments"].split(";") if d] for code, item in ITEMS.items()
}


class Maker:
    """New projects for one kind each: own owner, own code, started on a given day."""

    def __init__(self, d: Dump, rng: random.Random, first: int, owner: int) -> None:
        self.d, self.rng, self.n, self.owner = d, rng, first, owner

    def project(self, named: str | None = None, owner: str | None = None, legacy: bool = False,
                start: date | None = None) -> tuple[Project, date]:  # fmt: skip
        self.n += 1
        if owner is None:
            self.owner += 1
        region = DISTRICTS[self.n % len(DISTRICTS)]
        start = start or date(2026, 2, 2) + timedelta(days=self.rng.randint(0, 120))
        place, kind = PLACES[self.n % len(PLACES)], TYPES[self.n % len(TYPES)]
        p = Project(project_code(self.n, region, start.month, legacy), region, owner or uscc(self.owner),
                    named or name(place, kind, None, self.n), self.rng.choice(("HK-LC-01", "HK-LC-03")))  # fmt: skip
        return p, start


def build_lookalikes(d: Dump, rng: random.Random, m: Maker, variants: int) -> None:
    kinds: dict[str, Callable[[Dump, random.Random, Maker, int], list[Project]]] = {
        "instant_filing": _instant,
        "one_correction": _one_correction,
        "closed_on_last_day": _last_day,
        "phases_of_one_owner": _phases,
        "nightly_lag_below_threshold": _lag,
        "consulted_department_in_flow": _consulted,
        "certificate_before_city_batch": _certificate_first,
        "project_renamed": _renamed,
        "same_name_other_owner": _same_name,
        "special_procedure_within_limit": _special,
        "fewer_equal_gaps_than_synthetic": _gaps,
        "quick_approval_above_threshold": _quick,
        "decided_across_a_holiday": _holiday,
        "fire_review_under_city_item_code": _city_item,
        "open_case_within_limit": _open,
        "mistyped_time_corrected_next_night": _corrected,
        "acceptance_row_uploaded_after_closure": _late_acceptance_row,
        "duplicate_case_row_invalidated": _duplicate_invalidated,
        "online_acceptance_in_the_same_second": _same_second,
    }
    for kind, make in kinds.items():
        for v in range(variants):
            for p in make(d, rng, m, v):
                d.lookalikes[p.code] = kind


def _instant(d: Dump, rng: random.Random, m: Maker, v: int) -> list[Project]:
    # 即办件: the enterprise filing (promised 1 working day) approved in minutes; lifecycle() does it
    p, start = m.project()
    lifecycle(d, rng, p, start, 3 + v)
    return [p]


def _one_correction(d: Dump, rng: random.Random, m: Maker, v: int) -> list[Project]:
    p, start = m.project()
    item = ("GJ-2-01", "GJ-3-01")[v % 2]
    lifecycle(d, rng, p, start, 6, {item: Plan(corrections=MAX_CORRECTIONS)})
    return [p]


def _last_day(d: Dump, rng: random.Random, m: Maker, v: int) -> list[Project]:
    p, start = m.project()
    item = ("GJ-1-02", "GJ-2-01")[v % 2]
    lifecycle(d, rng, p, start, 5, {item: Plan(days=ITEMS[item]["promised_limit_days"])})
    return [p]


def _phases(d: Dump, rng: random.Random, m: Maker, v: int) -> list[Project]:
    out = []
    first, start = m.project()
    place, kind = PLACES[(m.n + v) % len(PLACES)], TYPES[(m.n + v) % len(TYPES)]
    for k, phase in enumerate(("一期", "二期", "三期")):
        p, _ = m.project(name(place, kind, phase, k + v), owner=first.owner)
        lifecycle(d, rng, p, start + timedelta(days=40 * k), 4)
        out.append(p)
    return out


def _lag(d: Dump, rng: random.Random, m: Maker, v: int) -> list[Project]:
    # the clerk records the day's work the next day, and the batch after that carries it: from the
    # business time to its arrival here stays below the W2 tolerance
    p, start = m.project()
    lag = timedelta(hours=MAX_LAG_H // 2 - 2 * v)
    lifecycle(d, rng, p, start, 4, {"GJ-1-03": Plan(recorded_lag=lag)})
    return [p]


def _consulted(d: Dump, rng: random.Random, m: Maker, v: int) -> list[Project]:
    p, start = m.project()
    item = [i for i, depts in CONSULTED.items() if depts][v % 3]
    cases = lifecycle(d, rng, p, start, 8)
    case = cases.get(item) or cases["GJ-2-01"]
    dept = CONSULTED[case.item][0]
    on = case.statuses[2][1] + timedelta(hours=2)
    d.row(spgl.OPINION, f"{case.case_id}-YJ", p.region, on, SPSXSLBM=case.case_id, SPBMBM=dept,
          SPBMMC=DEPARTMENT_NAMES[dept], BLYJ="同意", YJJG=1)  # fmt: skip
    # a second round from the same department, named only (the city's full name of it)
    d.row(spgl.OPINION, f"{case.case_id}-YJ2", p.region, on + timedelta(hours=20), SPSXSLBM=case.case_id,
          SPBMMC=DEPARTMENT_NAMES[dept], BLYJ="同意（复核）", YJJG=1)  # fmt: skip
    return [p]


def _certificate_first(d: Dump, rng: random.Random, m: Maker, v: int) -> list[Project]:
    # the city's uploader is two nights late; the licence library reports the same evening
    p, start = m.project()
    lifecycle(d, rng, p, start, 3)
    case = lifecycle_case(d, rng, p, "GJ-2-01", start + timedelta(days=60), Plan())
    for row in d.rows:
        if row.fields.get("SPSXSLBM") == case.case_id:
            row.uploaded += timedelta(days=2)
    return [p]


def lifecycle_case(d: Dump, rng: random.Random, p: Project, item: str, day: date, plan: Plan) -> Case:
    """One more case of the project, and its certificate if it issues one."""
    case = write_case(d, rng, p, item, day, plan)
    certify(d, rng, p, case)
    return case


def _renamed(d: Dump, rng: random.Random, m: Maker, v: int) -> list[Project]:
    p, start = m.project()
    lifecycle(d, rng, p, start, 4)
    renamed = Project(p.code, p.region, p.owner, f"{p.name}（更名）" if v else f"海口市{p.name}", p.flow)
    write_project(d, renamed, office(start + timedelta(days=30), rng))
    return [p]


def _same_name(d: Dump, rng: random.Random, m: Maker, v: int) -> list[Project]:
    a, start = m.project()
    b, _ = m.project(a.name)
    lifecycle(d, rng, a, start, 3)
    lifecycle(d, rng, b, start + timedelta(days=3), 3)
    return [a, b]


def _special(d: Dump, rng: random.Random, m: Maker, v: int) -> list[Project]:
    p, start = m.project()
    limit = 5 + 5 * v
    lifecycle(d, rng, p, start, 5, {"GJ-3-01": Plan(special=(limit, limit - 1))})
    return [p]


def _gaps(d: Dump, rng: random.Random, m: Maker, v: int) -> list[Project]:
    # one gap fewer than the synthetic pattern, then an irregular one
    p, start = m.project()
    gap = timedelta(hours=2 + v)

    def shape(day: date, rng: random.Random) -> list[tuple[int, datetime]]:
        t = office(day, rng).replace(hour=9)
        times = [(s, t + k * gap) for k, s in enumerate((1, 3, 8)[:EQUAL_GAPS])]
        while len(times) < EQUAL_GAPS:
            times.append((8, times[-1][1] + gap))
        return [*times, (11, times[-1][1] + timedelta(days=1, minutes=17, seconds=23))]

    lifecycle(d, rng, p, start, 4, {"GJ-2-01": Plan(shape=shape)})
    return [p]


def _quick(d: Dump, rng: random.Random, m: Maker, v: int) -> list[Project]:
    p, start = m.project()

    def shape(day: date, rng: random.Random) -> list[tuple[int, datetime]]:
        t = office(day, rng).replace(hour=9)
        return [(1, t), (3, t + timedelta(minutes=4)), (11, t + timedelta(minutes=MIN_MINUTES + 15 + v, seconds=31))]

    lifecycle(d, rng, p, start, 3, {"GJ-1-03": Plan(shape=shape)})
    return [p]


def _holiday(d: Dump, rng: random.Random, m: Maker, v: int) -> list[Project]:
    # accepted before National Day, approved after it: many calendar days, few working days
    p, _ = m.project(start=date(2026, 6, 1) + timedelta(days=v))
    base = office(date(2026, 9, 29), rng).replace(hour=10)
    times = [(1, base), (3, base + timedelta(minutes=40)), (8, office(date(2026, 9, 30), rng)),
             (11, office(date(2026, 10, 12), rng))]  # fmt: skip
    lifecycle(d, rng, p, date(2026, 6, 1) + timedelta(days=v), 5, {"GJ-3-01": Plan(times=times)})
    return [p]


def _city_item(d: Dump, rng: random.Random, m: Maker, v: int) -> list[Project]:
    p, start = m.project()
    lifecycle(d, rng, p, start, 6, {"GJ-3-02": Plan(city_item=CITY_FIRE_REVIEW)})
    return [p]


def _open(d: Dump, rng: random.Random, m: Maker, v: int) -> list[Project]:
    # the last case of the dump is still under review, within its limit
    p, _ = m.project(start=d.end - timedelta(days=70))
    lifecycle(d, rng, p, d.end - timedelta(days=70), 3)
    lifecycle_case(d, rng, p, "GJ-2-01", d.end - timedelta(days=1 + v), Plan(closed=False))
    return [p]


def _corrected(d: Dump, rng: random.Random, m: Maker, v: int) -> list[Project]:
    # the approval row first went out with a mistyped time (minutes after receipt); the city sent
    # the corrected row of the same key the next night — the current content is what counts
    p, start = m.project()
    cases = lifecycle(d, rng, p, start, 4, certificates=False)
    case = cases["GJ-2-01"]
    # its approval: 办结（通过） 11, or 12 when the random plan closed it 容缺通过 (about one case in 12)
    row = next(
        r
        for r in d.rows
        if r.table == spgl.STATUS and r.fields["SPSXSLBM"] == case.case_id and r.fields["BLZT"] in (11, 12)
    )
    wrong = {**row.fields, "BLSJ": stamp(case.statuses[0][1] + timedelta(minutes=3 + v))}
    d.rows.append(Row(spgl.STATUS, wrong, row.uploaded))
    wrong["LSH"], row.fields["LSH"] = row.fields["LSH"], next(d._serial)
    fixed = datetime.strptime(row.fields["GXSJ"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI) + timedelta(hours=15)
    row.fields["GXSJ"], row.uploaded = stamp(fixed), row.uploaded + timedelta(days=1)
    return [p]


def _late_acceptance_row(d: Dump, rng: random.Random, m: Maker, v: int) -> list[Project]:
    # the uploader failed on the acceptance row and sent it again two nights later, after the closure
    p, start = m.project()
    cases = lifecycle(d, rng, p, start, 4, {"GJ-1-03": Plan(days=1)})
    case = cases["GJ-1-03"]
    row = next(
        r for r in d.rows if r.table == spgl.STATUS and r.fields["SPSXSLBM"] == case.case_id and r.fields["BLZT"] == 3
    )
    closed = next(
        r for r in d.rows if r.table == spgl.STATUS and r.fields["SPSXSLBM"] == case.case_id and r.fields["BLZT"] == 11
    )
    row.uploaded = closed.uploaded + timedelta(days=1 + v)
    row.fields["SJSCZT"] = 1  # uploaded (the retry)
    return [p]


def _duplicate_invalidated(d: Dump, rng: random.Random, m: Maker, v: int) -> list[Project]:
    # the city reported one case twice under two keys and withdrew the second the next night
    p, start = m.project()
    cases = lifecycle(d, rng, p, start, 4)
    case = cases["GJ-1-02" if v % 2 == 0 else "GJ-2-01"]
    row = next(r for r in d.rows if r.table == spgl.CASE and r.fields["DFSJZJ"] == case.case_id)
    twin = f"{case.case_id}D"
    copy = {**row.fields, "LSH": next(d._serial), "DFSJZJ": twin, "SPSXSLBM": twin}
    d.rows.append(Row(spgl.CASE, copy, row.uploaded))
    withdrawn = {**copy, "LSH": next(d._serial), "SJYXBS": 0, "SJWXYY": "重复上报"}
    d.rows.append(Row(spgl.CASE, withdrawn, row.uploaded + timedelta(days=1)))
    return [p]


def _same_second(d: Dump, rng: random.Random, m: Maker, v: int) -> list[Project]:
    # fully online (全程网办): received and accepted in the same second, then reviewed as usual
    p, start = m.project()

    def shape(day: date, rng: random.Random) -> list[tuple[int, datetime]]:
        t = office(day, rng)
        review = office(add_workdays(day, 1), rng)
        return [(1, t), (3, t), (8, review), (11, office(add_workdays(day, 3 + v), rng))]

    lifecycle(d, rng, p, start, 4, {"GJ-2-01": Plan(shape=shape)})
    return [p]
