"""外部数据 — facts reported by other systems, over HTTP on both stores: a repeat writes nothing,
a change is one amendment, a malformed record is a 422 naming the field, only `integration` reports."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from tests.e2e.conftest import Server, auth


def permit(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source": "industry_system",
        "source_id": f"SGXK-{uuid4().hex[:10]}",
        "kind": "construction_permit",
        "project_code": "2611-460100-04-01-123456",
        "number": "460100202610120101",
        "issued_on": "2026-10-12",
        "upstream": {"GCGHXKZBH": "建字第460100202600031号", "SCHGSBH": "琼审2026-0412"},
        "department": "海口市住房和城乡建设局",
        "occurred_at": "2026-10-12T10:00:00+08:00",
        "payload": {"SGXKZBH": "460100202610120101", "SJLY": "住建厅施工许可系统"},
    }
    body.update(overrides)
    return body


def report(client: httpx.Client, body: dict[str, Any], role: str = "integration") -> httpx.Response:
    return client.post("/api/v1/external-records", json=body, headers=auth(role, org="460000-dsj", region="460000"))


def test_a_repeated_record_writes_nothing_and_answers_the_same_position(server: Server) -> None:
    with server.client() as client:
        # Step: the first report creates the record.
        body = permit()
        first = report(client, body)
        assert first.status_code == 201, first.text
        assert first.json()["created"] is True
        # Step: the very same report again — nothing is written.
        log_before = server.position()
        again = report(client, body)
        assert again.status_code == 200, again.text
        assert again.json() | {"replayed": False} == {**first.json(), "created": False, "unchanged": True}
        assert server.position() == log_before


def test_a_changed_record_is_recorded_as_one_amendment(server: Server) -> None:
    with server.client() as client:
        body = permit()
        first = report(client, body).json()
        changed = report(client, {**body, "number": "460100202610120199"})
        assert changed.status_code == 200, changed.text
        assert changed.json()["unchanged"] is False and changed.json()["id"] == first["id"]
        assert changed.json()["position"] > first["position"]
        assert server.container.app.repository.get(UUID(first["id"])).version == 2
        # the amended content repeated is again a no-op
        log_before = server.position()
        assert report(client, {**body, "number": "460100202610120199"}).json()["unchanged"] is True
        assert server.position() == log_before


def test_a_status_row_from_a_city_system_is_recorded_with_its_source_system(server: Server) -> None:
    with server.client() as client:
        row = {
            "source": "city_system",
            "source_id": f"HK-{uuid4().hex[:8]}-3",
            "kind": "status_row",
            "case_ref": "HKSP-2026-000123",
            "status_code": 3,
            "source_system": "海口市工程建设项目审批系统",
            "item_code": "GJ-2-01",
        }
        response = report(client, row)
        assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"source": "fax_machine"}, "source"),
        ({"kind": "rumour"}, "kind"),
        ({"number": None}, "number"),
        ({"kind": "status_row", "case_ref": "X-1", "status_code": 99, "source_system": "海口"}, "status_code"),
        ({"upstream": {"XYZBH": "1"}}, "upstream"),
        ({"project_code": "2611-460100-04-01-12345X"}, "project_code"),
        ({"item_code": "GJ-9-99"}, "item_code"),
    ],
)
def test_an_unknown_source_or_malformed_record_is_refused_naming_the_field(
    server: Server, change: dict[str, Any], field: str
) -> None:
    with server.client() as client:
        log_before = server.position()
        response = report(client, permit(**change))
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert [e["loc"][-1] for e in response.json()["errors"]] == [field]
        assert server.position() == log_before


@pytest.mark.parametrize(
    "role", ["applicant", "window_clerk", "reviewer", "supervisor", "accountability_officer", "admin"]
)
def test_only_the_integration_role_reports_external_records(server: Server, role: str) -> None:
    with server.client() as client:
        response = report(client, permit(), role=role)
        assert response.status_code == 403, response.text
