"""水电气报装 end to end, on SQLite and PostgreSQL: a permit approval pushes the project to water,
power and gas (outbox, real receiver on loopback); the providers report accepted / surveyed /
connected as external records; `utilityConnections(projectCode)` shows each utility's progress,
and a rebuild from zero gives the same rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from application.bootstrap import bootstrap
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.e2e.conftest import auth, project_body, serving
from tests.receiver import Receiver

APPLICANT = auth("applicant")
APPROVER = auth("approver", org="460100-zjj")
INTEGRATION = auth("integration", org="460100-water", region="460000")
QUERY = """query($code: String!) { utilityConnections(projectCode: $code) {
  utility status notifiedAt noticeDeliveredAt acceptedOn surveyedOn connectedOn workingDaysToConnect sourceIds } }"""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(failures=0)
    yield r
    r.stop()


def report(http: httpx.Client, code: str, utility: str, stage: str, on: str) -> httpx.Response:
    body = {
        "source": "utility_provider",
        "source_id": f"{utility}-{code[-6:]}/{stage}",  # one record per stage: the provider's id and the stage
        "kind": "utility_progress",
        "project_code": code,
        "department": utility,
        "issued_on": on,
        "payload": {"stage": stage, "application_number": f"{utility.upper()}-{code[-6:]}"},
    }
    return http.post("/api/v1/external-records", json=body, headers=INTEGRATION)


def connections(http: httpx.Client, code: str) -> dict[str, dict[str, Any]]:
    r = http.post("/graphql", json={"query": QUERY, "variables": {"code": code}}, headers=APPROVER)
    assert r.status_code == 200 and "errors" not in r.json(), r.text
    return {c["utility"]: c for c in r.json()["data"]["utilityConnections"]}


def test_providers_progress_is_shown_per_utility_after_the_permit_push(store_url: str, receiver: Receiver) -> None:
    settings = Settings(database_url=store_url, jwt_secret=JWT_SECRET,
                        delivery_urls=dict.fromkeys(("water", "power", "gas", "real_estate_registration"), receiver.url))  # fmt: skip
    container = bootstrap(settings)
    try:
        with serving(container) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
            # Step: the construction permit is approved (back-entered): the outbox pushes to three utilities.
            body = project_body()
            code = body["code"]
            assert http.post("/api/v1/projects", json=body, headers=APPLICANT).status_code == 201
            entry = {"project_code": code, "item_code": "GJ-3-03", "decision": "approved",
                     "decided_at": "2026-04-01T10:00:00+08:00", "document_number": f"琼建施〔2026〕{code[-6:]}号",
                     "reason": "系统停机期间线下办理"}  # fmt: skip
            assert http.post("/api/v1/cases/offline-entries", json=entry, headers=APPROVER).status_code == 201
            container.deliveries.run_once()
            # Step: water reports all three stages, power only acceptance; a bad stage is refused (422).
            for stage, on in (("accepted", "2026-04-03"), ("surveyed", "2026-04-08"), ("connected", "2026-04-20")):
                assert report(http, code, "water", stage, on).status_code == 201
            assert report(http, code, "power", "accepted", "2026-04-07").status_code == 201
            bad = report(http, code, "power", "finished", "2026-04-07")
            assert bad.status_code == 422 and "utility_stage_unknown" in bad.text
            # Step: the project's connections, per utility.
            container.engine.catch_up()
            seen = connections(http, code)
            assert set(seen) == {"water", "power", "gas"}
            water = seen["water"]
            assert (water["status"], water["acceptedOn"], water["surveyedOn"], water["connectedOn"]) == (
                "connected", "2026-04-03", "2026-04-08", "2026-04-20")  # fmt: skip
            assert water["notifiedAt"] and water["noticeDeliveredAt"] and len(water["sourceIds"]) == 3
            assert (seen["power"]["status"], seen["gas"]["status"]) == ("accepted", "notified")
            # Step: rebuilt from position 0, the read model gives the same answer.
            container.engine.rebuild("utility_connections")
            assert connections(http, code) == seen
    finally:
        container.close()
