"""演示数据 and the catalogue: as the first morning opens the demo imports the province's catalogue
file (its flows sheet publishes flows 1 and 3 in version 2.0, each over its seed 1.0), records the
seed of the other flows, publishes Haikou's own flow version part-way, and every case is pinned to
the flow in force when it was received (Haikou's type-1 cases after the publication to Haikou's
1.1); the SPGL export carries the versions and the pins. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

import pytest

from application.bootstrap import Container, bootstrap
from demo import HAIKOU_FLOW, demo_clock, load_demo
from demo.data import HAINAN_CATALOGUE
from domain.catalog.process import flow_code
from domain.catalog.seed import SEED_VERSION
from domain.exchange import spgl
from domain.shared.reference import REFERENCE
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.integration.test_spgl_exchange import NATIONAL

REGION, FLOW_TYPE, VERSION, PUBLISHED_AT = HAIKOU_FLOW
CODE = flow_code(FLOW_TYPE, REGION)
# the province's flows the catalogue file publishes: the first version after the seed's 1.0 (docs/catalogue.md)
with (HAINAN_CATALOGUE / "flows.csv").open(encoding="utf-8") as _f:
    EDITION_FLOWS = {int(r["flow_type"]) for r in csv.DictReader(_f) if r["region_code"] == "460000"}
EDITION_VERSION = "2.0"


def _in_force(flow_type: int) -> str:
    return EDITION_VERSION if flow_type in EDITION_FLOWS else SEED_VERSION


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Container, list[tuple[int, Any]]]]:
    """One 12-project demo on SQLite for the whole module (the PostgreSQL run is the next test's)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('demo')}/demo.db"
    clock = demo_clock()
    c = bootstrap(Settings(database_url=url, jwt_secret=JWT_SECRET), clock)
    load_demo(c, clock, projects=12, progress=False)
    log = [(n.id, c.app.mapper.to_domain_event(n)) for n in c.app.recorder.select_notifications(start=1, limit=10**6)]
    yield c, log
    c.close()


def _name(e: Any) -> str:
    return type(e).__qualname__


def test_the_catalogue_and_the_seed_come_first_and_haikou_publishes_its_version_part_way(
    demo: tuple[Container, list[tuple[int, Any]]],
) -> None:
    _, log = demo
    (_, edition), *_ = log
    assert (_name(edition), edition.actor_role, edition.edition["version"]) == (
        "Catalogue.FirstEditionPublished",
        "admin",
        "2026.12-2",
    )
    assert len(edition.edition["items"]) >= 60
    flows = [(p, e) for p, e in log if _name(e).startswith("Process.")]
    opening = flows[: len(REFERENCE.flow_types) + len(EDITION_FLOWS)]
    assert [p for p, _ in opening] == list(range(2, len(opening) + 2))  # right after the edition, before the seals
    versions = sorted((e.originator_id, e.definition["version"]) for _, e in opening)
    by_id = {e.originator_id: e.code for _, e in opening if _name(e) == "Process.Published"}
    assert sorted((by_id[i], v) for i, v in versions) == sorted(
        [(flow_code(t), SEED_VERSION) for t in REFERENCE.flow_types]
        + [(flow_code(t), EDITION_VERSION) for t in EDITION_FLOWS]
    )
    seeds = [e for _, e in opening if e.definition["version"] == SEED_VERSION]
    assert {(e.channel, e.actor_id) for e in seeds} == {("import", "system:catalogue-seed")}
    [(_, haikou)] = flows[len(opening) :]
    assert (_name(haikou), haikou.code, haikou.definition["version"]) == ("Process.Published", CODE, VERSION)
    assert (haikou.timestamp, haikou.actor_role) == (PUBLISHED_AT, "admin")
    assert [s["limit_days"] for s in haikou.definition["stages"]] == [12, 10, 15, 15, None]


def test_every_case_is_pinned_to_the_flow_in_force_when_it_was_received(
    demo: tuple[Container, list[tuple[int, Any]]],
) -> None:
    container, log = demo
    flow_types = {e.code: e.flow_type for _, e in log if _name(e) == "Project.Generated"}
    seen: set[tuple[str, str]] = set()
    for _, e in log:
        if _name(e) not in ("Case.Received", "Case.BackEntered"):
            continue
        flow_type = flow_types[e.project_code]
        haikou = flow_type == FLOW_TYPE and e.region_code.startswith(REGION[:4]) and e.timestamp > PUBLISHED_AT
        expected = (CODE, VERSION) if haikou else (flow_code(flow_type), _in_force(flow_type))
        item_version = SEED_VERSION if haikou else _in_force(flow_type)  # Haikou's 1.1 keeps the seed's items
        assert (e.flow_code, e.flow_version, e.item_version) == (*expected, item_version), e.project_code
        seen.add(expected)
    assert (CODE, VERSION) in seen  # project 0 is Haikou's, of flow type 1, and starts after May

    rows = container.spgl.export(NATIONAL)
    versions = sorted((r["SPLCBM"], r["SPLCBBH"]) for r in rows[spgl.FLOW])
    assert versions == sorted(
        [*((flow_code(t), SEED_VERSION) for t in REFERENCE.flow_types), (CODE, VERSION)]
        + [(flow_code(t), EDITION_VERSION) for t in EDITION_FLOWS]
    )
    [stage] = [r for r in rows[spgl.STAGE] if r["SPLCBM"] == CODE and r["SPJDXH"] == "1"]
    assert stage["SPJDSX"] == "12"
    pinned = {(r["SPLCBM"], r["SPLCBBH"]) for r in rows[spgl.CASE]}
    assert pinned == seen


def test_the_demo_with_the_catalogue_loads_on_postgresql_too(store_url: str) -> None:
    clock = demo_clock()
    c = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET), clock)
    try:
        load_demo(c, clock, projects=3, progress=False)
        c.engine.catch_up()
        assert c.catalogue.pins.current("460106", FLOW_TYPE).code == CODE
        flows = c.db.query("SELECT code, version, retired FROM spgl_flows ORDER BY code")
        assert {(f["code"], f["version"]) for f in flows} >= {(CODE, VERSION), (flow_code(1), _in_force(1))}
    finally:
        c.close()
