"""W1, W4, W5 and W8 over imported city data (issue 15): a certificate is matched against the
city's cases and approval documents as against ours, a prerequisite approved in the city counts
like ours, and project names are compared after normalising — clean look-alikes raise nothing,
planted anomalies still raise their rule, whatever order the facts arrive in; on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from application.bootstrap import Container, bootstrap
from application.clock import SimulatedClock
from application.commands import Invocation
from application.commands.exchange import ReportExternalRecord
from application.commands.spgl import ImportSpglTables
from application.policy import Actor
from domain.exchange import spgl
from infrastructure.settings import Settings
from projections.offline_warnings import OfflineWarnings
from tests.conftest import JWT_SECRET
from tests.imported_scenario import Scenario, build

CITY = Actor("haikou-system", "integration", "460100-gongjian", "460100", "海口市工建系统")
PROJECT_ROWS = (spgl.FLOW, spgl.STAGE_ITEM, spgl.PROJECT)
CASE_ROWS = (spgl.CASE,)


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(datetime(2026, 6, 1, 1, 0, tzinfo=UTC))


@pytest.fixture
def container(store_url: str, clock: SimulatedClock) -> Iterator[Container]:
    c = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET, wait_timeout_s=5), clock)
    yield c
    c.close()


def every(c: Container, **where: Any) -> list[dict[str, Any]]:
    c.engine.catch_up()
    rows, _, _ = OfflineWarnings(c.db).list(first=10_000, **where)
    return rows


def part(s: Scenario, tables: tuple[str, ...] | None, but: tuple[str, ...] = ()) -> dict[str, list[dict[str, Any]]]:
    return {t: rows for t, rows in s.tables.items() if (tables is None or t in tables) and t not in but}


def feed(c: Container, s: Scenario, order: str, tag: str) -> None:
    """The scenario's rows and certificates in one of three orders: the whole dump before the
    certificates; the certificates after the projects but before the cases; or after the cases
    but before their status rows and approval documents."""
    certificates = [{**r, "source_id": f"{tag}-{r['source_id']}"} for r in s.certificates]

    def dump(tables: dict[str, list[dict[str, Any]]], n: int) -> None:
        result = c.spgl.import_tables(Invocation(CITY, f"{tag}-dump-{n}"), ImportSpglTables("haikou", tables))
        assert not result.errors, result.errors[:3]

    def report() -> None:
        for n, record in enumerate(certificates):
            c.exchange.report(Invocation(CITY, f"{tag}-cert-{n}"), ReportExternalRecord(record))

    if order == "dump_first":
        dump(part(s, None), 0)
        report()
    elif order == "certificates_before_cases":
        dump(part(s, PROJECT_ROWS), 0)
        report()
        dump(part(s, None, but=PROJECT_ROWS), 1)
    else:  # certificates_before_approvals
        dump(part(s, (*PROJECT_ROWS, *CASE_ROWS)), 0)
        report()
        dump(part(s, None, but=(*PROJECT_ROWS, *CASE_ROWS)), 1)


def labelled(s: Scenario, rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Open warnings as (what the project is in the scenario, reason), project codes left out."""
    names = {code: f"clean-{n}" for n, code in enumerate(sorted(s.clean))}
    names |= {code: f"planted-{rule}" for rule, code in s.planted.items()}

    def name(r: dict[str, Any]) -> str:
        if r["rule"] == "W8":  # a pair: named by the planted code in its subject
            return next((names[c] for c in names if c in r["subject"]), "other")
        return names.get(r["project_code"], "other")

    return sorted((name(r), r["reason"]) for r in rows if r["status"] == "open")


def test_clean_city_projects_raise_nothing_and_each_planted_anomaly_raises_its_rule(container: Container) -> None:
    s = build(9)
    feed(container, s, "dump_first", "a")
    rows = every(container)
    # Step. No clean project of the city raises anything: certificates match the city's cases (by
    # item) or approval documents (by PFWH or ZZBH, also under a city item code); prerequisites
    # approved in the city count; cited document numbers exist; phases of one owner are not duplicates.
    assert [(r["reason"], r["explanation"]) for r in rows if r["project_code"] in s.clean] == []
    # Step. Each planted anomaly raises its rule, and only it.
    w1 = [r for r in rows if r["project_code"] == s.planted["W1"]]
    assert [(r["reason"], r["subject"]) for r in w1] == [("W1.no_case", "ZZ-W1-404")]
    w4 = [r for r in rows if r["project_code"] == s.planted["W4"]]
    # the prerequisite approved after the permit (W4.catalogue, for the permit and for the city's own
    # case of it: issue 15 judges city cases like ours), and the city's approval document the permit
    # cites by number dated after it (W4.upstream)
    assert sorted(r["reason"] for r in w4) == ["W4.catalogue", "W4.catalogue", "W4.upstream"]
    assert sorted(r["case_id"] is None for r in w4 if r["reason"] == "W4.catalogue") == [False, True]
    assert all("GJ-3-01" in r["explanation"] or "海资规" in r["explanation"] for r in w4)
    w8 = [r for r in rows if r["rule"] == "W8"]
    assert len(w8) == 1 and s.planted["W8"] in w8[0]["subject"] and "1.00" in w8[0]["explanation"]
    assert len(rows) == 5
    # Step. Replaying the read model from zero gives the same ids, states and evidence.
    before = {r["warning_id"]: (r["status"], r["evidence"], r["raised_position"]) for r in rows}
    container.engine.rebuild("offline_warnings")
    after = {r["warning_id"]: (r["status"], r["evidence"], r["raised_position"]) for r in every(container)}
    assert after == before


def test_the_open_warnings_do_not_depend_on_whether_certificates_arrive_before_or_after_the_city_cases(
    container: Container,
) -> None:
    # three copies of the scenario on disjoint projects, owners and certificates, one per order
    orders = ("dump_first", "certificates_before_cases", "certificates_before_approvals")
    scenarios = {order: build(6, offset=100 * n) for n, order in enumerate(orders)}
    for n, (order, s) in enumerate(scenarios.items()):
        feed(container, s, order, f"o{n}")
    rows = every(container)
    found = {}
    for order, s in scenarios.items():
        mine = [r for r in rows if r["project_code"] in s.clean | set(s.planted.values())]
        mine += [r for r in rows if r["rule"] == "W8" and s.planted["W8"] in r["subject"]]
        found[order] = labelled(s, mine)
        if order != "dump_first":  # warnings raised on the early certificates were resolved by the city's rows
            resolved = [r for r in mine if r["project_code"] in s.clean]
            assert resolved and {r["status"] for r in resolved} == {"resolved"}, order
            assert all(r["resolved_position"] for r in resolved)
    assert found["certificates_before_cases"] == found["dump_first"]
    assert found["certificates_before_approvals"] == found["dump_first"]
    assert found["dump_first"] == [
        ("planted-W1", "W1.no_case"),
        ("planted-W4", "W4.catalogue"),  # the permit's certificate
        ("planted-W4", "W4.catalogue"),  # the city's own permit case
        ("planted-W4", "W4.upstream"),
        ("planted-W8", "W8.duplicate"),
    ]
    before = {r["warning_id"]: (r["status"], r["evidence"]) for r in rows}
    container.engine.rebuild("offline_warnings")
    assert {r["warning_id"]: (r["status"], r["evidence"]) for r in every(container)} == before


def test_a_prerequisite_approved_in_the_city_counts_only_from_its_approval_date(container: Container) -> None:
    s = build(0)
    w4 = s.planted["W4"]
    feed(container, s, "certificates_before_approvals", "p")
    raised = [r for r in every(container, project_code=w4) if r["reason"] == "W4.catalogue"]
    # certificates came before the city approvals of their prerequisites: flagged, all but the
    # permit's resolved; the permit's certificate and the city's own permit case stay open
    opened = [r for r in raised if r["status"] == "open"]
    assert len(raised) >= 3 and len(opened) == 2
    assert sorted(r["case_id"] == f"HK{w4[-6:]}-GJ-3-03" for r in opened) == [False, True]
    # the drawing review's city case is approved (its document) 80 days in, after the permit
    for warning in opened:
        assert "GJ-3-01" in warning["explanation"] and "GJ-2-01" not in warning["explanation"]
    review = next(r for r in s.tables[spgl.DOCUMENT] if r["SPSXSLBM"] == f"HK{w4[-6:]}-GJ-3-01")
    # a 办结 status row of the same case dated before the permit: the earliest approval counts
    earlier = {
        "LSH": 10_000, "DFSJZJ": "late-close", "XZQHDM": "460106", "SJYXBS": 1, "GCDM": review["GCDM"],
        "SPSXSLBM": review["SPSXSLBM"], "BLZT": 11, "BLSJ": "2026-01-20 10:00:00", "SJLY": "海口市工程建设项目审批管理系统",
    }  # fmt: skip
    container.spgl.import_tables(Invocation(CITY, "p-more"), ImportSpglTables("haikou", {spgl.STATUS: [earlier]}))
    for before in opened:
        [warning] = [r for r in every(container, project_code=w4) if r["warning_id"] == before["warning_id"]]
        assert warning["status"] == "resolved"
        assert warning["resolved_position"] in json.loads(warning["evidence"])


@pytest.mark.parametrize(
    ("first", "second", "duplicate"),
    [
        # the planted pair of issue 15: 0.84 as raw text, one project after normalising
        ("海口市江东新区滨江安置区二期工程", "江东新区滨江安置区二期工程项目", True),
        ("海南省三亚市海棠湾（Ａ区）酒店项目", "三亚海棠湾A区酒店建设项目", True),  # full width, brackets
        ("江东新区滨江安置区一期工程", "江东新区滨江安置区二期工程", False),  # two phases of one development
        ("滨江安置区第二期", "滨江安置区2期工程", True),  # one phase written two ways
        ("海口市第一中学教学楼", "三亚市第一中学教学楼", False),  # one owner, two cities
        ("江东新区综合服务中心", "美兰临空产业园物流中心", False),
    ],
)
def test_names_of_one_owner_are_compared_after_normalising(
    container: Container, first: str, second: str, duplicate: bool
) -> None:
    s = Scenario()
    s.flow()
    a = s.project(1, first, 850)
    b = s.project(2, second, 850)
    s.project(3, first, 851)  # another owner with the same name: never compared here
    feed(container, s, "dump_first", "n")
    rows = every(container, rule="W8")
    assert [r["subject"] for r in rows] == ([" ≈ ".join(sorted((a, b)))] if duplicate else [])


def test_two_phases_whose_red_lines_overlap_are_still_a_duplicate(container: Container, clock: SimulatedClock) -> None:
    from tests.integration.test_offline_warnings import World, square

    w = World(container, clock)
    a = w.project("滨江安置区一期工程", 860, square(110.5, 20.1))
    b = w.project("滨江安置区二期工程", 860, square(110.5, 20.1, 0.0015))  # inside the first red line
    w.project("滨江安置区三期工程", 860, square(110.4, 19.9))  # elsewhere: a phase, not a duplicate
    [w8] = every(container, rule="W8")
    assert w8["subject"] == " ≈ ".join(sorted((a, b))) and "0.00" in w8["explanation"]
