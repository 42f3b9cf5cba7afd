"""A retry always gets the first answer (issue 21): a keyed command sent again through another
process at any point of its first attempt is answered from the first attempt's receipt. It is never
refused by the state the first attempt left behind, and never applied twice.

Two containers on one PostgreSQL schema stand for two API processes (each its own pools, recorder
and cache). The interleavings are made exact by running the other process's command at the named
point of this one: inside the retry's receipt look-up, or just before the first attempt's save.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from application.bootstrap import Container
from application.commands import Invocation
from application.commands.cases import AcceptCase
from application.commands.projects import GenerateProject
from application.idempotency import IdempotencyKey
from tests.integration import test_append_round_trips as rounds
from tests.integration.test_catalogue import CLERK, generate, project_fields, receive

Command = Callable[[Container, str], dict[str, Any]]
two = rounds.two  # its fixture: two containers (two processes' worth) on one PostgreSQL schema


def accept(case_id: uuid.UUID, key: str) -> Command:
    def send(c: Container, request_id: str) -> dict[str, Any]:
        return c.cases.act(
            Invocation(CLERK, request_id, IdempotencyKey.of(key, "case.accept", {})), AcceptCase(case_id)
        ).to_json()

    return send


def generate_project(code: str, key: str) -> Command:
    fields = project_fields(code)

    def send(c: Container, request_id: str) -> dict[str, Any]:
        return c.projects.generate(
            Invocation(CLERK, request_id, IdempotencyKey.of(key, "project.generate", fields)), GenerateProject(**fields)
        ).to_json()

    return send


def commands(c: Container) -> dict[str, Command]:
    """One of each kind whose repeat the state refuses: a transition (accept twice is illegal) and a
    natural key (a project code is generated once)."""
    case_id = receive(c, generate(c), "GJ-1-02")
    return {
        "accept": accept(case_id, f"accept-{uuid.uuid4().hex}"),
        "generate": generate_project(f"2611-460100-04-01-{uuid.uuid4().int % 10**6:06d}", f"gen-{uuid.uuid4().hex}"),
    }


def events_of(c: Container, request_ids: set[str]) -> Counter[str]:
    """The events in the log written by these requests, by class (the log is read, not a read model)."""
    found: Counter[str] = Counter()
    for notification in c.app.recorder.select_notifications(start=1, limit=100_000):
        event = c.app.mapper.to_domain_event(notification)
        if getattr(event, "request_id", None) in request_ids:
            found[type(event).__qualname__] += 1
    return found


def answer(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k != "replayed"}


@pytest.mark.parametrize("kind", ["accept", "generate"])
def test_a_retry_that_looked_for_its_receipt_before_the_first_attempt_committed_gets_the_first_answer(
    two: tuple[Container, Container], kind: str
) -> None:
    first, second = two
    send = commands(first)[kind]
    results: dict[str, dict[str, Any]] = {}
    look_up = second.cases._replay if kind == "accept" else second.projects._replay
    calls = 0

    def replay_then_first_commits(*args: Any) -> dict[str, Any] | None:
        nonlocal calls
        calls += 1
        found = look_up(*args)
        if calls == 1:  # Step: the retry found no receipt; now the first attempt commits.
            assert found is None
            results["first"] = send(first, "first")
        return found

    service = second.cases if kind == "accept" else second.projects
    service._replay = replay_then_first_commits  # type: ignore[method-assign]
    # Step: the retry's state check now sees the accepted case (or the generated code).
    results["retry"] = send(second, "retry")
    assert results["retry"]["replayed"] is True
    assert answer(results["retry"]) == results["first"]
    written = events_of(first, {"first", "retry"})
    assert written["Receipt.Issued"] == 1
    assert sum(written.values()) == 2  # the command's one event and its receipt, once


@pytest.mark.parametrize("kind", ["accept", "generate"])
def test_a_retry_that_commits_while_the_first_attempt_is_about_to_save_answers_both_alike(
    two: tuple[Container, Container], kind: str
) -> None:
    first, second = two
    send = commands(first)[kind]
    results: dict[str, dict[str, Any]] = {}
    save_all = first.app.save_all
    calls = 0

    def retry_commits_first(*objs: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:  # Step: the first attempt is about to save; the retry runs and commits.
            results["retry"] = send(second, "retry")
        return save_all(*objs, **kwargs)

    first.app.save_all = retry_commits_first  # type: ignore[method-assign]
    # Step: the first attempt's save loses to its own retry: it is answered from the retry's receipt.
    results["first"] = send(first, "first")
    assert results["first"]["replayed"] is True
    assert answer(results["first"]) == results["retry"]
    written = events_of(first, {"first", "retry"})
    assert written["Receipt.Issued"] == 1 and sum(written.values()) == 2


@pytest.mark.parametrize("kind", ["accept", "generate"])
def test_a_retry_after_the_first_attempt_committed_is_answered_from_its_receipt(
    two: tuple[Container, Container], kind: str
) -> None:
    first, second = two
    send = commands(first)[kind]
    done = send(first, "first")
    again = send(second, "retry")
    assert again["replayed"] is True and answer(again) == done
    assert sum(events_of(first, {"first", "retry"}).values()) == 2


def send_together(send: Command, containers: list[Container], prefix: str) -> list[dict[str, Any] | Exception]:
    """The same keyed command through every container at once (a barrier releases them together)."""
    results: list[dict[str, Any] | Exception] = []
    start = threading.Barrier(len(containers))

    def race(c: Container, i: int) -> None:
        start.wait()
        try:
            results.append(send(c, f"{prefix}-{i}"))
        except Exception as exc:  # collected: the assertion names it
            results.append(exc)

    threads = [threading.Thread(target=race, args=(c, i)) for i, c in enumerate(containers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_concurrent_repeats_through_two_processes_all_get_one_answer_and_write_once(
    two: tuple[Container, Container],
) -> None:
    first, second = two
    for n in range(6):
        for kind, send in commands(first).items():
            results = send_together(send, [first, second] * 3, f"{kind}-{n}")
            assert not [r for r in results if isinstance(r, Exception)], results
            answers = {json.dumps(answer(r), sort_keys=True) for r in results if isinstance(r, dict)}
            assert len(results) == 6 and len(answers) == 1, results
            written = events_of(first, {f"{kind}-{n}-{i}" for i in range(6)})
            assert written["Receipt.Issued"] == 1 and sum(written.values()) == 2, written
