"""A small labelled scenario of imported city data for W1, W4, W5 and W8 (issue 15): clean projects
handled entirely in a city system (SPGL project, case, status and approval-document rows) whose
certificates reach us through `ExternalRecord`s, and one planted anomaly per rule.

Clean projects look like real work: owners with three projects each, phases of one development
(一期/二期/三期) named with and without region prefixes and generic suffixes, approvals reported by
a 办结 status row, by an approval document, or both, certificates numbered by the document number
(PFWH) or by the licence number the document carries (ZZBH), prerequisites that reach us only as
imported rows. Planted: a licence for an item no case anywhere handled (W1), a construction permit
dated before its drawing review approved in the city (W4), and the same owner's project coded
twice under a region-prefixed name (W8).

`lifecycle_scenario` plants the patterns of a case's life (W2, W3, W6, W7, W9, W10) beside clean
look-alikes. Measure (before/after): `python -m tests.imported_scenario [PROJECTS] [sqlite|URL]`
prints, for each scenario, the open warnings on clean projects per reason and which planted
anomalies were caught.
"""

from __future__ import annotations

import itertools
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from application.commands import Invocation
from application.commands.exchange import ReportExternalRecord
from application.commands.spgl import ImportSpglTables
from domain.exchange import spgl
from domain.shared.codes import USCC_ALPHABET, uscc_check_char

SYSTEM = "海口市工程建设项目审批管理系统"
FLOW = "HK-LC-03"
CHAIN = ("GJ-1-02", "GJ-1-03", "GJ-2-01", "GJ-3-01", "GJ-3-03")
INSTANT = "GJ-1-01"  # 即办件: promised 1 working day
CITY_FIRE_REVIEW = "HK-SX-302"  # the city's own code of the fire review (ours: GJ-3-02)
PLACES = ("江东新区滨江", "美兰临空产业园", "秀英港湾", "龙华金盘", "琼山府城")
PREFIXES = ("海口市", "", "海南省海口市", "")
SUFFIXES = ("工程", "项目", "建设项目", "工程项目")
PHASES = ("一期", "二期", "三期")


def uscc(n: int) -> str:
    body = f"9146000071{n:07d}"
    assert all(ch in USCC_ALPHABET for ch in body)
    return body + uscc_check_char(body)


@dataclass
class Scenario:
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {t: [] for t in spgl.ORDER})
    certificates: list[dict[str, Any]] = field(default_factory=list)  # ExternalRecord fields
    clean: set[str] = field(default_factory=set)  # project codes
    planted: dict[str, str] = field(default_factory=dict)  # rule → project code
    _serial: Any = field(default_factory=lambda: itertools.count(1))

    def row(self, table: str, key: str, **fields: Any) -> None:
        self.tables[table].append({"LSH": next(self._serial), "DFSJZJ": key, "XZQHDM": "460106", "SJYXBS": 1, **fields})

    def flow(self) -> None:
        self.row(
            spgl.FLOW, FLOW, XZQHDM="460100", SPLCBM=FLOW, SPLCMC="海口市社会投资项目审批流程", SPLCBBH="2.1", SPLCLX=3
        )
        for item in (INSTANT, *CHAIN, CITY_FIRE_REVIEW):
            stage = 3 if item == CITY_FIRE_REVIEW else int(item[3])
            self.row(
                spgl.STAGE_ITEM, f"{FLOW}-{item}", XZQHDM="460100", SPLCBM=FLOW, SPLCBBH="2.1", SPJDXH=stage,
                SPSXBM=item, SPSXBBH="1.0", SPSXMC=f"事项{item}",
            )  # fmt: skip

    def project(self, n: int, name: str, owner: int) -> str:
        code = f"2609-460106-04-01-{700000 + n:06d}"
        self.row(
            spgl.PROJECT, f"XM{n}", XMDM=code, GCDM=f"{code}-001", XMMC=name, SPLCBM=FLOW, SPLCBBH="2.1",
            SPLCLX=3, JSDW=f"海南滨江置业{owner}有限公司", JSDWDM=uscc(owner),
        )  # fmt: skip
        return code

    def case(self, code: str, item: str, approved: date, how: str) -> dict[str, str]:
        """A city case of the item approved on `approved`: by a 办结 status row, a document or both."""
        case_id = f"HK{code[-6:]}-{item}"
        gcdm = f"{code}-001"
        self.row(
            spgl.CASE, case_id, GCDM=gcdm, SPSXBM=item, SPSXBBH="1.0", SPLCBM=FLOW, SPLCBBH="2.1",
            SPSXSLBM=case_id, SPBMMC="海口市自然资源和规划局",
        )  # fmt: skip
        received = approved - timedelta(days=6)
        statuses = [(1, received, 9, 12), (3, received, 15, 41), (8, received + timedelta(days=1), 10, 3)]
        if how in ("status", "both"):
            statuses.append((11, approved, 16, 27))
        for k, (status, day, hour, minute) in enumerate(statuses):
            self.row(
                spgl.STATUS, f"{case_id}-{k}", GCDM=gcdm, SPSXSLBM=case_id, BLZT=status,
                BLSJ=f"{day.isoformat()} {hour:02d}:{minute:02d}:00", SJLY=SYSTEM,
            )  # fmt: skip
        numbers = {"PFWH": f"海资规〔2026〕{case_id}号", "ZZBH": f"ZZ{case_id}"}
        if how in ("document", "both"):
            self.row(
                spgl.DOCUMENT, f"{case_id}-W", GCDM=gcdm, SPSXSLBM=case_id, PFRQ=approved.isoformat(),
                PFWH=numbers["PFWH"], ZZBH=numbers["ZZBH"], PFWJYXQX="9999-01-01",
            )  # fmt: skip
        return numbers

    def certificate(self, **fields: Any) -> None:
        self.certificates.append(
            {
                "source": "license_library",
                "source_id": f"cert-{len(self.certificates)}",
                "kind": "license",
                "item_code": None,
                "number": None,
                "issued_on": None,
                "upstream": {},
                "case_ref": None,
                "status_code": None,
                "source_system": None,
                "department": None,
                "payload": {},
                **fields,
            }
        )

    def lifecycle(self, code: str, start: date, review_on: date | None = None) -> None:
        """The city approves the chain; certificates of three items reach us from other systems.
        `review_on` moves the drawing review's approval (a planted W4 puts it after the permit)."""
        day, numbers, hows = start, {}, itertools.cycle(("status", "document", "both"))
        for item in CHAIN:
            day += timedelta(days=9)
            on = review_on if item == "GJ-3-01" and review_on else day
            numbers[item] = (self.case(code, item, on, next(hows) if item != "GJ-2-01" else "document"), on)
        licence, on = numbers["GJ-1-02"]
        self.certificate(kind="license", project_code=code, item_code="GJ-1-02", number=licence["PFWH"], issued_on=on)
        planning, on = numbers["GJ-2-01"]  # the licence library numbers it by ZZBH
        self.certificate(kind="planning_permit", project_code=code, item_code="GJ-2-01", number=planning["ZZBH"], issued_on=on)  # fmt: skip
        # the fire review under the city's own item code: the certificate is matched by its number
        fire = self.case(code, CITY_FIRE_REVIEW, numbers["GJ-3-01"][1], "document")
        self.certificate(kind="license", project_code=code, item_code="GJ-3-02", number=fire["PFWH"], issued_on=numbers["GJ-3-01"][1])  # fmt: skip
        review = numbers["GJ-3-01"][0]["PFWH"]
        self.certificate(
            source="industry_system", kind="construction_permit", project_code=code, item_code="GJ-3-03",
            number=f"SG{code[-6:]}", issued_on=numbers["GJ-3-03"][1],
            upstream={"GCGHXKZBH": planning["ZZBH"], "SCHGSBH": review}, department="zjj",
        )  # fmt: skip


def build(projects: int = 12, offset: int = 0) -> Scenario:
    """`projects` clean projects and the three planted ones; `offset` (a multiple of 100) gives
    another copy on other project codes and owners, so that copies can share one store."""
    assert projects < 100 and offset % 100 == 0
    s = Scenario()
    s.flow()
    start = date(2026, 1, 5)
    for n in range(projects):
        owner, phase = 800 + offset + n // 3, PHASES[n % 3]
        place = PLACES[(n // 3) % len(PLACES)]
        name = f"{PREFIXES[n % 4]}{place}安置区{phase}{SUFFIXES[n % 4]}"
        code = s.project(offset + n, name, owner)
        s.lifecycle(code, start + timedelta(days=n))
        s.clean.add(code)
    # W1: a licence of an item (GJ-1-03 … of a project whose city cases never handled it)
    w1 = s.project(offset + 900, "临空产业园物流中心", offset + 1900)
    numbers = s.case(w1, "GJ-1-02", start + timedelta(days=10), "both")
    s.certificate(kind="license", project_code=w1, item_code="GJ-1-02", number=numbers["PFWH"], issued_on=start)
    s.certificate(kind="license", project_code=w1, item_code="GJ-1-03", number="ZZ-W1-404", issued_on=start)
    s.planted["W1"] = w1
    # W4: the construction permit is dated before the drawing review the city approved
    w4 = s.project(offset + 901, "桂林洋高校区实验楼", offset + 1901)
    s.lifecycle(w4, start, review_on=start + timedelta(days=80))
    s.planted["W4"] = w4
    # W8: the same owner codes one project twice (region prefix and suffixes differ)
    first = s.project(offset + 902, "海口市江东新区滨江安置区二期工程", offset + 1902)
    s.project(offset + 903, "江东新区滨江安置区二期工程项目", offset + 1902)
    s.planted["W8"] = first
    return s


Status = tuple[int, datetime, datetime | None]  # BLZT, BLSJ, GXSJ (the city's recording time)


def city_case(
    s: Scenario, code: str, case_id: str, item: str, statuses: list[Status], *, limit: int | None = None,
    opinions: tuple[str, ...] = (), special: tuple[datetime, int] | None = None,
) -> None:  # fmt: skip
    """A city case with its status rows (and opinions by department name, a special procedure)."""
    gcdm = f"{code}-001"
    extra = {"SXBLSX": limit} if limit else {}
    s.row(spgl.CASE, case_id, GCDM=gcdm, SPSXBM=item, SPSXBBH="1.0", SPLCBM=FLOW, SPLCBBH="2.1", SPSXSLBM=case_id,
          SPBMMC="海口市住房和城乡建设局", **extra)  # fmt: skip
    for k, (status, at, recorded) in enumerate(statuses):
        times = {"GXSJ": recorded.isoformat(sep=" ")} if recorded else {}
        s.row(spgl.STATUS, f"{case_id}-{k}", GCDM=gcdm, SPSXSLBM=case_id, BLZT=status, BLSJ=at.isoformat(sep=" "),
              SJLY=SYSTEM, **times)  # fmt: skip
    for k, department in enumerate(opinions):
        s.row(spgl.OPINION, f"{case_id}-YJ{k}", SPSXSLBM=case_id, SPBMMC=department, BLYJ="同意")
    if special:
        start, days = special
        s.row(spgl.SPECIAL, f"{case_id}-TB", SPSXSLBM=case_id, TBCX=1, TBCXMC="专家评审",
              TBCXKSSJ=start.isoformat(sep=" "), TBCXSX=days)  # fmt: skip


def normal(on: date, days: int = 3, hour: int = 9) -> list[Status]:
    """Received and accepted on `on`, reviewed the next day, approved `days` later (irregular minutes);
    each row recorded that night (a nightly batch, hours after the business time)."""
    start = datetime(on.year, on.month, on.day, hour, 12)
    moments = [start, start + timedelta(hours=6, minutes=29), start + timedelta(days=1, minutes=51),
               start + timedelta(days=days, hours=7, minutes=15)]  # fmt: skip
    night = [datetime(m.year, m.month, m.day, 23, 40) for m in moments]
    return [(status, m, n) for status, m, n in zip((1, 3, 8, 11), moments, night, strict=True)]


def lifecycle_scenario(projects: int = 6, offset: int = 0) -> Scenario:
    """City cases whose lives carry the planted patterns of W2, W3, W6, W7, W9 and W10 (one project
    each), and clean projects full of their legitimate look-alikes: an instant item approved within
    minutes, one correction, a case decided on the last legal day, nightly batch recording, a
    special procedure within its limit, opinions of the item's own and consulted departments under
    the city's names. Planted keys are reasons; `W6.open_overdue` needs a clock tick after April."""
    s = Scenario()
    s.flow()
    monday = date(2026, 3, 2)
    for n in range(projects):
        code = s.project(offset + 50 + n, f"琼山府城片区改造{n}号地块", offset + 2000 + n)
        s.clean.add(code)
        k = code[-6:]
        city_case(s, code, f"HK{k}-I", INSTANT, [(1, datetime(2026, 3, 2, 10, 3), None), (3, datetime(2026, 3, 2, 10, 4), None), (11, datetime(2026, 3, 2, 10, 9), None)])  # fmt: skip
        # the chain in the catalogue's order, each case within its stage
        rows = normal(monday)
        rows[2:2] = [(6, datetime(2026, 3, 3, 9, 40), None), (7, datetime(2026, 3, 4, 15, 2), None)]
        city_case(s, code, f"HK{k}-C", "GJ-1-02", rows, opinions=("海口市资规局", "海口市发展和改革委员会"))
        city_case(s, code, f"HK{k}-P", "GJ-1-03", normal(date(2026, 3, 9)))
        city_case(s, code, f"HK{k}-Q", "GJ-2-01", normal(date(2026, 3, 16)))
        special = normal(date(2026, 3, 23), days=10)
        special[3:3] = [(9, datetime(2026, 3, 25, 10, 0), None), (10, datetime(2026, 3, 27, 16, 0), None)]
        city_case(s, code, f"HK{k}-S", "GJ-3-01", special, special=(datetime(2026, 3, 25, 10, 0), 5))
        # GJ-3-03: legal limit 7 working days; accepted Monday 04-13, decided on the 7th (04-22)
        last = normal(date(2026, 4, 13), days=9)
        city_case(s, code, f"HK{k}-L", "GJ-3-03", last, opinions=("海口市住房和城乡建设局", "海口市自然资源和规划局"))

    def planted(reason: str, n: int) -> str:
        code = s.project(offset + 80 + n, f"演丰镇产业园{n}号厂房", offset + 2100 + n)
        s.planted[reason] = code
        return code

    code = planted("W2.late_recording", 0)
    city_case(s, code, f"HK{code[-6:]}-A", "GJ-1-02", [(st, at, datetime(2026, 3, 28, 10)) for st, at, _ in normal(monday)])  # fmt: skip
    code = planted("W3.compressed", 1)
    city_case(s, code, f"HK{code[-6:]}-A", "GJ-1-02", [(1, datetime(2026, 3, 2, 10, 0), None), (3, datetime(2026, 3, 2, 10, 2), None), (11, datetime(2026, 3, 2, 10, 9), None)])  # fmt: skip
    code = planted("W3.synthetic", 2)
    city_case(s, code, f"HK{code[-6:]}-A", "GJ-1-02", [(st, datetime(2026, 3, 2, 9) + timedelta(hours=5 * i), None) for i, st in enumerate((1, 3, 8, 11))])  # fmt: skip
    code = planted("W3.rows_no_acceptance", 3)
    city_case(s, code, f"HK{code[-6:]}-A", "GJ-1-02", [(1, datetime(2026, 3, 2, 9, 7), None), (11, datetime(2026, 3, 5, 16, 41), None)])  # fmt: skip
    code = planted("W6.decided_overdue", 4)
    city_case(s, code, f"HK{code[-6:]}-A", "GJ-1-02", normal(monday, days=36))  # 25 working days, legal 20
    code = planted("W7.corrections", 5)
    rows = normal(monday, days=8)
    rows[2:2] = [(6, datetime(2026, 3, 3, 9, 40), None), (7, datetime(2026, 3, 3, 15, 2), None),
                 (6, datetime(2026, 3, 4, 10, 13), None), (7, datetime(2026, 3, 5, 11, 26), None)]  # fmt: skip
    city_case(s, code, f"HK{code[-6:]}-A", "GJ-1-02", rows)
    code = planted("W7.special_procedure", 6)
    rows = normal(monday, days=22)
    rows[3:3] = [(9, datetime(2026, 3, 4, 10, 0), None), (10, datetime(2026, 3, 20, 16, 0), None)]
    city_case(s, code, f"HK{code[-6:]}-A", "GJ-1-02", rows, special=(datetime(2026, 3, 4, 10, 0), 5))
    code = planted("W10.department", 7)
    city_case(s, code, f"HK{code[-6:]}-A", "GJ-1-02", normal(monday), opinions=("海口市园林局",))
    code = planted("W6.open_overdue", 8)
    city_case(s, code, f"HK{code[-6:]}-A", "GJ-1-02", normal(monday)[:3])
    # W9: a case row for a project never generated (refused by R2), its status rows (refused by R3)
    never = f"2609-460106-04-01-{799000 + offset:06d}"
    s.planted["W9.project_not_generated"] = never
    city_case(s, never, f"HK{never[-6:]}-A", "GJ-1-02", normal(monday))
    # W10: status rows of a case in no case table (refused by R3), of a known project
    code = planted("W10.external_case", 9)
    for k, (status, at, _) in enumerate(normal(monday)):
        s.row(spgl.STATUS, f"HK{code[-6:]}-GHOST-{k}", GCDM=f"{code}-001", SPSXSLBM=f"HK{code[-6:]}-GHOST", BLZT=status, BLSJ=at.isoformat(sep=" "), SJLY=SYSTEM)  # fmt: skip
    return s


def run(s: Scenario, url: str) -> dict[str, Any]:
    """Import the dump, report the certificates, and count the open warnings on clean and planted projects."""
    from collections import Counter

    from application.bootstrap import bootstrap
    from application.policy import Actor
    from infrastructure.settings import Settings
    from projections.offline_warnings import OfflineWarnings
    from tests.conftest import JWT_SECRET

    city = Actor("haikou-system", "integration", "460100-gongjian", "460100", "海口市工建系统")
    c = bootstrap(Settings(database_url=url, jwt_secret=JWT_SECRET, wait_timeout_s=5))
    try:
        result = c.spgl.import_tables(Invocation(city, "scenario"), ImportSpglTables("haikou", s.tables))
        assert {e["rule"] for e in result.errors} <= {"R2", "R3"}, result.errors[:3]  # planted W9/W10
        if any(reason.startswith("W6.open") for reason in s.planted):
            c.automation.ticker.tick()  # the log's day (the clock's today) for the time-driven W6
        for n, record in enumerate(s.certificates):
            c.exchange.report(Invocation(city, f"cert-{n}"), ReportExternalRecord(record))
        c.engine.catch_up()
        rows, _, _ = OfflineWarnings(c.db).list(first=10_000, status="open")
    finally:
        c.close()
    false = Counter(r["reason"] for r in rows if r["project_code"] in s.clean)
    caught = {
        rule: any(
            rule in (r["rule"], r["reason"]) and (r["project_code"] == code or code in r["subject"]) for r in rows
        )
        for rule, code in s.planted.items()
    }
    flagged = len({r["project_code"] for r in rows if r["project_code"] in s.clean})
    return {"clean_projects": len(s.clean), "flagged_clean": flagged, "false": dict(false), "caught": caught}


if __name__ == "__main__":
    import json
    import tempfile

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    with tempfile.TemporaryDirectory() as tmp:
        target = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{tmp}/scenario.db"
        print(json.dumps(run(build(size), target), ensure_ascii=False))
    with tempfile.TemporaryDirectory() as tmp:
        target = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{tmp}/lifecycle.db"
        print(
            json.dumps(
                run(lifecycle_scenario(size, offset=0 if len(sys.argv) <= 2 else 100), target), ensure_ascii=False
            )
        )
