"""Industry systems over HTTP: an IFC upload over the zone's height limit answers its finding at the
IFC storey, a compliant one none; roles that may not are 403; bad input is 422 with the field path;
the joint survey and the multi-plan platform's control lines go in and come back."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import Server, auth, project_body
from tests.ifc_models import Tower, ifc_model, storey_ids
from tests.unit.test_blueprint import INSIDE_BOTH, square

ADMIN = auth("admin", org="ops", region="460000")
APPLICANT = auth("applicant")
REVIEWER = auth("reviewer", org="460100-zjj")
CLERK = auth("window_clerk", org="460100-zwfw")
PLATFORM = auth("integration", org="gongjian", region="460000")
ZONE = {
    "code": "HK-JD-01",
    "name": "江东01",
    "region_code": "460108",
    "geometry": square(110.40, 20.00, 110.42, 20.02),
    "land_uses": ["09"],
    "max_plot_ratio": "2.5",
    "height_limit_m": "60",
}


def generated(client: httpx.Client) -> str:
    assert client.post("/api/v1/blueprint/zones", json=ZONE, headers=ADMIN).status_code in (200, 201)
    body = project_body(region_code="460108", red_line=INSIDE_BOTH)
    assert client.post("/api/v1/projects", json=body, headers=APPLICANT).status_code == 201
    return str(body["code"])


def upload(
    client: httpx.Client, code: str, data: bytes, stage: str = "design", headers: dict[str, str] = APPLICANT
) -> httpx.Response:
    return client.post(
        f"/api/v1/industry/bim/{code}/models",
        params={"stage": stage, "file_name": "m.ifc"},
        content=data,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )


def test_bim_review_over_http_finds_the_storey_over_the_height_limit_and_approves_a_compliant_model(
    server: Server, client: httpx.Client
) -> None:
    code = generated(client)
    # Step. 21 storeys: one finding at the 21st storey, naming the zone's 60 m.
    tall = ifc_model(Tower("1号楼", 21, 900))
    r = upload(client, code, tall)
    assert r.status_code == 201, r.text
    [finding] = r.json()["findings"]
    assert finding["element"]["global_id"] == storey_ids(tall)["1号楼/21F"] and finding["limit"] == "60.00"
    assert "HK-JD-01" in finding["message"]
    # Step. Not IFC: 422 with the field; another owner's applicant: 403; a reviewer cannot upload.
    bad = upload(client, code, b"not a model")
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"][-1] == "file"
    assert upload(client, code, tall, headers=auth("applicant", org="91460100MA5T0P3X69")).status_code == 403
    assert upload(client, code, tall, headers=REVIEWER).status_code == 403
    # Step. 20 storeys: no finding; the reviewer approves it; the list shows it as the approved design.
    ok = upload(client, code, ifc_model(Tower("1号楼", 20, 900)))
    assert ok.json()["findings"] == []
    model_id = ok.json()["model_id"]
    assert client.post(f"/api/v1/industry/bim/{code}/models/{model_id}/approve", headers=APPLICANT).status_code == 403
    assert client.post(f"/api/v1/industry/bim/{code}/models/{model_id}/approve", headers=REVIEWER).status_code == 200
    listed = client.get(f"/api/v1/industry/bim/{code}", headers=REVIEWER).json()
    assert listed["approved_design"] == model_id and len(listed["models"]) == 2
    # Step. A completion model 10 % larger is flagged against the approved design.
    built = upload(client, code, ifc_model(Tower("1号楼", 20, 990)), stage="completion")
    assert [f["rule"] for f in built.json()["findings"]] == ["area_delta"]


def test_survey_and_multiplan_over_http(server: Server, client: httpx.Client) -> None:
    code = generated(client)
    r = client.post(
        f"/api/v1/projects/{code}/unit-works", json={"name": "1号楼", "floor_area_m2": "3000"}, headers=APPLICANT
    )
    assert r.status_code in (200, 201), r.text
    unit = r.json()["unit_work_code"]
    survey = {
        "surveyor": "海南测绘院",
        "surveyor_uscc": "91460100MA5T0P3X69",
        "report_number": "CH-1",
        "report_sha256": "cd" * 32,
        "surveyed_on": "2028-05-20",
        "footprint": square(110.4065, 20.0065, 110.4075, 20.0075),
        "buildings": [
            {
                "unit_work_code": unit,
                "height_m": "9.2",
                "storeys": [{"name": f"{i}F", "height_m": "3", "gross_floor_area_m2": "1000"} for i in (1, 2, 3)],
                "units": [{"number": "101", "storey": "1F", "use": "商业", "floor_area_m2": "950"}],
            }
        ],
    }
    # Step. 422 with the field path for an unknown unit work; then recorded; again: 409.
    wrong = {**survey, "buildings": [{**survey["buildings"][0], "unit_work_code": "X"}]}
    bad = client.post(f"/api/v1/industry/surveys/{code}", json=wrong, headers=CLERK)
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"][-1] == "unit_work_code"
    assert client.post(f"/api/v1/industry/surveys/{code}", json=survey, headers=APPLICANT).status_code == 403
    assert client.post(f"/api/v1/industry/surveys/{code}", json=survey, headers=CLERK).status_code == 201
    assert client.post(f"/api/v1/industry/surveys/{code}", json=survey, headers=CLERK).status_code == 409
    verification = client.get(f"/api/v1/industry/surveys/{code}/planning-verification", headers=REVIEWER).json()
    assert verification["compliant"] is True and verification["gross_floor_area_m2"] == "3000.00"
    # Step. A control line from the platform; the overview lists it.
    line = {
        "code": "LX-1",
        "kind": "water_body",
        "name": "南渡江蓝线",
        "geometry": INSIDE_BOTH,
        "region_code": "460108",
    }
    assert (
        client.post(f"/api/v1/industry/multi-plan/{code}/control-lines", json=line, headers=APPLICANT).status_code
        == 403
    )
    assert (
        client.post(f"/api/v1/industry/multi-plan/{code}/control-lines", json=line, headers=PLATFORM).status_code == 200
    )
    overview = client.get(f"/api/v1/industry/multi-plan/{code}", headers=REVIEWER).json()
    assert [x["code"] for x in overview["control_lines"]] == ["LX-1"]
    # Step. GraphQL shows the same project's industry facts in one query.
    query = """query($code: String!) { industry(projectCode: $code) { survey planningVerification { compliant }
      controlLines bimModels { modelId } } }"""
    r = client.post("/graphql", json={"query": query, "variables": {"code": code}}, headers=REVIEWER)
    data = r.json()["data"]["industry"]
    assert data["survey"]["report_number"] == "CH-1" and data["planningVerification"]["compliant"] is True
    assert [x["code"] for x in data["controlLines"]] == ["LX-1"] and data["bimModels"] == []
