"""process_catalogue — the 流程—阶段—事项—区划 catalogue as published: each flow (region, flow type,
latest version, retired) and every version's complete definition, so `flow(code, version)` reads
back the version a case is pinned to. Flows never published in the log are the seed's
(domain/catalog/seed.py): the queries answer them as version 1.0, marked not recorded.

Consumes: Process.Published, Process.VersionPublished, Process.Retired.
Tables: `catalogue_flows`, `catalogue_versions`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from domain.catalog.process import PROVINCE, Process, flow_code
from domain.catalog.seed import SEED_VERSION, seed_definition
from domain.shared.reference import REFERENCE
from infrastructure.db import Cursor
from projections.base import Envelope, Events, ReadModel, Rows, bigint, to_json

FLOW_COLUMNS = (
    "code", "process_id", "region_code", "flow_type", "name", "latest_version", "retired", "retired_reason",
    "position", "last_position",
)  # fmt: skip


class ProcessCatalogue(ReadModel):
    name = "process_catalogue"
    tables = ("catalogue_flows", "catalogue_versions")
    reads = Events(Process)

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        big = bigint(dialect)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS catalogue_flows ("
            " code TEXT PRIMARY KEY, process_id TEXT NOT NULL, region_code TEXT NOT NULL, flow_type INTEGER NOT NULL,"
            " name TEXT NOT NULL, latest_version TEXT NOT NULL, retired INTEGER NOT NULL, retired_reason TEXT,"
            f" position {big} NOT NULL, last_position {big} NOT NULL)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS catalogue_versions ("
            " code TEXT NOT NULL, version TEXT NOT NULL, name TEXT NOT NULL, definition TEXT NOT NULL,"
            f" published_by TEXT NOT NULL, channel TEXT NOT NULL, position {big} NOT NULL,"
            " PRIMARY KEY (code, version))"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS catalogue_flows_process ON catalogue_flows (process_id)")

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        flows = Rows("catalogue_flows", "code", FLOW_COLUMNS)
        ids = {str(cast(Any, env.event).originator_id) for env in batch if isinstance(env.event, Process.Event)}
        code_of = {r["process_id"]: r["code"] for r in flows.load_by(cur, "process_id", ids)} if ids else {}
        versions: list[tuple[Any, ...]] = []
        for env in batch:
            e: Any = env.event
            match e:
                case Process.Published():
                    code_of[str(e.originator_id)] = e.code
                    flows.insert(
                        {
                            "code": e.code, "process_id": str(e.originator_id), "region_code": e.region_code,
                            "flow_type": e.flow_type, "name": e.definition["name"],
                            "latest_version": e.definition["version"], "retired": 0, "retired_reason": None,
                            "position": env.position, "last_position": env.position,
                        }
                    )  # fmt: skip
                    versions.append(_version(e.code, env))
                case Process.VersionPublished():
                    code = code_of[str(e.originator_id)]
                    flows.update(
                        code,
                        {
                            "latest_version": e.definition["version"],
                            "name": e.definition["name"],
                            "last_position": env.position,
                        },
                    )
                    versions.append(_version(code, env))
                case Process.Retired():
                    flows.update(
                        code_of[str(e.originator_id)],
                        {"retired": 1, "retired_reason": e.reason, "last_position": env.position},
                    )
        flows.flush(cur)
        cur.insert_rows(
            "catalogue_versions",
            ("code", "version", "name", "definition", "published_by", "channel", "position"),
            versions,
        )

    # --- queries ----------------------------------------------------------------------

    def flows(self, region_code: str | None = None, flow_type: int | None = None) -> list[dict[str, Any]]:
        """Every flow (recorded ones, and the seed's provincial flows not yet recorded), by code."""
        rows = {r["code"]: {**r, "recorded": True} for r in self.db.query("SELECT * FROM catalogue_flows")}
        for t, name in REFERENCE.flow_types.items():
            rows.setdefault(flow_code(t), _seed_row(t, name))
        return sorted(
            (
                r for r in rows.values()
                if (region_code is None or r["region_code"] == region_code) and (flow_type is None or r["flow_type"] == flow_type)
            ),
            key=lambda r: r["code"],
        )  # fmt: skip

    def versions(self, code: str) -> list[str]:
        rows = self.db.query("SELECT version FROM catalogue_versions WHERE code = ?", [code])
        found = [r["version"] for r in rows] or ([SEED_VERSION] if _seed_type(code) else [])
        return sorted(found, key=Decimal)

    def flow(self, code: str, version: str | None = None) -> dict[str, Any] | None:
        """A flow's definition at a version (default: the latest), or None."""
        rows = self.db.query("SELECT * FROM catalogue_versions WHERE code = ?", [code])
        if not rows:
            seeded = _seed_type(code)
            if seeded is None or version not in (None, SEED_VERSION):
                return None
            return {"code": code, "version": SEED_VERSION, "definition": seed_definition(seeded), "recorded": False}
        try:
            wanted = None if version is None else Decimal(version)
        except InvalidOperation:
            return None
        found = max(rows, key=lambda r: Decimal(r["version"])) if wanted is None else None
        for r in rows if wanted is not None else []:
            if Decimal(r["version"]) == wanted:
                found = r
        if found is None:
            return None
        row = found
        return {"code": code, "version": row["version"], "definition": json.loads(row["definition"]), "recorded": True}


def _version(code: str, env: Envelope) -> tuple[Any, ...]:
    e: Any = env.event
    d = e.definition
    return (code, d["version"], d["name"], to_json(d), e.actor_id, str(e.channel), env.position)


def _seed_type(code: str) -> int | None:
    return next((t for t in REFERENCE.flow_types if flow_code(t) == code), None)


def _seed_row(flow_type: int, name: str) -> dict[str, Any]:
    return {
        "code": flow_code(flow_type), "process_id": None, "region_code": PROVINCE, "flow_type": flow_type,
        "name": name, "latest_version": SEED_VERSION, "retired": 0, "retired_reason": None, "position": None,
        "last_position": None, "recorded": False,
    }  # fmt: skip
