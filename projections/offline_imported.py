"""The lives of city cases for the off-system warnings (issue 15): the facts of imported SPGL rows
— case rows, status rows with their business time (BLSJ) and the city's recording time (GXSJ),
opinions with their department, special procedures, approval documents — and rows refused by
the uploader rules R2/R3, gathered into `CaseFacts` and judged by the pure rules of
domain/supervision/rules. OfflineWarnings mixes this in; it stores what the rules return.

A city case is judged when the import that brought its rows completes (`SpglImport.Completed`:
every row of the dump is in the log before it), so the rows of one dump may come in any order;
and when the log's supervision clock ticks (W6.open_overdue). Tables: `ow_city_cases`,
`ow_steps`, `ow_pending`, `ow_item_map`, `ow_clock`.
"""

from __future__ import annotations

import json
import tomllib
from datetime import date, datetime
from importlib import resources
from typing import Any

from domain.catalog import CATALOG
from domain.exchange import spgl
from domain.shared.events import SHANGHAI
from domain.supervision.rules import REASONS, CaseFacts, Finding, Kind, Limits, Source, Step, judge_case
from domain.supervision.rules.facts import CLOSINGS, STATUS_KINDS, warning_id
from domain.supervision.rules.lifecycle import clock_pauses, open_overdue
from domain.supervision.rules.mapping import NameMapping
from infrastructure.db import Cursor
from projections.base import Envelope, bigint
from projections.rules import Thresholds

JUDGED = REASONS | {"W9.project_not_generated", "W10.external_case"}  # what judging a city case decides
STEP_TABLES = frozenset({spgl.STATUS, spgl.OPINION, spgl.SPECIAL, spgl.DOCUMENT})
STEP_COLUMNS = (
    "row_key", "case_ref", "project_code", "kind", "business_time", "recorded_at", "department", "department_name",
    "limit_days", "name", "channel", "position", "ref",
)  # fmt: skip


def load_config(text: str | None = None) -> tuple[NameMapping, int]:
    """The city-name mapping and the W6 open-case grace of warning_rules.toml."""
    if text is None:
        text = resources.files("projections").joinpath("warning_rules.toml").read_text(encoding="utf-8")
    raw: dict[str, Any] = tomllib.loads(text)
    mapping = raw.get("mapping", {})
    names = NameMapping(dict(mapping.get("items", {})), dict(mapping.get("departments", {})))
    return names, int(raw["W6"]["open_overdue_days"])


NAMES, OPEN_OVERDUE_DAYS = load_config()


def limits(t: Thresholds, open_overdue_days: int = OPEN_OVERDUE_DAYS) -> Limits:
    return Limits(
        max_business_lag_hours=t.max_business_lag_hours,
        min_minutes_receipt_to_approval=t.min_minutes_receipt_to_approval,
        promised_limit_above_days=t.promised_limit_above_days,
        exempt_channels=t.exempt_channels,
        synthetic_equal_gaps=t.synthetic_equal_gaps,
        max_corrections=t.max_corrections,
        open_overdue_days=open_overdue_days,
        consulted=t.consulted,
    )


def _code_region(project_code: str | None) -> str | None:
    """The division segment of a national project code (`2611-460100-…`)."""
    parts = (project_code or "").split("-")
    return parts[1] if len(parts) > 1 and len(parts[1]) == 6 and parts[1].isdigit() else None


def _moment(text: str | None) -> str | None:
    """An SPGL time as an ISO string with its offset (local time unless it names one)."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)).isoformat()


def _int(text: str | None) -> int | None:
    try:
        return int(float(text)) if text else None
    except ValueError:
        return None


def our_case_facts(case: dict[str, Any]) -> CaseFacts:
    """One of our cases (its ow_cases row) as the facts W6.open_overdue reads: the acceptance and
    the pauses (corrections, special procedures), each with the log position of its event."""
    created = int(case["accepted_position"] or case["created_position"])
    ref = f"本系统办件{case['case_id']}"

    def at(day: str) -> datetime:
        return datetime.fromisoformat(day).replace(hour=12, tzinfo=SHANGHAI)

    steps = [Step(Kind.ACCEPTED, at(case["accepted_on"]), Source("online", created, ref))]
    for p in json.loads(case["pauses"]):
        special = p["kind"] == "special_procedure"
        start = Kind.SPECIAL_STARTED if special else Kind.CORRECTION_REQUESTED
        steps.append(Step(start, at(p["start"]), Source("online", int(p["position"]), ref)))
        if p["end"]:
            end = Kind.SPECIAL_ENDED if special else Kind.CORRECTION_COMPLETED
            steps.append(Step(end, at(p["end"]), Source("online", int(p["position"]), ref)))
    return CaseFacts(case["case_id"], case["item_code"], case["limit_days"], steps=tuple(steps))


def row_ref(system: str, table: str, row: dict[str, str]) -> str:
    return f"{system} {table}/{row.get('DFSJZJ', '')} LSH {row.get('LSH', '')}"


def step_of(table: str, row: dict[str, str]) -> dict[str, Any] | None:
    """The step an SPGL child row of a case records (None: a row that is no step, e.g. materials)."""
    if table == spgl.STATUS:
        kind = STATUS_KINDS.get(_int(row.get("BLZT")) or 0)
        return None if kind is None else {"kind": kind, "business_time": _moment(row.get("BLSJ"))}
    if table == spgl.OPINION:
        name = row.get("SPBMMC") or row.get("SPBMBM")
        return {
            "kind": Kind.OPINION,
            "business_time": _moment(row.get("BLSJ")),
            "department": NAMES.department(name),
            "department_name": name,
        }
    if table == spgl.SPECIAL:
        return {
            "kind": Kind.SPECIAL_STARTED,
            "business_time": _moment(row.get("TBCXKSSJ")),
            "limit_days": _int(row.get("TBCXSX")),
            "name": row.get("TBCXMC") or row.get("TBCX"),
        }
    if table == spgl.DOCUMENT:
        return {"kind": Kind.DOCUMENT, "business_time": _moment(row.get("PFRQ"))}
    return None


class CityCases:
    """Mixed into OfflineWarnings: `self._set`, `self._resolve_id`, `self._region` are its own."""

    t: Thresholds
    _city_memo: dict[str, list[dict[str, Any]]] = {}

    def create_city_tables(self, cur: Cursor, dialect: str) -> None:
        big = bigint(dialect)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS ow_city_cases (case_ref TEXT PRIMARY KEY, system TEXT NOT NULL,"
            " project_code TEXT, item_code TEXT, department TEXT, limit_days INTEGER, region_code TEXT,"
            f" channel TEXT NOT NULL, position {big} NOT NULL, ref TEXT NOT NULL, refused TEXT)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS ow_steps (row_key TEXT PRIMARY KEY, case_ref TEXT NOT NULL, project_code TEXT,"
            " kind TEXT NOT NULL,"
            " business_time TEXT, recorded_at TEXT, department TEXT, department_name TEXT, limit_days INTEGER,"
            f" name TEXT, channel TEXT NOT NULL, position {big} NOT NULL, ref TEXT NOT NULL)"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS ow_steps_case ON ow_steps (case_ref)")
        cur.execute("CREATE INDEX IF NOT EXISTS ow_city_cases_project ON ow_city_cases (project_code)")
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
        self._pend(cur, row["SPSXSLBM"])

    def _city_step(self, cur: Cursor, env: Envelope, table: str, row: dict[str, str], system: str) -> None:
        fact = step_of(table, row)
        if fact is None:
            return
        e: Any = env.event
        key = f"{table}|{row.get('DFSJZJ')}"
        # the city's recording time (GXSJ) of the row's first version: a later correction re-dates nothing
        cur.execute("SELECT recorded_at FROM ow_steps WHERE row_key = ?", (key,))
        known = cur.fetchone()
        recorded = known["recorded_at"] if known and known["recorded_at"] else _moment(row.get("GXSJ"))
        values = {
            "department": None,
            "department_name": None,
            "limit_days": None,
            "name": None,
            **fact,
            "row_key": key,
            "case_ref": row["SPSXSLBM"],
            "project_code": spgl.gcdm_project_code(row.get("GCDM", "")),
            "recorded_at": recorded,
            "channel": str(e.channel),
            "position": env.position,
            "ref": row_ref(system, table, row),
        }
        values["kind"] = str(values["kind"])
        cur.execute("DELETE FROM ow_steps WHERE row_key = ?", (key,))
        cur.insert_rows("ow_steps", STEP_COLUMNS, [[values[c] for c in STEP_COLUMNS]])
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
        cur.execute("SELECT case_ref FROM ow_city_cases WHERE project_code = ? AND refused IS NOT NULL", (code,))
        for ref in [r["case_ref"] for r in cur.fetchall()]:
            self._judge_city_case(cur, env, ref, self._today(cur))

    def _pend(self, cur: Cursor, case_ref: str) -> None:
        cur.execute("INSERT INTO ow_pending (case_ref) VALUES (?) ON CONFLICT (case_ref) DO NOTHING", (case_ref,))

    def _today(self, cur: Cursor) -> date | None:
        cur.execute("SELECT day FROM ow_clock WHERE id = 1")
        row = cur.fetchone()
        return date.fromisoformat(row["day"]) if row else None

    # --- judging --------------------------------------------------------------------------------

    def _import_completed(self, cur: Cursor, env: Envelope) -> None:
        """Every row of the import is in the log: judge the city cases it touched."""
        cur.execute("SELECT case_ref FROM ow_pending ORDER BY case_ref")
        refs = [r["case_ref"] for r in cur.fetchall()]
        cur.execute("DELETE FROM ow_pending")
        today = self._today(cur)
        projects: set[str] = set()
        for ref in refs:
            code = self._judge_city_case(cur, env, ref, today, project=False)
            if code:
                projects.add(code)
        for code in sorted(projects):  # once per project, however many of its cases the import touched
            self._judge_city_project(cur, env, code)

    def _judge_city_project(self, cur: Cursor, env: Envelope, code: str) -> None:
        """The project's city cases date its certificates (W1), its order (W4) and stages (W6)."""
        me: Any = self
        me._recheck_certificates(cur, env, code)
        me._order(cur, env, code, imported=True)
        judged: set[str] = set()
        rows = self._city_case_rows(cur, code)
        self._city_memo = {code: rows}  # the stage rule reads them once per stage: read once
        try:
            for row in rows:
                item = CATALOG.items.get(row["item_code"] or "")
                stage = str(item.stage) if item else row["item_code"]
                if stage not in judged:  # one case per stage judges the stage (and the project)
                    judged.add(stage)
                    me._stages(cur, env, row)
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
        cur.execute(
            "SELECT * FROM ow_city_cases WHERE case_ref IN (SELECT case_ref FROM ow_steps WHERE kind = ?)"  # noqa: S608
            " AND case_ref NOT IN (SELECT case_ref FROM ow_steps WHERE"
            f" kind IN ({', '.join('?' for _ in closing)})) ORDER BY case_ref",
            (str(Kind.ACCEPTED), *closing),
        )
        for case in cur.fetchall():
            found = open_overdue(self._facts(cur, case), limits(self.t), day)
            if found:
                self._store(cur, env, case["case_ref"], case["project_code"], case, found)
        self._our_open_cases(cur, env, day)

    def _our_open_cases(self, cur: Cursor, env: Envelope, day: date) -> None:
        """Our own cases still open on the log's day: W6.open_overdue by the same pure rule."""
        me: Any = self
        me._flush(cur)  # ow_cases equals the batch's copies
        cur.execute(
            "SELECT * FROM ow_cases WHERE closed_on IS NULL AND accepted_on IS NOT NULL AND limit_days IS NOT NULL"
            " ORDER BY case_id"
        )
        for case in cur.fetchall():
            for f in open_overdue(our_case_facts(case), limits(self.t), day):
                me._set(
                    cur,
                    env,
                    f.rule,
                    f.keys,
                    True,
                    reason=f.reason,
                    explanation=f.explanation,
                    subject=case["case_id"],
                    evidence=f.evidence,
                    project_code=case["project_code"],
                    case_id=case["case_id"],
                    region_code=case["region_code"],
                    department=case["department"],
                )

    def _facts(self, cur: Cursor, case: dict[str, Any]) -> CaseFacts:
        cur.execute("SELECT * FROM ow_steps WHERE case_ref = ?", (case["case_ref"],))
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
            for r in cur.fetchall()
        )
        standard = None
        if case["item_code"]:
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
        cur.execute("SELECT * FROM ow_city_cases WHERE case_ref = ?", (ref,))
        case = cur.fetchone()
        found = (
            self._unknown_case(cur, ref) if case is None else judge_case(self._facts(cur, case), limits(self.t), today)
        )
        code = case["project_code"] if case else self._step_project(cur, ref)
        if code and me._region(cur, code) is None:  # 未策划生成: the case's project was never generated
            found.append(self._not_generated(cur, ref, code, case))
        self._store(cur, env, ref, code, case, found)
        ids = {warning_id(f.rule, "spgl", *f.keys) for f in found}
        cur.execute("SELECT warning_id, reason FROM warnings WHERE case_id = ?", (ref,))
        for row in cur.fetchall():
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
        approval (a 办结 row or the approval document) and closing, each with its log position."""
        if code in self._city_memo:
            return self._city_memo[code]
        cur.execute("SELECT * FROM ow_city_cases WHERE project_code = ? ORDER BY position", (code,))
        rows = []
        for case in cur.fetchall():
            facts = self._facts(cur, case)
            steps = [s for s in facts.ordered() if s.business_time is not None]
            first = {kind: next((s for s in steps if s.kind == kind), None) for kind in Kind}
            accepted = first[Kind.ACCEPTED]
            approved = first[Kind.APPROVED] or first[Kind.DOCUMENT]
            closed = next((s for s in steps if s.kind in CLOSINGS or s.kind == Kind.DOCUMENT), None)
            pauses, _ = clock_pauses(steps, None)

            def day(step: Step | None) -> str | None:
                return (
                    step.business_time.astimezone(SHANGHAI).date().isoformat() if step and step.business_time else None
                )

            rows.append(
                {
                    "case_id": case["case_ref"],
                    "project_code": code,
                    "item_code": facts.item_code or case["item_code"],
                    "region_code": case["region_code"],
                    "created_position": case["position"],
                    "accepted_on": day(accepted),
                    "accepted_position": accepted.source.position if accepted else None,
                    "approved_on": day(approved),
                    "approved_position": approved.source.position if approved else None,
                    "closed_on": day(closed),
                    "closed_position": closed.source.position if closed else None,
                    "pauses": json.dumps(
                        [
                            {"kind": p.kind, "start": p.start.isoformat(), "end": p.end.isoformat() if p.end else None}
                            for p in pauses
                        ]
                    ),
                    "flow_code": None,
                    "flow_version": None,
                }
            )
        return rows

    def _steps_of(self, cur: Cursor, ref: str) -> list[dict[str, Any]]:
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
