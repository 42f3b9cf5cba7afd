"""licence_library — the 电子证照库: every licence with its topic fields (主题字段), for precise
matching (证照精准匹配) — codes exactly, names normalised (NFKC, no whitespace, case-folded), numbers
as plain decimals.

Whether a licence has expired depends on today: the handler stores `valid_until`, the status
(valid / revoked / expired) is computed at query time.
Consumes: License.Issued, License.Revoked. Tables: `licences`, `licence_topics`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from domain.licences import LicenceStatus, normalise, topic_kind
from infrastructure.db import Cursor
from projections.base import Envelope, ReadModel, bigint, to_json
from projections.case_timeline import regions_within


class LicenceLibrary(ReadModel):
    name = "licence_library"
    tables = ("licences", "licence_topics")

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        big = bigint(dialect)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS licences ("
            " number TEXT PRIMARY KEY, licence_id TEXT NOT NULL, licence_type TEXT NOT NULL,"
            " holder_name TEXT NOT NULL, holder_uscc TEXT NOT NULL, project_code TEXT NOT NULL,"
            " item_code TEXT NOT NULL, case_id TEXT, department TEXT NOT NULL, region_code TEXT NOT NULL,"
            " valid_from TEXT NOT NULL, valid_until TEXT, topic TEXT NOT NULL,"
            " document_hash TEXT NOT NULL, hash_algorithm TEXT NOT NULL, seal_id TEXT NOT NULL,"
            " signer TEXT NOT NULL, algorithm TEXT NOT NULL, signed_at TEXT NOT NULL, signature TEXT NOT NULL,"
            " issued_by_org TEXT NOT NULL, revoked INTEGER NOT NULL, revocation_reason TEXT, revoked_at TEXT,"
            f" position {big} NOT NULL, last_position {big} NOT NULL)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS licence_topics ("
            " number TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, norm TEXT NOT NULL,"
            " PRIMARY KEY (number, field))"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS licence_topics_match ON licence_topics (field, norm)")
        cur.execute("CREATE INDEX IF NOT EXISTS licences_position ON licences (position)")

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        for env in batch:
            e: Any = env.event
            match env.event_type:
                case "License.Issued":
                    self._issued(cur, env)
                case "License.Revoked":
                    cur.execute(
                        "UPDATE licences SET revoked = 1, revocation_reason = ?, revoked_at = ?, last_position = ?"
                        " WHERE licence_id = ?",
                        (e.reason, e.timestamp.isoformat(), env.position, str(e.originator_id)),
                    )

    def _issued(self, cur: Cursor, env: Envelope) -> None:
        e: Any = env.event
        cur.execute(
            "INSERT INTO licences (number, licence_id, licence_type, holder_name, holder_uscc, project_code,"
            " item_code, case_id, department, region_code, valid_from, valid_until, topic, document_hash,"
            " hash_algorithm, seal_id, signer, algorithm, signed_at, signature, issued_by_org, revoked,"
            " position, last_position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
            (
                e.number,
                str(e.originator_id),
                e.licence_type,
                e.holder_name,
                e.holder_uscc,
                e.project_code,
                e.item_code,
                e.case_id,
                e.department,
                e.region_code,
                e.valid_from.isoformat(),
                e.valid_until.isoformat() if e.valid_until else None,
                to_json(e.topic),
                e.document_hash,
                e.hash_algorithm,
                e.seal_id,
                e.signer,
                e.algorithm,
                e.signed_at.isoformat(),
                e.signature,
                e.actor_org,
                env.position,
                env.position,
            ),
        )
        for field, value in sorted(e.topic.items()):
            cur.execute(
                "INSERT INTO licence_topics (number, field, value, norm) VALUES (?, ?, ?, ?)",
                (e.number, field, value, normalise(topic_kind(e.licence_type, field), value)),
            )

    # --- queries ----------------------------------------------------------------------

    def get(self, number: str, *, today: date) -> dict[str, Any] | None:
        rows = self.db.query("SELECT * FROM licences WHERE number = ?", [number])
        return _with_status(rows[0], today) if rows else None

    def search(
        self,
        *,
        today: date,
        holder_uscc: str | None = None,
        project_code: str | None = None,
        item_code: str | None = None,
        licence_type: str | None = None,
        status: str | None = None,
        topic: Sequence[tuple[str, str]] = (),
        region_scope: str | None = None,
        after: int = 0,
        first: int = 50,
    ) -> tuple[list[dict[str, Any]], bool, int]:
        """Licences in issue order after position `after`; (rows with status, has_next, total)."""
        conditions: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("holder_uscc", holder_uscc),
            ("project_code", project_code),
            ("item_code", item_code),
            ("licence_type", licence_type),
        ):
            if value:
                conditions.append(f"{column} = ?")
                params.append(value.strip().upper() if column != "licence_type" else value)
        if status is not None:
            condition, args = _status_condition(LicenceStatus(status), today)
            conditions.append(condition)
            params.extend(args)
        for field, value in topic:
            conditions.append(
                "EXISTS (SELECT 1 FROM licence_topics t WHERE t.number = licences.number AND t.field = ? AND t.norm = ?)"
            )
            params.extend([field, normalise(topic_kind(licence_type, field), value)])
        if region_scope and region_scope != "460000":
            codes = regions_within(region_scope)
            conditions.append(f"region_code IN ({', '.join('?' for _ in codes)})")
            params.extend(codes)
        clause = " AND ".join(["position > ?", *conditions])
        rows = self.db.query(
            f"SELECT * FROM licences WHERE {clause} ORDER BY position LIMIT ?",  # noqa: S608 — fixed columns
            [after, *params, first + 1],
        )
        count = self.db.query(
            f"SELECT COUNT(*) AS n FROM licences WHERE {' AND '.join(conditions) or '1 = 1'}",  # noqa: S608
            params,
        )
        return [_with_status(r, today) for r in rows[:first]], len(rows) > first, int(count[0]["n"])


def _status_condition(status: LicenceStatus, today: date) -> tuple[str, list[Any]]:
    if status == LicenceStatus.REVOKED:
        return "revoked = 1", []
    if status == LicenceStatus.EXPIRED:
        return "revoked = 0 AND valid_until IS NOT NULL AND valid_until < ?", [today.isoformat()]
    return "revoked = 0 AND (valid_until IS NULL OR valid_until >= ?)", [today.isoformat()]


def status_of(row: dict[str, Any], today: date) -> LicenceStatus:
    if row["revoked"]:
        return LicenceStatus.REVOKED
    if row["valid_until"] is not None and row["valid_until"] < today.isoformat():
        return LicenceStatus.EXPIRED
    return LicenceStatus.VALID


def _with_status(row: dict[str, Any], today: date) -> dict[str, Any]:
    return {**row, "topic": json.loads(row["topic"]), "status": status_of(row, today).value}
