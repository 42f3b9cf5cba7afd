"""The lives of city cases for the off-system warnings (issue 15): the facts of imported SPGL rows
— case rows, status rows with their business time (BLSJ) and the city's recording time (GXSJ),
opinions with their department, special procedures, approval documents — and rows refused by
the uploader rules R2/R3, gathered into `CaseFacts` and judged by the pure rules of
domain/supervision/rules. OfflineWarnings mixes this in; it stores what the rules return.

A city case is judged when the import that brought its rows completes (`SpglImport.Completed`:
every row of the dump is in the log before it), so the rows of one dump may come in any order;
and when the log's supervision clock ticks (W6.open_overdue). Tables: `ow_city_cases`,
`ow_steps`, `ow_pending`, `ow_item_map`, `ow_clock`; a judged case keeps in its ow_city_cases row
what the time-driven and project rules read again (`due_on`, `summary`, `started_*`), so a clock
tick and a project's rules cost what changed, not days times cases (docs/supervision.md).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime
from typing import Any

from domain.catalog import CATALOG
from domain.exchange import spgl
from domain.supervision.rules import REASONS, CaseFacts, Finding, Kind, Source, Step, judge_case
from domain.supervision.rules.facts import warning_id
from domain.supervision.rules.lifecycle import open_overdue, open_overdue_from
from infrastructure.db import Cursor
from projections.base import Envelope, bigint
from projections.offline_base import _chunks
from projections.offline_steps import (  # noqa: F401 — NAMES, load_config: read from here too
    NAMES,
    OPEN_OVERDUE_DAYS,
    UPDATE_JUDGED,
    _code_region,
    _int,
    _moment,
    _summary,
    limits,
    load_config,
    row_ref,
    step_of,
)
from projections.rules import Thresholds

JUDGED = REASONS | {"W9.project_not_generated", "W10.external_case"}  # what judging a city case decides
STEP_TABLES = frozenset({spgl.STATUS, spgl.OPINION, spgl.SPECIAL, spgl.DOCUMENT})
STEP_COLUMNS = (
    "row_key", "case_ref", "project_code", "kind", "business_time", "recorded_at", "department", "department_name",
    "limit_days", "name", "channel", "position", "ref",
)  # fmt: skip

STEP_UPSERT = (  # the city's recording time (GXSJ) of the row's first version: a later correction re-dates nothing
    f"INSERT INTO ow_steps ({', '.join(STEP_COLUMNS)}) VALUES ({', '.join('?' for _ in STEP_COLUMNS)})"  # noqa: S608
    " ON CONFLICT (row_key) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in STEP_COLUMNS if c not in ("row_key", "recorded_at"))
    + ", recorded_at = COALESCE(ow_steps.recorded_at, excluded.recorded_at)"
)
CITY_CASE_ROWS = (
    "SELECT c.*, m.standard, p.case_ref AS pending FROM ow_city_cases c"
    " LEFT JOIN ow_item_map m ON m.item_code = c.item_code LEFT JOIN ow_pending p ON p.case_ref = c.case_ref"
    " WHERE c.project_code {} ORDER BY c.position"
)


class CityCases:
    """Mixed into OfflineWarnings: `self._set`, `self._resolve_id`, `self._region` are its own."""

    t: Thresholds
    _city_memo: dict[str, list[dict[str, Any]]] = {}
    _pended: set[str]  # in ow_pending, written in this batch (offline_base resets it per batch)
    _pre: dict[str, Any] | None = None  # while an import's cases are judged: `_prefetch`
    _receipts: dict[str, dict[str, Any] | None] = {}  # of the project `_city_case_rows` read last
    _city_raw: dict[str, list[dict[str, Any]]] = {}  # while an import's projects are judged: their city cases

    def create_city_tables(self, cur: Cursor, dialect: str) -> None:
        big = bigint(dialect)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS ow_city_cases (case_ref TEXT PRIMARY KEY, system TEXT NOT NULL,"
            " project_code TEXT, item_code TEXT, department TEXT, limit_days INTEGER, region_code TEXT,"
            f" channel TEXT NOT NULL, position {big} NOT NULL, ref TEXT NOT NULL, refused TEXT, due_on TEXT, summary TEXT,"
            f" started_day TEXT, started_position {big}, started_ref TEXT)"
        )  # due_on, summary, started_*: as of the case's last judging (open_overdue_from, _summary)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS ow_steps (row_key TEXT PRIMARY KEY, case_ref TEXT NOT NULL, project_code TEXT,"
            " kind TEXT NOT NULL,"
            " business_time TEXT, recorded_at TEXT, department TEXT, department_name TEXT, limit_days INTEGER,"
            f" name TEXT, channel TEXT NOT NULL, position {big} NOT NULL, ref TEXT NOT NULL)"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS ow_steps_case ON ow_steps (case_ref)")
        cur.execute("CREATE INDEX IF NOT EXISTS ow_city_cases_project ON ow_city_cases (project_code)")
        cur.execute("CREATE INDEX IF NOT EXISTS ow_city_cases_due ON ow_city_cases (due_on)")
        cur.execute("CREATE TABLE IF NOT EXISTS ow_pending (case_ref TEXT PRIMARY KEY)")
        cur.execute("CREATE TABLE IF NOT EXISTS ow_item_map (item_code TEXT PRIMARY KEY, standard TEXT NOT NULL)")
        cur.execute("CREATE TABLE IF NOT EXISTS ow_clock (id INTEGER PRIMARY KEY, day TEXT NOT NULL)")

    # --- gathering the facts --------------------------------------------------------------------

    def _city_row(self, cur: Cursor, env: Envelope) -> None:
        """An imported (or corrected) SPGL row that is part of a city case's life."""
        e: Any = env.event
        row, table = e.row, e.table
        if table == spgl.STAGE_ITEM and row.get("DYBZSPSXBM"):
            cur.execute(
                "INSERT INTO ow_item_map (item_code, standard) VALUES (?, ?)"
                " ON CONFLICT (item_code) DO UPDATE SET standard = excluded.standard",
                (row["SPSXBM"], row["DYBZSPSXBM"]),
            )
            # the legal limit of a case without its own (SXBLSX) may change with the mapping: judge it daily
            cur.execute(
                "UPDATE ow_city_cases SET due_on = NULL WHERE item_code = ? AND (limit_days IS NULL OR limit_days = 0)",
                (row["SPSXBM"],),
            )
        elif table == spgl.CASE:
            self._city_case(cur, env, row, e.source_system, refused=None)
        elif table in STEP_TABLES:
            self._city_step(cur, env, table, row, e.source_system)

    def _city_case(self, cur: Cursor, env: Envelope, row: dict[str, str], system: str, refused: str | None) -> None:
        e: Any = env.event
        values = (
            row["SPSXSLBM"],
            system,
            spgl.gcdm_project_code(row.get("GCDM", "")),
            row.get("SPSXBM"),
            NAMES.department(row.get("SPBMMC") or row.get("SPBMBM")),
            _int(row.get("SXBLSX")),
            row.get("XZQHDM"),
            str(e.channel),
            env.position,
            row_ref(system, spgl.CASE, row),
            refused,
        )
        cur.execute(
            "INSERT INTO ow_city_cases (case_ref, system, project_code, item_code, department, limit_days, region_code,"
            " channel, position, ref, refused) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (case_ref) DO UPDATE"
            " SET system = excluded.system, project_code = excluded.project_code, item_code = excluded.item_code,"
            " department = excluded.department, limit_days = excluded.limit_days, region_code = excluded.region_code,"
            " channel = excluded.channel, position = excluded.position, ref = excluded.ref, refused = excluded.refused",
            values,
        )
        me: Any = self
        me._cityless.clear()  # (rare: a city case row, in a batch of city imports)
        self._pend(cur, row["SPSXSLBM"])

    def _city_step(self, cur: Cursor, env: Envelope, table: str, row: dict[str, str], system: str) -> None:
        fact = step_of(table, row)
        if fact is None:
            return
        e: Any = env.event
        key = f"{table}|{row.get('DFSJZJ')}"
        values = {
            "department": None,
            "department_name": None,
            "limit_days": None,
            "name": None,
            **fact,
            "row_key": key,
            "case_ref": row["SPSXSLBM"],
            "project_code": spgl.gcdm_project_code(row.get("GCDM", "")),
            "recorded_at": _moment(row.get("GXSJ")),
            "channel": str(e.channel),
            "position": env.position,
            "ref": row_ref(system, table, row),
        }
        values["kind"] = str(values["kind"])
        me: Any = self
        me._defer(STEP_UPSERT, [values[c] for c in STEP_COLUMNS], row["SPSXSLBM"])
        self._pend(cur, row["SPSXSLBM"])

    def _refused_row(self, cur: Cursor, env: Envelope) -> None:
        """A row an uploader rule refused (R2, R3) is still a fact of the case it names."""
        e: Any = env.event
        if e.table == spgl.CASE:
            self._city_case(cur, env, e.row, e.source_system, refused=e.rule)
        elif e.table in STEP_TABLES:
            self._city_step(cur, env, e.table, e.row, e.source_system)

    def _city_project_known(self, cur: Cursor, env: Envelope, code: str) -> None:
        """A project is generated: city cases refused for lacking it are judged again (W9)."""
        me: Any = self
        if code in me._cityless:  # no city case at all (read up front in a large batch)
            return
        cur.execute("SELECT case_ref FROM ow_city_cases WHERE project_code = ? AND refused IS NOT NULL", (code,))
        for ref in [r["case_ref"] for r in cur.fetchall()]:
            self._judge_city_case(cur, env, ref, self._today(cur))

    def _pend(self, cur: Cursor, case_ref: str) -> None:
        me: Any = self
        me._receipts_of.pop(case_ref, None)  # its rows changed: its earliest step is read again
        if case_ref in self._pended:
            return
        me._defer(
            "INSERT INTO ow_pending (case_ref) VALUES (?) ON CONFLICT (case_ref) DO NOTHING", (case_ref,), case_ref
        )
        self._pended.add(case_ref)

    def _today(self, cur: Cursor) -> date | None:
        cur.execute("SELECT day FROM ow_clock WHERE id = 1")
        row = cur.fetchone()
        return date.fromisoformat(row["day"]) if row else None

    # --- judging --------------------------------------------------------------------------------

    def _import_completed(self, cur: Cursor, env: Envelope) -> None:
        """Every row of the import is in the log: judge the city cases it touched."""
        me: Any = self
        me._flush(cur)  # (ow_steps, ow_pending as the batch wrote them)
        cur.execute("SELECT case_ref FROM ow_pending ORDER BY case_ref")
        refs = [r["case_ref"] for r in cur.fetchall()]
        cur.execute("DELETE FROM ow_pending")
        self._pended.clear()
        today = self._today(cur)
        projects: set[str] = set()
        self._pre = {**self._prefetch(cur, refs), "updates": []}
        try:
            for ref in refs:
                code = self._judge_city_case(cur, env, ref, today, project=False)
                if code:
                    projects.add(code)
            if self._pre["updates"]:
                cur.executemany(UPDATE_JUDGED, self._pre["updates"])
        finally:
            self._pre = None
        self._city_raw = self._city_cases_of(cur, sorted(projects))  # judging a project writes none of these
        try:
            for code in sorted(projects):  # once per project, however many of its cases the import touched
                self._judge_city_project(cur, env, code)
        finally:
            self._city_raw = {}

    def _city_cases_of(self, cur: Cursor, codes: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The projects' ow_city_cases rows (with their item mapping and whether pending), in log order."""
        found: dict[str, list[dict[str, Any]]] = {code: [] for code in codes}
        me: Any = self
        me._flush(cur)
        for part in _chunks(codes):
            cur.execute(CITY_CASE_ROWS.format(f"IN ({', '.join('?' for _ in part)})"), part)
            for row in cur.fetchall():
                found[row["project_code"]].append(row)
        return found

    def _judge_city_project(self, cur: Cursor, env: Envelope, code: str) -> None:
        """The project's city cases date its certificates (W1), its order (W4) and stages (W6)."""
        me: Any = self
        rows = self._city_case_rows(cur, code)  # (what W1 and W4 write below, warnings, it does not read)
        # the earliest steps, for W1 until the cases' rows change (judging changes no step: a summary's
        # earliest step is the one its steps give)
        me._receipts_of.update(self._receipts)
        me._receipts_read.add(code)
        me._recheck_certificates(cur, env, code, self._receipts)
        me._order(cur, env, code, imported=True)
        judged: set[str] = set()
        whole = False  # the project's W6 judged (once: every stage reads the same facts for it)
        self._city_memo = {code: rows}  # the stage rule reads them once per stage: read once
        try:
            for row in rows:
                item = CATALOG.items.get(row["item_code"] or "")
                stage = str(item.stage) if item else row["item_code"]
                if stage not in judged:  # one case per stage judges the stage (and the project)
                    judged.add(stage)
                    whole = me._stages(cur, env, row, project=not whole) or whole
        finally:
            self._city_memo = {}

    def _clock_ticked(self, cur: Cursor, env: Envelope, day: date) -> None:
        """The log's day moved on: the city cases still open may now be far past their deadline
        (W6.open_overdue; the other rules do not depend on the day and stand as judged)."""
        cur.execute(
            "INSERT INTO ow_clock (id, day) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET day = excluded.day",
            (day.isoformat(),),
        )
        closing = [str(k) for k in (Kind.APPROVED, Kind.REFUSED, Kind.NOT_ACCEPTED, Kind.WITHDRAWN, Kind.DOCUMENT)]
        me: Any = self
        me._flush(cur)
        # only the cases that may be overdue by now (due_on: a lower bound set when the case was last
        # judged; NULL: unknown) or whose facts changed since (pending): the others cannot be
        cur.execute(
            "SELECT * FROM ow_city_cases c WHERE case_ref IN (SELECT case_ref FROM ow_city_cases WHERE due_on <= ?"  # noqa: S608
            " UNION SELECT case_ref FROM ow_city_cases WHERE due_on IS NULL UNION SELECT case_ref FROM ow_pending)"
            " AND EXISTS (SELECT 1 FROM ow_steps s WHERE s.case_ref = c.case_ref AND s.kind = ?)"
            " AND NOT EXISTS (SELECT 1 FROM ow_steps s WHERE s.case_ref = c.case_ref AND"
            f" s.kind IN ({', '.join('?' for _ in closing)})) ORDER BY case_ref",
            (day.isoformat(), str(Kind.ACCEPTED), *closing),
        )
        for case in cur.fetchall():
            found = open_overdue(self._facts(cur, case), limits(self.t), day)
            if found:
                self._store(cur, env, case["case_ref"], case["project_code"], case, found)
        me._our_open_cases(cur, env, day)  # (projections/offline_own.py)

    def _prefetch(self, cur: Cursor, refs: list[str]) -> dict[str, Any]:
        """What judging these city cases reads, in a few queries: their rows, steps, item mappings
        and warnings (judging one case writes none of the others')."""
        pre: dict[str, Any] = {"cases": {}, "steps": defaultdict(list), "standard": {}, "warnings": defaultdict(list)}
        for part in _chunks(refs):
            marks = ", ".join("?" for _ in part)
            cur.execute(f"SELECT * FROM ow_city_cases WHERE case_ref IN ({marks})", part)  # noqa: S608
            pre["cases"].update({r["case_ref"]: r for r in cur.fetchall()})
            cur.execute(f"SELECT * FROM ow_steps WHERE case_ref IN ({marks})", part)  # noqa: S608
            for r in cur.fetchall():
                pre["steps"][r["case_ref"]].append(r)
            cur.execute(f"SELECT warning_id, reason, case_id FROM warnings WHERE case_id IN ({marks})", part)  # noqa: S608
            for r in cur.fetchall():
                pre["warnings"][r["case_id"]].append(r)
        items = sorted({r["item_code"] for r in pre["cases"].values() if r["item_code"]})
        for part in _chunks(items):
            marks = ", ".join("?" for _ in part)
            cur.execute(f"SELECT item_code, standard FROM ow_item_map WHERE item_code IN ({marks})", part)  # noqa: S608
            pre["standard"].update({r["item_code"]: r["standard"] for r in cur.fetchall()})
        return pre

    def _facts(self, cur: Cursor, case: dict[str, Any]) -> CaseFacts:
        pre = self._pre
        if pre is not None and case["case_ref"] in pre["cases"]:
            rows = pre["steps"].get(case["case_ref"], [])
        else:
            me: Any = self
            me._flush(cur)
            cur.execute("SELECT * FROM ow_steps WHERE case_ref = ?", (case["case_ref"],))
            rows = cur.fetchall()
        steps = tuple(
            Step(
                Kind(r["kind"]),
                datetime.fromisoformat(r["business_time"]) if r["business_time"] else None,
                Source(r["channel"], int(r["position"]), r["ref"]),
                recorded_at=datetime.fromisoformat(r["recorded_at"]) if r["recorded_at"] else None,
                department=r["department"],
                department_name=r["department_name"],
                limit_days=r["limit_days"],
                name=r["name"],
            )
            for r in rows
        )
        standard = None
        if pre is not None and case["case_ref"] in pre["cases"]:
            standard = pre["standard"].get(case["item_code"])
        elif case["item_code"]:
            cur.execute("SELECT standard FROM ow_item_map WHERE item_code = ?", (case["item_code"],))
            found = cur.fetchone()
            standard = found["standard"] if found else None
        item = NAMES.item(case["item_code"], standard)
        catalogue = CATALOG.items.get(item or "")
        # the city's declared limit (SXBLSX); without one the legal limit, which binds every system
        # (our promised limits are our promise, not necessarily the city's)
        limit = case["limit_days"] if case["limit_days"] else (catalogue.legal_limit_days if catalogue else None)
        allowed = {case["department"], *(self.t.consulted.get(item or "", ()))}
        if catalogue is not None:
            allowed.add(catalogue.department)
        origin = Source(case["channel"], int(case["position"]), case["ref"])
        return CaseFacts(
            case["case_ref"],
            item,
            limit,
            frozenset(d for d in allowed if d),
            steps,
            origin,
            case["system"],
            catalogue.promised_limit_days if catalogue else None,
        )

    def _judge_city_case(
        self, cur: Cursor, env: Envelope, ref: str, today: date | None, *, project: bool = True
    ) -> str | None:
        """Store what the rules find on the city case; resolve what they no longer find; the case's
        project code (its project's rules too unless `project` is False: the caller does them)."""
        me: Any = self
        pre = self._pre if self._pre is not None and ref in self._pre["cases"] else None
        if pre is not None:
            case: dict[str, Any] | None = pre["cases"][ref]
        else:
            cur.execute("SELECT * FROM ow_city_cases WHERE case_ref = ?", (ref,))
            case = cur.fetchone()
        if case is None:
            found = self._unknown_case(cur, ref)
        else:
            facts = self._facts(cur, case)
            due = open_overdue_from(facts, limits(self.t))
            # before `due` W6.open_overdue cannot hold: no need to count its working days
            found = judge_case(facts, limits(self.t), today if today and (due is None or due <= today) else None)
            summary = _summary(facts)
            started = summary.pop("started") or {}
            update = (due.isoformat() if due else None, json.dumps(summary), started.get("day"),
                      started.get("position"), started.get("ref"), ref)  # fmt: skip
            if pre is not None:  # written together before anything reads them (_import_completed)
                self._pre["updates"].append(update)  # type: ignore[index]
            else:
                cur.execute(UPDATE_JUDGED, update)
        code = case["project_code"] if case else self._step_project(cur, ref)
        if code and me._region(cur, code) is None:  # 未策划生成: the case's project was never generated
            found.append(self._not_generated(cur, ref, code, case))
        self._store(cur, env, ref, code, case, found)
        ids = {warning_id(f.rule, "spgl", *f.keys) for f in found}
        if pre is not None:  # (what judging it raised since is among `ids`)
            held = pre["warnings"].get(ref, [])
        else:
            cur.execute("SELECT warning_id, reason FROM warnings WHERE case_id = ?", (ref,))
            held = cur.fetchall()
        for row in held:
            if row["reason"] in JUDGED and row["warning_id"] not in ids:
                me._resolve_id(cur, env, row["warning_id"])
        if code and project:
            self._judge_city_project(cur, env, code)
        return code

    def _store(
        self, cur: Cursor, env: Envelope, ref: str, code: str | None, case: dict[str, Any] | None, found: list[Finding]
    ) -> None:
        """Raise (or refresh) the findings on a city case, keyed apart from ours ("spgl")."""
        me: Any = self
        region = me._region(cur, code) or (case["region_code"] if case else None) or _code_region(code)
        origin = (case["position"],) if case else ()
        for f in found:
            me._set(
                cur,
                env,
                f.rule,
                ("spgl", *f.keys),
                True,
                reason=f.reason,
                explanation=f.explanation,
                subject=ref,
                evidence=(*origin, *f.evidence),
                project_code=code,
                case_id=ref,
                region_code=region,
                department=f.department or (case["department"] if case else None),
            )

    def _city_case_rows(self, cur: Cursor, code: str) -> list[dict[str, Any]]:
        """The project's city cases as the stage rule reads our ow_cases rows: acceptance, pauses,
        approval (a 办结 row or the approval document) and closing, each with its log position —
        as summed up when each case was last judged, unless its facts changed since (pending)."""
        if code in self._city_memo:
            return self._city_memo[code]
        me: Any = self
        if code in self._city_raw:
            raw = self._city_raw[code]
        elif code in me._cityless:  # none (read up front in a large batch): no query, no flush
            raw = []
        else:
            me._flush(cur)
            cur.execute(CITY_CASE_ROWS.format("= ?"), (code,))
            raw = cur.fetchall()
        rows = []
        receipts: dict[str, dict[str, Any] | None] = {}
        self._receipts = receipts  # the cases' earliest steps, for W1 (`_judge_city_project`)
        for case in raw:
            stored = case["summary"] and case["pending"] is None
            summary = json.loads(case["summary"]) if stored else _summary(self._facts(cur, case))
            started = summary.pop("started", None)
            if stored:
                started = {"day": case["started_day"], "position": case["started_position"], "ref": case["started_ref"]}
            receipts[case["case_ref"]] = started if started and started["day"] is not None else None
            rows.append(
                {
                    "case_id": case["case_ref"],
                    "project_code": code,
                    "item_code": NAMES.item(case["item_code"], case["standard"]) or case["item_code"],
                    "region_code": case["region_code"],
                    "created_position": case["position"],
                    **summary,
                    "flow_code": None,
                    "flow_version": None,
                }
            )
        return rows

    def _steps_of(self, cur: Cursor, ref: str) -> list[dict[str, Any]]:
        me: Any = self
        me._flush(cur)
        cur.execute("SELECT project_code, position, ref FROM ow_steps WHERE case_ref = ? ORDER BY ref", (ref,))
        return cur.fetchall()

    def _step_project(self, cur: Cursor, ref: str) -> str | None:
        return next((r["project_code"] for r in self._steps_of(cur, ref) if r["project_code"]), None)

    def _unknown_case(self, cur: Cursor, ref: str) -> list[Finding]:
        """W10: rows of a case neither the city's case table nor our system has (refused by R3)."""
        me: Any = self
        me._flush(cur)
        cur.execute("SELECT 1 FROM ow_cases WHERE case_id = ?", (ref,))
        steps = self._steps_of(cur, ref)
        if cur.fetchone() is not None or not steps:
            return []
        rows = "、".join(f"{r['ref']}（日志位置{r['position']}）" for r in steps)
        text = f"外部系统报送了办件{ref}的状态等数据（{rows}），但其办件表和本系统都没有该办件，疑似体外循环。"
        positions = tuple(sorted({int(r["position"]) for r in steps}))
        return [Finding("W10", ("external_case", ref), "W10.external_case", text, positions)]

    def _not_generated(self, cur: Cursor, ref: str, code: str, case: dict[str, Any] | None) -> Finding:
        steps = self._steps_of(cur, ref)
        where = f"{case['ref']}（日志位置{case['position']}，上传规则{case['refused']}拒收）" if case else "状态行"
        text = (
            f"城市系统的办件{ref}（{where}）所属项目{code}未经策划生成，也没有项目信息行；"
            f"随附{len(steps)}条办件数据行。"
        )
        positions = tuple(sorted({int(r["position"]) for r in steps}))
        return Finding("W9", ("not_generated", ref), "W9.project_not_generated", text, positions)
