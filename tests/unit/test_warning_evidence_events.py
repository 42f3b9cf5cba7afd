"""The two facts issue 15 adds for the off-system warnings: a row refused by R2/R3 kept as
evidence (one fact per source row, whatever dump brings it again), and the daily supervision-clock
tick (one per day)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

from domain.exchange import spgl
from domain.exchange.spgl_refused import EVIDENCE_RULES, SpglRefusedRow
from domain.shared.events import Channel, Meta
from domain.supervision.clock import SupervisionClock

META = Meta(
    "haikou-system", "integration", "460100-gongjian", Channel.IMPORT, "req-1", datetime(2026, 6, 1, tzinfo=UTC)
)
ROW = {"LSH": "41", "DFSJZJ": "HKX2", "GCDM": "2604-460100-04-01-999999-001", "SPSXSLBM": "HKX2"}


def refused(row: dict[str, str], source: str = "haikou") -> SpglRefusedRow:
    return SpglRefusedRow.record(META, uuid4(), spgl.CASE, row, "R2", "GCDM", "not in the project table", source)


def test_a_refused_row_is_one_fact_per_source_row_whatever_dump_brings_it() -> None:
    first, again = refused(ROW), refused(dict(ROW))
    assert first.id == again.id  # another import of the same row: the same aggregate, written once
    assert refused({**ROW, "LSH": "42"}).id != first.id  # a later serial is another row
    assert refused(ROW, source="sanya").id != first.id
    [event] = first.collect_events()
    assert (event.table, event.row, event.rule, event.channel) == (spgl.CASE, ROW, "R2", "import")
    assert {"R2", "R3"} == EVIDENCE_RULES


def test_the_supervision_clock_ticks_once_a_day() -> None:
    monday, again = SupervisionClock.tick(META, date(2026, 6, 1)), SupervisionClock.tick(META, date(2026, 6, 1))
    assert monday.id == again.id and SupervisionClock.tick(META, date(2026, 6, 2)).id != monday.id
    [event] = monday.collect_events()
    assert event.day == date(2026, 6, 1)
