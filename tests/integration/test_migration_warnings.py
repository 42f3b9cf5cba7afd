"""Migrated 在建工程 are not off-system work: after the documented migration file
(docs/examples/migration.csv) no open offline-approval warning (先批后录, 体外循环, …) names its
projects, on SQLite and PostgreSQL. Read through GraphQL `warnings`, as a supervisor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from application.bootstrap import Container, bootstrap
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.integration.test_migration import BUILDING, CENTRE, EXAMPLE, gql, migrate, register_seals


@pytest.fixture
def sealed(store_url: str, tmp_path: Path) -> Iterator[Container]:
    settings = Settings(database_url=store_url, jwt_secret=JWT_SECRET, keystore_path=str(tmp_path / "keys"))
    c = bootstrap(settings)
    register_seals(c, "460100-zrzy", "460100-zjj")
    yield c
    c.engine.stop()
    c.close()


WARNINGS = """query($code: String!) { warnings(filter: {projectCode: $code}, first: 50) {
  edges { node { rule reason status subject caseId evidence explanation } } } }"""


def test_no_open_warning_names_a_migrated_project(sealed: Container) -> None:
    report = migrate(sealed, EXAMPLE)
    assert report.errors == [] and report.written
    fired = [
        (code, n["rule"], n["reason"], n["caseId"])
        for code in (BUILDING, CENTRE)
        for n in (e["node"] for e in gql(sealed, WARNINGS, code=code)["warnings"]["edges"])
        if n["status"] == "open"
    ]
    assert fired == []
