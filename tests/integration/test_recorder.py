"""The PostgreSQL recorder (infrastructure/recorder.py): one statement per save that still locks the
events table, so ids are consecutive per save and appear in commit order, a stale version is
refused. (Its NOTIFY is the engine's wake-up: tests/integration/test_projection_engine.py.)"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from infrastructure.db import DatabaseURL
from infrastructure.log import GongjianApplication
from infrastructure.recorder import LockingFunctionRecorder, StaleRead
from infrastructure.store import open_store


class Counter(Aggregate):
    def __init__(self) -> None:
        self.n = 0

    @event("Bumped")
    def bump(self) -> None:
        self.n += 1


@pytest.fixture
def app(pg_url: str) -> Iterator[GongjianApplication]:
    application = open_store(DatabaseURL(pg_url))
    yield application
    application.close()


def test_the_store_saves_through_the_locking_function(app: GongjianApplication) -> None:
    assert isinstance(app.recorder, LockingFunctionRecorder)


def test_concurrent_saves_get_consecutive_ids_in_commit_order(app: GongjianApplication) -> None:
    saved: list[tuple[UUID, list[int]]] = []
    lock = threading.Lock()

    def writer() -> None:
        for _ in range(15):
            counter = Counter()
            counter.bump()
            counter.bump()
            recordings = app.save(counter)
            with lock:
                saved.append((counter.id, [r.notification.id for r in recordings]))

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    log = app.recorder.select_notifications(start=None, limit=1000)
    assert [n.id for n in log] == sorted(n.id for n in log)
    assert len(log) == 4 * 15 * 3
    for counter_id, ids in saved:  # one save: its three events, consecutive, none of another save between
        assert ids == list(range(ids[0], ids[0] + 3))
        assert [n.originator_id for n in log if n.id in ids] == [counter_id] * 3


def test_a_stale_version_is_refused_and_writes_nothing(app: GongjianApplication) -> None:
    counter = Counter()
    app.save(counter)
    first: Any = app.repository.get(counter.id)
    second: Any = app.repository.get(counter.id)
    first.bump()
    app.save(first)
    second.bump()
    second.bump()
    with pytest.raises(IntegrityError):
        app.save(second)
    assert [n.originator_version for n in app.recorder.select_notifications(start=None, limit=10)] == [1, 2]


def test_a_save_expecting_versions_that_moved_writes_nothing(app: GongjianApplication) -> None:
    recorder = app.recorder
    assert isinstance(recorder, LockingFunctionRecorder)
    counter, unsaved = Counter(), Counter()
    app.save(counter)
    with recorder.expecting({counter.id: 1, unsaved.id: None}):
        app.save(Counter())  # both as expected: saved
    moved: Any = app.repository.get(counter.id)
    moved.bump()
    app.save(moved)
    before = app.recorder.max_notification_id()
    for expected in ({counter.id: 1}, {unsaved.id: 1}, {counter.id: None}):
        with pytest.raises(StaleRead), recorder.expecting(expected):
            app.save(Counter())
    assert app.recorder.max_notification_id() == before
