"""The flow in force, remembered per process (application/catalogue.py `PinMemory`): a version
published through another container on the same store applies to the very next case, on SQLite
and PostgreSQL, and a remembered flow is not replayed while its Process has not moved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from application.bootstrap import Container, bootstrap
from application.catalogue import Flow, PinMemory
from application.clock import SimulatedClock
from application.commands import Invocation
from application.commands.cases import AcceptCase
from application.commands.catalogue import PublishFlow, RetireFlow
from domain.catalog.process import flow_code, process_id
from infrastructure.settings import Settings
from infrastructure.store import stored_versions
from tests.conftest import JWT_SECRET
from tests.integration.test_catalogue import ADMIN, CLERK, START, generate, receive, version_2


def _open(url: str, keys: Path) -> Container:
    settings = Settings(database_url=url, jwt_secret=JWT_SECRET, keystore_path=str(keys))
    return bootstrap(settings, clock=SimulatedClock(START))


@pytest.fixture
def two(store_url: str, tmp_path: Path) -> Iterator[tuple[Container, Container]]:
    first = _open(store_url, tmp_path / "keys-1")
    second = _open(store_url, tmp_path / "keys-2")
    try:
        yield first, second
    finally:
        second.close()
        first.close()


def test_a_version_published_through_another_container_applies_to_the_next_case(
    two: tuple[Container, Container],
) -> None:
    first, second = two
    project = generate(first)  # in 美兰区 460108, flow type 3
    assert first.cases.get(receive(first, project, "GJ-1-02")).pinned == ("GJ-LC-03", "1.0", "1.0")
    # Step: the other worker publishes version 2 of the province's flow.
    second.catalogue.publish(Invocation(ADMIN, "r1"), PublishFlow("460000", 3, version_2()))
    case = receive(first, project, "GJ-1-02")
    assert first.cases.get(case).pinned == ("GJ-LC-03", "2.0", "1.1")
    first.cases.act(Invocation(CLERK, "r"), AcceptCase(case))
    assert first.cases.get(case).limit_days == 3  # version 2's promise, read through the first one
    # Step: a city flow published there applies here; retired there, the province's applies again.
    city = {**version_2(), "version": "1.0"}
    second.catalogue.publish(Invocation(ADMIN, "r2"), PublishFlow("460100", 3, city))
    assert first.cases.get(receive(first, project, "GJ-1-02")).pinned == (flow_code(3, "460100"), "1.0", "1.1")
    second.catalogue.retire(Invocation(ADMIN, "r3"), RetireFlow(flow_code(3, "460100"), "并入省级流程"))
    assert first.cases.get(receive(first, project, "GJ-1-02")).pinned == ("GJ-LC-03", "2.0", "1.1")


def test_a_remembered_flow_is_not_replayed_while_its_process_has_not_moved(
    two: tuple[Container, Container],
) -> None:
    first, second = two
    second.catalogue.publish(Invocation(ADMIN, "r1"), PublishFlow("460100", 3, version_2()))
    project = generate(first)
    receive(first, project, "GJ-1-02")  # reads the city's Process once
    replayed = _count_reads(first)
    case = receive(first, project, "GJ-1-02")
    first.cases.act(Invocation(CLERK, "r"), AcceptCase(case))
    processes = {process_id(flow_code(3, r)) for r in ("460108", "460100", "460000")}
    assert not processes & set(replayed)  # the project and the case only
    # Step: a new city version moves its Process: read again, once.
    second.catalogue.publish(Invocation(ADMIN, "r2"), PublishFlow("460100", 3, _v(3)))
    replayed.clear()
    assert first.cases.get(receive(first, project, "GJ-1-02")).pinned[1] == "3.0"
    assert replayed.count(process_id(flow_code(3, "460100"))) == 1


def test_stored_versions_answers_the_last_version_of_each_id_in_one_query(
    two: tuple[Container, Container],
) -> None:
    first, second = two
    second.catalogue.publish(Invocation(ADMIN, "r1"), PublishFlow("460000", 3, version_2()))
    province, city = process_id("GJ-LC-03"), process_id(flow_code(3, "460100"))
    assert stored_versions(first.db, [province, city]) == {province: 2}  # the seed 1.0, then 2.0
    assert stored_versions(first.db, []) == {}


def test_the_memory_is_bounded() -> None:
    memory = PinMemory(lambda ids: {}, maxsize=2)
    flow = Flow("GJ-LC-03", "1.0", {}, recorded=True)
    ids = [process_id(f"GJ-LC-0{i}") for i in range(1, 4)]
    for i, pid in enumerate(ids):
        memory.keep_head(pid, i + 1, flow)
    assert memory.head(ids[0], 1) == (False, None)  # the oldest went
    assert memory.head(ids[2], 3) == (True, flow)
    assert memory.head(ids[2], 4) == (False, None)  # a moved version is not an answer


def _v(major: int) -> dict[str, Any]:
    return {**version_2(), "version": f"{major}.0"}


def _count_reads(c: Container) -> list[UUID]:
    """Record the aggregate ids the store is asked to replay (the library's recorder, wrapped)."""
    seen: list[UUID] = []
    recorder = c.app.recorder
    select = recorder.select_events

    def counting(originator_id: UUID, *args: Any, **kwargs: Any) -> Any:
        seen.append(originator_id)
        return select(originator_id, *args, **kwargs)

    recorder.select_events = counting  # type: ignore[method-assign]
    return seen
