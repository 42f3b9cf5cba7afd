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
from eventsourcing.postgres import PostgresApplicationRecorder

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


def test_notifications_are_read_as_the_library_reads_them(app: GongjianApplication) -> None:
    # the recorder reads them as binary tuples (infrastructure/recorder.py): the same notifications
    counters = [Counter() for _ in range(3)]
    for counter in counters:
        counter.bump()
    app.save(*counters)
    first = app.recorder.max_notification_id() - 5  # (other tests' events may precede these)
    bumped = [f"{Counter.Bumped.__module__}:{Counter.Bumped.__qualname__}"]
    for kwargs in (
        {"start": first, "limit": 4},
        {"start": first, "limit": 10, "inclusive_of_start": False},
        {"start": first, "limit": 10, "stop": first + 2},
        {"start": first, "limit": 10, "topics": bumped},
        {"start": None, "limit": 3},
    ):
        ours = app.recorder.select_notifications(**kwargs)  # type: ignore[arg-type]
        library = PostgresApplicationRecorder.select_notifications(app.recorder, **kwargs)  # type: ignore[arg-type]
        assert ours == library and ours, kwargs
        assert all(type(n.state) is bytes and isinstance(n.originator_id, UUID) for n in ours)
    assert [n.originator_id for n in app.recorder.select_notifications(first, 10, topics=bumped)] == [
        c.id for c in counters
    ]
