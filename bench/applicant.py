"""`python -m bench.applicant [URL] [PROJECTS]` — the applicant's side over real HTTP (uvicorn on
loopback), each figure against a baseline measured in the same run on the same projects:

- a rule-approved submission (智能审批: receive, licence checks, accept, approve, project update in one
  request) vs a plain submission of an item decided by people;
- one smart-form submission of three utility items (智能表单, three cases in one save) vs three plain
  submissions of the same items;
- guidance (智能引导) vs the project's GraphQL overview.

URL defaults to a fresh PostgreSQL schema in the test database; `sqlite` for a temporary SQLite file.
Run from the repository root (it reuses the end-to-end tests' server and fixtures)."""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import httpx

from application.bootstrap import bootstrap
from bench.common import emit, fresh_schema, percentile
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET  # also switches the rate limit off, as in the suite
from tests.e2e.conftest import auth, serving
from tests.e2e.test_rule_approval import CLERK, project_with_site_selection

APPLICANT = auth("applicant")
UTILITIES = ["GJ-5-01", "GJ-5-02", "GJ-5-03"]
FORM_VALUES = {
    "project_name": "海口市测试安置房项目", "owner_name": "海南测试建设有限公司", "owner_uscc": "91460000MA5T0P3X64",
    "location": "海口市美兰区", "contact_person": "王工", "contact_phone": "0898-66660000", "water_demand": 120,
    "power_capacity": 2500, "gas_demand": 40,
}  # fmt: skip
OVERVIEW = "query($code: String!) { project(code: $code) { code name stageReached caseCount } }"


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def ok(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


def figure(name: str, ours: list[float], baseline: list[float], baseline_name: str, **extra: Any) -> None:
    p50, b50 = percentile(ours, 50), percentile(baseline, 50)
    emit(
        name,
        n=len(ours),
        p50_ms=round(p50 * 1000, 2),
        p95_ms=round(percentile(ours, 95) * 1000, 2),
        baseline=baseline_name,
        baseline_p50_ms=round(b50 * 1000, 2),
        baseline_p95_ms=round(percentile(baseline, 95) * 1000, 2),
        ratio_p50=round(p50 / b50, 2),
        **extra,
    )


def run(url: str, projects: int) -> None:
    keys = tempfile.mkdtemp(prefix="gongjian-bench-keys-")
    container = bootstrap(Settings(database_url=url, jwt_secret=JWT_SECRET, keystore_path=keys))
    with ExitStack() as stack:
        stack.callback(container.close)
        base = stack.enter_context(serving(container))
        http = stack.enter_context(httpx.Client(base_url=base, timeout=60))
        codes = [project_with_site_selection(http)[0] for _ in range(projects)]
        plain, rule, decided = [], [], 0
        for code in codes:
            first = {"project_code": code, "item_code": "GJ-1-01"}
            plain.append(timed(lambda b=first: ok(http.post("/api/v1/cases", json=b, headers=CLERK))))  # type: ignore[misc]
            body = {"project_code": code, "item_code": "GJ-1-03"}
            start = time.perf_counter()
            answer = ok(http.post("/api/v1/cases", json=body, headers=CLERK))
            rule.append(time.perf_counter() - start)
            decided += answer["status_code"] == 11  # 11: approved (case_status.csv)
        assert decided == projects, f"only {decided}/{projects} were decided by rule"
        figure("rule_approval_submit", rule, plain, "plain_submit", approved_by_rule=decided)

        form = []
        for code in codes:
            form_body: dict[str, Any] = {"project_code": code, "item_codes": UTILITIES, "values": FORM_VALUES}
            form.append(timed(lambda b=form_body: ok(http.post("/api/v1/forms", json=b, headers=APPLICANT))))  # type: ignore[misc]
        # the same items by hand needs projects of their own: a project takes each item once
        fresh = [project_with_site_selection(http)[0] for _ in range(projects)]
        three = [
            timed(
                lambda c=c: [  # type: ignore[misc]
                    ok(http.post("/api/v1/cases", json={"project_code": c, "item_code": it}, headers=APPLICANT))
                    for it in UTILITIES
                ]
            )
            for c in fresh
        ]
        figure("smart_form_submit_3_items", form, three, "three_plain_submits")

        container.engine.catch_up()
        guidance = [timed(lambda c=c: ok(http.get("/api/v1/guidance", params={"project_code": c}, headers=APPLICANT), 200)) for c in codes]  # type: ignore[misc]  # fmt: skip
        query = [timed(lambda c=c: ok(http.post("/graphql", json={"query": OVERVIEW, "variables": {"code": c}}, headers=APPLICANT), 200)) for c in codes]  # type: ignore[misc]  # fmt: skip
        figure("guidance", guidance, query, "graphql_project_overview")


def main() -> None:
    target = sys.argv[1] if len(sys.argv) > 1 else "postgresql"
    projects = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    if target == "sqlite":
        run(f"sqlite:///{tempfile.mkdtemp()}/applicant.db", projects)
        return
    with fresh_schema() as url:
        run(url, projects)


if __name__ == "__main__":
    main()
