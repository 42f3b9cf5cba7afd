"""utility_connections — 水电气报装 per project and utility: when the project's data was pushed to the
provider (the outbox message `utility.project_notice`, on the planning permit's approval) and the
progress the provider reported back as external records (accepted / surveyed / connected, dates).

Consumes: Delivery.Requested (topic utility.project_notice), Delivery.Delivered,
ExternalRecord.Reported / Amended of kind utility_progress.
Tables: `utility_connections`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from domain.exchange.delivery import Delivery
from domain.exchange.external_record import UTILITY_STAGES, ExternalRecord
from infrastructure.db import Cursor
from projections.base import Envelope, Events, ReadModel, bigint

TOPIC = "utility.project_notice"
COLUMNS = ("notified_at", "notice_delivered_at", *(f"{s}_on" for s in UTILITY_STAGES))


class UtilityConnections(ReadModel):
    name = "utility_connections"
    tables = ("utility_connections",)
    reads = Events(Delivery.Requested, Delivery.Delivered, ExternalRecord.Reported, ExternalRecord.Amended)

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        big = bigint(dialect)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS utility_connections (project_code TEXT NOT NULL, utility TEXT NOT NULL,"
            " notice_id TEXT, notified_at TEXT, notice_delivered_at TEXT, accepted_on TEXT, surveyed_on TEXT,"
            " connected_on TEXT, source_ids TEXT NOT NULL, last_position "
            f"{big} NOT NULL, PRIMARY KEY (project_code, utility))"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS utility_connections_notice ON utility_connections (notice_id)")

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        for env in batch:
            e: Any = env.event
            if isinstance(e, Delivery.Requested) and e.topic == TOPIC:
                project_code = json.loads(e.body).get("project_code") or e.subject
                self._upsert(cur, env, project_code, e.destination, notice_id=str(e.originator_id),
                             notified_at=e.timestamp.isoformat())  # fmt: skip
            elif isinstance(e, Delivery.Delivered):
                cur.execute(
                    "UPDATE utility_connections SET notice_delivered_at = ?, last_position = ? WHERE notice_id = ?",
                    (e.timestamp.isoformat(), env.position, str(e.originator_id)),
                )
            elif (
                isinstance(env.event, ExternalRecord.Reported | ExternalRecord.Amended) and e.kind == "utility_progress"
            ):
                stage = (e.payload or {}).get("stage")
                if stage in UTILITY_STAGES and e.project_code and e.issued_on:
                    self._upsert(cur, env, e.project_code, e.department, source_id=e.source_id,
                                 **{f"{stage}_on": e.issued_on.isoformat()})  # fmt: skip

    def _upsert(self, cur: Cursor, env: Envelope, project_code: str, utility: str, **values: Any) -> None:
        source_id = values.pop("source_id", None)
        cur.execute(
            "SELECT source_ids FROM utility_connections WHERE project_code = ? AND utility = ?", (project_code, utility)
        )
        row = cur.fetchone()
        if row is None:
            cur.execute(
                "INSERT INTO utility_connections (project_code, utility, source_ids, last_position) VALUES (?, ?, ?, ?)",
                (project_code, utility, "[]", env.position),
            )
            sources: list[str] = []
        else:
            sources = json.loads(row["source_ids"])
        if source_id is not None and source_id not in sources:
            sources.append(source_id)
        values.update(source_ids=json.dumps(sources), last_position=env.position)
        sets = ", ".join(f"{k} = ?" for k in values)
        cur.execute(
            f"UPDATE utility_connections SET {sets} WHERE project_code = ? AND utility = ?",  # noqa: S608 — our columns
            (*values.values(), project_code, utility),
        )

    def of_project(self, project_code: str) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT * FROM utility_connections WHERE project_code = ? ORDER BY utility", [project_code]
        )
        return [{**r, "source_ids": json.loads(r["source_ids"])} for r in rows]
