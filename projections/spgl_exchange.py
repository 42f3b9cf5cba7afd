"""数据共享交换 — the rows of the national data-sharing tables, as the log gives them.

Native facts (projects, cases and their status changes, documents, opinions, special procedures,
unit works) become rows in the standard's form; imported rows (`SpglRow.*`) come out as they came
in. A correction is a new row, and an invalidation re-emits the old row with valid flag 0 and the
reason: nothing is deleted, as the standard wants. Each published flow version (`Process.*`) is a
flow row with its stage and stage-item rows; the province's seed flows, until the log records
them, come from `catalogue_rows()` at position 0 (both: projections/spgl_flows.py). A case row
carries the (flow, version, item version) the case was pinned to; a project row the flow in force
when it was generated.

Also kept here: the keys the import's rules look up (stage items, engineering codes, case ids,
flows per region and type) and the rows each import kept out, by rule (for `dataQuality`).

Consumes: Process.Published / VersionPublished / Retired, Project.Generated, Project.MergedInto,
Project.UnitWorkRegistered, Project.LandSupplied, Case.*, SpglRow.Imported / Corrected / Invalidated,
SpglImport.Completed, SpglUpload.Recorded, License.Issued / Revoked (red lines and permits:
projections/spgl_permits.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, cast

from domain.approvals import Case
from domain.approvals.status import Decision
from domain.catalog.process import Process, process_id, regions_up
from domain.catalog.process import flow_code as versioned_flow_code
from domain.exchange import spgl
from domain.exchange.spgl_export import row as _row
from domain.exchange.spgl_export import text as _text
from domain.exchange.spgl_export import time_text as _time
from domain.licences import License
from domain.projects import Project
from infrastructure.db import Cursor, Database
from projections import spgl_permits
from projections.base import Envelope, Events, ReadModel, Rows, bigint, fetch_together
from projections.json_text import sorted_json
from projections.spgl_flows import VERSION, catalogue_rows, flow_code, flow_rows, version_key

SYSTEM = "海南省工程建设项目审批管理系统"  # SJLY of the transitions we produce
NO_EXPIRY = "9999-01-01"
ROWS_PER_EVENT = 100  # LSH of a native row: position x 100 + its index among the event's rows


class SpglExchange(ReadModel):
    name = "spgl_exchange"
    shape = 3  # 2: flow versions from the catalogue events, pinned flows; 3: red lines and permits
    tables = (
        "spgl_rows", "spgl_keys", "spgl_projects", "spgl_cases", "spgl_import_errors", "spgl_upload", "spgl_flows",
        spgl_permits.TABLE,
    )  # fmt: skip
    reads = Events(spgl.SpglRow, spgl.SpglImport.Completed, spgl.SpglUpload.Recorded, Process, License, Case) | Events(
        Project.Generated, Project.MergedInto, Project.UnitWorkRegistered, Project.LandSupplied
    )

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        big = bigint(dialect)
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS spgl_rows (position {big} NOT NULL, idx INTEGER NOT NULL,"
            f" tbl TEXT NOT NULL, dfsjzj TEXT NOT NULL, lsh {big} NOT NULL, valid INTEGER NOT NULL,"
            " source TEXT NOT NULL, row_json TEXT NOT NULL, PRIMARY KEY (position, idx))"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS spgl_rows_key ON spgl_rows (tbl, dfsjzj)")
        cur.execute("CREATE INDEX IF NOT EXISTS spgl_rows_lsh ON spgl_rows (tbl, lsh)")
        cur.execute("CREATE TABLE IF NOT EXISTS spgl_keys (kind TEXT NOT NULL, k TEXT NOT NULL, PRIMARY KEY (kind, k))")
        cur.execute(
            "CREATE TABLE IF NOT EXISTS spgl_projects (code TEXT PRIMARY KEY, project_id TEXT NOT NULL,"
            " gcdm TEXT NOT NULL, flow_type INTEGER NOT NULL, region_code TEXT NOT NULL, dfsjzj TEXT NOT NULL)"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS spgl_projects_id ON spgl_projects (project_id)")
        cur.execute(
            "CREATE TABLE IF NOT EXISTS spgl_cases (case_id TEXT PRIMARY KEY, gcdm TEXT NOT NULL,"
            " region_code TEXT NOT NULL)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS spgl_import_errors (import_id TEXT NOT NULL, n INTEGER NOT NULL,"
            " source TEXT NOT NULL, tbl TEXT NOT NULL, local_key TEXT NOT NULL, lsh TEXT NOT NULL, region_code TEXT,"
            f" rule TEXT NOT NULL, field TEXT NOT NULL, message TEXT NOT NULL, position {big} NOT NULL,"
            " PRIMARY KEY (import_id, n))"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS spgl_import_errors_rule ON spgl_import_errors (rule)")
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS spgl_upload (tbl TEXT NOT NULL, lsh {big} NOT NULL, state INTEGER NOT NULL,"
            f" failure TEXT, position {big} NOT NULL, PRIMARY KEY (tbl, lsh))"
        )
        # each flow's latest version and whether it is retired: which flow a new project is under
        cur.execute(
            "CREATE TABLE IF NOT EXISTS spgl_flows (process_id TEXT PRIMARY KEY, code TEXT NOT NULL,"
            " region_code TEXT NOT NULL, flow_type INTEGER NOT NULL, version TEXT NOT NULL, retired INTEGER NOT NULL)"
        )
        spgl_permits.create_table(cur)

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        # per batch: the projects and cases it touches read in two queries, rows and keys written at
        # the end in bulk (COPY on PostgreSQL); nothing is kept across batches
        b = _Batch()
        # the events this model reads, each with its kind (found once per class) and its id as text
        mine = [
            (env, kind, str(cast(Any, env.event).originator_id))
            for env in batch
            if (kind := _kind(type(env.event))) is not None
        ]
        flows = [oid for _, kind, oid in mine if kind == "flow"]
        for env, kind, _ in mine:
            if kind == "generated":
                g: Any = env.event
                flows += [str(process_id(versioned_flow_code(g.flow_type, r))) for r in regions_up(g.region_code)]
        later = {oid for _, kind, oid in mine if kind in _LATER}
        _load_together(
            cur,
            [
                (b.cases, None, [oid for _, kind, oid in mine if kind == "case"]),
                (
                    b.projects,
                    None,
                    [cast(Any, env.event).project_code for env, _, _ in mine if isinstance(env.event, _CASE_CREATED)],
                ),
                (b.projects, "project_id", sorted(later)),
                (b.flows, None, flows),
            ],
        )
        # (only these events read facts: `spgl_permits._keys_read`)
        facts = spgl_permits.Facts(cur, [env for env, kind, _ in mine if kind in _FACTS], self.db.dialect)
        for row in b.projects.rows.values():
            if row is not None and row["project_id"] in later:
                b.code_of[row["project_id"]] = row["code"]
        for env, kind, oid in mine:
            rows: list[tuple[str, dict[str, str], bool]] = []
            source = SYSTEM
            e: Any = env.event
            if kind == "case":
                rows = self._case(b, env, oid)
            elif kind == "spgl_row":
                if isinstance(env.event, spgl.SpglRow.Imported):  # the import finds existing rows by this key
                    b.keys.add(("row", oid))
                rows.append((e.table, dict(e.row), True))
                source = e.source_system
            elif kind == "imported":
                self._errors(cur, env)
            elif kind == "uploaded":
                for r in e.results:  # the latest answer for a row wins
                    cur.execute(
                        "INSERT INTO spgl_upload (tbl, lsh, state, failure, position) VALUES (?, ?, ?, ?, ?)"
                        " ON CONFLICT (tbl, lsh) DO UPDATE SET state = excluded.state, failure = excluded.failure,"
                        " position = excluded.position",
                        (r["table"], int(r["LSH"]), int(r["SJSCZT"]), r["SBYY"] or None, env.position),
                    )
            elif kind == "flow":
                rows = self._flow(b, env)
            elif kind == "generated":
                rows = self._project(facts, b, env)
            elif kind == "merged":
                rows = self._merged(cur, b, env)
            elif kind == "unit_work":
                rows = self._unit_work(b, env)
            elif kind == "land":
                rows = spgl_permits.land_supplied(facts, env, self._project_of(b, project_id=oid))
            elif kind == "licence":
                rows = spgl_permits.licence(facts, env)
            if rows:
                self._emit(b, env, rows, source)
        b.projects.flush(cur)
        b.cases.flush(cur)
        b.flows.flush(cur)
        facts.flush()
        cur.insert_rows("spgl_rows", _ROW_COLUMNS, b.out)
        if b.keys and self.db.dialect == "postgresql":  # one statement: executemany costs ten times the CPU per row
            cur.execute(
                "INSERT INTO spgl_keys (kind, k) SELECT r->>0, r->>1 FROM json_array_elements(?::json) AS r"
                " ON CONFLICT (kind, k) DO NOTHING",
                (_json(sorted(b.keys)),),
            )
        elif b.keys:
            cur.executemany(
                "INSERT INTO spgl_keys (kind, k) VALUES (?, ?) ON CONFLICT (kind, k) DO NOTHING", sorted(b.keys)
            )

    # --- writing rows -------------------------------------------------------------------------

    def _emit(self, b: _Batch, env: Envelope, rows: list[tuple[str, dict[str, str], bool]], source: str) -> None:
        position = env.position
        updated = None  # GXSJ: one event's rows share it
        for idx, (table, given, verbatim) in enumerate(rows):
            row = given
            if not verbatim:
                if updated is None:
                    updated = _time(cast(Any, env.event).timestamp)
                row = {"LSH": str(position * ROWS_PER_EVENT + idx), "SJYXBS": "1", "GXSJ": updated, **given}
            valid = row.get("SJYXBS") == "1"
            b.out.append((position, idx, table, row["DFSJZJ"], int(row["LSH"]), int(valid), source, _json(row)))
            if table == spgl.PROJECT:
                b.last_project_row[row["DFSJZJ"]] = row
            if valid:
                b.keys.update(spgl.keys_of(table, row))

    def _errors(self, cur: Cursor, env: Envelope) -> None:
        e: Any = env.event
        for n, err in enumerate(e.errors):
            cur.execute(
                "INSERT INTO spgl_import_errors (import_id, n, source, tbl, local_key, lsh, region_code, rule, field,"
                " message, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    str(e.originator_id),
                    n,
                    e.source_system,
                    err["table"],
                    err["local_key"],
                    err["lsh"],
                    err.get("region_code"),
                    err["rule"],
                    err["field"],
                    err["message"],
                    env.position,
                ),
            )

    # --- native facts as rows -----------------------------------------------------------------

    def _flow(self, b: _Batch, env: Envelope) -> list[tuple[str, dict[str, str], bool]]:
        """流程发布: each published version of a flow is a flow row with its stages and items."""
        e: Any = env.event
        pid = str(e.originator_id)
        kind = type(e)
        if kind is Process.Retired:
            b.flows.update(pid, {"retired": 1})
            return []
        if kind not in (Process.Published, Process.VersionPublished):
            return []
        version = str(e.definition["version"])
        if kind is Process.Published:
            flow = b.flows.insert(
                {
                    "process_id": pid,
                    "code": e.code,
                    "region_code": e.region_code,
                    "flow_type": e.flow_type,
                    "version": version,
                    "retired": 0,
                }
            )
        else:
            b.flows.update(pid, {"version": version})
            flow = cast(dict[str, Any], b.flows.rows[pid])
        key = version_key(flow["code"], version, first=kind is Process.Published)
        rows = flow_rows(flow["code"], flow["region_code"], flow["flow_type"], e.definition, key)
        assert len(rows) < ROWS_PER_EVENT, f"flow {flow['code']} {version}: {len(rows)} rows overflow LSH"
        rows[0][1]["SPLCSXSJ"] = _time(e.timestamp)  # 生效时间: when the version was published
        return [(table, row, False) for table, row in rows]

    @staticmethod
    def _flow_in_force(b: _Batch, region_code: str, flow_type: int) -> tuple[str, str]:
        """(SPLCBM, SPLCBBH) of the flow a new project applies under: the nearest flow of its type
        up the regions that is not retired, as the write side finds it (the seed at the province)."""
        for region in regions_up(region_code):
            flow = b.flows.rows.get(str(process_id(versioned_flow_code(flow_type, region))))
            if flow is not None and not flow["retired"]:
                return flow["code"], flow["version"]
        return flow_code(flow_type), VERSION

    def _project(self, facts: spgl_permits.Facts, b: _Batch, env: Envelope) -> list[tuple[str, dict[str, str], bool]]:
        e: Any = env.event
        splcbm, splcbbh = self._flow_in_force(b, e.region_code, e.flow_type)
        gcdm = f"{e.code}-001"
        dfsjzj = str(e.originator_id)
        b.projects.insert(
            {
                "code": e.code,
                "project_id": dfsjzj,
                "gcdm": gcdm,
                "flow_type": e.flow_type,
                "region_code": e.region_code,
                "dfsjzj": dfsjzj,
            }
        )
        b.code_of[dfsjzj] = e.code
        project = _row(
            DFSJZJ=dfsjzj,
            XZQHDM=e.region_code,
            XMDM=e.code,
            GCDM=gcdm,
            XMMC=e.name,
            GCFL=e.category,
            XMTZLY=e.investment_type,
            NKGSJ=e.planned_start,
            NJCSJ=e.planned_end,
            ZTZE=e.total_investment,
            JSDDXZQH=e.region_code,
            SPLCBM=splcbm,
            SPLCBBH=splcbbh,
            SPLCLX=e.flow_type,
            JSDW=e.owner_name,
            JSDWDM=e.owner_uscc,
            SBSJ=e.business_time,
        )
        owner = _row(
            DFSJZJ=f"{dfsjzj}-JSDW",
            XZQHDM=e.region_code,
            XMDM=e.code,
            GCDM=gcdm,
            DWLX="建设单位",
            DWMC=e.owner_name,
            DWTYSHXYDM=e.owner_uscc,
        )
        red_line = spgl_permits.red_line(facts, dfsjzj, e.region_code, e.code, e.red_line)
        return [(spgl.PROJECT, project, False), (spgl.PARTY, owner, False), *red_line]

    @staticmethod
    def _project_of(b: _Batch, *, code: str | None = None, project_id: str | None = None) -> dict[str, Any]:
        key = code if code is not None else b.code_of.get(project_id or "")
        found = b.projects.rows.get(key)
        assert found is not None, f"project {code or project_id} was not generated"
        return found

    def _merged(self, cur: Cursor, b: _Batch, env: Envelope) -> list[tuple[str, dict[str, str], bool]]:
        e: Any = env.event
        p = self._project_of(b, project_id=str(e.originator_id))
        last = b.last_project_row.get(p["dfsjzj"])
        if last is None:  # written by an earlier batch
            cur.execute(
                "SELECT row_json FROM spgl_rows WHERE tbl = ? AND dfsjzj = ? ORDER BY position DESC, idx DESC",
                (spgl.PROJECT, p["dfsjzj"]),
            )
            found = cur.fetchone()
            assert found is not None, f"project {p['code']} has no row to invalidate"
            last = json.loads(found["row_json"])
        last = dict(last)
        last.update({"SJYXBS": "0", "SJWXYY": f"重复赋码，已合并至 {e.canonical_code}"})
        for name in ("LSH", "GXSJ"):
            last.pop(name, None)
        return [(spgl.PROJECT, last, False)]

    def _unit_work(self, b: _Batch, env: Envelope) -> list[tuple[str, dict[str, str], bool]]:
        e: Any = env.event
        p = self._project_of(b, project_id=str(e.originator_id))
        row = _row(
            DFSJZJ=e.unit_work_code,
            XZQHDM=p["region_code"],
            XMDM=p["code"],
            GCDM=p["gcdm"],
            DTBM=e.unit_work_code,
            DTMC=e.name,
        )
        return [(spgl.UNIT_WORK, row, False)]

    def _case(self, b: _Batch, env: Envelope, case_id: str) -> list[tuple[str, dict[str, str], bool]]:
        e: Any = env.event
        kind = type(e)
        rows: list[tuple[str, dict[str, str], bool]] = []
        if kind in _CASE_CREATED:
            p = self._project_of(b, code=e.project_code)
            b.cases.insert({"case_id": case_id, "gcdm": p["gcdm"], "region_code": e.region_code})
            case = _row(
                DFSJZJ=case_id,
                XZQHDM=e.region_code,
                GCDM=p["gcdm"],
                SPSXBM=e.item_code,
                # the pin (Case.Received / BackEntered v2); unpinned cases run under the seed
                SPSXBBH=getattr(e, "item_version", None) or VERSION,
                SPLCBM=getattr(e, "flow_code", None) or flow_code(p["flow_type"]),
                SPLCBBH=getattr(e, "flow_version", None) or VERSION,
                SPSXSLBM=case_id,
                SPBMMC=e.department,
                SLFS=getattr(e, "acceptance_mode", None),
                BLSPSLBM=getattr(e, "parallel_application_id", None),
            )
            rows.append((spgl.CASE, case, False))
        c = b.cases.rows.get(case_id)
        assert c is not None, f"case {case_id} was not received"
        # the cells every row of the case has, as `_row` gives them (its region already GB/T)
        base = _row(XZQHDM=c["region_code"], GCDM=c["gcdm"], SPSXSLBM=case_id)
        version = e.originator_version
        # a status row's cells from the event, once (as `_row` would give them)
        by = {k: v for k, v in (("BLCS", _text(e.actor_org)), ("BLR", _text(e.actor_id))) if v}

        def status(code: int, at: Any, opinion: str | None = None, n: int = 0) -> tuple[str, dict[str, str], bool]:
            row = {"DFSJZJ": f"{case_id}:{version}:{n}", **base, **by}
            if blzt := _text(code):
                row["BLZT"] = blzt
            if opinion is not None and (blyj := _text(opinion)):
                row["BLYJ"] = blyj
            if blsj := _text(at):
                row["BLSJ"] = blsj
            row["SJLY"] = SYSTEM
            return (spgl.STATUS, row, False)

        if kind is Case.Received:
            rows.append(status(1, e.business_time))
            for n, material in enumerate(e.materials):
                rows.append(
                    (
                        spgl.MATERIAL,
                        _row(
                            DFSJZJ=f"{case_id}:M{n + 1}",
                            **base,
                            BLSPSLBM=e.parallel_application_id,
                            CLMLBH=n + 1,
                            CLMC=material.get("name"),
                        ),
                        False,
                    )
                )
        elif kind is Case.BackEntered:
            if e.received_on:
                rows.append(status(1, e.received_on, n=1))
            if e.accepted_on:
                rows.append(status(3, e.accepted_on, n=2))
            rows.append(status(int(Decision(e.decision).status), e.business_time, e.reason, n=3))
            if e.document_number:
                rows.append(self._document(case_id, base, e.document_number, None, None, e.business_date))
        elif kind is Case.OpinionRecorded:
            row = _row(DFSJZJ=f"{case_id}:{version}", **base, SPBMMC=e.department, BLYJ=e.opinion, YJJG=e.result)
            rows.append((spgl.OPINION, row, False))
        elif kind is Case.Withdrawn:
            rows.append(status(e.status_code, e.business_time, e.reason))
        elif getattr(e, "STATUS", None) is not None:
            opinion = getattr(e, "reason", None) or getattr(e, "note", None) or getattr(e, "result", None)
            rows.append(status(int(e.STATUS), e.business_time, opinion))
            if kind is Case.SpecialProcedureStarted:
                special = _row(
                    DFSJZJ=f"{case_id}:{version}",
                    **base,
                    TBCX=e.procedure_type,
                    TBCXMC=e.procedure_name,
                    TBCXKSSJ=e.business_time,
                    TBCXSX=e.limit_days,
                )
                rows.append((spgl.SPECIAL, special, False))
            if kind in (Case.Approved, Case.ApprovedPendingMaterials) and e.document_number:
                title = getattr(e, "document_title", None)
                rows.append(
                    self._document(
                        case_id, base, e.document_number, title, getattr(e, "valid_until", None), e.business_date
                    )
                )
        return rows

    @staticmethod
    def _document(
        case_id: str, base: dict[str, str], number: str, title: str | None, valid_until: date | None, on: date
    ) -> tuple[str, dict[str, str], bool]:
        row = _row(
            DFSJZJ=f"{case_id}:PFWJ",
            **base,
            PFRQ=on,
            PFWH=number,
            PFWJBT=title,
            PFWJYXQX=valid_until or NO_EXPIRY,
        )
        return (spgl.DOCUMENT, row, False)


_CASE_CREATED = (Case.Received, Case.BackEntered)
# what `handle` does with an event: the kind of the first of these classes it is an instance of
_KINDS: tuple[tuple[type[Any], str], ...] = (
    (spgl.SpglRow.Event, "spgl_row"), (spgl.SpglImport.Completed, "imported"), (spgl.SpglUpload.Recorded, "uploaded"),
    (Process.Event, "flow"), (Project.Generated, "generated"), (Project.MergedInto, "merged"),
    (Project.UnitWorkRegistered, "unit_work"), (Project.LandSupplied, "land"), (License.Event, "licence"),
    (Case.Event, "case"),
)  # fmt: skip
_LATER = frozenset({"merged", "unit_work", "land"})
_FACTS = frozenset({"generated", "land", "licence"})


@cache
def _kind(cls: type[Any]) -> str | None:
    """An event class's kind (None: not read here): found once per class, not per event."""
    return next((kind for base, kind in _KINDS if issubclass(cls, base)), None)


_ROW_COLUMNS = ("position", "idx", "tbl", "dfsjzj", "lsh", "valid", "source", "row_json")


@dataclass
class _Batch:
    """What one batch reads and writes (see `SpglExchange.handle`)."""

    projects: Rows = field(
        default_factory=lambda: Rows(
            "spgl_projects", "code", ("code", "project_id", "gcdm", "flow_type", "region_code", "dfsjzj")
        )
    )
    cases: Rows = field(default_factory=lambda: Rows("spgl_cases", "case_id", ("case_id", "gcdm", "region_code")))
    flows: Rows = field(
        default_factory=lambda: Rows(
            "spgl_flows", "process_id", ("process_id", "code", "region_code", "flow_type", "version", "retired")
        )
    )
    code_of: dict[str, str] = field(default_factory=dict)  # project id -> code
    out: list[tuple[Any, ...]] = field(default_factory=list)
    keys: set[tuple[str, str]] = field(default_factory=set)
    last_project_row: dict[str, dict[str, str]] = field(default_factory=dict)


def _load_together(cur: Cursor, loads: list[tuple[Rows, str | None, list[Any]]]) -> None:
    """`Rows.load` (column None) or `Rows.load_by` of each, their look-ups sent together
    (`fetch_together`: one round trip in a live batch), the rows taken in the order given."""
    queries: list[tuple[str, list[Any]]] = []
    parts: list[tuple[Rows, str | None, list[Any]]] = []
    for rows, column, keys in loads:
        wanted = list(dict.fromkeys(keys))
        for start in range(0, len(wanted), rows.chunk):
            part = wanted[start : start + rows.chunk]
            queries.append(
                (f"SELECT * FROM {rows.table} WHERE {column or rows.key} IN ({', '.join('?' for _ in part)})", part)  # noqa: S608
            )
            parts.append((rows, column, part))
    for (rows, column, part), found in zip(parts, fetch_together(cur, queries), strict=True):
        for row in found:
            if column is None or rows.rows.get(row[rows.key]) is None:
                rows.rows[row[rows.key]] = row
        if column is None:
            for k in part:
                rows.rows.setdefault(k, None)


_json = sorted_json()  # json.dumps(row, ensure_ascii=False, sort_keys=True)


# --- queries (the import's rules, the export, data quality) ---------------------------------------


def known_key(db: Database, kind: str, key: str) -> bool:
    """Whether a row of the store (or of our catalogue) makes this key known to the import's rules."""
    if (kind, key) in _catalogue_keys():
        return True
    return bool(db.query("SELECT 1 FROM spgl_keys WHERE kind = ? AND k = ?", (kind, key)))


@cache
def _catalogue_keys() -> frozenset[tuple[str, str]]:
    return frozenset(k for table, row in catalogue_rows() for k in spgl.keys_of(table, row))


def export_rows(db: Database, since: int = 0) -> dict[str, list[dict[str, str]]]:
    """Every table's rows after `since` (a log position), in serial order, with upload state.
    Catalogue rows (position 0) come first unless an imported row of the same key replaced them."""
    out: dict[str, list[tuple[int, int, dict[str, str]]]] = {t: [] for t in spgl.ORDER}
    states = {(r["tbl"], int(r["lsh"])): r for r in db.query("SELECT tbl, lsh, state, failure FROM spgl_upload")}

    def with_state(table: str, row: dict[str, str]) -> dict[str, str]:
        state = states.get((table, int(row["LSH"])))
        row["SJSCZT"] = str(state["state"]) if state else "0"
        if state and state["failure"]:
            row["SBYY"] = state["failure"]
        return row

    for r in db.query("SELECT position, idx, tbl, lsh, row_json FROM spgl_rows WHERE position > ?", (since,)):
        row = with_state(r["tbl"], json.loads(r["row_json"]))
        out.setdefault(r["tbl"], []).append((int(r["lsh"]), int(r["position"]) * ROWS_PER_EVENT + r["idx"], row))
    if since == 0:
        imported = {(t, row["DFSJZJ"]) for t, rows in out.items() for _, _, row in rows}
        for table, row in catalogue_rows():
            if (table, row["DFSJZJ"]) not in imported:
                out[table].append((int(row["LSH"]), 0, with_state(table, dict(row))))
    return {t: [row for _, _, row in sorted(rows, key=lambda x: (x[0], x[1]))] for t, rows in out.items()}


def import_errors(db: Database) -> list[dict[str, Any]]:
    """Every row an import kept out, with the rule it broke, in the order the imports ran."""
    return db.query(
        "SELECT import_id, n, source, tbl, local_key, lsh, region_code, rule, field, message, position"
        " FROM spgl_import_errors ORDER BY position, n"
    )
