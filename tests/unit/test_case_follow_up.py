"""What a decision leaves to follow (domain/approvals/follow_up.py): 容缺 materials with their due day
and their supply, 告知承诺 approvals with their verification; and the upcasts of the events that
grew fields for them."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from domain.approvals.case import Case
from domain.approvals.status import CaseStatus
from domain.catalog import CATALOG
from domain.catalog.follow_up import DEFAULT_PENDING_MATERIALS, PendingMaterialsTerms
from domain.shared.errors import IllegalTransition, InvalidValue
from domain.shared.events import Channel
from infrastructure.log import GongjianApplication
from tests.unit.test_case_lifecycle import COMMITTING, ITEM, meta, received

# March 2026 has no public holiday: 2026-03-02 (Mon) + 20 working days = 2026-03-30 (Mon)
ACCEPTED, DECIDED, TWENTY_AFTER = date(2026, 2, 27), date(2026, 3, 2), date(2026, 3, 30)
MATERIALS = ["施工图审查合格书", "消防设计审查意见书"]


def accepted() -> Case:
    case = received(ACCEPTED)
    case.accept(meta(ACCEPTED), ITEM)
    return case


def pending(**kwargs: Any) -> Case:
    case = accepted()
    case.approve_pending_materials(meta(DECIDED), "琼容〔2026〕1号", MATERIALS, item=ITEM, **kwargs)
    return case


def committed() -> Case:
    case = accepted()
    case.approve_on_commitment(meta(DECIDED), COMMITTING, ["已取得施工图审查合格书", "已落实安全施工措施"])
    return case


# --- 容缺 ------------------------------------------------------------------------------------


def test_pending_materials_are_due_the_items_period_after_the_decision() -> None:
    assert ITEM.pending_materials == DEFAULT_PENDING_MATERIALS and DEFAULT_PENDING_MATERIALS.period_days == 20
    case = pending()
    assert case.status == CaseStatus.APPROVED_PENDING_MATERIALS and case.is_approved
    assert (case.follow_up.pending_materials, case.follow_up.materials_due_on) == (MATERIALS, TWENTY_AFTER)
    event = case.collect_events()[-1]
    assert isinstance(event, Case.ApprovedPendingMaterials) and event.materials_due_on == TWENTY_AFTER


def test_an_item_sets_its_own_period_and_an_official_a_date_within_the_maximum() -> None:
    short = replace(ITEM, pending_materials=PendingMaterialsTerms(period_days=5, max_days=10))
    case = accepted()
    case.approve_pending_materials(meta(DECIDED), None, MATERIALS, item=short)
    assert case.follow_up.materials_due_on == date(2026, 3, 9)
    assert pending(materials_due_on=date(2026, 5, 28)).follow_up.materials_due_on == date(2026, 5, 28)


@pytest.mark.parametrize("due", [DECIDED, date(2026, 3, 1), date(2026, 5, 29)], ids=str)
def test_a_due_date_on_the_decision_day_before_it_or_past_the_maximum_is_refused(due: date) -> None:
    # 60 working days from 2026-03-02 end on 2026-05-28 (off: 04-06 Qingming, 05-01, 05-04, 05-05
    # Labour Day; 05-09 a working Saturday): 05-28 is the latest allowed
    case = accepted()
    with pytest.raises(InvalidValue) as caught:
        case.approve_pending_materials(meta(DECIDED), None, MATERIALS, item=ITEM, materials_due_on=due)
    assert (caught.value.field, caught.value.rule) == ("materials_due_on", "range")
    assert case.status == CaseStatus.ACCEPTED and case.version == 2


def test_materials_arrive_some_then_the_rest_and_the_status_stays_12() -> None:
    case = pending()
    case.supply_materials(meta(date(2026, 3, 10)), ["消防设计审查意见书"], "窗口收取")
    assert case.follow_up.pending_materials == ["施工图审查合格书"]
    case.supply_materials(meta(date(2026, 3, 12)), ["施工图审查合格书"], "")
    assert case.follow_up.pending_materials == []
    assert case.follow_up.supplied == [
        ("消防设计审查意见书", date(2026, 3, 10)),
        ("施工图审查合格书", date(2026, 3, 12)),
    ]
    assert case.status == CaseStatus.APPROVED_PENDING_MATERIALS
    assert [type(e).__name__ for e in case.collect_events()[-2:]] == ["MaterialsSupplied", "MaterialsSupplied"]
    with pytest.raises(IllegalTransition, match="no materials to follow"):
        case.supply_materials(meta(date(2026, 3, 13)), ["施工图审查合格书"], "")


@pytest.mark.parametrize(
    ("supplied", "rule"),
    [
        ([], "required"),
        (["竣工图"], "not_pending"),
        (["施工图审查合格书", "施工图审查合格书"], "duplicate"),
        ([" "], "required"),
    ],
)
def test_supplying_what_is_not_pending_is_refused_naming_the_field(supplied: list[str], rule: str) -> None:
    case = pending()
    version = case.version
    with pytest.raises(InvalidValue) as caught:
        case.supply_materials(meta(date(2026, 3, 10)), supplied, "")
    assert (caught.value.field, caught.value.rule) == ("supplied_materials", rule)
    assert case.version == version


def test_an_ordinary_approval_has_no_materials_to_supply_and_a_pending_one_can_be_revoked() -> None:
    case = accepted()
    case.approve(meta(DECIDED), "N1", None, None)
    with pytest.raises(IllegalTransition):
        case.supply_materials(meta(DECIDED), ["施工图审查合格书"], "")
    never = pending()
    never.revoke(meta(date(2026, 4, 1)), "容缺材料逾期未补齐")
    assert never.status == CaseStatus.REVOKED and not never.is_approved


# --- 告知承诺 --------------------------------------------------------------------------------


def test_an_approval_on_commitment_records_the_commitments_and_the_verification_deadline() -> None:
    assert COMMITTING.commitment is not None and COMMITTING.commitment.verify_days == 20
    case = committed()
    assert case.status == CaseStatus.APPROVED and case.is_approved
    event = case.collect_events()[-1]
    assert isinstance(event, Case.Approved)
    assert event.commitments == ["已取得施工图审查合格书", "已落实安全施工措施"]
    assert event.commitment_due_on == TWENTY_AFTER and event.commitment_basis == COMMITTING.commitment.basis
    assert case.follow_up.commitment_due_on == TWENTY_AFTER


def test_an_item_that_does_not_allow_it_refuses_approval_on_commitment() -> None:
    assert ITEM.commitment is None and CATALOG.item("GJ-1-01").commitment is None
    case = accepted()
    with pytest.raises(IllegalTransition, match="does not allow approval on commitment"):
        case.approve_on_commitment(meta(DECIDED), ITEM, ["已取得施工图审查合格书"])
    with pytest.raises(InvalidValue) as caught:
        case.approve_on_commitment(meta(DECIDED), COMMITTING, [])
    assert caught.value.field == "commitments"
    assert case.version == 2


def test_a_commitment_verified_true_is_recorded_once() -> None:
    case = committed()
    case.verify_commitment(meta(date(2026, 3, 20)), True, "现场核查属实", [])
    assert case.status == CaseStatus.APPROVED and case.follow_up.commitment_checked_on == date(2026, 3, 20)
    assert isinstance(case.collect_events()[-1], Case.CommitmentVerified)
    with pytest.raises(IllegalTransition, match="already verified"):
        case.verify_commitment(meta(date(2026, 3, 21)), True, "再次核查", [])


def test_a_false_commitment_revokes_the_approval_naming_it() -> None:
    case = committed()
    case.verify_commitment(meta(date(2026, 3, 20)), False, "施工图审查合格书系伪造", ["已取得施工图审查合格书"])
    assert case.status == CaseStatus.REVOKED and not case.is_approved
    event = case.collect_events()[-1]
    assert isinstance(event, Case.Revoked)
    assert "已取得施工图审查合格书" in event.reason and "施工图审查合格书系伪造" in event.reason
    assert event.false_commitments == ["已取得施工图审查合格书"]


@pytest.mark.parametrize(
    ("verified", "false", "field", "rule"),
    [
        (False, [], "false_commitments", "required"),
        (False, ["从未承诺的事项"], "false_commitments", "not_committed"),
        (True, ["已取得施工图审查合格书"], "false_commitments", "rule"),
    ],
)
def test_a_verification_naming_the_wrong_commitments_is_refused(
    verified: bool, false: list[str], field: str, rule: str
) -> None:
    case = committed()
    with pytest.raises(InvalidValue) as caught:
        case.verify_commitment(meta(date(2026, 3, 20)), verified, "核查", false)
    assert (caught.value.field, caught.value.rule) == (field, rule)
    assert case.status == CaseStatus.APPROVED and case.version == 3


def test_only_an_approval_on_commitment_is_verified() -> None:
    case = accepted()
    case.approve(meta(DECIDED), "N1", None, None)
    with pytest.raises(IllegalTransition, match="no commitment to verify"):
        case.verify_commitment(meta(DECIDED), True, "核查属实", [])


def test_a_rule_cannot_accept_a_commitment() -> None:
    with pytest.raises(InvalidValue) as caught:
        accepted().approve_on_commitment(meta(DECIDED, Channel.SYSTEM_RULE), COMMITTING, ["承诺"])
    assert caught.value.field == "channel"


# --- upcasts -----------------------------------------------------------------------------------


def _as_stored_before(event: Any, fields: tuple[str, ...]) -> Any:
    """The event as an older class version stored it: without the fields the new version added."""
    app = GongjianApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    stored = app.mapper.to_stored_event(event)
    state = json.loads(stored.state)
    for name in (*fields, "class_version"):
        state.pop(name, None)
    old = type(stored)(stored.originator_id, stored.originator_version, stored.topic, json.dumps(state).encode())
    return app.mapper.to_domain_event(old)


def test_events_stored_before_due_days_and_commitments_load_with_nulls() -> None:
    decision = pending().collect_events()[-1]
    loaded = _as_stored_before(decision, ("materials_due_on",))
    assert isinstance(loaded, Case.ApprovedPendingMaterials)
    assert (loaded.pending_materials, loaded.materials_due_on) == (MATERIALS, None)

    approval = committed().collect_events()[-1]
    loaded = _as_stored_before(approval, ("commitments", "commitment_due_on", "commitment_basis"))
    assert isinstance(loaded, Case.Approved)
    assert (loaded.commitments, loaded.commitment_due_on, loaded.commitment_basis) == (None, None, None)

    revoked = pending()
    revoked.revoke(meta(date(2026, 4, 1)), "以欺骗手段取得")
    loaded = _as_stored_before(revoked.collect_events()[-1], ("false_commitments",))
    assert isinstance(loaded, Case.Revoked) and (loaded.reason, loaded.false_commitments) == ("以欺骗手段取得", None)
