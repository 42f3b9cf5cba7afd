"""The whole permission matrix, walked: every action against every role, plus the scope rules."""

from __future__ import annotations

import itertools

import pytest

from application.policy import PERMISSIONS, ROLES, Actor, authorize, in_scope
from domain.approvals.status import ACTIONS
from domain.shared.errors import Forbidden

OWNER = "91460000MA5T0P3X64"
OTHER = "91460100MA5T0P3X6X"


def _allowed(actor: Actor, action: str, **scope: str) -> bool:
    try:
        authorize(actor, action, **scope)
    except Forbidden:
        return False
    return True


@pytest.mark.parametrize(("action", "role"), list(itertools.product(PERMISSIONS, ROLES)))
def test_a_role_may_perform_an_action_exactly_when_the_matrix_lists_it(action: str, role: str) -> None:
    actor = Actor(f"{role}-1", role, OWNER, "460000")
    assert _allowed(actor, action) == (role in PERMISSIONS[action])


def test_every_case_action_has_a_row_in_the_matrix() -> None:
    assert {f"case.{a}" for a in ACTIONS} <= PERMISSIONS.keys()


def test_an_unknown_action_is_forbidden_to_everyone_even_admin() -> None:
    assert not _allowed(Actor("a", "admin", "x", "460000"), "case.teleport")


def test_an_applicant_acts_only_for_its_own_organisation() -> None:
    applicant = Actor("u1", "applicant", OWNER, "460100")
    assert _allowed(applicant, "case.submit", owner_org=OWNER, region_code="460106")
    assert not _allowed(applicant, "case.submit", owner_org=OTHER, region_code="460106")
    assert not _allowed(applicant, "case.withdraw", owner_org=OTHER)


def test_an_official_acts_only_inside_its_region() -> None:
    sanya_reviewer = Actor("r1", "reviewer", "460200-zjj", "460200")
    haikou_reviewer = Actor("r2", "reviewer", "460100-zjj", "460100")
    assert not _allowed(sanya_reviewer, "case.start-review", owner_org=OWNER, region_code="460106")
    assert _allowed(haikou_reviewer, "case.start-review", owner_org=OWNER, region_code="460106")
    assert _allowed(sanya_reviewer, "case.start-review", owner_org=OWNER, region_code="460202")


@pytest.mark.parametrize("region_code", ["460100", "460106", "460202", "460300"])
def test_the_province_scope_covers_every_region(region_code: str) -> None:
    province = Actor("p1", "approver", "460000-zjt", "460000")
    assert in_scope(province, region_code)
    assert _allowed(province, "case.approve", owner_org=OWNER, region_code=region_code)


def test_admin_is_not_bound_by_region() -> None:
    admin = Actor("a1", "admin", "ops", "460200")
    assert _allowed(admin, "case.revoke", owner_org=OWNER, region_code="460106")
