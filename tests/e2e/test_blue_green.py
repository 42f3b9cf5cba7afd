"""A zero-downtime read-model upgrade over HTTP (projections/upgrade.py), at a scale where the new
shape takes seconds to build: GraphQL, asked continuously while events keep coming, never sees the
read model empty, shorter than before, or behind the position it asked for; /health shows the
shadow's progress and ETA; after the swap the old version's runner leaves the read model alone.

Two versions in one process: the running one (its case_timeline one shape older, serving HTTP with
its runner) and the next one (its runner builds the new shape beside it), over one PostgreSQL store."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest
from eventsourcing.utils import get_topic

from application.bootstrap import Container, bootstrap
from bench.dataset import Generator
from domain.approvals import Case
from infrastructure.settings import Settings
from projections.case_timeline import CaseTimeline
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import auth, serving

pytestmark = pytest.mark.long_running(12)  # scheduled first (tests/conftest.py)

EVENTS = 12_000  # the log the new shape is built from (case_timeline: a few seconds)
QUERY = "query($at: Int) { cases(first: 1, atLeast: $at) { totalCount } }"
CREATED = {get_topic(Case.Received), get_topic(Case.BackEntered)}


def cases(client: httpx.Client, at: int | None) -> int:
    """The number of cases GraphQL answers: as they stand (`at` None), or once at least at `at`."""
    r = client.post(
        "/graphql", json={"query": QUERY, "variables": {"at": at}}, headers=auth("supervisor", region="460000")
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body, body["errors"]
    return int(body["data"]["cases"]["totalCount"])


def cases_in_log(c: Container) -> int:
    found, start = 0, 0
    while page := c.app.recorder.select_notifications(start, 5000, inclusive_of_start=False):
        found += sum(1 for n in page if n.topic in CREATED)
        start = page[-1].id
    return found


def live_shape(c: Container) -> int:
    return int(c.db.query("SELECT shape FROM projection_shapes WHERE read_model = 'case_timeline'")[0]["shape"])


def test_graphql_never_sees_an_empty_shorter_or_lagging_model_while_a_new_shape_is_built_and_swapped_in(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(database_url=pg_url, jwt_secret=JWT_SECRET)
    newer = CaseTimeline.shape
    monkeypatch.setattr(CaseTimeline, "shape", newer - 1)
    old = bootstrap(settings)  # the version running now
    monkeypatch.undo()
    old.engine.models["case_timeline"].shape = newer - 1  # type: ignore[misc]  # stays the old version's
    new: Container | None = None
    stop = threading.Event()
    appender: threading.Thread | None = None
    try:
        generator = Generator(old.app, seed=31)
        generator.run(EVENTS)
        old.engine.catch_up(batch_size=5000)
        old.engine.start(idle_timeout=0.05)
        with serving(old) as base_url, httpx.Client(base_url=base_url, timeout=30) as client:
            seen = [cases(client, old.app.max_position())]
            shown = [cases(client, None)]
            assert seen[0] == shown[0] > 0
            # Step. The next version starts beside it and builds the new shape in shadow tables.
            started_at = old.app.max_position()
            new = bootstrap(settings)
            shadow = f"case_timeline@shape{newer}"
            assert shadow in new.engine.upgrade.shadows and live_shape(old) == newer - 1
            new.engine.start(idle_timeout=0.05)

            def append() -> None:
                while not stop.is_set():  # a project at a time (a few dozen events), a few a second
                    generator.run(generator.saved + 1)
                    stop.wait(0.25)

            appender = threading.Thread(target=append, daemon=True)
            appender.start()
            # Step. Ask continuously: every answer at least the last one, at the position asked for.
            progress: list[dict[str, Any]] = []
            deadline = time.monotonic() + 120
            while live_shape(old) != newer or new.engine.position("case_timeline") < started_at:
                assert time.monotonic() < deadline, "the shadow was never swapped in"
                now = cases(client, None)  # without waiting: what a reader sees at this moment
                assert now >= shown[-1] > 0
                shown.append(now)
                count = cases(client, old.app.max_position())  # once it has the head
                assert count >= seen[-1] > 0
                seen.append(count)
                health = client.get("/health").json()
                progress += [p for p in health["projections"] if p["name"] == shadow]
            assert len(seen) > 10, "the build was too quick to be asked during it"
            assert progress[0]["lag"] > 0  # thousands of events behind at first
            assert any(
                p["rate"] > 0 and p["eta_s"] is not None and 0 < p["position"] < p["log_position"] for p in progress
            )
            # Step. After the swap: answers go on growing, kept current by the new version's runner.
            for _ in range(10):
                count = cases(client, old.app.max_position())
                assert count >= seen[-1]
                seen.append(count)
                now = cases(client, None)
                assert now >= shown[-1]
                shown.append(now)
                time.sleep(0.1)
            stop.set()
            appender.join(timeout=30)
            assert cases(client, old.app.max_position()) == cases_in_log(old) > seen[0]
            assert not [p for p in client.get("/health").json()["projections"] if p["name"] == shadow]
        assert old.engine.upgrade.held["case_timeline"].startswith("superseded")
        assert new.engine.position("case_timeline") == old.app.max_position()
        columns = old.db.query("SELECT * FROM cases LIMIT 1")[0]
        assert set(columns) == set(new.db.query("SELECT * FROM cases LIMIT 1")[0])
    finally:
        stop.set()
        if appender is not None:
            appender.join(timeout=30)
        if new is not None:
            new.close()
        old.close()
