"""The benchmark dataset (bench/dataset.py): deterministic per seed, with seals and electronic
licences whose hashes and signatures verify with the project's own verification code, and archive
packages (the separate archive step) that verify offline against the ledger's key."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eventsourcing.utils import get_topic

from application.archives import verify_package
from application.bootstrap import Container, bootstrap
from application.ledger import verify_store
from bench.dataset import Generator, archive
from demo import LICENSING, UNITS
from domain.approvals import Case
from domain.approvals.status import CLOSED_STATUSES, DECIDED_STATUSES
from domain.archives import ArchivePackage, archive_id_for_case
from domain.catalog import CATALOG
from domain.ledger import digest
from domain.licences import License
from domain.licences.licence import content_hash
from domain.signatures import Seal, check_signatures
from domain.signatures.crypto import sign, verify
from infrastructure.keystore import MemoryKeyStore
from infrastructure.ledger_key import generate_key
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET

EVENTS = 700
CASE = get_topic(Case).rsplit(":", 1)[0] + ":Case."


def open_container(url: str) -> Container:
    return bootstrap(Settings(database_url=url, jwt_secret=JWT_SECRET))


@pytest.fixture
def pg(pg_url: str) -> Iterator[Container]:
    c = open_container(pg_url)
    yield c
    c.close()


def stored(c: Container) -> list[tuple[UUID, int, str, bytes]]:
    """Every stored event: (aggregate id, version, topic, state bytes), in log order."""
    rows, start = [], 0
    while page := c.app.recorder.select_notifications(start, 1000, inclusive_of_start=False):
        rows += [(UUID(str(n.originator_id)), n.originator_version, n.topic, n.state) for n in page]
        start = page[-1].id
    return rows


def test_the_same_seed_gives_the_same_aggregates_and_events_per_topic(pg: Container, sqlite_url: str) -> None:
    first = Generator(pg.app, seed=7)
    first.run(EVENTS)
    other = open_container(sqlite_url)
    try:
        second = Generator(other.app, seed=7)
        second.run(EVENTS)
        a, b = stored(pg), stored(other)
    finally:
        other.close()
    assert (first.saved, first.projects, first.licences) == (second.saved, second.projects, second.licences)
    assert first.saved == len(a) >= EVENTS
    assert Counter(t for _, _, t, _ in a) == Counter(t for _, _, t, _ in b)
    assert sorted((i, v) for i, v, _, _ in a) == sorted((i, v) for i, v, _, _ in b)
    # the events carrying no key material or signature are equal byte for byte
    keyed = {get_topic(Seal.Registered), get_topic(License.Issued)}
    assert sorted(e for e in a if e[2] not in keyed) == sorted(e for e in b if e[2] not in keyed)


def test_every_licensing_approval_has_its_licence_signed_with_its_departments_seal(pg: Container) -> None:
    keys = MemoryKeyStore()
    generator = Generator(pg.app, keys=keys)
    generator.run(EVENTS)
    events = stored(pg)
    by_topic: dict[str, list[UUID]] = {}
    for originator, _version, topic, _state in events:
        by_topic.setdefault(topic, []).append(originator)

    # Step: one seal per unit and licensing department, its private key in the key store.
    registered: list[Seal] = [pg.app.repository.get(i) for i in by_topic[get_topic(Seal.Registered)]]
    seals = {s.id: s for s in registered}
    assert len(seals) == len(UNITS) * len(LICENSING) == len(generator.seals)
    for seal in seals.values():
        assert verify(
            seal.algorithm, seal.public_key_bytes, b"probe", sign(seal.algorithm, keys.get(str(seal.id)), b"probe")
        )

    # Step: every approval of an item that issues a licence has exactly one licence, of its case.
    approved: list[Case] = [pg.app.repository.get(i) for i in by_topic[get_topic(Case.Approved)]]
    licensing = {str(c.id) for c in approved if CATALOG.item(c.item_code).licence_type}
    licences: list[License] = [pg.app.repository.get(i) for i in by_topic[get_topic(License.Issued)]]
    assert licensing and sorted(str(lic.case_id) for lic in licences) == sorted(licensing)
    assert generator.licences == len(licences)
    assert {lic.licence_type for lic in licences} >= {"site_selection_opinion", "engineering_planning_permit"}

    # Step: each licence's hash is its content's, and its signature verifies (验真) with the
    # holder department's seal.
    for lic in licences:
        assert content_hash(lic.content()) == lic.document_hash
        seal = seals[UUID(lic.seal_id)]
        assert seal.holder_org == f"{lic.region_code}-{lic.department}"
        [check] = check_signatures(lic.document_hash, lic.hash_algorithm, [lic.signature_entry()], {lic.seal_id: seal})
        assert check.valid, check.reason


def test_the_archive_step_gives_every_covered_concluded_case_a_package_that_verifies(
    pg_url: str, tmp_path: Path
) -> None:
    key = tmp_path / "ledger-ed25519.pem"
    public_key = generate_key(key).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    settings = Settings(
        database_url=pg_url, jwt_secret=JWT_SECRET, ledger_key_file=str(key), archive_path=str(tmp_path / "archives")
    )
    c = bootstrap(settings)
    try:
        Generator(c.app).run(400)
        # Step: the ledger takes the log in, then the automation archives as `gongjian serve` would;
        # it finds every licence already issued (same numbers, same cases) and skips nothing.
        done = archive(c)
        assert done.archives and done.licences == [] and done.skipped == []
        cases: list[Case] = [
            c.app.repository.get(i) for i, v, topic, _s in stored(c) if v == 1 and topic.startswith(CASE)
        ]
        concluded = {str(case.id) for case in cases if case.status.value in DECIDED_STATUSES | CLOSED_STATUSES}
        # the automation notes a case by a concluding event; a back-entry (先批后录) carries no status
        offline = {str(i) for i, _v, topic, _s in stored(c) if topic == get_topic(Case.BackEntered)}
        assert offline and set(done.archives) <= concluded - offline
        assert len(done.archives) + done.waiting == len(concluded - offline)  # waiting: after the last checkpoint
        # Step: the ledger verifies (`gongjian audit verify`), and so does each package offline
        # (`gongjian archive verify`), against the ledger's key, its bytes hashing to the recorded hash.
        assert verify_store(c.app, c.engine.models["ledger"]).ok  # type: ignore[arg-type]
        for case_id in done.archives:
            package: ArchivePackage = c.app.repository.get(archive_id_for_case(UUID(case_id)))
            data = c.archives.store.get(package.location)
            report = verify_package(data, trusted_public_key=public_key)
            assert report.ok and report.case_id == case_id, report.problems
            assert digest(package.hash_algorithm, data).hex() == package.package_hash
    finally:
        c.close()
