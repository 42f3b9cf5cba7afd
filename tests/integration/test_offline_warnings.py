"""The offline_warnings read model (W1–W10): one project per rule with exactly that anomaly and as
many clean projects with full, legitimate lifecycles, all written through the services on a
simulated clock, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from application.bootstrap import Container, bootstrap
from application.clock import SimulatedClock
from application.commands import Invocation
from application.commands.cases import CASE_ACTIONS, AcceptCase, BackEnterCase, SubmitCase
from application.commands.exchange import ReportExternalRecord
from application.commands.projects import GenerateProject, MergeProject
from application.commands.supervision import AcknowledgeWarning, OpenInquiry
from application.policy import Actor
from domain.shared.codes import USCC_ALPHABET, uscc_check_char
from domain.shared.events import SHANGHAI
from domain.shared.workdays import is_workday
from infrastructure.settings import Settings
from interfaces.graphql.context import Context
from interfaces.graphql.schema import schema
from projections.offline_warnings import OfflineWarnings
from tests.conftest import JWT_SECRET

CLERK = Actor("clerk-1", "window_clerk", "hk-window", "460100")
REVIEWER = Actor("reviewer-1", "reviewer", "460100-zrzy", "460100")
APPROVER = Actor("approver-1", "approver", "460100-zrzy", "460100")
CITY = Actor("city-1", "integration", "hk-city-system", "460000")
SUPERVISOR = Actor("sup-1", "supervisor", "hn-sup", "460000")
OFFICER = Actor("ao-1", "accountability_officer", "hn-jw", "460000")
CHAIN = ("GJ-1-02", "GJ-1-03", "GJ-2-01", "GJ-3-01", "GJ-3-03")
_serial = itertools.count(1)


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))  # Monday 09:00 in Hainan


@pytest.fixture
def container(store_url: str, clock: SimulatedClock) -> Iterator[Container]:
    c = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET, wait_timeout_s=0.5), clock)
    yield c
    c.close()


def uscc(n: int) -> str:
    body = f"9146000070{n:07d}"
    assert all(ch in USCC_ALPHABET for ch in body)
    return body + uscc_check_char(body)


def square(lon: float, lat: float, size: float = 0.002) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def new_code() -> str:
    return f"2611-460100-04-01-{uuid.uuid4().int % 10**6:06d}"


class World:
    """Writes facts through the services, moving the simulated clock between them."""

    def __init__(self, c: Container, clock: SimulatedClock) -> None:
        self.c, self.clock = c, clock
        self.gaps = itertools.cycle(
            (timedelta(hours=1, minutes=7), timedelta(hours=26), timedelta(hours=27, minutes=13))
        )

    def later(self, delta: timedelta | None = None) -> None:
        self.clock.advance(seconds=(delta or next(self.gaps)).total_seconds())

    def today(self) -> date:
        return self.clock.now().astimezone(SHANGHAI).date()

    def project(self, name: str, owner: int, red_line: dict[str, Any] | None = None, code: str | None = None) -> str:
        code = code or new_code()
        self.c.projects.generate(
            Invocation(CLERK, f"gen-{code}"),
            GenerateProject(
                code=code,
                name=name,
                owner_name=f"海南第{owner}建设有限公司",
                owner_uscc=uscc(owner),
                region_code="460106",
                flow_type=3,
                investment_type="enterprise",
                category="房屋建筑",
                total_investment=Decimal("1000"),
                planned_start=date(2026, 6, 1),
                planned_end=date(2027, 6, 30),
                red_line=red_line,
            ),
        )
        self.later()
        return code

    def submit(self, code: str, item: str) -> dict[str, Any]:
        r = self.c.cases.submit(
            Invocation(CLERK, "sub"),
            SubmitCase(project_code=code, item_code=item),
        ).to_json()
        return r

    def act(self, case_id: str, action: str, body: dict[str, Any] | None = None, who: Actor = APPROVER) -> int:
        self.c.cases.act(Invocation(who, f"req-{action}"), CASE_ACTIONS[action](uuid.UUID(case_id), **(body or {})))
        return self.case_position(case_id)

    def case_position(self, case_id: str) -> int:
        """Position of the case's latest event (an approval also writes the project, after it)."""
        case = self.c.cases.get(uuid.UUID(case_id))
        return int(self.c.cases.position_of(case.id, case.version) or 0)

    def approved(self, code: str, item: str, extra: list[tuple[str, dict[str, Any]]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
        """A legitimate case: received, accepted, reviewed (with extra steps), approved within its limit."""
        r = self.submit(code, item)
        case_id, positions = r["id"], {"received": r["position"]}
        self.later()
        positions["accepted"] = self.act(case_id, "accept", who=CLERK)
        self.later()
        positions["review"] = self.act(case_id, "start-review", who=REVIEWER)
        for action, body in extra:
            self.later()
            positions[action] = self.act(case_id, action, body, CLERK if action == "complete-correction" else APPROVER)
        self.later()
        number = f"海自然资字〔2026〕{next(_serial):05d}号"
        positions["approved"] = self.act(case_id, "approve", {"document_number": number})
        self.later(timedelta(hours=20))
        return {"id": case_id, "number": number, "on": self.today(), "positions": positions}

    def record(self, **fields: Any) -> int:
        base = {
            "source": "industry_system",
            "source_id": uuid.uuid4().hex,
            "kind": "license",
            "project_code": None,
            "item_code": None,
            "number": None,
            "issued_on": None,
            "upstream": {},
            "case_ref": None,
            "status_code": None,
            "source_system": None,
            "department": None,
            "payload": {},
        }
        r = self.c.exchange.report(Invocation(CITY, "rec"), ReportExternalRecord({**base, **fields}))
        self.later(timedelta(hours=2))
        assert r.position is not None
        return r.position


@pytest.fixture
def world(container: Container, clock: SimulatedClock) -> World:
    return World(container, clock)


def warnings(c: Container, **where: Any) -> list[dict[str, Any]]:
    c.engine.catch_up()
    rows, _, _ = OfflineWarnings(c.db).list(first=200, **where)
    return rows


def clean_project(w: World, n: int) -> str:
    """Full lifecycle through the construction permit, with the certificates other systems report."""
    code = w.project(f"清洁测试项目{n}号{'甲乙丙丁戊己庚辛壬癸'[n % 10]}楼", 100 + n, square(110.0 + n * 0.01, 20.0))
    cases = {}
    for item in CHAIN:
        extra: list[tuple[str, dict[str, Any]]] = []
        if item == "GJ-2-01" and n % 2:
            extra = [("record-opinion", {"department": "zjj", "opinion": "同意", "result": "agree"})]
        if item == "GJ-1-03" and n % 3 == 0:
            extra = [("request-correction", {"materials": ["总平面图"]}), ("complete-correction", {})]
        if item == "GJ-3-01" and n % 4 == 1:
            body = {"procedure_type": "expert_review", "procedure_name": "专家评审", "limit_days": 5, "reason": "评审"}
            extra = [("start-special-procedure", body), ("end-special-procedure", {"result": "通过"})]
        cases[item] = w.approved(code, item, extra)
    permit = cases["GJ-3-03"]
    w.record(
        kind="construction_permit",
        project_code=code,
        item_code="GJ-3-03",
        number=f"SG{n:04d}",
        issued_on=permit["on"],
        upstream={"GCGHXKZBH": cases["GJ-2-01"]["number"], "SCHGSBH": cases["GJ-3-01"]["number"]},
        department="zjj",
    )
    w.record(
        source="license_library",
        kind="license",
        project_code=code,
        item_code="GJ-1-02",
        number=cases["GJ-1-02"]["number"],
        issued_on=cases["GJ-1-02"]["on"],
    )
    for status in (3, 11):
        w.record(
            source="city_system",
            kind="status_row",
            project_code=code,
            case_ref=permit["id"],
            status_code=status,
            source_system="海口市工建系统",
        )
    return code


def anomalies(w: World) -> dict[str, tuple[str, list[int]]]:
    """One project per rule, each with exactly that anomaly: rule → (project code, evidence)."""
    found: dict[str, tuple[str, list[int]]] = {}
    # W1 a licence for an item no case of the project ever handled
    code = w.project("体外循环测试项目", 201)
    found["W1"] = (
        code,
        [w.record(kind="license", project_code=code, item_code="GJ-1-02", number="ZZ-W1", issued_on=w.today())],
    )
    # W2 a back-entry: decided five days before it was entered
    code = w.project("先批后录测试项目", 202)
    decided = w.clock.now() - timedelta(days=5)
    back = w.c.cases.back_enter(
        Invocation(CLERK, "be"),
        BackEnterCase(
            project_code=code,
            item_code="GJ-1-02",
            decision="approved",
            decided_at=decided,
            received_on=decided.date() - timedelta(days=2),
            accepted_on=decided.date() - timedelta(days=2),
            document_number="补录字〔2026〕1号",
            reason="系统故障期间线下办理",
        ),
    )
    found["W2"] = (code, [w.case_position(str(back.id))])
    w.later()
    # W3 approved 20 minutes after receipt for an item promising 5 working days
    code = w.project("压缩流程测试项目", 203)
    r = w.submit(code, "GJ-1-02")
    for minutes, (action, who) in zip(
        (5, 7, 8), (("accept", CLERK), ("start-review", REVIEWER), ("approve", APPROVER)), strict=True
    ):
        w.later(timedelta(minutes=minutes))
        last = w.act(r["id"], action, {"document_number": "快批字1号"} if action == "approve" else {}, who)
    found["W3"] = (code, [r["position"], last])
    w.later()
    # W4 the construction permit dated before the drawing-review certificate it cites
    code = w.project("先后置倒挂测试项目", 204)
    cases = {item: w.approved(code, item) for item in CHAIN}
    review = w.record(
        kind="drawing_review_certificate", project_code=code, item_code="GJ-3-01", number="SC-W4", issued_on=w.today()
    )
    permit = w.record(
        kind="construction_permit",
        project_code=code,
        number="SG-W4",
        issued_on=cases["GJ-3-03"]["on"] - timedelta(days=1),
        upstream={"SCHGSBH": "SC-W4", "GCGHXKZBH": cases["GJ-2-01"]["number"]},
    )
    found["W4"] = (code, [review, permit])
    # W5 a construction permit citing a planning permit number that exists nowhere
    code = w.project("上游编号缺失测试项目", 205)
    found["W5"] = (
        code,
        [
            w.record(
                kind="construction_permit",
                project_code=code,
                number="SG-W5",
                issued_on=w.today(),
                upstream={"GCGHXKZBH": "GH-NOWHERE"},
            )
        ],
    )
    # W6 decided eight working days after acceptance with a promised limit of five
    code = w.project("超期测试项目", 206)
    r = w.submit(code, "GJ-1-02")
    w.later()
    accepted = w.act(r["id"], "accept", who=CLERK)
    w.later(timedelta(days=12, hours=1))
    decided_pos = w.act(r["id"], "approve", {"document_number": "超期字1号"})
    found["W6"] = (code, [accepted, decided_pos])
    w.later()
    # W7 two correction requests on one case
    code = w.project("一次性告知测试项目", 207)
    corrections = [("request-correction", {"materials": ["图纸"]}), ("complete-correction", {})] * 2
    case = w.approved(code, "GJ-1-02", corrections)
    found["W7"] = (code, sorted(p for k, p in case["positions"].items() if k == "request-correction"))
    # W8 the same owner generates the project twice under similar names
    first = w.project("重复赋码测试综合楼项目", 208)
    dup = w.c.projects.generate(
        Invocation(CLERK, "dup"),
        GenerateProject(
            code=new_code(),
            name="重复赋码测试综合楼项目二",
            owner_name="海南第208建设有限公司",
            owner_uscc=uscc(208),
            region_code="460106",
            flow_type=3,
            investment_type="enterprise",
            category="房屋建筑",
            total_investment=Decimal("1000"),
            planned_start=date(2026, 6, 1),
            planned_end=date(2027, 6, 30),
            red_line=None,
        ),
    )
    found["W8"] = (first, [w.c.engine.app.max_position()])
    w.later()
    # W9 another system reports a tender award for a project never generated
    ghost = new_code()
    found["W9"] = (
        ghost,
        [
            w.record(
                source="public_resource_trading",
                kind="tender_award",
                project_code=ghost,
                number="ZB-W9",
                issued_on=w.today(),
            )
        ],
    )
    # W10 an opinion by a department outside the item's configured flow
    code = w.project("隐形审批测试项目", 210)
    case = w.approved(
        code, "GJ-1-02", [("record-opinion", {"department": "zjj", "opinion": "同意", "result": "agree"})]
    )
    found["W10"] = (code, [case["positions"]["received"], case["positions"]["record-opinion"]])
    assert dup.id
    return found


def test_every_anomaly_raises_its_rule_with_its_evidence_and_no_clean_project_raises_any(
    container: Container, world: World
) -> None:
    # Step. Ten clean projects with full lifecycles and the certificates other systems report.
    clean = [clean_project(world, n) for n in range(10)]
    # Step. One project per rule with exactly that anomaly.
    found = anomalies(world)
    rows = warnings(container)
    # Step. No clean project raises anything.
    assert [r for r in rows if r["project_code"] in clean] == []
    # Step. Each anomaly raises its rule, with its evidence, and nothing else.
    by_project: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_project.setdefault(r["project_code"], []).append(r)
    for rule, (code, evidence) in found.items():
        raised = by_project.get(code, [])
        if rule == "W8":
            raised = [r for r in rows if r["rule"] == "W8" and code in r["subject"]]
        assert [r["rule"] for r in raised] == [rule], (rule, [(r["rule"], r["explanation"]) for r in raised])
        import json

        proof = json.loads(raised[0]["evidence"])
        assert set(evidence) <= set(proof), (rule, evidence, proof)
        assert raised[0]["status"] == "open" and raised[0]["explanation"]
        # times in an explanation are read side by side: one offset, Asia/Shanghai's
        offsets = set(re.findall(r"T\d\d:\d\d:\d\d(?:\.\d+)?([+-]\d\d:\d\d|Z)", raised[0]["explanation"]))
        assert offsets <= {"+08:00"}, raised[0]["explanation"]
    assert len(rows) == len(found)
    # Step. Replaying the read model from zero gives the same ids and states.
    before = {r["warning_id"]: (r["status"], r["evidence"], r["raised_position"]) for r in rows}
    container.engine.rebuild("offline_warnings")
    after = {r["warning_id"]: (r["status"], r["evidence"], r["raised_position"]) for r in warnings(container)}
    assert after == before


def test_a_missing_upstream_number_resolves_when_the_number_appears_later(container: Container, world: World) -> None:
    code = world.project("上游编号后补测试项目", 301)
    world.record(
        kind="construction_permit",
        project_code=code,
        number="SG-301",
        issued_on=world.today(),
        upstream={"GCGHXKZBH": "GH-301"},
    )
    [w5] = warnings(container, rule="W5")
    assert w5["status"] == "open"
    later = world.record(
        kind="planning_permit", project_code=code, number="GH-301", issued_on=world.today() - timedelta(days=30)
    )
    [w5] = warnings(container, rule="W5")
    assert w5["status"] == "resolved" and w5["resolved_position"] == later
    assert warnings(container, rule="W4") == []  # the planning permit predates the construction permit


@pytest.mark.parametrize(("minutes", "raised"), [(29, True), (31, False)])
def test_compressed_lifecycle_fires_just_below_the_threshold_and_not_above(
    container: Container, world: World, minutes: int, raised: bool
) -> None:
    code = world.project("压缩阈值测试项目", 302)
    r = world.submit(code, "GJ-1-02")
    world.later(timedelta(minutes=10))
    world.act(r["id"], "accept", who=CLERK)
    world.later(timedelta(minutes=minutes - 10))
    world.act(r["id"], "approve", {"document_number": "阈值字1号"})
    assert [w["reason"] for w in warnings(container, rule="W3")] == (["W3.compressed"] if raised else [])


@pytest.mark.parametrize(("days", "raised"), [(7, False), (8, True)])
def test_decided_overdue_fires_one_working_day_past_the_limit(
    container: Container, world: World, days: int, raised: bool
) -> None:
    code = world.project("超期阈值测试项目", 303)
    r = world.submit(code, "GJ-1-02")  # promised 5 working days; accepted Monday, counting from Tuesday
    world.act(r["id"], "accept", who=CLERK)
    world.later(timedelta(days=days))  # 7 calendar days = 5 working days; 8 = 6
    world.act(r["id"], "approve", {"document_number": "超期阈值字1号"})
    assert len(warnings(container, rule="W6")) == (1 if raised else 0)


@pytest.mark.parametrize(("hours", "raised"), [(71, False), (73, True)])
def test_late_recording_fires_past_the_tolerance(container: Container, world: World, hours: int, raised: bool) -> None:
    code = world.project("补录容忍测试项目", 304)
    r = world.submit(code, "GJ-1-02")
    world.later(timedelta(days=5))
    world.c.cases.act(
        Invocation(CITY, "imp", occurred_at=world.clock.now() - timedelta(hours=hours)),
        AcceptCase(uuid.UUID(r["id"])),
    )
    assert len(warnings(container, rule="W2")) == (1 if raised else 0)


def test_similar_names_of_one_owner_are_duplicates_until_merged(container: Container, world: World) -> None:
    a = world.project("海口江东新区综合楼", 305, square(110.5, 20.1))
    world.project("海口江东新区综合楼A", 306, square(110.5, 20.1))  # other owner: no warning
    b = world.project("文昌航天城科研楼", 305, square(110.5, 20.1, 0.0015))  # same owner, overlapping red line
    c = world.project("三亚海棠湾酒店", 305, square(110.6, 20.0))  # same owner, different name and land
    [w8] = warnings(container, rule="W8")
    assert w8["subject"] == " ≈ ".join(sorted((a, b))) and c not in w8["subject"]
    world.c.projects.merge(Invocation(SUPERVISOR, "merge"), MergeProject(b, canonical_code=a, reason="重复赋码"))
    [w8] = warnings(container, rule="W8")
    assert w8["status"] == "resolved"


def test_status_rows_for_an_unknown_project_and_case_raise_w9_and_w10(container: Container, world: World) -> None:
    ghost = new_code()
    world.record(
        source="city_system",
        kind="status_row",
        project_code=ghost,
        case_ref="SL-404",
        status_code=11,
        source_system="三亚市系统",
    )
    rules = sorted(w["reason"] for w in warnings(container))
    assert rules == ["W10.external_case", "W3.rows_no_acceptance", "W9.project_not_generated"]


def test_dispositions_move_a_warning_through_acknowledged_in_inquiry_and_survive_a_rebuild(
    container: Container, world: World
) -> None:
    code = world.project("处置测试项目", 307)
    world.record(kind="license", project_code=code, item_code="GJ-1-02", number="ZZ-307", issued_on=world.today())
    [w1] = warnings(container, rule="W1")
    world.c.supervision.acknowledge_warning(Invocation(OFFICER, "ack"), AcknowledgeWarning(w1["warning_id"], "已签收"))
    assert warnings(container, rule="W1")[0]["status"] == "acknowledged"
    inquiry = world.c.supervision.open_inquiry(
        Invocation(OFFICER, "inq"),
        OpenInquiry(warning_ids=[w1["warning_id"]], subject="体外循环", department="zrzy", reason="核查"),
    )
    [w1] = warnings(container, rule="W1")
    assert (w1["status"], w1["inquiry_id"]) == ("in_inquiry", str(inquiry.id))
    container.engine.rebuild("offline_warnings")
    assert warnings(container, rule="W1")[0]["status"] == "in_inquiry"


WARNINGS_QUERY = """query($f: WarningFilter) { warnings(filter: $f, first: 50) { totalCount
  edges { node { id rule severity reason subject projectCode caseId regionCode evidence status raisedPosition raisedAt } } } }"""


def test_graphql_warnings_respect_the_actors_region_and_hide_them_from_applicants(
    container: Container, world: World
) -> None:
    code = world.project("查询测试项目", 308)
    world.record(kind="license", project_code=code, item_code="GJ-1-02", number="ZZ-308", issued_on=world.today())
    container.engine.catch_up()

    def run(actor: Actor, **f: Any) -> Any:
        result = asyncio.run(
            schema.execute(WARNINGS_QUERY, variable_values={"f": f or None}, context_value=Context(container, actor))
        )
        assert result.errors is None, result.errors
        return result.data["warnings"]

    seen = run(SUPERVISOR, rule="W1")
    assert seen["totalCount"] == 1 and seen["edges"][0]["node"]["regionCode"] == "460106"
    assert run(Actor("r", "reviewer", "460200-zrzy", "460200"))["totalCount"] == 0  # Sanya sees no Haikou warning
    assert run(Actor("r", "reviewer", "460100-zrzy", "460100"))["totalCount"] == 1
    assert run(Actor("a", "applicant", uscc(308), "460106"))["totalCount"] == 0


def test_demo_data_raises_only_the_rules_its_script_puts_in_and_replays_the_same(sqlite_url: str) -> None:
    from collections import Counter

    from demo import demo_clock, load_demo

    clock = demo_clock()
    c = bootstrap(Settings(database_url=sqlite_url, jwt_secret=JWT_SECRET), clock)
    try:
        load_demo(c, clock, projects=40, progress=False)
        rows = warnings(c)
        caught = Counter(r["reason"] for r in rows)
        print("\noffline warnings on the demo (40 projects):", dict(sorted(caught.items())))
        # the demo writes back-entries (W2), late decisions (W6), repeated corrections (W7), merged
        # duplicate codes (W8, resolved), and plants exactly one anomaly for each of these reasons
        # (demo/__init__.py docstring); nothing else of W1, W4, W5, W9, W10 may appear
        assert caught["W2.back_entry"] >= 1 and caught["W6.decided_overdue"] >= 1
        planted = (
            "W1.no_case",
            "W4.upstream",
            "W5.missing_upstream",
            "W9.project_not_generated",
            "W10.external_case",
            "W10.department",
        )
        assert {reason: caught[reason] for reason in planted} == dict.fromkeys(planted, 1)
        others = {r["reason"] for r in rows if r["rule"] in {"W1", "W4", "W5", "W9", "W10"}} - set(planted)
        assert not others
        before = {r["warning_id"]: (r["status"], r["evidence"]) for r in rows}
        c.engine.rebuild("offline_warnings")
        assert {r["warning_id"]: (r["status"], r["evidence"]) for r in warnings(c)} == before
    finally:
        c.close()


def at(w: World, day: date, hour: int, minute: int = 0) -> None:
    """Moves the simulated clock to a Hainan local time (business times follow the clock)."""
    w.clock.set(datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI))


def timed_case(w: World, code: str, item: str, steps: list[tuple[date, int, str, dict[str, Any]]]) -> dict[str, int]:
    """A case received, then moved through `steps` (day, hour, action, body) at those times; the
    position of each step's event."""
    first_day, first_hour = steps[0][0], steps[0][1]
    at(w, first_day, first_hour - 1, 13)
    r = w.submit(code, item)
    positions = {"received": r["position"]}
    for n, (day, hour, action, body) in enumerate(steps):
        at(w, day, hour, 7 * n + 3)  # uneven minutes: no evenly spaced synthetic timestamps (W3)
        who = (
            CLERK if action in ("accept", "complete-correction") else REVIEWER if action == "start-review" else APPROVER
        )
        if action == "approve":
            body = {"document_number": f"阶段测试字〔2026〕{next(_serial):05d}号"}
        positions[action] = w.act(r["id"], action, body, who)
    return positions


MON = date(2026, 3, 9)  # no holidays in March 2026: Mar 16 is the 5th working day after it, Mar 23 the 10th


def stage_one(w: World, code: str, closed_on: date) -> tuple[int, int]:
    """Stage 1 with every case within its own promised limit: the filing GJ-1-01 (1 working day),
    GJ-1-02 (5), GJ-1-03 refused after 5 and resubmitted the same day, approved on `closed_on`.
    Returns the positions of the first acceptance and the closing approval."""
    fri = MON - timedelta(days=3)
    filing = timed_case(
        w, code, "GJ-1-01", [(fri, 10, "accept", {}), (fri, 14, "start-review", {}), (MON, 9, "approve", {})]
    )
    timed_case(
        w,
        code,
        "GJ-1-02",
        [(MON, 10, "accept", {}), (MON, 14, "start-review", {}), (MON + timedelta(days=7), 10, "approve", {})],
    )
    refused = MON + timedelta(days=14)
    timed_case(
        w,
        code,
        "GJ-1-03",
        [
            (MON + timedelta(days=7), 15, "accept", {}),
            (MON + timedelta(days=8), 9, "start-review", {}),
            (refused, 10, "refuse", {"reason": "不符合规划条件"}),
        ],
    )
    last = timed_case(
        w,
        code,
        "GJ-1-03",
        [(refused, 15, "accept", {}), (refused, 16, "start-review", {}), (closed_on, 15, "approve", {})],
    )
    return filing["accept"], last["approve"]


@pytest.mark.parametrize(("closed_on", "raised"), [(date(2026, 3, 27), False), (date(2026, 3, 30), True)])
def test_a_stage_one_working_day_past_its_limit_raises_stage_overdue_and_exactly_at_it_does_not(
    container: Container, world: World, closed_on: date, raised: bool
) -> None:
    from domain.catalog import CATALOG

    assert CATALOG.stage_limit(1) == 15  # 1 + 5 + 5 + 4 working days to Mar 27; Mar 30 is one more
    code = world.project("阶段时限测试项目", 401)
    accepted, closing = stage_one(world, code, closed_on)
    rows = warnings(container, project_code=code)
    # no case is late by its own clock: the refusal and resubmission only show on the stage's
    assert [r["reason"] for r in rows] == (["W6.stage_overdue"] if raised else [])
    if raised:
        [w6] = rows
        assert (w6["rule"], w6["subject"], w6["case_id"], w6["region_code"]) == ("W6", f"{code} 阶段1", None, "460106")
        assert {accepted, closing} <= set(json.loads(w6["evidence"]))
        assert w6["raised_position"] == closing and "16个工作日" in w6["explanation"]
        container.engine.rebuild("offline_warnings")
        [again] = warnings(container, project_code=code)
        assert (again["warning_id"], again["evidence"], again["status"]) == (w6["warning_id"], w6["evidence"], "open")


def test_corrections_and_the_days_between_cases_do_not_count_against_a_stage(
    container: Container, world: World
) -> None:
    code = world.project("阶段间隔测试项目", 402)
    thu = MON + timedelta(days=3)
    # GJ-1-02: three working days, then four weeks of correction, then two more
    timed_case(
        world,
        code,
        "GJ-1-02",
        [
            (MON, 10, "accept", {}),
            (thu, 10, "request-correction", {"materials": ["选址论证报告"]}),
            (thu + timedelta(days=28), 10, "complete-correction", {}),
            (thu + timedelta(days=28), 14, "start-review", {}),
            (thu + timedelta(days=32), 11, "approve", {}),
        ],
    )
    # the owner applies for GJ-1-03 three weeks later: four more working days in the departments' hands
    later = thu + timedelta(days=53)
    timed_case(
        world,
        code,
        "GJ-1-03",
        [(later, 10, "accept", {}), (later, 15, "start-review", {}), (later + timedelta(days=6), 11, "approve", {})],
    )
    assert warnings(container, project_code=code) == []


def test_a_project_past_its_flow_types_target_raises_project_overdue(container: Container, world: World) -> None:
    from domain.catalog import CATALOG

    assert CATALOG.project_target(3) == 100  # the World's projects are general social investment
    code = world.project("全流程超期测试项目", 403)
    # GJ-1-02 lies in the department for about five months
    decided = MON + timedelta(days=160)
    first = timed_case(
        world,
        code,
        "GJ-1-02",
        [(MON, 10, "accept", {}), (MON + timedelta(days=1), 15, "start-review", {}), (decided, 11, "approve", {})],
    )
    day = decided + timedelta(days=1)
    closing = 0
    for item in ("GJ-1-03", "GJ-2-01", "GJ-3-01", "GJ-3-03", "GJ-4-01", "GJ-4-03"):
        while not is_workday(day) or not is_workday(day + timedelta(days=1)):
            day += timedelta(days=1)
        steps = [(day, 10, "accept", {}), (day, 15, "start-review", {}), (day + timedelta(days=1), 11, "approve", {})]
        closing = timed_case(world, code, item, steps)["approve"]
        day += timedelta(days=3)
    rows = warnings(container, project_code=code)
    assert sorted(r["reason"] for r in rows) == ["W6.decided_overdue", "W6.project_overdue", "W6.stage_overdue"]
    [project] = [r for r in rows if r["reason"] == "W6.project_overdue"]
    assert (project["subject"], project["raised_position"]) == (code, closing)
    assert {first["accept"], closing} <= set(json.loads(project["evidence"]))
    assert "一般社会投资项目" in project["explanation"] and "目标100个工作日" in project["explanation"]
    [stage] = [r for r in rows if r["reason"] == "W6.stage_overdue"]
    assert stage["subject"] == f"{code} 阶段1"
    before = {r["warning_id"]: (r["status"], r["evidence"], r["raised_position"]) for r in rows}
    container.engine.rebuild("offline_warnings")
    after = {r["warning_id"]: (r["status"], r["evidence"], r["raised_position"]) for r in warnings(container)}
    assert after == before
