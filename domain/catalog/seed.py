"""The seed of the process catalogue: version 1.0 of the province's flow of each flow type, built
from the packaged seed edition of the item catalogue (data/seed/: items, limits, stage limits,
unified item codes, situations, materials, form fields).

Until a flow is published in the log, this is the definition cases are received under: the log
and the seed agree, because `gongjian catalogue seed` records exactly this definition. The seed
never follows a published edition of the catalogue: cases pinned to it read it back unchanged.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from domain.catalog.catalog import CATALOG, SEED_CATALOG, Catalog, CatalogInForce
from domain.catalog.definition import PARALLEL_STAGE, check_definition
from domain.shared.reference import REFERENCE

SEED_VERSION = "1.0"
# every licence has these topic fields (domain/licences/licence.py `_COMMON` and `DERIVED_TOPIC`)
IMPLIED_TOPICS = frozenset(
    {"holder_name", "holder_uscc", "project_code", "item_code", "region_code", "project_name"}
    | {"document_number", "location"}
)


def licence_topic_fields(catalog: Catalog | CatalogInForce = CATALOG) -> dict[str, set[str]]:
    """Each licence type (of the catalogue in force) with the topic fields a material may be matched on."""
    return {
        name: set(IMPLIED_TOPICS) | {f[0] for f in fields} for name, (_label, fields) in catalog.licence_types.items()
    }


def flow_definition(
    catalog: Catalog | CatalogInForce, flow_type: int, item_codes: list[str], version: str, region_code: str
) -> dict[str, Any]:
    """A flow definition of these items of the catalogue (unchecked): the catalogue's stage limits,
    every item at `version`, departments as they are for the flow's region."""
    stages = [
        {"stage": s, "name": name, "limit_days": catalog.stage_limits.get(s), "milestone_rule": "all"}
        for s, name in sorted(REFERENCE.stages.items())
    ]
    assert stages[-1]["stage"] == PARALLEL_STAGE
    return {
        "name": REFERENCE.flow_types[flow_type],
        "version": version,
        "stages": stages,
        "items": [catalog.definition_item(code, region_code, version) for code in item_codes],
    }


@cache
def _seed(flow_type: int) -> str:
    raw = flow_definition(SEED_CATALOG, flow_type, list(SEED_CATALOG.items), SEED_VERSION, "460000")
    return json.dumps(check_definition(raw, licence_topic_fields(SEED_CATALOG)), ensure_ascii=False)


def seed_definition(flow_type: int) -> dict[str, Any]:
    """Version 1.0 of the province's flow of this type (a fresh copy: callers may keep it)."""
    definition: dict[str, Any] = json.loads(_seed(flow_type))
    return definition
