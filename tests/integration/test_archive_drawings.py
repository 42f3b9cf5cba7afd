"""An archived case's approved drawings verified offline (application/archive_drawings.py): the
package checks each set's sheet hashes against the signed set hash, and with the drawing files
beside it names a sheet whose file changed after approval — on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from application.archive_drawings import read_drawing_files
from application.archives import canonical, verify_package
from application.bootstrap import Container, bootstrap
from application.commands import Invocation
from application.commands.archives import GenerateArchive
from application.commands.cases import AcceptCase, ApproveCase
from domain.archives import ArchivePackage
from domain.ledger import digest
from infrastructure.ledger_key import generate_key
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.integration.test_industry import APPROVER, CLERK
from tests.integration.test_industry_read_model import seed


@pytest.fixture
def container(store_url: str, tmp_path: Path) -> Iterator[Container]:
    key = tmp_path / "keys" / "ledger.pem"  # not beside the SQLite file (refused outside development)
    generate_key(key)
    c = bootstrap(
        Settings(
            database_url=store_url, jwt_secret=JWT_SECRET, wait_timeout_s=2,
            keystore_path=str(tmp_path / "seal-keys"), ledger_key_file=str(key), ledger_checkpoint_every=1,
            archive_path=str(tmp_path / "archives"),
        )
    )  # fmt: skip
    yield c
    c.close()


def test_a_drawing_changed_after_approval_is_named_by_the_package_verification(
    container: Container, tmp_path: Path
) -> None:
    c = container
    _, set_id = seed(c)
    case_id = UUID(c.drawings.get(APPROVER, set_id)["case_id"])
    c.cases.act(Invocation(CLERK, "acc"), AcceptCase(case_id))
    c.cases.act(Invocation(APPROVER, "ok"), ApproveCase(case_id, document_number="琼规选-2026-001"))
    c.engine.catch_up(["ledger"])
    archived = c.archives.generate(Invocation(APPROVER, "arc"), GenerateArchive(case_id))
    data = c.archives.store.get(c.archives.load(ArchivePackage, archived.id, "archive").location)
    # the files as approved (seed: JS-01 "plan v1", JS-02 "elevation v2"), in a folder per discipline
    folder = tmp_path / "drawings" / "architecture"
    folder.mkdir(parents=True)
    (folder / "JS-01.pdf").write_bytes(b"plan v1")
    (folder / "JS-02.pdf").write_bytes(b"elevation v2")
    report = verify_package(data, drawing_files=read_drawing_files(tmp_path / "drawings"))
    assert report.ok, report.problems
    assert report.drawings == [
        {"discipline": "architecture", "version": 2, "set_hash_ok": True, "files_checked": True,
         "changed": [], "missing": []}
    ]  # fmt: skip
    # Step. One file edited after approval, another gone: both named, the package itself still intact.
    (folder / "JS-02.pdf").write_bytes(b"elevation v2, quietly edited")
    (folder / "JS-01.pdf").unlink()
    report = verify_package(data, drawing_files=read_drawing_files(tmp_path / "drawings"))
    [result] = report.drawings
    assert result["changed"] == [
        {
            "sheet_number": "JS-02",
            "approved_sha256": hashlib.sha256(b"elevation v2").hexdigest(),
            "found_sha256": hashlib.sha256(b"elevation v2, quietly edited").hexdigest(),
        }
    ]
    assert result["missing"] == ["JS-01"] and len(report.problems) == 2
    assert "JS-02" in report.problems[1] and "changed after approval" in report.problems[1]
    # Step. A sheet hash edited inside the manifest, manifest hash recomputed: the signed set hash disagrees.
    doc = json.loads(data)
    doc["manifest"]["drawings"][0]["sheets"][1]["sha256"] = hashlib.sha256(b"elevation v2, quietly edited").hexdigest()
    doc["manifest_hash"] = digest(doc["manifest"]["hash_algorithm"], canonical(doc["manifest"])).hex()
    forged = verify_package(canonical(doc))
    assert forged.problems == [
        f"drawing set architecture (version 2): its sheet hashes do not give the signed set hash"
        f" {doc['manifest']['drawings'][0]['set_hash']} (changed)"
    ]
    assert forged.drawings[0]["set_hash_ok"] is False and forged.drawings[0]["files_checked"] is False
