"""licence_library — the 电子证照库: every licence with its topic fields (主题字段), for precise
matching (证照精准匹配) — codes exactly, names normalised (NFKC, no whitespace, case-folded), numbers
as plain decimals.

Whether a licence has expired depends on today: the handler stores `valid_until`, the status
(valid / revoked / expired) is computed at query time.
A migrated licence (存量证照, 在建工程迁移) keeps its provenance: source file and SHA-256, row,
migrating official, original issuing authority (`provenance`, JSON; NULL when issued here).
Consumes: License.Issued, License.Revoked. Tables: `licences`, `licence_topics`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any, cast

from domain.licences import LicenceStatus, License, normalise, topic_kind
from domain.shared.reference import regions_within
from infrastructure.db import Cursor
from projections.base import Envelope, Events, ReadModel, Rows, bigint, to_json

LICENCE_COLUMNS = (
    "number", "licence_id", "licence_type", "holder_name", "holder_uscc", "project_code", "item_code", "case_id",
    "department", "region_code", "valid_from", "valid_until", "topic", "document_hash", "hash_algorithm", "seal_id",
    "signer", "algorithm", "signed_at", "signature", "issued_by_org", "revoked", "revocation_reason", "revoked_at",
    "position", "last_position", "provenance",
)  # fmt: skip


class LicenceLibrary(ReadModel):
    name = "licence_library"
    tables = ("licences", "licence_topics")
    shape = 2  # 2: provenance of migrated licences
    reads = Events(License.Issued, License.Revoked)

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
            f" position {big} NOT NULL, last_position {big} NOT NULL, provenance TEXT)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS licence_topics ("
            " number TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, norm TEXT NOT NULL,"
            " PRIMARY KEY (number, field))"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS licence_topics_match ON licence_topics (field, norm)")
        cur.execute("CREATE INDEX IF NOT EXISTS licences_position ON licences (position)")

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        """Per batch: revoked licences read in one query; new rows and changes written at once."""
        licences = Rows("licences", "number", LICENCE_COLUMNS)
        number_of = {
            r["licence_id"]: r["number"]
            for r in licences.load_by(
                cur,
                "licence_id",
                {str(cast(Any, env.event).originator_id) for env in batch if isinstance(env.event, License.Revoked)},
            )
        }
        topics: list[tuple[Any, ...]] = []
        for env in batch:
            e: Any = env.event
            match e:
                case License.Issued():
                    number_of[str(e.originator_id)] = e.number
                    licences.insert(self._issued(env))
                    topics += [
                        (e.number, field, value, normalise(topic_kind(e.licence_type, field), value))
                        for field, value in sorted(e.topic.items())
                    ]
                case License.Revoked():
                    number = number_of.get(str(e.originator_id))
                    if number is not None:
                        licences.update(
                            number,
                            {
                                "revoked": 1,
                                "revocation_reason": e.reason,
                                "revoked_at": e.timestamp.isoformat(),
                                "last_position": env.position,
                            },
                        )
        licences.flush(cur)
        cur.insert_rows("licence_topics", ("number", "field", "value", "norm"), topics)

    def _issued(self, env: Envelope) -> dict[str, Any]:
        e: Any = env.event
        return {
            "number": e.number,
            "licence_id": str(e.originator_id),
            "licence_type": e.licence_type,
            "holder_name": e.holder_name,
            "holder_uscc": e.holder_uscc,
            "project_code": e.project_code,
            "item_code": e.item_code,
            "case_id": e.case_id,
            "department": e.department,
            "region_code": e.region_code,
            "valid_from": e.valid_from.isoformat(),
            "valid_until": e.valid_until.isoformat() if e.valid_until else None,
            "topic": to_json(e.topic),
            "document_hash": e.document_hash,
            "hash_algorithm": e.hash_algorithm,
            "seal_id": e.seal_id,
            "signer": e.signer,
            "algorithm": e.algorithm,
            "signed_at": e.signed_at.isoformat(),
            "signature": e.signature,
            "issued_by_org": e.actor_org,
            "revoked": 0,
            "revocation_reason": None,
            "revoked_at": None,
            "position": env.position,
            "last_position": env.position,
            "provenance": to_json(e.provenance) if e.provenance is not None else None,
        }

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
    provenance = json.loads(row["provenance"]) if row.get("provenance") else None
    return {**row, "topic": json.loads(row["topic"]), "provenance": provenance, "status": status_of(row, today).value}
