"""数据月报 — the demo's monthly report: files with tables and charts, and figures equal to the
GraphQL statistics of the same month, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from application.bootstrap import Container, bootstrap
from application.demo import demo_clock, load_demo
from application.policy import Actor
from application.reports import monthly_report
from domain.shared.events import SHANGHAI
from infrastructure.settings import Settings
from interfaces.graphql.context import Context
from interfaces.graphql.schema import schema
from interfaces.report import write_report
from tests.conftest import JWT_SECRET, _conninfo

MONTH = "2026-10"
SUPERVISOR = Actor("sup-1", "supervisor", "hn-sup", "460000")
FIELDS = """key label received accepted approved refused refusedAtAcceptance withdrawn revoked open decided
  overdue onTimeRate meanWorkingDays p90WorkingDays"""


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    """The demo (40 projects) loaded once per store for this module's read-only tests."""
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path_factory.mktemp('report')}/gongjian.db", None
    else:
        base = request.getfixturevalue("pg_base_url")
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(_conninfo(base), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        url, drop = f"{base}?schema={name}", (base, name)
    clock = demo_clock()
    container = bootstrap(Settings(database_url=url, jwt_secret=JWT_SECRET), clock)
    load_demo(container, clock, projects=40, progress=False)
    container.engine.catch_up()
    yield container
    container.close()
    if drop:
        with psycopg.connect(_conninfo(drop[0]), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{drop[1]}" CASCADE')


def run(container: Container, query: str, **variables: Any) -> Any:
    result = asyncio.run(schema.execute(query, variable_values=variables, context_value=Context(container, SUPERVISOR)))
    assert result.errors is None, result.errors
    return result.data


def statistics(container: Container, by: str, region: str | None = None) -> list[dict[str, Any]]:
    query = f"""query($by: StatisticsGroupBy!, $f: StatisticsFilter) {{
      statistics(groupBy: $by, filter: $f) {{ {FIELDS} }} }}"""
    f = {"monthFrom": MONTH, "monthTo": MONTH, "regionCode": region}
    return list(run(container, query, by=by, f=f)["statistics"])


def test_the_monthly_report_equals_the_statistics_of_the_same_month(demo: Container) -> None:
    query = f"""query($m: String!, $r: String) {{ monthlyReport(month: $m, regionCode: $r) {{
      month regionCode regionName periodStart periodEnd summary {{ {FIELDS} }} byRegion {{ {FIELDS} }}
      byStage {{ {FIELDS} }} byItem {{ {FIELDS} }} byDay {{ day received }} }} }}"""
    for region in (None, "460100"):
        report = run(demo, query, m=MONTH, r=region)["monthlyReport"]
        assert report["periodStart"] == "2026-10-01" and report["periodEnd"] == "2026-10-31"
        (month,) = statistics(demo, "MONTH", region)
        assert {**report["summary"], "key": month["key"], "label": month["label"]} == month
        assert report["summary"]["received"] > 0
        assert report["byRegion"] == statistics(demo, "REGION", region)
        assert report["byStage"] == statistics(demo, "STAGE", region)
        assert report["byItem"] == statistics(demo, "ITEM", region)
        assert sum(d["received"] for d in report["byDay"]) == month["received"]
        assert len(report["byDay"]) == 31
    province = run(demo, query, m=MONTH, r=None)["monthlyReport"]
    assert province["regionName"] == "海南省" and len(province["byRegion"]) > 1
    assert all(
        g["key"] in ("460100", "460200", "460300", "460400") or g["key"].startswith("469") for g in province["byRegion"]
    )


def test_the_monthly_report_files_hold_the_tables_and_the_charts(demo: Container, tmp_path: Path) -> None:
    today = demo.clock.now().astimezone(SHANGHAI).date()
    report = monthly_report(demo.db, MONTH, "460100", today)
    html_path, pdf_path = write_report(report, tmp_path)
    assert html_path.name == "monthly-2026-10-460100.html" and pdf_path.name == "monthly-2026-10-460100.pdf"
    html = html_path.read_text(encoding="utf-8")
    assert html.count('<table class="report">') == 4  # summary, by district, by stage, by item
    assert html.count("<svg") == 3 and html.count('<figure class="chart"') == 3
    assert report.by_region and report.by_item
    districts = [g.label for g in report.by_region]
    for label in ("海口市", "按区县", "按审批阶段", "按审批事项", "按时办结率", *districts):
        assert label in html
    assert f'<td>海口市</td><td class="n">{report.summary.received}</td>' in html
    pdf = pdf_path.read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 1


def test_the_report_command_writes_html_and_pdf(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/demo.db"
    clock = demo_clock()
    container = bootstrap(Settings(database_url=url, jwt_secret=JWT_SECRET), clock)
    load_demo(container, clock, projects=20, progress=False)
    container.close()
    # tests write keys and packages to scratch; a store other than the embedded default needs its secrets
    keep = ("GONGJIAN_KEYSTORE_PATH", "GONGJIAN_ARCHIVE_PATH", "GONGJIAN_KEYSTORE_PASSPHRASE")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGJIAN_") or k in keep}
    env.update(GONGJIAN_DATABASE_URL=url, GONGJIAN_JWT_SECRET=JWT_SECRET)
    out = tmp_path / "reports"
    cli = [sys.executable, "-m", "interfaces.cli", "report", "monthly"]
    done = subprocess.run([*cli, MONTH, "--out", str(out)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["monthly-2026-10.html", "monthly-2026-10.pdf"]
    bad = subprocess.run([*cli, "2026-13", "--out", str(out)], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "YYYY-MM" in bad.stdout
