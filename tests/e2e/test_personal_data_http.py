"""Over real HTTP: an analyst's case shows no official or applicant, the response says why, and the
archive package (every event with its actor) is 403 to the analyst; a supervisor sees the people."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conftest import OWNER_USCC, Server, auth
from tests.e2e.test_archives import approved_case, archive_system, archived, archiving_server  # noqa: F401

ANALYST = auth("analyst", org="460000-tj", region="460000")
SUPERVISOR = auth("supervisor", org="460000-jc", region="460000")
CASE = """query($id: ID!) { case(id: $id) { itemCode status { code } applicantOrg
  timeline { eventType actorId actorRole actorOrg detail } } }"""


def _case(client: httpx.Client, headers: dict[str, str], case_id: str) -> dict[str, Any]:
    r = client.post("/graphql", json={"query": CASE, "variables": {"id": case_id}}, headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_an_analyst_gets_the_case_without_people_and_not_the_archive_package(
    archiving_server: Server,  # noqa: F811
) -> None:
    with archiving_server.client() as client:
        # Step: a case is approved by named officials for the owner, and archived.
        case_id = approved_case(client)
        archive_id, _ = archived(archiving_server, client)
        archiving_server.container.engine.catch_up()

        # Step: the analyst reads the case: statuses and roles, no ids, organisations or notes.
        seen = _case(client, ANALYST, case_id)
        case = seen["data"]["case"]
        assert case["itemCode"] == "GJ-1-02" and case["status"]["code"] == 11
        assert case["applicantOrg"] is None
        assert [t["actorRole"] for t in case["timeline"]][:2] == ["window_clerk", "window_clerk"]
        assert all(t["actorId"] is None and t["actorOrg"] is None and t["detail"] is None for t in case["timeline"])
        assert "errors" not in seen
        notice = seen["extensions"]["personalData"]
        assert notice["code"] == "PERSONAL_DATA_WITHHELD"
        assert {"Case.applicantOrg", "Transition.actorId", "Transition.actorOrg"} <= set(notice["withheld"])

        # Step: a supervisor reads the same case with the people in it, and no notice.
        full = _case(client, SUPERVISOR, case_id)
        assert full["data"]["case"]["applicantOrg"] == OWNER_USCC
        assert {t["actorOrg"] for t in full["data"]["case"]["timeline"]} >= {"460100-zwfw", "460100-zjj"}
        assert "personalData" not in (full.get("extensions") or {})

        # Step: the archive package holds every event with its actor: 403 to the analyst, who may
        # still check its fixity; the supervisor downloads it.
        package = client.get(f"/api/v1/archives/{archive_id}/package", headers=ANALYST)
        assert package.status_code == 403, package.text
        assert package.headers["content-type"].startswith("application/problem+json")
        assert client.get(f"/api/v1/archives/{archive_id}/fixity", headers=ANALYST).json()["ok"] is True
        assert client.get(f"/api/v1/archives/{archive_id}/package", headers=SUPERVISOR).status_code == 200
