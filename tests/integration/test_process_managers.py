"""Process managers driven by the projection engine (issue 19, one follower), on SQLite and
PostgreSQL: their positions are rows of `projection_tracking` shown by `projections status`; a
failing manager keeps its position, is handed the same events again and holds back no read model;
a manager is never rebuilt; an upgraded store starts them at their old tables' positions, once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

import pytest
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic
from typer.testing import CliRunner

from application.bootstrap import Container, bootstrap
from domain.approvals.case import Case
from infrastructure.db import table_exists
from infrastructure.settings import Settings
from interfaces.cli import app as cli
from tests.conftest import JWT_SECRET
from tests.integration.test_projection_engine import fill

MANAGERS = {"automation", "delivery_producer"}


class AcceptanceLog:
    """A test process manager: notes the positions of the Case.Accepted events it is handed, and
    fails on one of them while `fail_at` says so (before noting anything of that batch)."""

    name = "acceptance_log"
    topics: Sequence[str] = [get_topic(Case.Accepted)]
    legacy_position: str | None = None

    def __init__(self) -> None:
        self.handed: list[int] = []
        self.fail_at: int | None = None
        self.idle_rounds = 0

    def handle(self, batch: Sequence[Notification]) -> None:
        if any(n.id == self.fail_at for n in batch):
            raise RuntimeError(f"broke at {self.fail_at}")
        self.handed += [n.id for n in batch]

    def idle(self) -> bool:
        self.idle_rounds += 1
        return False


def open_container(url: str) -> Container:
    return bootstrap(Settings(database_url=url, jwt_secret=JWT_SECRET))


@pytest.fixture
def container(store_url: str) -> Iterator[Container]:
    c = open_container(store_url)
    yield c
    c.close()


def until(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def accepted_positions(c: Container) -> list[int]:
    page = c.app.recorder.select_notifications(0, 10_000, topics=[get_topic(Case.Accepted)])
    return [n.id for n in page]


def test_managers_are_tracked_beside_the_read_models_and_shown_by_status(container: Container) -> None:
    c = container
    # Step: a fresh store gives each manager a tracking row at 0, and no table of its own position.
    assert c.engine.managers.positions() == dict.fromkeys(MANAGERS, 0)
    with c.db.transaction() as cur:
        assert not any(table_exists(cur, c.db.dialect, t) for t in ("automation_position", "delivery_position"))
    fill(c, 3)
    top = c.app.max_position()
    # Step: no decision among these events: the producer requests nothing, and its position still
    # moves to the log's end (it has seen every event of its topics up to there).
    assert c.deliveries.produce() == 0
    assert c.engine.managers.position("delivery_producer") == top
    rows = {r["name"]: r for r in c.engine.managers.status(top)}
    assert rows["delivery_producer"]["lag"] == 0 and rows["delivery_producer"]["kind"] == "process manager"
    assert rows["automation"]["lag"] == top
    # Step: the same table as the read models', one row each.
    tracked = {r["read_model"] for r in c.db.query("SELECT read_model FROM projection_tracking")}
    assert MANAGERS | set(c.engine.models) == tracked


def test_a_manager_is_never_rebuilt(container: Container) -> None:
    c = container
    fill(c, 1)
    c.automation.run_until_idle()
    at = c.automation.position()
    assert at == c.app.max_position()
    for attempt in (lambda: c.engine.rebuild("automation"), lambda: c.engine.rebuild_all(["delivery_producer"])):
        with pytest.raises(ValueError, match="never rebuilt"):
            attempt()
    assert c.automation.position() == at
    env = {"GONGJIAN_DATABASE_URL": c.settings.database_url, "GONGJIAN_JWT_SECRET": JWT_SECRET}
    runner = CliRunner()
    refused = runner.invoke(cli, ["projections", "rebuild", "automation"], env=env)
    assert refused.exit_code == 2 and "never rebuilt" in refused.output, refused.output
    assert c.automation.position() == at
    status = runner.invoke(cli, ["projections", "status"], env={**env, "COLUMNS": "200"})
    assert status.exit_code == 0, status.output
    lines = {line.split("│")[1].strip(): line for line in status.output.splitlines() if line.count("│") > 3}
    assert "process manager" in lines["automation"] and "process manager" in lines["delivery_producer"]
    assert "read model" in lines["case_timeline"]


def test_a_failing_manager_keeps_its_position_gets_the_events_again_and_holds_back_no_read_model(
    container: Container,
) -> None:
    c = container
    manager = AcceptanceLog()
    c.engine.managers.add(manager)
    fill(c, 4)
    accepted = accepted_positions(c)
    assert len(accepted) == 4
    # Step: the manager breaks on the third acceptance; the runner runs read models and managers.
    c.engine.managers.batch_size = 2
    manager.fail_at = accepted[2]
    c.engine.start(idle_timeout=0.05, managers=True)
    try:
        assert until(lambda: c.engine.managers.failing.get("acceptance_log") is not None)
        top = c.app.max_position()
        assert c.engine.wait_for(top, timeout=20)  # every read model caught up meanwhile
        assert c.engine.managers.position("acceptance_log") == accepted[1]  # after the last good batch
        assert manager.handed == accepted[:2]
        # Step: repaired, it is handed the failed batch again and catches up; each event handled once.
        manager.fail_at = None
        assert until(lambda: c.engine.managers.position("acceptance_log") >= top)
    finally:
        c.engine.stop()
    assert manager.handed == accepted
    assert "acceptance_log" not in c.engine.managers.failing
    assert manager.idle_rounds > 0  # its own-clock turn came with the runner's rounds


def test_an_upgraded_store_starts_the_managers_at_their_old_positions_once(store_url: str) -> None:
    c = open_container(store_url)
    try:
        fill(c, 2)
        top = c.app.max_position()
        # Step: a store from before issue 19: the managers kept their positions in tables of their own.
        with c.db.transaction() as cur:
            for table, name in (("automation_position", "automation"), ("delivery_position", "deliveries")):
                cur.execute(f"CREATE TABLE {table} (name TEXT PRIMARY KEY, position BIGINT NOT NULL)")
                cur.execute(f"INSERT INTO {table} (name, position) VALUES (?, ?)", (name, top - 1))
            cur.execute("DELETE FROM projection_tracking WHERE read_model IN ('automation', 'delivery_producer')")
    finally:
        c.close()
    # Step: the upgrade starts each manager where its old table said, not at 0.
    c = open_container(store_url)
    try:
        assert c.engine.managers.positions() == dict.fromkeys(MANAGERS, top - 1)
        with c.db.transaction() as cur:  # the old tables are no longer written, nor read again
            cur.execute("UPDATE automation_position SET position = 0")
        c.automation.run_until_idle()
        assert c.db.query("SELECT position FROM automation_position")[0]["position"] == 0
    finally:
        c.close()
    c = open_container(store_url)
    try:
        assert c.engine.managers.position("automation") == c.app.max_position()
        assert c.engine.managers.position("delivery_producer") == top - 1
    finally:
        c.close()
