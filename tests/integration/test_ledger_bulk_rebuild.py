"""The ledger written in bulk (COPY of leaves, nodes and new heads; UPDATE of heads that continue
from an earlier batch) equals the ledger written live in small batches, row for row, and verifies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from application.bootstrap import Container
from application.ledger import verify_store
from infrastructure.db import COPY_FROM
from projections.ledger import Ledger
from tests.integration.test_ledger import ledger_of, open_ledger
from tests.integration.test_projection_engine import fill

PROJECTS = 40  # Generated, Received, Accepted each: 120 events, bulk batches of 100 >= COPY_FROM


@pytest.fixture
def live(store_url: str, tmp_path: Path) -> Iterator[Container]:
    c = open_ledger(store_url, tmp_path / "keys" / "ledger.pem")
    fill(c, PROJECTS)
    c.engine.catch_up(["ledger"], batch_size=7)  # small batches: per-row inserts, heads updated often
    yield c
    c.close()


def _rows(c: Container) -> dict[str, list[str]]:
    return {t: sorted(str(r) for r in c.db.query(f"SELECT * FROM {t}")) for t in Ledger.tables}


def test_a_bulk_rebuild_writes_the_same_ledger_as_live_batches(live: Container) -> None:
    before = _rows(live)
    assert len(before["ledger_leaves"]) >= 100 > COPY_FROM
    live.engine.rebuild_batch_size = 100  # two bulk batches: some aggregates continue into the second
    live.engine.rebuild("ledger")
    assert _rows(live) == before
    report = verify_store(live.app, ledger_of(live))
    assert report.ok, report.findings
