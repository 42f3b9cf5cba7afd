"""A back-entry (补录) records the catalogue versions in force when it is entered (Case.BackEntered
v2), and a v1 back-entry stored before versions loads with no pin (the seed applies)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import uuid4

from domain.approvals import Case, Decision
from domain.catalog import CATALOG
from domain.shared.events import Channel, Meta
from infrastructure.log import GongjianApplication

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def back_entry(pinned: tuple[str, str, str] | None) -> Case:
    meta = Meta(
        "clerk-1",
        "window_clerk",
        "460100-zwfw",
        Channel.OFFLINE_BACKENTRY,
        "req-be",
        NOW,
        datetime(2026, 10, 20, tzinfo=UTC),
    )
    return Case.back_enter(
        meta, case_id=uuid4(), project_id=uuid4(), project_code="2603-460100-04-01-123456", region_code="460106",
        applicant_org="91460000MA5T0P3X64", item=CATALOG.item("GJ-1-02"), decision=Decision.APPROVED,
        received_on=None, accepted_on=None, document_number="补录字1号", reason="系统故障", pinned=pinned,
    )  # fmt: skip


def test_a_back_entry_keeps_the_versions_it_was_entered_under() -> None:
    case = back_entry(("GJ-LC-03-460100", "1.1", "1.0"))
    assert case.pinned == ("GJ-LC-03-460100", "1.1", "1.0")
    [event] = case.collect_events()
    assert isinstance(event, Case.BackEntered) and event.flow_version == "1.1"


def test_a_v1_back_entry_loads_with_no_pinned_versions() -> None:
    app = GongjianApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    stored = app.mapper.to_stored_event(back_entry(("GJ-LC-03", "1.0", "1.0")).collect_events()[0])
    state = json.loads(stored.state)
    for name in ("flow_code", "flow_version", "item_version", "class_version"):
        state.pop(name, None)
    old = type(stored)(stored.originator_id, stored.originator_version, stored.topic, json.dumps(state).encode())
    loaded = app.mapper.to_domain_event(old)
    assert isinstance(loaded, Case.BackEntered)
    assert (loaded.flow_code, loaded.flow_version, loaded.item_version) == (None,) * 3
    replayed = loaded.mutate(None)
    assert isinstance(replayed, Case) and replayed.pinned == (None, None, None) and replayed.back_entered
