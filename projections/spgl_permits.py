"""数据共享交换 — the red-line and permit rows of the `spgl_exchange` read model (its part that
follows licences and land supply; the rows themselves are built by domain/exchange/spgl_export.py).

What the rows need from earlier events is kept in `spgl_export_facts` (key → value), held per batch
(`Facts`: later events of the same batch see it) and written at its end in the batch's transaction:
`mode:<project code>` the land supply mode (TDHQFS), `red_line:<project id>` the boundary last sent,
`number:<project code>:<licence type>` the project's current licence number of a type (the
construction permit's upstream numbers), and `row:<licence id>` the permit row a revocation sends
again as invalid.

Consumes (through SpglExchange): Project.Generated / LandSupplied (red line), License.Issued / Revoked.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from domain.exchange import spgl_export
from domain.licences import License
from domain.projects.project import Project
from infrastructure.db import Cursor
from projections.base import Envelope

TABLE = "spgl_export_facts"
Rows = list[tuple[str, dict[str, str], bool]]


def create_table(cur: Cursor) -> None:
    cur.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (k TEXT PRIMARY KEY, value TEXT NOT NULL)")


class Facts:
    """The batch's view of `spgl_export_facts`: the keys its events may read, read up front in a few
    queries (`load`); any other read once on demand; changes kept here and written at the batch's
    end (`flush`: one upsert of the keys set, one delete of those removed). Nothing else reads the
    table, so the rows end as writing each change at once would leave them. Per batch only."""

    chunk = 500

    def __init__(self, cur: Cursor, batch: Sequence[Envelope] = (), dialect: str = "") -> None:
        self.cur = cur
        self.dialect = dialect
        self.held: dict[str, str | None] = {}  # key → value (None: no row)
        self.changed: dict[str, None] = {}  # insertion-ordered
        self.load(batch)

    def load(self, batch: Sequence[Envelope]) -> None:
        wanted = [k for k in dict.fromkeys(k for env in batch for k in _keys_read(env)) if k not in self.held]
        for start in range(0, len(wanted), self.chunk):
            part = wanted[start : start + self.chunk]
            self.cur.execute(
                f"SELECT k, value FROM {TABLE} WHERE k IN ({', '.join('?' for _ in part)})",  # noqa: S608
                part,
            )
            self.held.update(dict.fromkeys(part))
            self.held.update({r["k"]: str(r["value"]) for r in self.cur.fetchall()})

    def get(self, key: str) -> str | None:
        if key not in self.held:
            self.cur.execute(f"SELECT value FROM {TABLE} WHERE k = ?", (key,))  # noqa: S608 (constant table name)
            found = self.cur.fetchone()
            self.held[key] = None if found is None else str(found["value"])
        return self.held[key]

    def put(self, key: str, value: str | None) -> None:
        """Set the key's value (None: delete its row)."""
        self.held[key] = value
        self.changed[key] = None

    def flush(self) -> None:
        gone = [(k,) for k in self.changed if self.held[k] is None]
        kept = [(k, self.held[k]) for k in self.changed if self.held[k] is not None]
        if gone:
            self.cur.executemany(f"DELETE FROM {TABLE} WHERE k = ?", gone)  # noqa: S608
        if kept and self.dialect == "postgresql":  # one statement: executemany costs ten times the CPU per row
            self.cur.execute(
                f"INSERT INTO {TABLE} (k, value) SELECT r->>0, r->>1 FROM json_array_elements(?::json) AS r"  # noqa: S608
                " ON CONFLICT (k) DO UPDATE SET value = excluded.value",
                (json.dumps(kept, ensure_ascii=False),),
            )
        elif kept:
            self.cur.executemany(
                f"INSERT INTO {TABLE} (k, value) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET value = excluded.value",  # noqa: S608
                kept,
            )
        self.changed = {}


def _keys_read(env: Envelope) -> list[str]:
    """The keys handling this event reads first (a revocation's upstream number is read after its row)."""
    e: Any = env.event
    if isinstance(e, Project.Generated | Project.LandSupplied):
        return [f"red_line:{e.originator_id}"]
    if isinstance(e, License.Issued):
        code = e.project_code
        return [*(f"number:{code}:{kind}" for kind in spgl_export.UPSTREAM.values()), f"mode:{code}"]
    if isinstance(e, License.Revoked):
        return [f"row:{e.originator_id}"]
    return []


def red_line(
    facts: Facts, project_id: str, region_code: str, project_code: str, geometry: dict[str, Any] | None
) -> Rows:
    """用地红线 of a generation (when it has one) or a land supply (the official red line); the same
    boundary again is no new row (the standard's import would take it as unchanged)."""
    if geometry is None:
        return []
    table, row = spgl_export.red_line_row(project_id, region_code, project_code, geometry)
    if facts.get(f"red_line:{project_id}") == row["XMJWDZB"]:
        return []
    facts.put(f"red_line:{project_id}", row["XMJWDZB"])
    return [(table, row, False)]


def land_supplied(facts: Facts, env: Envelope, project: dict[str, Any]) -> Rows:
    e: Any = env.event
    facts.put(f"mode:{project['code']}", str(e.mode))
    return red_line(facts, str(e.originator_id), project["region_code"], project["code"], e.red_line)


def licence(facts: Facts, env: Envelope) -> Rows:
    """A permit issued is its table's row; a permit revoked, that row again, invalid. A revoked
    upstream licence is no longer cited by the construction permits issued after it."""
    e: Any = env.event
    key = str(e.originator_id)
    if isinstance(e, License.Revoked):
        stored = facts.get(f"row:{key}")
        if stored is None:
            return []  # neither a permit of these tables nor an upstream licence
        kept = json.loads(stored)
        if facts.get(kept["number_key"]) == kept["number"]:
            facts.put(kept["number_key"], None)
        if kept["table"] is None:
            return []
        return [(kept["table"], spgl_export.invalidated(kept["row"], f"证照已撤销：{e.reason}"), False)]
    if not isinstance(e, License.Issued):
        return []
    number_key = f"number:{e.project_code}:{e.licence_type}"
    upstream = {
        kind: found
        for kind in spgl_export.UPSTREAM.values()
        if (found := facts.get(f"number:{e.project_code}:{kind}")) is not None
    }
    made = spgl_export.permit_row(key, vars(e), e.business_date, upstream, facts.get(f"mode:{e.project_code}"))
    if e.licence_type in spgl_export.UPSTREAM.values():
        facts.put(number_key, e.number)
    elif made is None:
        return []
    table, row = made if made is not None else (None, None)
    kept = {"number_key": number_key, "number": e.number, "table": table, "row": row}
    facts.put(f"row:{key}", json.dumps(kept, ensure_ascii=False))
    return [] if made is None else [(made[0], made[1], False)]
