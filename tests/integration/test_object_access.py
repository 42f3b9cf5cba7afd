"""Object-level authorisation (OWASP API1): nobody reads or acts on another organisation's or
another region's project or case — an answer is 403 or empty, never the object's data."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from application.bootstrap import Container, bootstrap
from application.commands import Invocation
from application.commands.cases import RevokeCase, WithdrawCase
from application.policy import Actor
from domain.shared.errors import Forbidden
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.integration.test_graphql_read_side import approved_case, run

OTHER_APPLICANT = Actor("u-9", "applicant", "91460100MA5T0P3X6X", "460100")
OWN_APPLICANT = Actor("u-1", "applicant", "91460000MA5T0P3X64", "460100")
HAIKOU_SUPERVISOR = Actor("sup-hk", "supervisor", "hk-sup", "460100")
SANYA_SUPERVISOR = Actor("sup-sy", "supervisor", "sy-sup", "460200")
SANYA_REVIEWER = Actor("rev-sy", "reviewer", "460200-zjj", "460200")
ANALYST = Actor("ana-1", "analyst", "hn-stat", "460000")
TRAIL = "query($s: String!) { auditTrail(subject: $s) { totalCount edges { node { eventType actorId } } } }"


@pytest.fixture
def container(store_url: str) -> Iterator[Container]:
    c = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET))
    yield c
    c.close()


@pytest.fixture
def seeded(container: Container) -> tuple[Container, str, str]:
    """A Haikou (460106) project of OWN_APPLICANT's organisation with an approved case."""
    code, case_id, _ = approved_case(container)
    container.engine.catch_up()
    return container, code, case_id


def _forbidden(result: Any) -> bool:
    return (
        bool(result.errors)
        and result.errors[0].extensions["code"] == "FORBIDDEN"
        and not any((result.data or {}).values())
    )


@pytest.mark.parametrize("actor", [OTHER_APPLICANT, SANYA_SUPERVISOR, SANYA_REVIEWER, ANALYST], ids=lambda a: a.role)
def test_the_audit_trail_of_a_project_or_case_outside_the_scope_is_403(
    seeded: tuple[Container, str, str], actor: Actor
) -> None:
    container, code, case_id = seeded
    for subject in (code, case_id):
        assert _forbidden(run(container, TRAIL, actor, s=subject)), (actor, subject)


@pytest.mark.parametrize("actor", [OWN_APPLICANT, HAIKOU_SUPERVISOR], ids=lambda a: a.role)
def test_the_audit_trail_inside_the_scope_is_readable(seeded: tuple[Container, str, str], actor: Actor) -> None:
    container, code, case_id = seeded
    for subject in (code, case_id):
        result = run(container, TRAIL, actor, s=subject)
        assert result.errors is None and result.data["auditTrail"]["totalCount"] > 0, (actor, subject)


def test_another_actors_trail_is_only_for_the_province_but_ones_own_is_always(
    seeded: tuple[Container, str, str],
) -> None:
    container, _, _ = seeded
    assert _forbidden(run(container, TRAIL, HAIKOU_SUPERVISOR, s="approver-1"))
    assert run(container, TRAIL, Actor("approver-1", "approver", "hk-zrzy", "460100"), s="approver-1").errors is None
    assert run(container, TRAIL, Actor("sup-1", "supervisor", "hn-sup", "460000"), s="approver-1").errors is None


def test_another_organisations_project_and_case_are_403_and_absent_from_lists(
    seeded: tuple[Container, str, str],
) -> None:
    container, code, case_id = seeded
    for actor in (OTHER_APPLICANT, SANYA_REVIEWER):
        one = run(container, "query($c: String!) { project(code: $c) { code } }", actor, c=code)
        assert _forbidden(one), actor
        case = run(container, "query($id: ID!) { case(id: $id) { id } }", actor, id=case_id)
        assert _forbidden(case), actor
        then = run(container, "query($id: ID!) { case(id: $id, asOfPosition: 3) { id } }", actor, id=case_id)
        assert _forbidden(then), actor
    lists = run(container, "{ projects { totalCount } cases { totalCount } }", OTHER_APPLICANT)
    assert lists.errors is None
    assert lists.data == {"projects": {"totalCount": 0}, "cases": {"totalCount": 0}}
    sanya = run(container, "{ projects { totalCount } cases { totalCount } }", SANYA_REVIEWER)
    assert sanya.data == {"projects": {"totalCount": 0}, "cases": {"totalCount": 0}}


def test_commands_on_another_organisations_or_regions_case_are_forbidden_and_record_nothing(
    seeded: tuple[Container, str, str],
) -> None:
    container, _, case_id = seeded
    before = container.app.max_position()
    with pytest.raises(Forbidden):
        container.cases.act(Invocation(OTHER_APPLICANT, "req-x"), WithdrawCase(uuid.UUID(case_id), "x"))
    with pytest.raises(Forbidden):
        container.cases.act(
            Invocation(Actor("app-sy", "approver", "460200-zjj", "460200"), "req-y"),
            RevokeCase(uuid.UUID(case_id), "以欺骗手段取得"),
        )
    assert container.app.max_position() == before
