"""演示数据 — the demo year, loaded through the services on SQLite and PostgreSQL.

Facts are read back from the log itself, in global order; the warnings the planted anomalies
raise are read from the offline_warnings read model, caught up (and rebuilt) after the load. After
the load the automation runs as `gongjian serve` would run it: the licences it issues with the
demo's seals are looked up in the licence library and verified (验真).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

from application.bootstrap import Container, bootstrap
from application.clock import SimulatedClock
from application.commands import Invocation
from application.commands.verification import VerifySignatures
from application.policy import LICENCE_ISSUER, Actor, department_org
from demo import END, LICENSING, START, SUPERVISION, DemoSummary, demo_clock, load_demo
from domain.shared.codes import validate_uscc
from domain.shared.errors import Conflict
from domain.shared.events import SHANGHAI
from domain.shared.reference import REFERENCE
from domain.shared.workdays import is_workday
from domain.supervision.rating import rectified_on_time
from infrastructure.db import DatabaseURL
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET

PROJECTS = 25  # more than the 19 city/county units, so every unit must appear
# summary, log, warnings, what the automation did afterwards (first load only)
Demo = tuple[DemoSummary, list[tuple[int, Any]], list[dict[str, Any]], dict[str, Any]]
VERIFIER = Actor("supervisor-460000", "supervisor", "460000-yshj", "460000", "海南省营商环境建设厅督查员")


def _container(url: str, clock: SimulatedClock, keys: Path | None = None) -> Container:
    # the seals' private keys go to a directory of the test's own, not the working directory's var/keys
    settings = Settings(database_url=url, jwt_secret=JWT_SECRET)
    if keys is not None:
        settings = Settings(database_url=url, jwt_secret=JWT_SECRET, keystore_path=str(keys))
    return bootstrap(settings, clock)


def _events(container: Container) -> Iterator[tuple[int, Any]]:
    """Every event of the log with its position, in order."""
    start = 1
    while True:
        notifications = container.app.recorder.select_notifications(start=start, limit=1000)
        if not notifications:
            return
        for n in notifications:
            yield n.id, container.app.mapper.to_domain_event(n)
        start = notifications[-1].id + 1


def _warnings(container: Container) -> list[dict[str, Any]]:
    container.engine.catch_up(["offline_warnings"])
    rows = container.db.query("SELECT * FROM warnings ORDER BY warning_id")
    return [{k: v for k, v in r.items() if k in ("warning_id", "rule", "reason", "status", "evidence")} for r in rows]


def _load(url: str, keys: Path, replay: bool = False) -> Demo:
    """The load, its log and its warnings; with `replay`, the warnings must rebuild to the same rows
    and the automation runs over the loaded store."""
    clock = demo_clock()
    container = _container(url, clock, keys)
    try:
        summary = load_demo(container, clock, projects=PROJECTS, progress=False)
        log = list(_events(container))
        rows = _warnings(container)
        automated: dict[str, Any] = {}
        if replay:
            container.engine.rebuild("offline_warnings")
            assert _warnings(container) == rows
            automated = _automate(container)
        return summary, log, rows, automated
    finally:
        container.close()


def _automate(container: Container) -> dict[str, Any]:
    """Rounds of the automation until idle; the issued licences as the library and 验真 see them."""
    done = container.automation.run_until_idle(rounds=1000)
    container.engine.catch_up(["licence_library"])
    library = {r["number"]: r for r in container.db.query("SELECT * FROM licences ORDER BY position")}
    verified = {}
    for number in done.licences[:3]:
        licence = container.licences.get(number)
        verified[number] = container.verifications.verify(
            Invocation(VERIFIER, f"test-verify-{number}"),
            VerifySignatures(
                licence.document_hash, licence.hash_algorithm, signatures=[licence.signature_entry().as_dict()]
            ),
        )
    return {"round": done, "library": library, "verified": verified, "status": container.automation.status()}


def _name(event: Any) -> str:
    return type(event).__qualname__


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def demo_log(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """One load per store for the whole module: the log is read into memory, then only looked at."""
    if request.param == "sqlite":
        where = tmp_path_factory.mktemp("demo")
        yield _load(f"sqlite:///{where}/gongjian.db", where / "keys", replay=True)
        return
    base = str(request.getfixturevalue("pg_base_url"))
    schema = f"t_demo_{uuid.uuid4().hex[:12]}"
    conninfo = DatabaseURL(base).conninfo
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield _load(f"{base}?schema={schema}", tmp_path_factory.mktemp("demo-keys"), replay=True)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_two_loads_into_fresh_stores_write_the_same_facts(demo_log: Demo, tmp_path: Path) -> None:
    # Step. A second load into a fresh SQLite file, whatever store the first one used.
    _, first, warned, _ = demo_log
    _, second, again, _ = _load(f"sqlite:///{tmp_path}/second.db", tmp_path / "keys")

    # Step. Same event types in the same order, same project codes, same business times.
    assert [_name(e) for _, e in first] == [_name(e) for _, e in second]
    codes = [e.code for _, e in first if _name(e) == "Project.Generated"]
    assert codes == [e.code for _, e in second if _name(e) == "Project.Generated"]
    assert [e.timestamp for _, e in first] == [e.timestamp for _, e in second]
    numbers = [(e.source_id, e.number, e.upstream) for _, e in first if _name(e) == "ExternalRecord.Reported"]
    assert numbers == [(e.source_id, e.number, e.upstream) for _, e in second if _name(e) == "ExternalRecord.Reported"]
    # warnings about cases carry the case's random id; rules, reasons and statuses do not
    assert sorted((w["reason"], w["status"]) for w in warned) == sorted((w["reason"], w["status"]) for w in again)


def test_the_demo_covers_every_unit_and_every_case_path(demo_log: Demo) -> None:
    summary, log, _, _ = demo_log
    names = Counter(_name(e) for _, e in log)
    generated = [e for _, e in log if _name(e) == "Project.Generated"]

    units = {REFERENCE.unit_of(e.region_code) for e in generated}
    assert units == {u.code for u in REFERENCE.city_county_units()}
    assert {e.flow_type for e in generated} == set(REFERENCE.flow_types)
    assert {e.stage for _, e in log if _name(e) == "Case.Received"} == {1, 2, 3, 4, 5}
    for family in (
        "Case.Approved",
        "Case.ApprovedPendingMaterials",
        "Case.Refused",
        "Case.AcceptanceRefused",
        "Case.NotAccepted",
        "Case.CorrectionRequested",
        "Case.SpecialProcedureStarted",
        "Case.BackEntered",
        "Case.Withdrawn",
        "Project.MergedInto",
        "Project.LandSupplied",
        "Project.UnitWorkRegistered",
    ):
        assert names[family] > 0, family
    procedures = {e.procedure_name for _, e in log if _name(e) == "Case.SpecialProcedureStarted"}
    assert procedures == {"专家评审", "听证", "公示"}
    assert {str(e.channel) for _, e in log} >= {"online", "window", "import", "offline_backentry"}
    assert summary.overdue > 0
    assert summary.overdue < summary.cases / 2  # most cases finish on time


def test_owners_carry_valid_codes_registered_in_the_project_region(
    demo_log: Demo,
) -> None:
    _, log, _, _ = demo_log
    for _, e in log:
        if _name(e) == "Project.Generated":
            assert validate_uscc(e.owner_uscc) == e.owner_uscc
            assert e.owner_uscc[2:8] == e.region_code


def test_recorded_times_rise_with_positions_within_business_hours(
    demo_log: Demo,
) -> None:
    _, log, _, _ = demo_log
    times = [e.timestamp for _, e in log]
    assert times == sorted(times)
    for moment in times:
        local = moment.astimezone(SHANGHAI)
        assert START <= local.date() <= END.date()
        assert is_workday(local.date()), local
        assert (8, 30) <= (local.hour, local.minute) < (17, 30), local
    entries = [e for _, e in log if _name(e) == "Case.BackEntered"]
    assert all(e.occurred_at < e.timestamp for e in entries)  # decided offline, entered later


def test_the_summary_matches_the_log(demo_log: Demo) -> None:
    summary, log, _, _ = demo_log
    names = Counter(_name(e) for _, e in log)
    assert summary.events == log[-1][0]
    assert summary.projects == names["Project.Generated"] > PROJECTS
    assert summary.cases == names["Case.Received"] + names["Case.BackEntered"]
    assert summary.back_entries == names["Case.BackEntered"]
    assert summary.merges == names["Project.MergedInto"] == names["Project.DuplicateAbsorbed"] == 2
    assert sum(summary.by_status.values()) == summary.cases
    assert summary.ratings == names["Rating.Rated"] > 0
    assert summary.bad_reviews == sum(e.level <= 2 for _, e in log if _name(e) == "Rating.Rated") > 0
    assert summary.external_records == names["ExternalRecord.Reported"] > 0
    assert summary.feedback == names["Feedback.Submitted"] > 0
    assert summary.inquiries == names["Inquiry.Opened"] == 4
    assert summary.seals == names["Seal.Registered"] == len(REFERENCE.city_county_units()) * len(LICENSING)


def test_the_demo_refuses_a_store_that_already_holds_events(sqlite_url: str, tmp_path: Path) -> None:
    clock = demo_clock()
    container = _container(sqlite_url, clock, tmp_path / "keys")
    try:
        load_demo(container, clock, projects=1, progress=False)
        with pytest.raises(Conflict):
            load_demo(container, clock, projects=1, progress=False)
    finally:
        container.close()


def test_the_demo_refuses_a_clock_the_container_does_not_use(sqlite_url: str, tmp_path: Path) -> None:
    container = _container(sqlite_url, demo_clock(), tmp_path / "keys")
    try:
        with pytest.raises(ValueError, match="simulated clock"):
            load_demo(container, demo_clock(), projects=1, progress=False)
    finally:
        container.close()


def test_the_demo_clock_starts_before_the_first_working_morning() -> None:
    assert demo_clock().now().astimezone(SHANGHAI).date() == START == date(2026, 1, 5)


# --- the supervision side ------------------------------------------------------------------------

DECISIONS = {
    "Case.Approved",
    "Case.ApprovedPendingMaterials",
    "Case.Refused",
    "Case.AcceptanceRefused",
    "Case.NotAccepted",
    "Case.Withdrawn",
}


def _decided_at(log: list[tuple[int, Any]]) -> dict[str, int]:
    """Case id → position of its first decision or closure."""
    decided: dict[str, int] = {}
    for position, e in log:
        if _name(e) in DECISIONS:
            decided.setdefault(str(e.originator_id), position)
    return decided


def test_applicants_rate_most_decided_cases_a_few_days_after_the_decision(demo_log: Demo) -> None:
    _, log, _, _ = demo_log
    decided = _decided_at(log)
    ratings = [(p, e) for p, e in log if _name(e) == "Rating.Rated"]
    assert len(ratings) > len(decided) * 0.6
    for position, e in ratings:
        assert e.actor_role == "applicant" and e.actor_org == e.applicant_org
        assert decided[str(e.case_id)] < position  # rated after the decision, by its own applicant
    levels = Counter(e.level for _, e in ratings)
    assert levels[5] + levels[4] > 0.8 * len(ratings)
    assert levels[3] > 0
    assert 0 < levels[2] + levels[1] < 0.1 * len(ratings)  # a realistic few bad reviews


def test_every_bad_review_is_rectified_by_the_department_and_followed_up(demo_log: Demo) -> None:
    _, log, _, _ = demo_log
    rated = {e.originator_id: e for _, e in log if _name(e) == "Rating.Rated"}
    steps: dict[Any, list[Any]] = {}
    for _, e in log:
        if _name(e) in ("Rating.RectificationRecorded", "Rating.FollowUpRecorded"):
            steps.setdefault(e.originator_id, []).append(e)
    bad = [r for r in rated.values() if r.level <= 2]
    assert set(steps) <= {r.originator_id for r in bad}  # only bad reviews are rectified
    on_time, late = 0, 0
    for review in bad:
        if review.business_date > date(2026, 9, 30):
            continue  # its rectification may still be running when the demo ends
        done = steps[review.originator_id]
        assert [_name(e) for e in done][:2] == ["Rating.RectificationRecorded", "Rating.FollowUpRecorded"]
        assert done[-1].result == "satisfied"
        first = done[0]
        assert first.actor_role == "approver" and first.actor_org.endswith(f"-{review.department}")
        assert all(e.actor_role == "supervisor" for e in done if _name(e) == "Rating.FollowUpRecorded")
        if rectified_on_time(review.business_date, first.rectified_on):
            on_time += 1
        else:
            late += 1
    assert on_time > late > 0  # mostly within 15 working days, a few late
    follow_ups = [e.result for done in steps.values() for e in done if _name(e) == "Rating.FollowUpRecorded"]
    assert "unsatisfied" in follow_ups  # reopened, rectified again, then satisfied (checked above)


def test_experience_officers_report_a_handful_of_problems(demo_log: Demo) -> None:
    _, log, _, _ = demo_log
    reports = [e for _, e in log if _name(e) == "Feedback.Submitted"]
    assert 5 <= len(reports) <= 10
    assert {e.reporter_kind for e in reports} == {"experience_officer"}
    assert {e.subject_kind for e in reports} == {"item", "window", "case"}


def test_other_systems_report_certificates_citing_the_numbers_of_the_upstream_approvals(demo_log: Demo) -> None:
    _, log, _, _ = demo_log
    project_item: dict[str, tuple[str, str]] = {}
    approved: dict[tuple[str, str], str] = {}  # (project, item) → document number
    for _, e in log:
        if _name(e) == "Case.Received":
            project_item[str(e.originator_id)] = (e.project_code, e.item_code)
        elif _name(e) in ("Case.Approved", "Case.ApprovedPendingMaterials"):
            approved[project_item[str(e.originator_id)]] = e.document_number
    numbers = set(approved.values())
    records = [e for _, e in log if _name(e) == "ExternalRecord.Reported"]
    assert all(e.actor_role == "integration" and str(e.channel) == "import" for e in records)
    regular = [e for e in records if e.item_code in ("GJ-3-03", "GJ-4-03")]
    assert {e.kind for e in regular} == {"construction_permit", "completion_filing"}
    cited = {"YDGHXKZBH": "GJ-1-03", "GCGHXKZBH": "GJ-2-01", "SCHGSBH": "GJ-3-01", "SGXKZBH": "GJ-3-03"}
    dangling = []
    for e in regular:
        assert e.number == approved[e.project_code, e.item_code]  # the certificate of the approval here
        assert e.upstream and e.issued_on <= e.timestamp.astimezone(SHANGHAI).date()
        for field, number in e.upstream.items():
            if number != approved.get((e.project_code, cited[field])):
                dangling.append(number)
    assert len(dangling) == 1 and dangling[0] not in numbers  # the planted W5, and nothing else
    planted = [e for e in records if e.item_code not in ("GJ-3-03", "GJ-4-03")]
    assert sorted(e.kind for e in planted) == ["construction_permit", "license", "status_row"]
    assert all(e.timestamp.astimezone(SHANGHAI).date() < SUPERVISION for e in planted)


def test_the_planted_anomalies_raise_their_rules_and_nothing_else_does(demo_log: Demo) -> None:
    # Step. W1, W4, W5, W9 and W10 come only from the planted anomalies, one warning each.
    _, _, warned, _ = demo_log
    planted = Counter(w["reason"] for w in warned if w["rule"] in ("W1", "W4", "W5", "W9", "W10"))
    assert planted == {
        "W1.no_case": 1,
        "W4.upstream": 1,
        "W5.missing_upstream": 1,
        "W9.project_not_generated": 1,
        "W10.external_case": 1,
        "W10.department": 1,
    }
    assert not [w for w in warned if w["rule"] == "W3"]  # the regular reports look regular

    # Step. What the officers did with them (W4 nobody has looked at yet).
    status = {w["reason"]: w["status"] for w in warned if w["reason"] in planted}
    assert status["W10.department"] == "acknowledged"
    assert status["W4.upstream"] == "open"
    assert {status[r] for r in planted if r not in ("W10.department", "W4.upstream")} == {"in_inquiry"}


def test_inquiries_reach_every_finding_on_the_planted_warnings_and_a_back_entry(demo_log: Demo) -> None:
    _, log, warned, _ = demo_log
    inquiry = [(p, e) for p, e in log if _name(e).startswith("Inquiry.")]
    assert all(e.timestamp.astimezone(SHANGHAI).date() >= SUPERVISION for _, e in inquiry)
    opened = {e.originator_id: e for _, e in inquiry if _name(e) == "Inquiry.Opened"}
    reasons = {w["warning_id"]: w["reason"] for w in warned}
    on = sorted(reasons[w] for e in opened.values() for w in e.warning_ids)
    assert on == [
        "W1.no_case",
        "W10.external_case",
        "W2.back_entry",
        "W5.missing_upstream",
        "W9.project_not_generated",
    ]
    findings = {e.originator_id: e.finding for _, e in inquiry if _name(e) == "Inquiry.FindingRecorded"}
    assert sorted(findings.values()) == ["false_alarm", "justified", "violation_confirmed"]
    sanctioned = {e.originator_id for _, e in inquiry if _name(e) == "Inquiry.SanctionRecorded"}
    assert [findings[i] for i in sanctioned] == ["violation_confirmed"]
    closed = {e.originator_id for _, e in inquiry if _name(e) == "Inquiry.Closed"}
    assert closed == set(findings)
    still_open = set(opened) - closed
    assert len(still_open) == 1  # waiting for an explanation due after the demo ends
    asked = [e for _, e in inquiry if _name(e) == "Inquiry.ExplanationRequested" and e.originator_id in still_open]
    assert asked and asked[0].deadline > END.date()
    explained = [e for _, e in inquiry if _name(e) == "Inquiry.ExplanationRecorded"]
    assert len(explained) == 3 and all(e.actor_role == "approver" for e in explained)


# --- seals and the licences the automation issues with them -------------------------------------


def test_every_unit_has_a_seal_per_licensing_department_before_any_approval(demo_log: Demo) -> None:
    _, log, _, _ = demo_log
    assert LICENSING == ("zjj", "zrzy")  # the departments whose items carry a licence_type
    seals = [(p, e) for p, e in log if _name(e) == "Seal.Registered"]
    orgs = Counter(e.holder_org for _, e in seals)
    units = {u.code for u in REFERENCE.city_county_units()}
    assert orgs == Counter(f"{u}-{d}" for u in units for d in LICENSING)  # one each, named as department_org
    first_approval = min(p for p, e in log if _name(e) in ("Case.Approved", "Case.ApprovedPendingMaterials"))
    for position, e in seals:
        unit, dept = e.holder_org.split("-")
        assert position < first_approval
        assert e.actor_role == "admin" and e.algorithm == "sm2-sm3"
        assert set(e.signers) == {LICENCE_ISSUER.actor_id, f"approver-{unit}-{dept}"}
        assert e.valid_from.astimezone(SHANGHAI).date() == date(2026, 1, 1)
        assert e.valid_until.astimezone(SHANGHAI).date() == date(2028, 12, 31)


def test_the_automation_issues_licences_with_the_demo_seals_that_the_library_holds_and_verify(
    demo_log: Demo,
) -> None:
    # Step. After the load, the automation issues licences for approvals, sealed by the unit's department.
    _, log, _, automated = demo_log
    done = automated["round"]
    assert done.licences
    seal_org = {str(e.originator_id): e.holder_org for _, e in log if _name(e) == "Seal.Registered"}
    library = automated["library"]
    assert set(done.licences) == set(library)
    for number in done.licences:
        row = library[number]
        assert seal_org[row["seal_id"]] == department_org(row["region_code"], row["department"])
        assert row["signer"] == LICENCE_ISSUER.actor_id and row["algorithm"] == "sm2-sm3"

    # Step. Their signatures verify (验真) against the seals' public keys.
    assert automated["verified"]
    assert all(v.valid for v in automated["verified"].values()), automated["verified"]

    # Step. The approvals it declined are recorded with their reason (missing topic fields, no seal).
    assert automated["status"]["skipped"].get("licence", 0) == len(done.skipped)
    assert all(kind == "licence" for kind, _, _ in done.skipped)
