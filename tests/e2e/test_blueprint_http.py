"""一张蓝图 over HTTP: admins import zones (others 403), bad input is a 422 with its field path,
land supply for an ungenerated project is a 409, and a generation lists its conflicts."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conftest import Server, auth, new_project_code, project_body
from tests.unit.test_blueprint import INSIDE_BOTH, square

ADMIN = auth("admin", org="ops", region="460000")
ZONE: dict[str, Any] = {
    "code": "HK-JD-01",
    "name": "江东01",
    "region_code": "460108",
    "geometry": square(110.40, 20.00, 110.42, 20.02),
    "land_uses": ["09"],
    "max_plot_ratio": "2.5",
    "height_limit_m": "60",
}


def test_blueprint_import_conflicts_and_refusals_over_http(server: Server, client: httpx.Client) -> None:
    # Step. Only an admin imports; the same zone again is unchanged.
    assert client.post("/api/v1/blueprint/zones", json=ZONE, headers=auth("window_clerk")).status_code == 403
    first = client.post("/api/v1/blueprint/zones", json=ZONE, headers=ADMIN)
    assert first.status_code == 200, first.text
    again = client.post("/api/v1/blueprint/zones", json=ZONE, headers=ADMIN).json()
    assert again["unchanged"] is True and again["position"] == first.json()["position"]
    bad = client.post("/api/v1/blueprint/zones", json={**ZONE, "land_uses": ["7"]}, headers=ADMIN)
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"][:3] == ["body", "land_uses", 0]

    # Step. A generation over the zone, 80 m high: created, the conflict listed in the answer.
    body = project_body(region_code="460108", red_line=INSIDE_BOTH, height_m="80")
    made = client.post("/api/v1/projects", json=body, headers=auth("applicant"))
    assert made.status_code == 201, made.text
    assert [c["rule"] for c in made.json()["conflicts"]] == ["height_limit"]

    # Step. A declared land area far from the red line's is a 422 naming the field; nothing written.
    before = server.position()
    wrong = project_body(region_code="460108", red_line=INSIDE_BOTH, land_area_m2="90000")
    refused = client.post("/api/v1/projects", json=wrong, headers=auth("applicant"))
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"loc": ["body", "land_area_m2"], "msg": refused.json()["errors"][0]["msg"], "type": "land_area_inconsistent"}
    ]
    assert server.position() == before

    # Step. Land for a project code never generated: 409.
    land = {"mode": "allocation", "red_line": INSIDE_BOTH, "supplied_on": "2026-05-06"}
    r = client.post(f"/api/v1/projects/{new_project_code()}/land-supply", json=land, headers=auth("approver"))
    assert r.status_code == 409 and "未策划生成" in r.json()["detail"]
