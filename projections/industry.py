"""industry — the industry systems across projects (issue 9): drawing sets (state, version,
discipline, case, approved hashes, last file check), BIM models and their findings (rule, IFC
element, value, limit; open until a later model of the same project and stage replaces them), the
joint survey's results and discrepancies, and the multi-plan platform's opinions and control lines.

A project's region comes from `Project.Generated` (own table, joined at query time): multi-plan
messages may arrive before generation, and a join needs no row updates when the project appears.
Consumes: Project.Generated, DrawingSet.*, BimReview.*, JointSurvey.*, MultiPlanRecord.*.
Tables: `ind_projects`, `ind_records`, `ind_drawing_sets`, `ind_bim_models`, `ind_bim_findings`,
`ind_surveys`, `ind_opinions`, `ind_control_lines`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from domain.industry.bim import BimReview
from domain.industry.drawings import DrawingSet
from domain.industry.facts import dec
from domain.industry.multiplan import MultiPlanRecord
from domain.industry.survey import JointSurvey, survey_facts
from domain.projects import Project
from infrastructure.db import Cursor, Database
from projections.base import Envelope, Events, ReadModel, Rows, bigint, to_json

FINDINGS_PER_EVENT = 100_000  # a finding's seq: position * this + its index (one cursor order)
AGGREGATES = Events(DrawingSet, BimReview, JointSurvey, MultiPlanRecord)
# the events that open a record (one per aggregate), and its kind
RECORD_KINDS: dict[type[Any], str] = {
    BimReview.Opened: "bim",
    MultiPlanRecord.Opened: "multiplan",
    JointSurvey.Recorded: "survey",
}

RECORD_COLUMNS = ("record_id", "kind", "project_code", "approved_design", "position")
DRAWING_COLUMNS = (
    "set_id", "case_id", "project_code", "discipline", "status", "version", "set_hash", "sheets", "sheet_count",
    "comments", "open_comments", "approved_version", "approved_set_hash", "approved_sheets", "design_institute",
    "institute_uscc", "check_intact", "check_changed", "check_position", "position", "last_position",
)  # fmt: skip
MODEL_COLUMNS = (
    "model_id", "project_code", "stage", "case_id", "file_name", "file_sha256", "schema_name", "height_m",
    "gross_floor_area_m2", "finding_count", "compared_with", "approved", "submitted_at", "position", "last_position",
)  # fmt: skip
FINDING_COLUMNS = (
    "seq", "model_id", "project_code", "stage", "rule", "global_id", "ifc_type", "element_name", "field",
    "value", "limit_value", "zone_code", "message", "open", "closed_position", "position",
)  # fmt: skip
SURVEY_COLUMNS = (
    "project_code", "surveyor", "surveyor_uscc", "report_number", "surveyed_on", "footprint_area_m2",
    "gross_floor_area_m2", "height_m", "building_count", "findings", "finding_count", "corrections",
    "position", "last_position",
)  # fmt: skip
OPINION_COLUMNS = (
    "opinion_key", "project_code", "department", "conclusion", "opinion", "conditions", "document_number",
    "issued_on", "position", "last_position",
)  # fmt: skip
LINE_COLUMNS = ("line_key", "project_code", "code", "kind", "name", "geometry", "position", "last_position")


def _pairs(sheets: list[dict[str, Any]]) -> str:
    return to_json([[s["number"], s["sha256"]] for s in sheets])


class Industry(ReadModel):
    name = "industry"
    tables = (
        "ind_projects", "ind_records", "ind_drawing_sets", "ind_bim_models", "ind_bim_findings", "ind_surveys",
        "ind_opinions", "ind_control_lines",
    )  # fmt: skip
    reads = AGGREGATES | Events(Project.Generated)

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        big = bigint(dialect)
        pos = f"position {big} NOT NULL, last_position {big} NOT NULL"
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS ind_projects (code TEXT PRIMARY KEY, region_code TEXT NOT NULL, position {big} NOT NULL)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS ind_records (record_id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
            f" project_code TEXT NOT NULL, approved_design TEXT, position {big} NOT NULL)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS ind_drawing_sets (set_id TEXT PRIMARY KEY, case_id TEXT NOT NULL,"
            " project_code TEXT NOT NULL, discipline TEXT NOT NULL, status TEXT NOT NULL, version INTEGER NOT NULL,"
            " set_hash TEXT NOT NULL, sheets TEXT NOT NULL, sheet_count INTEGER NOT NULL, comments INTEGER NOT NULL,"
            " open_comments INTEGER NOT NULL, approved_version INTEGER, approved_set_hash TEXT, approved_sheets TEXT,"
            " design_institute TEXT NOT NULL, institute_uscc TEXT NOT NULL, check_intact INTEGER, check_changed TEXT,"
            f" check_position {big}, {pos})"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS ind_bim_models (model_id TEXT PRIMARY KEY, project_code TEXT NOT NULL,"
            " stage TEXT NOT NULL, case_id TEXT, file_name TEXT NOT NULL, file_sha256 TEXT NOT NULL,"
            " schema_name TEXT NOT NULL, height_m TEXT NOT NULL, gross_floor_area_m2 TEXT NOT NULL,"
            " finding_count INTEGER NOT NULL, compared_with TEXT, approved INTEGER NOT NULL,"
            f" submitted_at TEXT NOT NULL, {pos})"
        )
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS ind_bim_findings (seq {big} PRIMARY KEY, model_id TEXT NOT NULL,"
            " project_code TEXT NOT NULL, stage TEXT NOT NULL, rule TEXT NOT NULL, global_id TEXT NOT NULL,"
            " ifc_type TEXT NOT NULL, element_name TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,"
            " limit_value TEXT NOT NULL, zone_code TEXT, message TEXT NOT NULL, open INTEGER NOT NULL,"
            f" closed_position {big}, position {big} NOT NULL)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS ind_surveys (project_code TEXT PRIMARY KEY, surveyor TEXT NOT NULL,"
            " surveyor_uscc TEXT NOT NULL, report_number TEXT NOT NULL, surveyed_on TEXT NOT NULL,"
            " footprint_area_m2 TEXT NOT NULL, gross_floor_area_m2 TEXT NOT NULL, height_m TEXT NOT NULL,"
            " building_count INTEGER NOT NULL, findings TEXT NOT NULL, finding_count INTEGER NOT NULL,"
            f" corrections INTEGER NOT NULL, {pos})"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS ind_opinions (opinion_key TEXT PRIMARY KEY, project_code TEXT NOT NULL,"
            " department TEXT NOT NULL, conclusion TEXT NOT NULL, opinion TEXT NOT NULL, conditions TEXT NOT NULL,"
            f" document_number TEXT NOT NULL, issued_on TEXT NOT NULL, {pos})"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS ind_control_lines (line_key TEXT PRIMARY KEY, project_code TEXT NOT NULL,"
            f" code TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, geometry TEXT NOT NULL, {pos})"
        )
        for table in ("ind_drawing_sets", "ind_bim_models", "ind_surveys", "ind_opinions", "ind_control_lines"):
            cur.execute(f"CREATE INDEX IF NOT EXISTS {table}_project ON {table} (project_code)")
        cur.execute("CREATE INDEX IF NOT EXISTS ind_bim_findings_open ON ind_bim_findings (project_code, stage, open)")

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        mine = AGGREGATES.of(batch)
        generated = [env for env in batch if isinstance(env.event, Project.Generated)]
        projects = [(cast(Any, env.event).code, cast(Any, env.event).region_code, env.position) for env in generated]
        cur.insert_rows("ind_projects", ("code", "region_code", "position"), projects)
        if not mine:
            return
        w = _Writer(cur)
        ids = {str(cast(Any, env.event).originator_id) for env in mine}
        w.records.load(cur, ids)
        w.drawings.load(cur, ids)
        for env in mine:
            w.apply(env)
        w.flush()


class _Writer:
    """One batch's rows: each table read once, changed in memory, written once."""

    def __init__(self, cur: Cursor) -> None:
        self.cur = cur
        self.records = Rows("ind_records", "record_id", RECORD_COLUMNS)
        self.drawings = Rows("ind_drawing_sets", "set_id", DRAWING_COLUMNS)
        self.models = Rows("ind_bim_models", "model_id", MODEL_COLUMNS)
        self.surveys = Rows("ind_surveys", "project_code", SURVEY_COLUMNS)
        self.opinions = Rows("ind_opinions", "opinion_key", OPINION_COLUMNS)
        self.lines = Rows("ind_control_lines", "line_key", LINE_COLUMNS)
        self.findings: list[dict[str, Any]] = []  # new this batch

    def flush(self) -> None:
        for rows in (self.records, self.drawings, self.models, self.surveys, self.opinions, self.lines):
            rows.flush(self.cur)
        self.cur.insert_rows(
            "ind_bim_findings", FINDING_COLUMNS, [tuple(f[c] for c in FINDING_COLUMNS) for f in self.findings]
        )

    def project_of(self, e: Any) -> str:
        row = self.records.get(self.cur, str(e.originator_id))
        if row is None:
            raise LookupError(f"industry record {e.originator_id} not in the read model")
        return str(row["project_code"])

    def apply(self, env: Envelope) -> None:
        e: Any = env.event
        kind = RECORD_KINDS.get(type(e))
        if isinstance(env.event, DrawingSet.Event):
            self._drawing(e, env.position)
        elif kind is not None:
            record = {"record_id": str(e.originator_id), "kind": kind, "project_code": e.project_code}
            self.records.insert({**record, "approved_design": None, "position": env.position})
            if isinstance(env.event, JointSurvey.Recorded):
                self._survey(e, env.position, new=True)
        elif isinstance(env.event, BimReview.Event):
            self._bim(e, env.position)
        elif isinstance(env.event, JointSurvey.Corrected):
            self._survey(e, env.position, new=False)
        elif isinstance(env.event, MultiPlanRecord.OpinionReceived):
            code = self.project_of(e)
            key = f"{code}|{e.department}"
            row = {
                "opinion_key": key, "project_code": code, "department": e.department, "conclusion": e.conclusion,
                "opinion": e.opinion, "conditions": to_json(list(e.conditions)), "document_number": e.document_number,
                "issued_on": e.issued_on.isoformat(), "last_position": env.position,
            }  # fmt: skip
            self._upsert(self.opinions, key, row, env.position)
        elif isinstance(env.event, MultiPlanRecord.ControlLineReceived):
            code = self.project_of(e)
            key = f"{code}|{e.code}"
            row = {
                "line_key": key, "project_code": code, "code": e.code, "kind": e.kind, "name": e.name,
                "geometry": to_json(e.geometry), "last_position": env.position,
            }  # fmt: skip
            self._upsert(self.lines, key, row, env.position)

    def _upsert(self, rows: Rows, key: str, row: dict[str, Any], position: int) -> None:
        if rows.get(self.cur, key) is None:
            rows.insert({**row, "position": position})
        else:
            rows.update(key, row)

    def _drawing(self, e: Any, position: int) -> None:
        key = str(e.originator_id)
        if isinstance(e, DrawingSet.Delivered):
            self.drawings.insert(
                {
                    "set_id": key, "case_id": e.case_id, "project_code": e.project_code, "discipline": e.discipline,
                    "status": "under_review", "version": 1, "set_hash": e.set_hash, "sheets": _pairs(e.sheets),
                    "sheet_count": len(e.sheets), "comments": 0, "open_comments": 0, "approved_version": None,
                    "approved_set_hash": None, "approved_sheets": None, "design_institute": e.design_institute,
                    "institute_uscc": e.institute_uscc, "check_intact": None, "check_changed": None,
                    "check_position": None, "position": position, "last_position": position,
                }
            )  # fmt: skip
            return
        row = self.drawings.rows.get(key)
        if row is None:
            raise LookupError(f"drawing set {key} not in the industry read model")
        changes: dict[str, Any] = {"last_position": position}
        if isinstance(e, DrawingSet.SheetCommented):
            changes |= {"comments": row["comments"] + 1, "open_comments": row["open_comments"] + 1}
        elif isinstance(e, DrawingSet.RevisionRequested):
            changes["status"] = "revision_requested"
        elif isinstance(e, DrawingSet.RevisionDelivered):
            changes |= {
                "status": "under_review", "version": e.version, "set_hash": e.set_hash, "sheets": _pairs(e.sheets),
                "sheet_count": len(e.sheets), "open_comments": 0,
            }  # fmt: skip
        elif isinstance(e, DrawingSet.Approved):
            changes |= {
                "status": "approved", "approved_version": e.version, "approved_set_hash": e.set_hash,
                "approved_sheets": row["sheets"],
            }  # fmt: skip
        elif isinstance(e, DrawingSet.FilesChecked):
            changed = sorted([c["sheet_number"] for c in e.changed] + list(e.missing))
            changes |= {"check_intact": int(not changed), "check_changed": to_json(changed), "check_position": position}
        self.drawings.update(key, changes)

    def _bim(self, e: Any, position: int) -> None:
        code = self.project_of(e)
        if isinstance(e, BimReview.DesignApproved):
            record = self.records.rows[str(e.originator_id)]
            assert record is not None
            before = record["approved_design"]
            if before and self.models.get(self.cur, before) is not None:
                self.models.update(before, {"approved": 0, "last_position": position})
            if self.models.get(self.cur, e.model_id) is not None:
                self.models.update(e.model_id, {"approved": 1, "last_position": position})
            self.records.update(str(e.originator_id), {"approved_design": e.model_id})
            return
        if not isinstance(e, BimReview.ModelSubmitted):
            return
        facts = e.facts
        self.models.insert(
            {
                "model_id": e.model_id, "project_code": code, "stage": e.stage, "case_id": e.case_id,
                "file_name": e.file_name, "file_sha256": e.file_sha256, "schema_name": facts["schema"],
                "height_m": facts["height_m"], "gross_floor_area_m2": facts["gross_floor_area_m2"],
                "finding_count": len(e.findings), "compared_with": e.compared_with, "approved": 0,
                "submitted_at": e.timestamp.isoformat(), "position": position, "last_position": position,
            }
        )  # fmt: skip
        # the newer model of a stage replaces the older ones: their findings are no longer open
        self.cur.execute(
            "UPDATE ind_bim_findings SET open = 0, closed_position = ? WHERE project_code = ? AND stage = ? AND open = 1",
            (position, code, e.stage),
        )
        for f in self.findings:
            if f["project_code"] == code and f["stage"] == e.stage and f["open"]:
                f |= {"open": 0, "closed_position": position}
        for i, f in enumerate(e.findings):
            element = f.get("element") or {}
            self.findings.append(
                {
                    "seq": position * FINDINGS_PER_EVENT + i, "model_id": e.model_id, "project_code": code,
                    "stage": e.stage, "rule": f["rule"], "global_id": element.get("global_id", ""),
                    "ifc_type": element.get("ifc_type", ""), "element_name": element.get("name", ""),
                    "field": f.get("field", ""), "value": f.get("value", ""), "limit_value": f.get("limit", ""),
                    "zone_code": f.get("zone_code"), "message": f.get("message", ""), "open": 1,
                    "closed_position": None, "position": position,
                }
            )  # fmt: skip

    def _survey(self, e: Any, position: int, *, new: bool) -> None:
        code = e.project_code if new else self.project_of(e)
        facts = survey_facts(e.buildings)
        row = {
            "report_number": e.report_number, "surveyed_on": e.surveyed_on.isoformat(),
            "footprint_area_m2": e.footprint_area_m2, "gross_floor_area_m2": str(dec(facts.gross_floor_area_m2)),
            "height_m": str(dec(facts.height_m)), "building_count": len(e.buildings), "findings": to_json(e.findings),
            "finding_count": len(e.findings), "last_position": position,
        }  # fmt: skip
        if new:
            self.surveys.insert(
                {**row, "project_code": code, "surveyor": e.surveyor, "surveyor_uscc": e.surveyor_uscc,
                 "corrections": 0, "position": position}
            )  # fmt: skip
            return
        current = self.surveys.get(self.cur, code)
        assert current is not None, f"joint survey of {code} not in the industry read model"
        self.surveys.update(code, {**row, "corrections": current["corrections"] + 1})


# --- queries --------------------------------------------------------------------------------------


class IndustryView:
    """Queries of the industry read model; `regions`: the region codes in scope (None: all)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _page(
        self,
        table: str,
        order: str,
        conditions: dict[str, Any],
        regions: Sequence[str] | None,
        after: int,
        first: int,
        extra: Sequence[str] = (),
    ) -> tuple[list[dict[str, Any]], bool, int]:
        where, params = (
            [f"t.{c} = ?" for c, v in conditions.items() if v is not None],
            [v for v in conditions.values() if v is not None],
        )
        where += list(extra)
        if regions is not None:
            where.append(f"p.region_code IN ({', '.join('?' for _ in regions)})")
            params += list(regions)
        base = f"FROM {table} t LEFT JOIN ind_projects p ON p.code = t.project_code"
        clause = " AND ".join(where) or "1 = 1"
        rows = self.db.query(
            f"SELECT t.*, p.region_code AS region_code {base} WHERE t.{order} > ? AND {clause}"
            f" ORDER BY t.{order} LIMIT ?",
            [after, *params, first + 1],
        )
        total = self.db.query(f"SELECT COUNT(*) AS n {base} WHERE {clause}", params)
        return rows[:first], len(rows) > first, int(total[0]["n"])

    def drawing_sets(
        self, *, regions: Sequence[str] | None = None, project_code: str | None = None, case_id: str | None = None,
        status: str | None = None, discipline: str | None = None, after: int = 0, first: int = 20,
    ) -> tuple[list[dict[str, Any]], bool, int]:  # fmt: skip
        conditions = {"project_code": project_code, "case_id": case_id, "status": status, "discipline": discipline}
        return self._page("ind_drawing_sets", "position", conditions, regions, after, first)

    def bim_findings(
        self, *, regions: Sequence[str] | None = None, project_code: str | None = None, rule: str | None = None,
        stage: str | None = None, open_only: bool = True, after: int = 0, first: int = 20,
    ) -> tuple[list[dict[str, Any]], bool, int]:  # fmt: skip
        conditions = {"project_code": project_code, "rule": rule, "stage": stage, "open": 1 if open_only else None}
        return self._page("ind_bim_findings", "seq", conditions, regions, after, first)

    def bim_models(
        self, *, regions: Sequence[str] | None = None, project_code: str | None = None, stage: str | None = None,
        after: int = 0, first: int = 20,
    ) -> tuple[list[dict[str, Any]], bool, int]:  # fmt: skip
        conditions = {"project_code": project_code, "stage": stage}
        return self._page("ind_bim_models", "position", conditions, regions, after, first)

    def surveys(
        self, *, regions: Sequence[str] | None = None, project_code: str | None = None,
        with_findings: bool = False, after: int = 0, first: int = 20,
    ) -> tuple[list[dict[str, Any]], bool, int]:  # fmt: skip
        extra = ["t.finding_count > 0"] if with_findings else []
        return self._page("ind_surveys", "position", {"project_code": project_code}, regions, after, first, extra)

    def opinions(
        self, *, regions: Sequence[str] | None = None, project_code: str | None = None,
        conclusion: str | None = None, after: int = 0, first: int = 20,
    ) -> tuple[list[dict[str, Any]], bool, int]:  # fmt: skip
        conditions = {"project_code": project_code, "conclusion": conclusion}
        return self._page("ind_opinions", "position", conditions, regions, after, first)

    def control_lines(
        self, *, regions: Sequence[str] | None = None, project_code: str | None = None, kind: str | None = None,
        after: int = 0, first: int = 20,
    ) -> tuple[list[dict[str, Any]], bool, int]:  # fmt: skip
        conditions = {"project_code": project_code, "kind": kind}
        return self._page("ind_control_lines", "position", conditions, regions, after, first)

    def overviews(self, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The project overview's industry summary for many projects, one query per table."""
        out: dict[str, dict[str, Any]] = {
            c: {"opinions": [], "control_lines": [], "drawing_sets": [], "open_bim_findings": 0, "survey": None}
            for c in codes
        }
        if not codes:
            return out
        marks, params = ", ".join("?" for _ in codes), list(codes)

        def rows(sql: str) -> list[dict[str, Any]]:
            return self.db.query(sql.format(marks=marks), params)

        for r in rows("SELECT * FROM ind_opinions WHERE project_code IN ({marks}) ORDER BY position"):
            out[r["project_code"]]["opinions"].append(r)
        for r in rows("SELECT * FROM ind_control_lines WHERE project_code IN ({marks}) ORDER BY position"):
            out[r["project_code"]]["control_lines"].append(r)
        for r in rows("SELECT * FROM ind_drawing_sets WHERE project_code IN ({marks}) ORDER BY position"):
            out[r["project_code"]]["drawing_sets"].append(r)
        for r in rows(
            "SELECT project_code, COUNT(*) AS n FROM ind_bim_findings WHERE open = 1 AND project_code IN ({marks})"
            " GROUP BY project_code"
        ):
            out[r["project_code"]]["open_bim_findings"] = int(r["n"])
        for r in rows("SELECT * FROM ind_surveys WHERE project_code IN ({marks})"):
            out[r["project_code"]]["survey"] = r
        return out

    def open_counts(self, regions: Sequence[str] | None) -> dict[str, list[tuple[str, int]]]:
        """数据质量: open BIM findings and survey discrepancies per project (projects in scope)."""
        scope, params = "", list(regions or [])
        if regions is not None:
            scope = f" AND p.region_code IN ({', '.join('?' for _ in regions)})"
        join = "LEFT JOIN ind_projects p ON p.code = t.project_code"
        bim = self.db.query(
            f"SELECT t.project_code, COUNT(*) AS n FROM ind_bim_findings t {join} WHERE t.open = 1{scope}"  # noqa: S608
            " GROUP BY t.project_code ORDER BY t.project_code",
            params,
        )
        survey = self.db.query(
            f"SELECT t.project_code, t.finding_count AS n FROM ind_surveys t {join} WHERE t.finding_count > 0{scope}"  # noqa: S608
            " ORDER BY t.project_code",
            params,
        )
        return {
            "bim": [(r["project_code"], int(r["n"])) for r in bim],
            "survey": [(r["project_code"], int(r["n"])) for r in survey],
        }


def sheets_of(text: str | None) -> list[dict[str, str]]:
    return [{"number": n, "sha256": h} for n, h in json.loads(text)] if text else []
