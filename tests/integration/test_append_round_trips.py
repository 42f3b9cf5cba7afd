"""Case commands on PostgreSQL send one statement each (issue 6, `python -m bench.append`): the save
checks, under its table lock, the versions the command relied on without reading them — the
project and the flows in force for a submit, the case for an action — and when one moved, or the
command refused on what it remembered, it runs again on what is stored."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest

from application.bootstrap import Container
from application.commands import Invocation
from application.commands.cases import AcceptCase, ApproveCase, StartReview
from application.commands.catalogue import PublishFlow
from application.commands.projects import MergeProject
from application.policy import Actor
from domain.shared.errors import IllegalTransition, PrerequisitesMissing
from tests.integration.test_catalogue import ADMIN, CLERK, generate, receive, version_2
from tests.integration.test_pin_memory import _open  # two containers on one store, as there

SUPERVISOR = Actor("sup-1", "supervisor", "hn-sup", "460000")
APPROVER = Actor("approver-1", "approver", "460000-zrzy", "460000")


@pytest.fixture
def two(pg_url: str, tmp_path: Path) -> Iterator[tuple[Container, Container]]:
    first = _open(pg_url, tmp_path / "keys-1")
    second = _open(pg_url, tmp_path / "keys-2")
    try:
        yield first, second
    finally:
        second.close()
        first.close()


def statements(run: Callable[[], Any]) -> list[str]:
    """The statements psycopg sends while `run` runs (each its own round trip: no pipeline here)."""
    sent: list[str] = []
    execute = psycopg.Cursor.execute

    def recording(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(query if isinstance(query, str) else query.as_string(self.connection))
        return execute(self, query, *args, **kwargs)

    psycopg.Cursor.execute = recording  # type: ignore[method-assign]
    try:
        run()
    finally:
        psycopg.Cursor.execute = execute  # type: ignore[method-assign]
    return sent


def test_a_submit_and_an_accept_send_one_statement_each(two: tuple[Container, Container]) -> None:
    c, _ = two
    project = generate(c)
    c.cases.act(Invocation(CLERK, "r"), AcceptCase(receive(c, project, "GJ-1-02")))  # the first reads
    case: list[UUID] = []
    submit = statements(lambda: case.append(receive(c, project, "GJ-1-02")))
    accept = statements(lambda: c.cases.act(Invocation(CLERK, "r"), AcceptCase(case[0])))
    assert len(submit) == 1 and "insert_checked" in submit[0]
    assert len(accept) == 1 and "insert_checked" in accept[0]
    assert [type(e).__name__ for e in c.app.events.get(case[0])] == ["Received", "Accepted"]


def test_an_action_on_a_case_moved_by_another_worker_is_judged_on_the_stored_case(
    two: tuple[Container, Container],
) -> None:
    first, second = two
    project = generate(first)
    case, other = receive(first, project, "GJ-1-02"), receive(first, project, "GJ-1-02")  # remembered: received
    second.cases.act(Invocation(CLERK, "r1"), AcceptCase(case))
    second.cases.act(Invocation(CLERK, "r2"), AcceptCase(other))
    # Step: refused on the remembered state (review before acceptance), allowed on the stored one.
    first.cases.act(Invocation(APPROVER, "r3"), StartReview(case))
    assert [type(e).__name__ for e in first.app.events.get(case)] == ["Received", "Accepted", "ReviewStarted"]
    # Step: allowed on the remembered state; the save refuses it, and the stored state refuses it again.
    with pytest.raises(IllegalTransition):
        first.cases.act(Invocation(CLERK, "r4"), AcceptCase(other))
    assert [type(e).__name__ for e in first.app.events.get(other)] == ["Received", "Accepted"]


def test_a_submit_on_a_project_moved_by_another_worker_is_judged_on_the_stored_project(
    two: tuple[Container, Container],
) -> None:
    first, second = two
    project = generate(first)
    done = receive(first, project, "GJ-1-02")  # the first remembers the project without GJ-1-02
    second.cases.act(Invocation(CLERK, "r1"), AcceptCase(done))
    second.cases.act(Invocation(APPROVER, "r2"), StartReview(done))
    second.cases.act(Invocation(APPROVER, "r3"), ApproveCase(done, document_number="琼审〔2026〕1号"))
    # Step: GJ-1-03 needs GJ-1-02, approved through the other worker: received, not refused.
    assert first.cases.get(receive(first, project, "GJ-1-03")).item_code == "GJ-1-03"
    # Step: merged there, the project takes no more cases here (the remembered one was active).
    canonical = generate(first)
    second.projects.merge(
        Invocation(SUPERVISOR, "m"), MergeProject(project, canonical_code=canonical, reason="重复赋码")
    )
    with pytest.raises(IllegalTransition):
        receive(first, project, "GJ-1-02")
    with pytest.raises(PrerequisitesMissing):
        receive(first, canonical, "GJ-1-03")  # a refusal on what is stored stands


def test_an_item_version_only_a_newer_flow_has_is_received_under_it(two: tuple[Container, Container]) -> None:
    first, second = two
    project = generate(first)
    receive(first, project, "GJ-1-02")  # the first remembers the seed as the flow in force
    second.catalogue.publish(Invocation(ADMIN, "p"), PublishFlow("460000", 3, version_2()))
    case = receive(first, project, "GJ-1-02", item_version="1.1")  # R1 on the seed; not on version 2
    assert first.cases.get(case).pinned == ("GJ-LC-03", "2.0", "1.1")
