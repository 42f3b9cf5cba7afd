"""数据共享交换 — the red-line and permit rows of the `spgl_exchange` read model (its part that
follows licences and land supply; the rows themselves are built by domain/exchange/spgl_export.py).

What the rows need from earlier events is kept in `spgl_export_facts` (key → value), written in the
batch's transaction so later events of the same batch see it:
`mode:<project code>` the land supply mode (TDHQFS), `red_line:<project id>` the boundary last sent,
`number:<project code>:<licence type>` the project's current licence number of a type (the
construction permit's upstream numbers), and `row:<licence id>` the permit row a revocation sends
again as invalid.

Consumes (through SpglExchange): Project.Generated / LandSupplied (red line), License.Issued / Revoked.
"""

from __future__ import annotations

import json
from typing import Any

from domain.exchange import spgl_export
from domain.licences import License
from infrastructure.db import Cursor
from projections.base import Envelope

TABLE = "spgl_export_facts"
Rows = list[tuple[str, dict[str, str], bool]]


def create_table(cur: Cursor) -> None:
    cur.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (k TEXT PRIMARY KEY, value TEXT NOT NULL)")


def _get(cur: Cursor, key: str) -> str | None:
    cur.execute(f"SELECT value FROM {TABLE} WHERE k = ?", (key,))  # noqa: S608 (constant table name)
    found = cur.fetchone()
    return None if found is None else str(found["value"])


def _put(cur: Cursor, key: str, value: str) -> None:
    cur.execute(
        f"INSERT INTO {TABLE} (k, value) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET value = excluded.value",  # noqa: S608
        (key, value),
    )


def red_line(
    cur: Cursor, project_id: str, region_code: str, project_code: str, geometry: dict[str, Any] | None
) -> Rows:
    """用地红线 of a generation (when it has one) or a land supply (the official red line); the same
    boundary again is no new row (the standard's import would take it as unchanged)."""
    if geometry is None:
        return []
    table, row = spgl_export.red_line_row(project_id, region_code, project_code, geometry)
    if _get(cur, f"red_line:{project_id}") == row["XMJWDZB"]:
        return []
    _put(cur, f"red_line:{project_id}", row["XMJWDZB"])
    return [(table, row, False)]


def land_supplied(cur: Cursor, env: Envelope, project: dict[str, Any]) -> Rows:
    e: Any = env.event
    _put(cur, f"mode:{project['code']}", str(e.mode))
    return red_line(cur, str(e.originator_id), project["region_code"], project["code"], e.red_line)


def licence(cur: Cursor, env: Envelope) -> Rows:
    """A permit issued is its table's row; a permit revoked, that row again, invalid. A revoked
    upstream licence is no longer cited by the construction permits issued after it."""
    e: Any = env.event
    key = str(e.originator_id)
    if isinstance(e, License.Revoked):
        stored = _get(cur, f"row:{key}")
        if stored is None:
            return []  # neither a permit of these tables nor an upstream licence
        kept = json.loads(stored)
        if _get(cur, kept["number_key"]) == kept["number"]:
            cur.execute(f"DELETE FROM {TABLE} WHERE k = ?", (kept["number_key"],))  # noqa: S608
        if kept["table"] is None:
            return []
        return [(kept["table"], spgl_export.invalidated(kept["row"], f"证照已撤销：{e.reason}"), False)]
    if not isinstance(e, License.Issued):
        return []
    number_key = f"number:{e.project_code}:{e.licence_type}"
    upstream = {
        kind: found
        for kind in spgl_export.UPSTREAM.values()
        if (found := _get(cur, f"number:{e.project_code}:{kind}")) is not None
    }
    made = spgl_export.permit_row(key, vars(e), e.business_date, upstream, _get(cur, f"mode:{e.project_code}"))
    if e.licence_type in spgl_export.UPSTREAM.values():
        _put(cur, number_key, e.number)
    elif made is None:
        return []
    table, row = made if made is not None else (None, None)
    kept = {"number_key": number_key, "number": e.number, "table": table, "row": row}
    _put(cur, f"row:{key}", json.dumps(kept, ensure_ascii=False))
    return [] if made is None else [(made[0], made[1], False)]
