"""数据共享交换 over HTTP: a city dump through `POST /api/v1/exchange/spgl` (201, then 200 and
nothing written for the same dump), rejected rows listed by rule, 422/403 for bad requests, and the
national platform's upload results (`/spgl/upload-results`) shown in the export."""

from __future__ import annotations

from collections import Counter

from application.policy import Actor
from tests.e2e.conftest import Server, auth
from tests.spgl_city_dump import Dump

CITY = auth("integration", org="460100-gongjian", region="460100")


def test_a_city_dump_over_http(server: Server) -> None:
    dump = Dump(projects=20)
    with server.client() as client:
        first = client.post(
            "/api/v1/exchange/spgl", json={"source_system": "haikou", "tables": dump.tables}, headers=CITY
        )
        assert first.status_code == 201, first.text
        body = first.json()
        assert Counter(e["rule"] for e in body["errors"]) == dump.planted
        position = server.position()
        assert body["position"] == position

        again = client.post(
            "/api/v1/exchange/spgl", json={"source_system": "haikou", "tables": dump.tables}, headers=CITY
        )
        assert again.status_code == 200 and again.json()["unchanged"] is True
        assert server.position() == position


def test_a_row_holding_a_control_character_is_rejected_alone_by_the_text_rule(server: Server) -> None:
    dump = Dump(projects=4)
    flow = dump.tables["SPGL_DFXMSPLCXXB"][0]
    flow["SPLCMC"] = "海口\u202e审批流程\x07"
    with server.client() as client:
        r = client.post("/api/v1/exchange/spgl", json={"source_system": "haikou", "tables": dump.tables}, headers=CITY)
    assert r.status_code == 201, r.text
    texts = [(e["table"], e["field"]) for e in r.json()["errors"] if e["rule"] == "text"]
    assert texts == [("SPGL_DFXMSPLCXXB", "SPLCMC")]


def test_bad_requests_are_422_or_403_and_write_nothing(server: Server) -> None:
    dump = Dump(projects=4)
    with server.client() as client:
        before = server.position()
        unknown = client.post(
            "/api/v1/exchange/spgl", json={"source_system": "haikou", "tables": {"SPGL_X": []}}, headers=CITY
        )
        assert unknown.status_code == 422
        assert any(e["loc"] == ["body", "tables", "SPGL_X"] for e in unknown.json()["errors"]), unknown.text
        no_source = client.post("/api/v1/exchange/spgl", json={"tables": dump.tables}, headers=CITY)
        assert no_source.status_code == 422
        analyst = client.post(
            "/api/v1/exchange/spgl", json={"source_system": "haikou", "tables": dump.tables}, headers=auth("analyst")
        )
        assert analyst.status_code == 403
        bad_result = client.post(
            "/api/v1/exchange/spgl/upload-results",
            json={"results": [{"table": "SPGL_XMJBXXB", "LSH": 1, "SJSCZT": -1}]},
            headers=CITY,
        )
        assert bad_result.status_code == 422
        assert any(e["loc"] == ["body", "results[0]", "SBYY"] for e in bad_result.json()["errors"]), bad_result.text
        assert server.position() == before


def test_upload_results_show_in_the_export(server: Server) -> None:
    with server.client() as client:
        ok = client.post(
            "/api/v1/exchange/spgl/upload-results",
            json={
                "results": [
                    {"table": "SPGL_DFXMSPLCXXB", "LSH": 1, "SJSCZT": 1},
                    {"table": "SPGL_DFXMSPLCXXB", "LSH": 2, "SJSCZT": -1, "SBYY": "流程版本号重复"},
                ]
            },
            headers=CITY,
        )
        assert ok.status_code == 201, ok.text
    rows = server.container.spgl.export(Actor("n", "integration", "gongjian", "460000"))["SPGL_DFXMSPLCXXB"]
    states = {r["LSH"]: (r["SJSCZT"], r.get("SBYY")) for r in rows}
    assert states["1"] == ("1", None)
    assert states["2"] == ("-1", "流程版本号重复")
    assert states["3"] == ("0", None)
