"""`gongjian import projects FILE --official NAME` as an operator runs it on a production store:
the documented example migrates, a re-run writes nothing, a bad file writes nothing and names
its rows, and a migration without the official is refused."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

from application.bootstrap import bootstrap
from domain.projects import Project, project_id
from infrastructure.settings import Settings
from tests.e2e.test_cli import CLI, PRODUCTION, _env
from tests.integration.test_migration import EXAMPLE, register_seals


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=300)


def test_the_example_migrates_once_and_a_bad_file_writes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/city.db"
    keys = str(tmp_path / "keys")
    settings = Settings(
        database_url=url,
        jwt_secret=PRODUCTION["GONGJIAN_JWT_SECRET"],
        keystore_passphrase=PRODUCTION["GONGJIAN_KEYSTORE_PASSPHRASE"],
        keystore_path=keys,
    )
    container = bootstrap(settings)
    register_seals(container, "460100-zrzy", "460100-zjj")
    container.close()
    env = _env(url, **PRODUCTION, GONGJIAN_KEYSTORE_PATH=keys)

    # Step. Without the migrating official: refused before anything is read from the store.
    refused = _cli(env, "import", "projects", str(EXAMPLE))
    assert refused.returncode == 2 and "--official" in refused.stdout, refused.stdout + refused.stderr

    # Step. The documented example, then again.
    first = _cli(env, "import", "projects", str(EXAMPLE), "--official", "王迁移")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "2 projects generated, 7 approvals and 6 licences migrated, 0 rows already migrated" in first.stdout
    again = _cli(env, "import", "projects", str(EXAMPLE), "--official", "王迁移")
    assert again.returncode == 0 and "7 rows already migrated (nothing written)" in again.stdout, again.stdout

    # Step. A file with one bad row among good ones: exit 1, the row named, nothing written.
    with EXAMPLE.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        row["code"] = row["code"].replace("-0001", "-0002")
        row["licence_number"] += "B"
    rows[3]["issued_on"] = "05/09/2023"
    bad = tmp_path / "bad.csv"
    with bad.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    failed = _cli(env, "import", "projects", str(bad), "--official", "王迁移")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "1 bad rows: nothing written" in failed.stdout and "row 5: issued_on date" in failed.stdout
    container = bootstrap(settings)
    try:
        assert container.projects.find(Project, project_id(rows[0]["code"])) is None
    finally:
        container.close()
