"""智能审批 in the domain, without I/O: the rule evaluation, the catalogue's rule configuration, and
the v1 → v2 upcast of `Case.Approved` (rule_evidence)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from domain.approvals import Case
from domain.approvals.rule_check import LicenceFacts, ProjectFacts, evaluate
from domain.catalog import CATALOG
from domain.catalog.rule_approval import parse_rule_approval
from domain.licences.licence import LICENCE_TYPES
from domain.shared.errors import IllegalTransition, InvalidValue
from domain.shared.events import Channel, Meta
from infrastructure.log import GongjianApplication

OWNER = "91460000MA5T0P3X64"
CODE = "2611-460100-04-01-123456"
TODAY = date(2026, 11, 27)
SPEC = CATALOG.item("GJ-1-03").rule_approval


def project(**attributes: str | None) -> ProjectFacts:
    values: dict[str, str | None] = {"investment_type": "enterprise", "land_supply_mode": "transfer", **attributes}
    return ProjectFacts(CODE, OWNER, values, {"GJ-1-02": "case-1"}, values["land_supply_mode"] is not None)


def licence(**overrides: object) -> LicenceFacts:
    fields: dict[str, object] = {
        "number": "琼选001", "licence_type": "site_selection_opinion", "holder_uscc": OWNER, "project_code": CODE,
        "valid_until": TODAY + timedelta(days=30), "revoked": False, "position": 7, "document_hash": "ab" * 32,
    }  # fmt: skip
    return LicenceFacts(**{**fields, **overrides})  # type: ignore[arg-type]


def test_every_rule_and_material_passing_approves_with_the_licence_as_evidence() -> None:
    assert SPEC is not None
    outcome = evaluate(SPEC, ("GJ-1-02",), project(), [licence()], TODAY)
    assert outcome.passed
    [rule] = [r for r in outcome.rules if r["kind"] == "licence"]
    assert rule["licence"] == {"number": "琼选001", "licence_type": "site_selection_opinion", "position": 7,
                               "valid_until": "2026-12-27", "document_hash": "ab" * 32}  # fmt: skip


@pytest.mark.parametrize(
    ("facts", "licences", "failed"),
    [
        (project(land_supply_mode="allocation"), [licence()], {"land_transferred"}),
        (project(investment_type="government"), [licence()], {"enterprise_investment"}),
        (project(), [licence(valid_until=TODAY - timedelta(days=1))], {"site_selection_valid"}),
        (project(), [licence(revoked=True)], {"site_selection_valid"}),
        (project(), [licence(holder_uscc="91460100MA5T0AAA10")], {"site_selection_valid"}),
        (project(), [licence(project_code="2611-460100-04-01-654321")], {"site_selection_valid"}),
        (project(), [], {"site_selection_valid"}),
    ],
)
def test_one_failing_fact_leaves_the_case_to_a_person_and_says_why(
    facts: ProjectFacts, licences: list[LicenceFacts], failed: set[str]
) -> None:
    assert SPEC is not None
    outcome = evaluate(SPEC, ("GJ-1-02",), facts, licences, TODAY)
    assert not outcome.passed
    assert {r["name"] for r in outcome.rules if not r["passed"]} == failed
    assert all(r.get("reason") for r in outcome.rules if not r["passed"])


def test_a_licence_valid_on_its_last_day_still_counts() -> None:
    assert SPEC is not None
    assert evaluate(SPEC, ("GJ-1-02",), project(), [licence(valid_until=TODAY)], TODAY).passed


def test_the_catalogue_names_only_known_licence_types_and_no_applicant_material() -> None:
    configured = [i for i in CATALOG.items.values() if i.rule_approval is not None]
    assert {i.code for i in configured} >= {"GJ-1-03", "GJ-3-03"}
    for item in configured:
        assert item.rule_approval is not None
        assert set(item.rule_approval.licence_types) <= set(LICENCE_TYPES)
        assert all(m.source in ("shared", "licence") for m in item.rule_approval.materials)


def test_an_applicant_provided_material_makes_an_item_ineligible() -> None:
    raw = {"rules": [{"name": "r", "kind": "prerequisites"}],
           "materials": [{"code": "M1", "name": "申请书", "source": "applicant"}]}  # fmt: skip
    with pytest.raises(ValueError, match="neither shared nor a licence"):
        parse_rule_approval("GJ-X", raw)


def meta(channel: Channel) -> Meta:
    return Meta("a", "integration", "gongjian", channel, "r", datetime.now(UTC))


def accepted() -> Case:
    case = Case.receive(
        meta(Channel.ONLINE), case_id=uuid4(), project_id=uuid4(), project_code=CODE, region_code="460106",
        applicant_org=OWNER, item=CATALOG.item("GJ-1-03"), situation_codes=[], materials=[],
        parallel_application_id=None, acceptance_mode=1,
    )  # fmt: skip
    case.accept(meta(Channel.SYSTEM_RULE), CATALOG.item("GJ-1-03"))
    return case


def test_rule_evidence_goes_with_the_system_rule_channel_and_only_with_it() -> None:
    with pytest.raises(InvalidValue):
        accepted().approve(meta(Channel.ONLINE), None, None, None, rule_evidence={"passed": True})
    with pytest.raises(InvalidValue):
        accepted().approve(meta(Channel.SYSTEM_RULE), None, None, None)
    case = accepted()
    case.approve(meta(Channel.SYSTEM_RULE), "N1", None, None, rule_evidence={"passed": True})
    assert case.is_approved


def test_a_declined_rule_check_only_right_after_receipt() -> None:
    case = accepted()
    with pytest.raises(IllegalTransition):
        case.decline_rule_approval(meta(Channel.SYSTEM_RULE), {"passed": False})


def test_a_v1_approval_loads_with_no_rule_evidence() -> None:
    app = GongjianApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    case = accepted()
    case.approve(meta(Channel.SYSTEM_RULE), "N1", None, None, rule_evidence={"passed": True})
    event = case.collect_events()[-1]
    stored = app.mapper.to_stored_event(event)
    state = json.loads(stored.state)
    for name in ("rule_evidence", "class_version"):
        state.pop(name, None)
    old = type(stored)(stored.originator_id, stored.originator_version, stored.topic, json.dumps(state).encode())
    loaded = app.mapper.to_domain_event(old)
    assert isinstance(loaded, Case.Approved)
    assert (loaded.document_number, loaded.rule_evidence) == ("N1", None)


CONFLICT = {"rule": "plot_ratio", "zone_code": "HK-01", "field": "plot_ratio", "declared": "3.0", "limit": "1.5",
            "message": "容积率超限"}  # fmt: skip


def test_an_open_plan_conflict_sends_a_passing_case_to_a_person_with_its_kind_and_values() -> None:
    assert SPEC is not None
    facts = project()
    conflicted = ProjectFacts(facts.code, facts.owner_uscc, facts.attributes, facts.approved_items, True,
                              conflicts=[CONFLICT])  # fmt: skip
    outcome = evaluate(SPEC, ("GJ-1-02",), conflicted, [licence()], TODAY)
    assert not outcome.passed and all(r["passed"] for r in outcome.rules)
    assert outcome.evidence("1")["conflicts"] == [
        {"kind": "plot_ratio", "subject": "HK-01", "field": "plot_ratio", "declared": "3.0", "limit": "1.5",
         "message": "容积率超限"}
    ]  # fmt: skip


def test_each_missing_input_is_named_with_the_rule_or_material_that_needs_it() -> None:
    assert SPEC is not None
    facts = project(land_supply_mode=None)
    bare = ProjectFacts(facts.code, facts.owner_uscc, facts.attributes, facts.approved_items, False,
                        has_red_line=False)  # fmt: skip
    outcome = evaluate(SPEC, ("GJ-1-02",), bare, [], TODAY)
    assert not outcome.passed
    assert outcome.missing_inputs == [
        {"name": "red_line", "needed_by": "plan_conformity"},
        {"name": "land_supply_mode", "needed_by": "land_transferred"},
        {"name": "licence:site_selection_opinion", "needed_by": "site_selection_valid"},
        {"name": "land_supply", "needed_by": "GJ-1-03-M02"},
        {"name": "licence:site_selection_opinion", "needed_by": "GJ-1-03-M03"},
    ]


def test_an_expired_licence_is_a_failed_rule_not_a_missing_input() -> None:
    assert SPEC is not None
    outcome = evaluate(SPEC, ("GJ-1-02",), project(), [licence(valid_until=TODAY - timedelta(days=1))], TODAY)
    assert not outcome.passed and outcome.missing_inputs == [] and outcome.conflicts == []
