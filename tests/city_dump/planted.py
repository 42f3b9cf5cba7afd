"""Planted off-system patterns, 33 kinds over W1–W10, each from the rule's meaning in
docs/supervision.md and the thresholds of warning_rules.toml; every kind in `variants` variants,
each on a project of its own whose other work is clean."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from domain.exchange import spgl
from tests.city_dump.city import ITEMS, Case, Plan, Project, certify, write_case, write_project
from tests.city_dump.lifecycle import PLACES, TYPES, lifecycle, project_code
from tests.city_dump.lookalikes import CONSULTED, EQUAL_GAPS, MAX_CORRECTIONS, MAX_LAG_H, MIN_MINUTES, Maker
from tests.city_dump.model import (
    CATALOGUE,
    DEPARTMENT_NAMES,
    FOREIGN_SYSTEM,
    SHANGHAI,
    STAGE_LIMITS,
    Dump,
    add_workdays,
    office,
    stamp,
)  # fmt: skip

Plant = Callable[[Dump, random.Random, Maker, int], None]
TARGETS = {t["flow_type"]: t["target_days"] for t in CATALOGUE["project_targets"]}


def evening(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, datetime.min.time(), SHANGHAI) + timedelta(hours=18, minutes=rng.randint(0, 120))


# --- W1 a certificate without a case ----------------------------------------------------------


def w1_no_case(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    p, start = m.project()
    cases = lifecycle(d, rng, p, start, 4)
    on = cases["GJ-2-01"].statuses[-1][1].date() + timedelta(days=20 + 7 * v)
    number = f"施审字〔2026〕W1{m.n:05d}号"
    d.certificate(evening(on, rng), kind=("drawing_review_certificate", "license")[v % 2], project_code=p.code,
                  item_code="GJ-3-01", number=number, issued_on=on)  # fmt: skip
    d.label("W1", "W1.no_case", number, p.code)


def w1_fire_review(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    # a fire-review licence while the city handled no fire review at all
    p, start = m.project()
    cases = lifecycle(d, rng, p, start, 4)  # through GJ-2-01: no fire review
    on = cases["GJ-2-01"].statuses[-1][1].date() + timedelta(days=15 + 11 * v)
    number = f"消审字〔2026〕W1F{m.n:05d}号"
    d.certificate(evening(on, rng), project_code=p.code, item_code="GJ-3-02", number=number, issued_on=on)
    d.label("W1", "W1.fire_review_without_case", number, p.code)


def w1_other_projects_number(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    # the certificate carries the number of another project's approval: no case of its own
    other, ostart = m.project()
    ocases = lifecycle(d, rng, other, ostart, 4)
    p, start = m.project()
    cases = lifecycle(d, rng, p, start, 3)
    on = max(cases["GJ-1-03"].statuses[-1][1].date(), ocases["GJ-2-01"].statuses[-1][1].date()) + timedelta(days=9)
    number = (ocases["GJ-2-01"].pfwh, ocases["GJ-2-01"].zzbh)[v % 2]
    d.certificate(evening(on, rng), kind="planning_permit", project_code=p.code, item_code="GJ-2-01",
                  number=number, issued_on=on)  # fmt: skip
    d.label("W1", "W1.number_of_another_project", number, p.code)


def w1_case_after_certificate(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    # the permit was issued first; the city's case for it was opened weeks later
    p, start = m.project()
    cases = lifecycle(d, rng, p, start, 3)
    issued = cases["GJ-1-03"].statuses[-1][1].date() + timedelta(days=5)
    number = f"建字第4601{m.n:06d}W1号"
    d.certificate(evening(issued, rng), kind="planning_permit", project_code=p.code, item_code="GJ-2-01",
                  number=number, issued_on=issued)  # fmt: skip
    write_case(d, rng, p, "GJ-2-01", issued + timedelta(days=20 + 10 * v))
    d.label("W1", "W1.case_after_certificate", number, p.code)


# --- W2 business time long before recording ---------------------------------------------------


def _relag(d: Dump, case: Case, lag: timedelta, statuses: tuple[int, ...] | None = None) -> None:
    """The city recorded (some of) the case's rows `lag` after their business time."""
    for row in d.rows:
        f = row.fields
        if f.get("SPSXSLBM") != case.case_id:
            continue
        if statuses is not None and not (f.get("BLZT") in statuses or (row.table == spgl.DOCUMENT and 11 in statuses)):
            continue
        business = f.get("BLSJ") or (f"{f['PFRQ']} 17:00:00" if row.table == spgl.DOCUMENT else f.get("TBCXKSSJ"))
        if row.table == spgl.CASE:
            business = stamp(case.statuses[0][1])
        t = datetime.strptime(str(business), "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI) + lag
        f["GXSJ"] = stamp(t)
        row.uploaded = datetime.combine(t.date() + timedelta(days=1), datetime.min.time(), SHANGHAI) + timedelta(
            hours=2
        )


def w2_backfilled_case(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    p, start = m.project()
    cases = lifecycle(d, rng, p, start, 4, certificates=False)
    case = cases["GJ-2-01"]
    _relag(d, case, timedelta(days=20 + 25 * v, hours=3))
    d.label("W2", "W2.case_backfilled", case.case_id, p.code)


def w2_late_closure(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    p, start = m.project()
    cases = lifecycle(d, rng, p, start, 3, certificates=False)
    case = cases["GJ-1-03" if v % 2 else "GJ-1-02"]
    _relag(d, case, timedelta(days=9 + v, hours=5), statuses=(11,))
    d.label("W2", "W2.closure_recorded_late", case.case_id, p.code)


def w2_just_over(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    p, start = m.project()
    lag = timedelta(hours=MAX_LAG_H + 5 + 20 * v)
    cases = lifecycle(d, rng, p, start, 3, {"GJ-1-03": Plan(recorded_lag=lag)}, certificates=False)
    d.label("W2", "W2.lag_just_over_threshold", cases["GJ-1-03"].case_id, p.code)


# --- W3 compressed or synthetic lifecycle -----------------------------------------------------


def w3_compressed(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    p, start = m.project()
    item = ("GJ-2-01", "GJ-1-03")[v % 2]

    def shape(day: date, rng: random.Random) -> list[tuple[int, datetime]]:
        t = office(day, rng)
        return [(1, t), (3, t + timedelta(minutes=2, seconds=11)), (11, t + timedelta(minutes=MIN_MINUTES - 12 + v, seconds=40))]  # fmt: skip

    cases = lifecycle(d, rng, p, start, 4, {item: Plan(shape=shape)})
    d.label("W3", "W3.approved_within_minutes", cases[item].case_id, p.code)


def w3_synthetic(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    p, start = m.project()
    gap = (timedelta(hours=2), timedelta(days=1))[v % 2]

    def shape(day: date, rng: random.Random) -> list[tuple[int, datetime]]:
        t = office(day, rng).replace(hour=9, minute=0, second=0)
        codes = (1, 3, *([8] * (EQUAL_GAPS - 2)), 11)
        return [(s, t + k * gap) for k, s in enumerate(codes)]

    cases = lifecycle(d, rng, p, start, 4, {"GJ-2-01": Plan(shape=shape)})
    d.label("W3", "W3.evenly_spaced_statuses", cases["GJ-2-01"].case_id, p.code)


def w3_no_acceptance(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    p, start = m.project()
    cases = lifecycle(d, rng, p, start, 4, {"GJ-2-01": Plan(accept=False, days=3 + v)})
    d.label("W3", "W3.closed_without_acceptance", cases["GJ-2-01"].case_id, p.code)


# --- W4 downstream approved before upstream ---------------------------------------------------


def _before(d: Dump, rng: random.Random, p: Project, up: Case, item: str, certified: bool, **cite: str) -> tuple[Case, str | None]:  # fmt: skip
    """A downstream case received right after the upstream was accepted, approved before it."""
    day = up.at(3).date()
    case = write_case(d, rng, p, item, add_workdays(day, 1), Plan(days=1))
    number = None
    if certified:
        record = certify(d, rng, p, case, **({"upstream": cite} if cite else {}))
        number = str(record["number"]) if record else None
    return case, number


def w4_permit_before_review(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    p, start = m.project()
    cases = lifecycle(d, rng, p, start, 5, {"GJ-3-01": Plan(days=8)})
    cite = {"GCGHXKZBH": p.numbers["GJ-2-01"]} | ({"SCHGSBH": p.numbers["GJ-3-01"]} if v % 2 else {})
    _, number = _before(d, rng, p, cases["GJ-3-01"], "GJ-3-03", True, **cite)
    assert number
    d.label("W4", "W4.permit_before_drawing_review", number, p.code, "W4")


def w4_city_case_before(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    p, start = m.project()
    up, down = (("GJ-1-03", "GJ-2-01"), ("GJ-2-01", "GJ-3-01"))[v % 2]
    cases = lifecycle(d, rng, p, start, 3 + v % 2, {up: Plan(days=ITEMS[up]["promised_limit_days"] - 1)}, certificates=False)  # fmt: skip
    case, _ = _before(d, rng, p, cases[up], down, False)
    d.label("W4", "W4.city_case_before_prerequisite", case.case_id, p.code, "W4")


def w4_upstream_dated_later(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    # the permit cites a planning permit that the licence library dates after it
    p, start = m.project()
    cases = lifecycle(d, rng, p, start, 6, certificates=False)
    permit_on = p.approved["GJ-3-03"]
    planning = f"建字第4601{m.n:06d}W4号"
    d.certificate(evening(permit_on + timedelta(days=25 + v), rng), kind="planning_permit", project_code=p.code,
                  number=planning, issued_on=permit_on + timedelta(days=25 + v))  # fmt: skip
    number = cases["GJ-3-03"].zzbh
    d.certificate(evening(permit_on, rng), kind="construction_permit", project_code=p.code, number=number,
                  issued_on=permit_on, upstream={"GCGHXKZBH": planning})  # fmt: skip
    d.label("W4", "W4.cited_upstream_dated_later", number, p.code, "W4")


def w4_completion_before_permit(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    p, start = m.project()
    # a completion filing dated before the construction permit it cites (no city case of its own)
    cases = lifecycle(d, rng, p, start, 6, {"GJ-3-03": Plan(days=2)})
    number = f"JG-4601-2026-W4{m.n:05d}"
    on = cases["GJ-3-03"].at(3).date() - timedelta(days=v)
    d.certificate(evening(on, rng), source="industry_system", kind="completion_filing", project_code=p.code,
                  item_code="GJ-4-03", number=number, issued_on=on, upstream={"SGXKZBH": p.numbers["GJ-3-03"]})  # fmt: skip
    d.label("W4", "W4.completion_before_permit", number, p.code, "W4", "W1")


# --- W5 cited upstream number exists nowhere --------------------------------------------------


def w5_certificate_cites_missing(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    p, start = m.project()
    cases = lifecycle(d, rng, p, start, 6, certificates=False)
    missing = f"建字第4601{m.n:06d}X{v}号"
    number = cases["GJ-3-03"].zzbh
    certify(d, rng, p, cases["GJ-3-03"], number=number, upstream={"GCGHXKZBH": missing, "SCHGSBH": p.numbers["GJ-3-01"]})  # fmt: skip
    d.label("W5", "W5.certificate_cites_missing_number", number, p.code)


def w5_permit_row_cites_missing(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    p, start = m.project()
    cases = lifecycle(d, rng, p, start, 5, certificates=False)
    on = cases["GJ-3-01"].statuses[-1][1] + timedelta(days=4)
    number = f"4601{m.n:06d}SG{v}"
    d.row(spgl.BUILD_PERMIT, f"SG-W5-{m.n}", p.region, on, SGXKZBH=number, GCDM=p.gcdm, FZJG="海口市住房和城乡建设局",
          FZRQ=on.date().isoformat(), GCGHXKZBH=p.numbers["GJ-2-01"], SCHGSBH=f"施审字〔2026〕X{m.n}号")  # fmt: skip
    d.label("W5", "W5.permit_row_cites_missing_review", number, p.code)


def w5_completion_cites_missing(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    p, start = m.project()
    cases = lifecycle(d, rng, p, start, 3, certificates=False)
    on = min(cases["GJ-1-03"].statuses[-1][1] + timedelta(days=200), office(d.end - timedelta(days=10), rng))
    number = f"JG-4601-2026-W5{m.n:05d}"
    d.row(spgl.COMPLETION, f"JG-W5-{m.n}", p.region, on, JGYSBABH=number, GCDM=p.gcdm,
          SGXKZBH=f"4601{m.n:06d}NONE{v}", BARQ=on.date().isoformat())  # fmt: skip
    d.label("W5", "W5.completion_cites_missing_permit", number, p.code)


def w5_near_miss(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    # one character off an existing number: still a number that exists nowhere
    p, start = m.project()
    cases = lifecycle(d, rng, p, start, 6, certificates=False)
    real = p.numbers["GJ-2-01"]
    swap = {str(n): str((n + 1) % 10) for n in range(10)}
    typo = real[:-1] + "X" if v % 2 == 0 else real[:6] + swap.get(real[6], "1") + real[7:]
    number = cases["GJ-3-03"].pfwh
    certify(d, rng, p, cases["GJ-3-03"], number=number, upstream={"GCGHXKZBH": typo, "SCHGSBH": p.numbers["GJ-3-01"]})  # fmt: skip
    d.label("W5", "W5.number_one_character_off", number, p.code)


# --- W6 overdue -------------------------------------------------------------------------------


def w6_decided_overdue(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    p, start = m.project()
    item = ("GJ-1-02", "GJ-3-01")[v % 2]
    late = ITEMS[item]["promised_limit_days"] + 2 + 3 * v
    cases = lifecycle(d, rng, p, start, 5, {item: Plan(days=late)})
    d.label("W6", "W6.decided_past_limit", cases[item].case_id, p.code, "W6")


def w6_open_overdue(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    p, start = m.project(start=date(2026, 3, 2) + timedelta(days=20 * v))
    cases = lifecycle(d, rng, p, start, 4, {"GJ-2-01": Plan(closed=False)})
    d.label("W6", "W6.open_far_past_limit", cases["GJ-2-01"].case_id, p.code, "W6")


def _attempts(d: Dump, rng: random.Random, p: Project, item: str, day: date, tries: int, days: int) -> date:
    """Refused `tries - 1` times (each within the limit), resubmitted, approved; the approval day."""
    for k in range(tries):
        last = k == tries - 1
        case = write_case(d, rng, p, item, day, Plan(days=days, status=11 if last else 13))
        day = add_workdays(case.statuses[-1][1].date(), 2)
    return case.statuses[-1][1].date()


def w6_stage_overdue(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    # every case within its own limit; refusing and resubmitting pushes the stage past its limit
    p, start = m.project()
    stage = (3, 1)[v % 2]
    if stage == 3:
        cases = lifecycle(d, rng, p, start, 4)
        item, limit = "GJ-3-01", ITEMS["GJ-3-01"]["promised_limit_days"] - 1
        day = _attempts(d, rng, p, item, cases["GJ-2-01"].statuses[-1][1].date() + timedelta(days=7), 1 + STAGE_LIMITS[3] // limit, limit)  # fmt: skip
        _attempts(d, rng, p, "GJ-3-03", day + timedelta(days=5), 1, 1)
    else:
        write_project(d, p, office(start, rng))
        limit = ITEMS["GJ-1-02"]["promised_limit_days"] - 1
        day = _attempts(d, rng, p, "GJ-1-02", add_workdays(start, 2), 1 + STAGE_LIMITS[1] // limit, limit)
        _attempts(d, rng, p, "GJ-1-03", day + timedelta(days=6), 1, limit)
    d.label("W6", "W6.stage_past_limit", f"{p.code} 阶段{stage}", p.code, "W6")


def w6_project_overdue(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    p, start = m.project(start=date(2026, 1, 5) + timedelta(days=7 * v))
    p.flow = "HK-LC-03"
    write_project(d, p, office(start, rng))
    target = TARGETS[{"HK-LC-01": 1, "HK-LC-03": 3}[p.flow]]
    milestones = [i for i, it in ITEMS.items() if it["milestone"] and it["stage"] <= 4]
    per = max(1, -(-(target + 10) // sum(ITEMS[i]["promised_limit_days"] - 1 for i in milestones)))
    day = add_workdays(start, 2)
    for item in milestones:
        day = _attempts(d, rng, p, item, day, per, ITEMS[item]["promised_limit_days"] - 1) + timedelta(days=3)
    d.label("W6", "W6.project_past_target", p.code, p.code, "W6")


# --- W7 procedure abuse -----------------------------------------------------------------------


def w7_corrections(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    p, start = m.project()
    item = ("GJ-2-01", "GJ-3-01")[v % 2]
    cases = lifecycle(d, rng, p, start, 5, {item: Plan(corrections=MAX_CORRECTIONS + 1 + v)})
    d.label("W7", "W7.repeated_corrections", cases[item].case_id, p.code)


def w7_special(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    p, start = m.project()
    limit = (5, 10)[v % 2]
    cases = lifecycle(d, rng, p, start, 5, {"GJ-3-01": Plan(special=(limit, limit + 4 + v))})
    d.label("W7", "W7.special_procedure_past_limit", cases["GJ-3-01"].case_id, p.code)


# --- W8 duplicate project codes ---------------------------------------------------------------


def _twins(d: Dump, rng: random.Random, m: Maker, names: tuple[str, str], legacy: bool, kind: str) -> None:
    a, start = m.project(names[0], legacy=legacy)
    b, _ = m.project(names[1], owner=a.owner)
    lifecycle(d, rng, a, start, 3)
    lifecycle(d, rng, b, start + timedelta(days=45), 2)
    d.label("W8", kind, b.code, b.code, by_project=True)


def w8_prefix_suffix(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    base = f"{PLACES[(m.n + v) % len(PLACES)]}{TYPES[(m.n + 3) % len(TYPES)]}二期"
    _twins(d, rng, m, (f"海口市{base}工程", f"{base}工程项目" if v % 2 == 0 else f"海南省海口市{base}建设项目"), False, "W8.region_prefix_and_suffix")  # fmt: skip


def w8_punctuation(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    place, kind = PLACES[(m.n + 5 + v) % len(PLACES)], TYPES[(m.n + 1) % len(TYPES)]
    _twins(d, rng, m, (f"{place}{kind}（二期）", f"{place} {kind}　第二期 工程" if v % 2 == 0 else f"{place}·{kind}(2期)"), False, "W8.punctuation_and_phase_forms")  # fmt: skip


def w8_legacy_code(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    place, kind = PLACES[(m.n + 9 + v) % len(PLACES)], TYPES[(m.n + 2) % len(TYPES)]
    _twins(d, rng, m, (f"{place}{kind}", f"{place}{kind}项目"), True, "W8.legacy_and_current_code")


# --- W9 data for a project never generated ----------------------------------------------------


def _ghost(m: Maker) -> str:
    m.n += 1
    return project_code(m.n, "460106", 5)


def w9_refused_case(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    # the city's case row names an engineering it never reported (R2), its status rows follow (R3)
    code = _ghost(m)
    ghost = Project(code, "460106", "", "", "HK-LC-03")
    case = write_case(d, rng, ghost, "GJ-1-02", date(2026, 4, 6) + timedelta(days=9 * v))
    d.rejected |= {case.case_id}
    d.label("W9", "W9.case_row_refused_by_r2", code, code, "W10", "W3", by_project=True)


def w9_certificate(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    code = _ghost(m)
    on = date(2026, 5, 11) + timedelta(days=13 * v)
    d.certificate(evening(on, rng), source="industry_system", kind="construction_permit", project_code=code,
                  item_code="GJ-3-03" if v % 2 == 0 else None, number=f"4601{m.n:06d}W9", issued_on=on)  # fmt: skip
    d.label("W9", "W9.certificate_for_unknown_project", code, code, "W1", "W4", by_project=True)


def w9_status_record(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    code = _ghost(m)
    on = date(2026, 6, 8) + timedelta(days=11 * v)
    d.certificate(evening(on, rng), source="city_system", kind="status_row", project_code=code,
                  case_ref=f"QS{m.n:06d}", status_code=11 if v % 2 == 0 else 3, source_system=FOREIGN_SYSTEM,
                  payload={"BLSJ": f"{on.isoformat()} 10:12:00"})  # fmt: skip
    d.label("W9", "W9.status_record_for_unknown_project", code, code, "W10", "W3", by_project=True)


# --- W10 hidden approval ----------------------------------------------------------------------


def w10_opinion(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    p, start = m.project()
    item = ("GJ-3-01", "GJ-2-01")[v % 2]
    cases = lifecycle(d, rng, p, start, 5)
    allowed = {ITEMS[item]["department"], *CONSULTED.get(item, [])}
    dept = next(x for x in DEPARTMENT_NAMES if x not in allowed)
    case = cases[item]
    code: dict[str, Any] = {"SPBMBM": dept} if v % 2 == 0 else {}  # the second variant names the department only
    d.row(spgl.OPINION, f"{case.case_id}-YJ", p.region, case.at(8) + timedelta(hours=3), SPSXSLBM=case.case_id,
          SPBMMC=DEPARTMENT_NAMES[dept], BLYJ="原则同意", YJJG=1, **code)  # fmt: skip
    d.label("W10", "W10.opinion_outside_flow", case.case_id, p.code)


def w10_foreign_rows(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    # another system's status rows for a case the city never reported (refused by R3)
    p, start = m.project()
    cases = lifecycle(d, rng, p, start, 4)
    ref = f"ZJ{m.n:06d}"
    t = office(cases["GJ-2-01"].statuses[-1][1].date() + timedelta(days=10), rng)
    for k, status in enumerate((1, 3, 11)[: 2 + v]):
        moment = t + timedelta(hours=3 * k, minutes=rng.randint(0, 50))
        d.row(spgl.STATUS, f"{ref}-{k}", p.region, moment, GCDM=p.gcdm, SPSXSLBM=ref, BLZT=status, BLSJ=stamp(moment),
              SJLY=FOREIGN_SYSTEM, BLR="住建审批员")  # fmt: skip
    d.rejected |= {ref}
    d.label("W10", "W10.foreign_status_rows", ref, p.code, "W3")


def w10_status_record(d: Dump, rng: random.Random, m: Maker, v: int) -> None:
    p, start = m.project()
    cases = lifecycle(d, rng, p, start, 4)
    ref = f"RF{m.n:06d}"
    on = cases["GJ-2-01"].statuses[-1][1].date() + timedelta(days=12)
    d.certificate(evening(on, rng), source="industry_system", kind="status_row", project_code=p.code, case_ref=ref,
                  status_code=(11, 12)[v % 2], source_system=FOREIGN_SYSTEM, department="zjj",
                  payload={"BLSJ": f"{on.isoformat()} 15:40:00"})  # fmt: skip
    d.label("W10", "W10.external_status_record", ref, p.code, "W3")


PLANTS: tuple[Plant, ...] = (
    w1_no_case, w1_fire_review, w1_other_projects_number, w1_case_after_certificate,
    w2_backfilled_case, w2_late_closure, w2_just_over,
    w3_compressed, w3_synthetic, w3_no_acceptance,
    w4_permit_before_review, w4_city_case_before, w4_upstream_dated_later, w4_completion_before_permit,
    w5_certificate_cites_missing, w5_permit_row_cites_missing, w5_completion_cites_missing, w5_near_miss,
    w6_decided_overdue, w6_open_overdue, w6_stage_overdue, w6_project_overdue,
    w7_corrections, w7_special,
    w8_prefix_suffix, w8_punctuation, w8_legacy_code,
    w9_refused_case, w9_certificate, w9_status_record,
    w10_opinion, w10_foreign_rows, w10_status_record,
)  # fmt: skip


def build_planted(d: Dump, rng: random.Random, m: Maker, variants: int) -> None:
    for plant in PLANTS:
        for v in range(variants):
            plant(d, rng, m, v)
