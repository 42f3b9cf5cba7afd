"""Nodes built from read-model rows decode their JSON, date and reference columns when selected, and
then answer exactly what the eager decoding gave (interfaces/graphql/types.py)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from interfaces.graphql.types import AuditEntry, Owner, Project, UnitWork, audit_node, project_node

PROJECT_ROW = {
    "code": "2611-460100-04-01-000001",
    "name": "测试项目",
    "owner_name": "测试公司",
    "owner_uscc": "91460000MA5T0P3X64",
    "region_code": "460106",
    "unit_code": "u-1",
    "flow_type": 3,
    "investment_type": "enterprise",
    "category": "房屋建筑",
    "total_investment": "12.5",
    "planned_start": "2026-01-01",
    "planned_end": "2027-01-01",
    "red_line": json.dumps({"type": "Polygon", "coordinates": []}),
    "land_supply_mode": None,
    "parcel_codes": json.dumps(["p-1"]),
    "unit_works": json.dumps([{"code": "w-1", "name": "主楼"}]),
    "stage_reached": 2,
    "approved_items": json.dumps(["GJ-1-02"]),
    "case_count": 4,
    "merged_into": None,
    "merged_codes": json.dumps([]),
    "generated_at": "2026-01-05T01:00:00+00:00",
    "last_position": 17,
}


def test_a_project_from_a_row_answers_every_column_decoded() -> None:
    node = project_node(dict(PROJECT_ROW))
    assert isinstance(node, Project)
    assert (node.code, node.name, node.stage_reached, node.position) == (PROJECT_ROW["code"], "测试项目", 2, 17)
    assert node.owner == Owner(name="测试公司", uscc="91460000MA5T0P3X64")
    assert node.region_name and node.flow_type_name
    assert (node.planned_start, node.planned_end) == (date(2026, 1, 1), date(2027, 1, 1))
    assert node.red_line == {"type": "Polygon", "coordinates": []}
    assert node.parcel_codes == ["p-1"] and node.approved_items == ["GJ-1-02"] and node.merged_codes == []
    assert node.unit_works == [UnitWork(code="w-1", name="主楼")]
    assert node.generated_at == datetime.fromisoformat("2026-01-05T01:00:00+00:00")
    assert node.red_line is node.red_line  # decoded once


def test_an_undecodable_column_fails_only_when_it_is_selected() -> None:
    node = project_node({**PROJECT_ROW, "parcel_codes": "not json"})
    assert node.code == PROJECT_ROW["code"]
    with pytest.raises(json.JSONDecodeError):
        _ = node.parcel_codes


AUDIT_ROW = {
    "position": 5, "event_type": "CaseAccepted", "aggregate_type": "Case", "originator_id": "o-1",
    "originator_version": 2, "actor_id": "clerk-1", "actor_role": "window_clerk", "actor_org": "hk-window",
    "channel": "window", "request_id": "r-1", "occurred_at": None,
    "recorded_at": "2026-01-05T01:00:00+00:00", "business_time": "2026-01-05T01:00:00+00:00",
    "data": json.dumps({"opinion": "同意"}),
}  # fmt: skip


def test_an_audit_entry_from_a_row_answers_every_column_decoded() -> None:
    node = audit_node(dict(AUDIT_ROW))
    assert isinstance(node, AuditEntry)
    assert (node.position, node.version, node.actor_id, node.actor_org) == (5, 2, "clerk-1", "hk-window")
    assert node.occurred_at is None and node.data == {"opinion": "同意"}
    assert node.recorded_at == node.business_time == datetime.fromisoformat("2026-01-05T01:00:00+00:00")


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 1, 5, 1, 0, tzinfo=UTC),
        datetime(2026, 1, 5, 1, 0, 0, 120, tzinfo=UTC),
        datetime(2026, 3, 4, 9, 30, 5, 999999, tzinfo=timezone(timedelta(hours=8))),
        datetime(2026, 3, 4, 9, 30, 5, tzinfo=timezone(timedelta(hours=5, minutes=30, seconds=15))),
        datetime(2026, 3, 4, 9, 30),
    ],
    ids=str,
)
def test_an_audit_entrys_times_answer_as_the_datetimes_the_trail_stored(moment: datetime) -> None:
    # the read model stores isoformat() text; the node gives it back instead of formatting it again
    text = moment.isoformat()
    node = audit_node({**AUDIT_ROW, "occurred_at": text, "recorded_at": text, "business_time": text})
    for value in (node.occurred_at, node.recorded_at, node.business_time):
        assert value == moment and value.isoformat() == text and str(value) == str(moment)
        assert value.isoformat(timespec="microseconds") == moment.isoformat(timespec="microseconds")
        assert (value + timedelta(days=1)).isoformat() == (moment + timedelta(days=1)).isoformat()
        assert value.replace(year=2027).isoformat() == moment.replace(year=2027).isoformat()
