"""offline_warnings — approvals that happened outside the system (体外循环, 隐形审批, 先批后录) and
other anomalies the log proves: rules W1–W10 (docs/supervision.md), thresholds in warning_rules.toml.

Each warning has a stable id (rule + sha1 of its subject keys: the same on every replay), the log
positions of the events that prove it, and a status: open → acknowledged → in_inquiry →
closed_explained (WarningDisposition events), or `resolved` when a later fact removes the evidence
(a missing upstream number appears, a duplicate code is merged). Handlers never read the clock:
"overdue as of today" is a query-time flag, not a stored warning.

Cases are judged by the flow version they were pinned to (stage limits and milestone rules, item
stages, departments, prerequisites: `ow_flows`, from the Process events); unpinned cases by the seed.

Consumes: Project.Generated, Project.LandSupplied, Project.MergedInto, Case.*, ExternalRecord.Reported,
ExternalRecord.Amended, SpglRow.Imported / Corrected (projects, cases, status rows, approval
documents, certificates: a city's fact counts like ours — W1 matches a certificate against the
city's cases and approval documents, W4 counts the city's approvals as prerequisites),
WarningDisposition.Acknowledged / LinkedToInquiry / ClosedAsExplained, Process.Published / VersionPublished.
Tables: `warnings`; facts the rules need: `ow_projects`, `ow_cases`, `ow_numbers`, `ow_records`,
`ow_citations`, `ow_flows`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

from domain.approvals import CaseClock, Pause
from domain.catalog import CATALOG
from domain.catalog.catalog import MAIN_STAGES
from domain.catalog.rules import SEED_RULES, FlowRules, stage_closing
from domain.exchange import spgl
from domain.shared.events import SHANGHAI
from domain.shared.reference import REFERENCE
from domain.shared.workdays import is_workday, workdays_between
from domain.supervision.names import similarity as name_similarity
from infrastructure.db import Cursor
from projections.base import Envelope, ReadModel, bigint, fetch_together, to_json
from projections.case_timeline import regions_within
from projections.rules import THRESHOLDS, Thresholds, explain, red_line_overlap

CERTIFICATES = frozenset(
    {
        "license",
        "planning_permit",
        "drawing_review_certificate",
        "construction_permit",
        "completion_filing",
        "real_estate_registration",
        "tender_award",
    }
)
KIND_NAMES = {
    "license": "电子证照",
    "planning_permit": "规划许可证",
    "drawing_review_certificate": "施工图审查合格书",
    "construction_permit": "施工许可证",
    "completion_filing": "竣工验收备案",
    "real_estate_registration": "不动产登记",
    "tender_award": "中标通知书",
    "status_row": "办件状态",
}
APPROVALS = frozenset({"Approved", "ApprovedPendingMaterials"})
# BLZT of an imported status row that closes a case with an approval: 办结（通过）, 办结（容缺通过）
APPROVING_STATUSES = frozenset({11, 12})
DECISIONS = APPROVALS | {"Refused"}
CLOSINGS = DECISIONS | {"Withdrawn"}  # the case leaves the departments' hands
DISPOSITIONS = {
    "WarningDisposition.Acknowledged": "acknowledged",
    "WarningDisposition.LinkedToInquiry": "in_inquiry",
    "WarningDisposition.ClosedAsExplained": "closed_explained",
}
AUTO_RESOLVABLE = ("open", "acknowledged")
CASE_CREATED = frozenset({"Case.Received", "Case.BackEntered"})
CASE_COLUMNS = (
    "case_id", "project_code", "item_code", "department", "region_code", "created_position", "created_on",
    "received_at", "accepted_position", "accepted_on", "limit_days", "pauses", "status_times", "corrections",
    "approved_on", "approved_position", "closed_on", "closed_position", "flow_code", "flow_version",
)  # fmt: skip
CASE_CHANGES = CASE_COLUMNS[8:-2]  # what the case's later events change (not its pin)
CASE_EVENTS = frozenset({"Case.Approved", "Case.ApprovedPendingMaterials", "Case.BackEntered"})
RECORD_EVENTS = frozenset({"ExternalRecord.Reported", "ExternalRecord.Amended"})
PRELOAD_FROM = 50  # events: a batch this large reads its projects' facts up front, a smaller one on demand


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


def warning_id(rule: str, *keys: str) -> str:
    return f"{rule}-" + hashlib.sha1("|".join((rule, *keys)).encode()).hexdigest()[:20]  # noqa: S324 — an id, not a secret


def _code_region(project_code: str | None) -> str | None:
    """The division segment of a national project code (`2611-460100-…`), for codes never generated."""
    parts = (project_code or "").split("-")
    return parts[1] if len(parts) > 1 and len(parts[1]) == 6 and parts[1].isdigit() else None


def _day(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


def _business_day(text: str) -> str:
    """The date of an SPGL business time or date (BLSJ, PFRQ): local time unless it names an offset."""
    moment = datetime.fromisoformat(text)
    return (moment.astimezone(SHANGHAI) if moment.tzinfo else moment).date().isoformat()


def _local(moment: datetime) -> str:
    """A time as officers read it: Asia/Shanghai, to the second, with its offset."""
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


def _running_days(accepted: date, until: date, pauses: list[dict[str, Any]]) -> set[date]:
    """The working days in (accepted, until] outside the case's pauses (pause start, end], as CaseClock."""
    days = {accepted + timedelta(days=n) for n in range(1, (until - accepted).days + 1)}  # 受理次日起算
    for p in pauses:
        start, end = date.fromisoformat(p["start"]), date.fromisoformat(p["end"]) if p["end"] else until
        days -= {start + timedelta(days=n) for n in range(1, (end - start).days + 1)}
    return {d for d in days if is_workday(d)}


def _days_in_hand(cases: list[dict[str, Any]], closing: tuple[str, int]) -> tuple[int, str, list[int]]:
    """Working days in the union of the days the cases' own clocks ran, from acceptance to decision
    (or the closing approval); the first acceptance date counted; the positions of the acceptances
    and decisions counted."""
    end = date.fromisoformat(closing[0])
    covered: set[date] = set()
    starts, proof = [], [closing[1]]
    for c in cases:
        if c["accepted_on"] is None or c["accepted_on"] >= closing[0]:
            continue
        accepted = date.fromisoformat(c["accepted_on"])
        until = min(date.fromisoformat(c["closed_on"]), end) if c["closed_on"] else end
        days = _running_days(accepted, until, json.loads(c["pauses"]))
        if not days:
            continue
        covered.update(days)
        starts.append(c["accepted_on"])
        # a back-entry has no acceptance event: its creation proves the acceptance date
        proof.append(c["accepted_position"] or c["created_position"])
        if c["closed_position"] is not None and c["closed_position"] <= closing[1]:
            proof.append(c["closed_position"])
    return len(covered), min(starts, default=closing[0]), proof


class OfflineWarnings(ReadModel):
    name = "offline_warnings"
    tables = ("warnings", "ow_projects", "ow_cases", "ow_numbers", "ow_records", "ow_citations", "ow_flows")
    # 2: cases keep their pinned flow version; flows come from the catalogue events;
    # 3: times in explanations all in Asia/Shanghai (business and recording time in one offset);
    # 4: imported approval documents and the approval date of imported cases are facts (W1, W4)
    shape = 4

    def __init__(self, db: Any, thresholds: Thresholds = THRESHOLDS) -> None:
        super().__init__(db)
        self.t = thresholds
        # the batch's copies (see _begin), empty between batches
        self._cases: dict[str, dict[str, Any]] = {}
        self._warnings: dict[str, dict[str, Any]] = {}
        self._complete: set[str] = set()
        self._seq: int | None = None
        # ow_cases rows are changed here and written back once per batch (`_flush`); every read of
        # ow_cases in a batch goes through these copies, or flushes first
        self._by_project: dict[str, list[str]] = {}  # project code → every case id, for projects read whole
        self._new: list[str] = []  # created in this batch, not inserted yet
        self._dirty: set[str] = set()  # changed in this batch, not written yet
        self._projects: dict[str, dict[str, Any] | None] = {}  # code → region_code, flow_type (None: none)
        self._records: dict[str, list[dict[str, Any]]] = {}  # project code → its ow_records facts
        self._cited: dict[str, list[str]] = {}  # number → record ids citing it
        self._numbers: dict[str, tuple[int, str | None]] = {}  # ow_numbers rows not inserted yet
        # flow versions never change: kept across batches, read from ow_flows (whole) on a miss
        self._flows: dict[tuple[str, str], FlowRules] = {}
        self._flows_read = False  # ow_flows read whole in this batch: a miss is the unrecorded seed

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        big = bigint(dialect)
        cur.execute(
            "CREATE TABLE IF NOT EXISTS warnings ("
            f" warning_id TEXT PRIMARY KEY, seq {big} NOT NULL, rule TEXT NOT NULL, severity TEXT NOT NULL,"
            " reason TEXT NOT NULL, subject TEXT NOT NULL, project_code TEXT, case_id TEXT, region_code TEXT,"
            " department TEXT, explanation TEXT NOT NULL, evidence TEXT NOT NULL, status TEXT NOT NULL,"
            f" inquiry_id TEXT, raised_position {big} NOT NULL, raised_at TEXT NOT NULL,"
            f" updated_position {big} NOT NULL, resolved_position {big})"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS warnings_seq ON warnings (seq)")
        cur.execute("CREATE INDEX IF NOT EXISTS warnings_rule_region ON warnings (rule, region_code)")
        cur.execute("CREATE INDEX IF NOT EXISTS warnings_project ON warnings (project_code)")
        cur.execute(
            "CREATE TABLE IF NOT EXISTS ow_projects (code TEXT PRIMARY KEY, project_id TEXT NOT NULL, owner_uscc TEXT NOT NULL,"
            f" name TEXT NOT NULL, region_code TEXT NOT NULL, red_line TEXT, position {big} NOT NULL,"
            " merged_into TEXT, flow_type INTEGER)"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS ow_projects_owner ON ow_projects (owner_uscc)")
        cur.execute("CREATE INDEX IF NOT EXISTS ow_projects_id ON ow_projects (project_id)")
        cur.execute(
            "CREATE TABLE IF NOT EXISTS ow_cases (case_id TEXT PRIMARY KEY, project_code TEXT NOT NULL,"
            " item_code TEXT NOT NULL, department TEXT NOT NULL, region_code TEXT NOT NULL,"
            f" created_position {big} NOT NULL, created_on TEXT NOT NULL, received_at TEXT,"
            f" accepted_position {big}, accepted_on TEXT, limit_days INTEGER, pauses TEXT NOT NULL,"
            " status_times TEXT NOT NULL, corrections TEXT NOT NULL, approved_on TEXT,"
            f" approved_position {big}, closed_on TEXT, closed_position {big}, flow_code TEXT, flow_version TEXT)"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS ow_cases_project ON ow_cases (project_code, item_code)")
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS ow_numbers (number TEXT PRIMARY KEY, position {big} NOT NULL, issued_on TEXT)"
        )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS ow_records (record_id TEXT PRIMARY KEY, kind TEXT NOT NULL,"
            " project_code TEXT, item_code TEXT, number TEXT, issued_on TEXT, case_ref TEXT,"
            f" status_code INTEGER, source_system TEXT, department TEXT, position {big} NOT NULL)"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS ow_records_project ON ow_records (project_code, item_code)")
        cur.execute("CREATE INDEX IF NOT EXISTS ow_records_case_ref ON ow_records (source_system, case_ref)")
        # an imported case by its id, whatever the system (its status and document rows find it)
        cur.execute("CREATE INDEX IF NOT EXISTS ow_records_ref ON ow_records (case_ref)")
        cur.execute(
            "CREATE TABLE IF NOT EXISTS ow_citations (record_id TEXT NOT NULL, field TEXT NOT NULL,"
            " number TEXT NOT NULL, PRIMARY KEY (record_id, field))"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS ow_citations_number ON ow_citations (number)")
        cur.execute(
            "CREATE TABLE IF NOT EXISTS ow_flows (code TEXT NOT NULL, version TEXT NOT NULL, process_id TEXT NOT NULL,"
            f" rules TEXT NOT NULL, position {big} NOT NULL, PRIMARY KEY (code, version))"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS ow_flows_process ON ow_flows (process_id)")

    # --- dispatch ---------------------------------------------------------------------------

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        self._begin(cur, batch)
        try:
            self._dispatch(cur, batch)
            self._flush(cur)
        finally:  # per batch only: another runner may write these tables between two batches
            self._cases, self._warnings, self._complete, self._seq = {}, {}, set(), None
            self._by_project, self._new, self._dirty = {}, [], set()
            self._projects, self._records, self._cited, self._numbers = {}, {}, {}, {}
            self._flows_read = False

    def _flush(self, cur: Cursor) -> None:
        """Write the batch's new and changed ow_cases rows (before any SQL reads ow_cases) and the
        numbers it made known."""
        if self._new:
            cur.insert_rows("ow_cases", CASE_COLUMNS, [[self._cases[i][c] for c in CASE_COLUMNS] for i in self._new])
        changed = sorted(self._dirty.difference(self._new))
        if changed:
            cur.executemany(
                f"UPDATE ow_cases SET {', '.join(f'{c} = ?' for c in CASE_CHANGES)} WHERE case_id = ?",  # noqa: S608
                [[*(self._cases[i][c] for c in CASE_CHANGES), i] for i in changed],
            )
        self._new, self._dirty = [], set()
        if self._numbers:  # the first position of a number stays (DO NOTHING), as when inserted at once
            cur.executemany(
                "INSERT INTO ow_numbers (number, position, issued_on) VALUES (?, ?, ?) ON CONFLICT (number) DO NOTHING",
                [(number, *known) for number, known in self._numbers.items()],
            )
            self._numbers = {}

    def _cases_of(self, cur: Cursor, code: str) -> list[dict[str, Any]]:
        """Every ow_cases row of the project, in order of creation (read once per batch)."""
        ids = self._by_project.get(code)
        if ids is None:
            self._flush(cur)  # the table now equals the copies, which it may replace
            cur.execute("SELECT * FROM ow_cases WHERE project_code = ?", (code,))
            ids = self._by_project[code] = []
            for row in cur.fetchall():
                self._cases[row["case_id"]] = row
                ids.append(row["case_id"])
        return sorted((self._cases[i] for i in ids), key=lambda c: int(c["created_position"]))

    def _project_facts(self, cur: Cursor, code: str) -> dict[str, Any] | None:
        if code not in self._projects:
            cur.execute("SELECT code, region_code, flow_type FROM ow_projects WHERE code = ?", (code,))
            self._projects[code] = cur.fetchone()
        return self._projects[code]

    def _records_of(self, cur: Cursor, code: str) -> list[dict[str, Any]]:
        """The project's ow_records facts, in log order (dropped whenever ow_records is written)."""
        if code not in self._records:
            cur.execute(
                "SELECT record_id, project_code, item_code, issued_on, position, kind FROM ow_records"
                " WHERE project_code = ? ORDER BY position",
                (code,),
            )
            self._records[code] = cur.fetchall()
        return self._records[code]

    def _citing(self, cur: Cursor, number: str) -> list[str]:
        if number not in self._cited:
            cur.execute("SELECT DISTINCT record_id FROM ow_citations WHERE number = ? ORDER BY record_id", (number,))
            self._cited[number] = [r["record_id"] for r in cur.fetchall()]
        return self._cited[number]

    def _preload(self, cur: Cursor, codes: list[str], numbers: list[str]) -> None:
        """A large batch (a rebuild) reads its projects' cases, facts and records, and the citations
        of its numbers, in a few queries rather than a few per project."""
        for part in _chunks(codes):
            marks = _marks(part)
            self._by_project.update({code: [] for code in part})
            cur.execute(f"SELECT * FROM ow_cases WHERE project_code IN ({marks})", part)  # noqa: S608
            for row in cur.fetchall():
                self._cases[row["case_id"]] = row
                self._by_project[row["project_code"]].append(row["case_id"])
            self._projects.update(dict.fromkeys(part))
            cur.execute(f"SELECT code, region_code, flow_type FROM ow_projects WHERE code IN ({marks})", part)  # noqa: S608
            for row in cur.fetchall():
                self._projects[row["code"]] = row
            self._records.update({code: [] for code in part})
            cur.execute(
                "SELECT record_id, project_code, item_code, issued_on, position, kind FROM ow_records"  # noqa: S608
                f" WHERE project_code IN ({marks}) ORDER BY position",
                part,
            )
            for row in cur.fetchall():
                self._records[row["project_code"]].append(row)
        for part in _chunks(numbers):
            self._cited.update({number: [] for number in part})
            cur.execute(
                f"SELECT DISTINCT record_id, number FROM ow_citations WHERE number IN ({_marks(part)})"  # noqa: S608
                " ORDER BY record_id",
                part,
            )
            for row in cur.fetchall():
                self._cited[row["number"]].append(row["record_id"])

    def _begin(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        """Read up front, in a few queries, the ow_cases rows of the batch's cases and every warning
        of their projects (in a large batch, also the projects' cases, facts, records and the
        citations of the batch's numbers: `_preload`). ow_cases rows change in these copies and are
        written back once (`_flush`); the other tables are written at once and the copies of what
        they hold are kept equal to the rows or dropped."""
        self._cases = {}
        self._warnings = {}
        self._complete = set()
        self._seq = None
        ids = list({str(cast(Any, env.event).originator_id) for env in batch if env.event_type.startswith("Case.")})
        codes = {cast(Any, env.event).project_code for env in batch if env.event_type in CASE_CREATED}
        # independent look-ups, one round trip in a live batch: the cases' projects' warnings are
        # found by a subquery on ow_cases rather than from the case rows read first
        chunks = _chunks(ids)
        cases = [f"SELECT * FROM ow_cases WHERE case_id IN ({_marks(part)})" for part in chunks]  # noqa: S608
        projects = [f"SELECT project_code FROM ow_cases WHERE case_id IN ({_marks(part)})" for part in chunks]  # noqa: S608
        projects += [_marks(part) for part in _chunks(sorted(codes))]
        params = [*chunks, *_chunks(sorted(codes))]
        queries = [*zip(cases, chunks, strict=True)]
        queries += [
            (f"SELECT warning_id, status, evidence FROM warnings WHERE project_code IN ({sub})", part)  # noqa: S608
            for sub, part in zip(projects, params, strict=True)
        ]
        found = fetch_together(cur, queries)
        for rows in found[: len(chunks)]:
            for row in rows:
                self._cases[row["case_id"]] = row
                codes.add(row["project_code"])
        for rows in found[len(chunks) :]:
            for row in rows:
                self._warnings[row["warning_id"]] = {"status": row["status"], "evidence": row["evidence"]}
        known = list(codes)
        self._complete = set(known)
        if len(batch) >= PRELOAD_FROM:
            numbers = {getattr(env.event, "document_number", None) for env in batch if env.event_type in CASE_EVENTS}
            numbers |= {getattr(env.event, "number", None) for env in batch if env.event_type in RECORD_EVENTS}
            self._preload(cur, sorted(known), sorted(n for n in numbers if isinstance(n, str) and n))

    def _case_row(self, cur: Cursor, case_id: str) -> dict[str, Any] | None:
        """A copy of the case's ow_cases row (from the batch's copies, else the table)."""
        row = self._cases.get(case_id)
        if row is None:
            cur.execute("SELECT * FROM ow_cases WHERE case_id = ?", (case_id,))
            row = cur.fetchone()
            if row is None:
                return None
            self._cases[case_id] = row
        return dict(row)

    def _warning(
        self, cur: Cursor, wid: str, keys: tuple[str, ...], project_code: str | None, case_id: str | None
    ) -> dict[str, Any] | None:
        """The warning's status and evidence. Not held while its project's warnings were all read
        means none, for the warnings whose project follows from their keys (a case's, a stage's)."""
        if wid in self._warnings:
            return self._warnings[wid]
        if project_code in self._complete and (
            (case_id is not None and (keys[0] == case_id or keys == ("catalogue", "case", case_id)))
            or (keys[0] in ("stage", "project") and keys[1] == project_code)
        ):
            return None
        cur.execute("SELECT status, evidence FROM warnings WHERE warning_id = ?", (wid,))
        row = cur.fetchone()
        if row is not None:
            self._warnings[wid] = row
        return row

    def _dispatch(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        for env in batch:  # in log order: each rule sees exactly the facts before and at this event
            kind = env.event_type
            if kind.startswith("Case."):
                self._case(cur, env, kind.split(".", 1)[1])
            elif kind == "Project.Generated":
                self._project_generated(cur, env)
            elif kind == "Project.LandSupplied":
                self._land_supplied(cur, env)
            elif kind == "Project.MergedInto":
                self._merged(cur, env)
            elif kind in ("ExternalRecord.Reported", "ExternalRecord.Amended"):
                self._record(cur, env)
            elif kind in ("SpglRow.Imported", "SpglRow.Corrected"):
                self._spgl_row(cur, env)
            elif kind in DISPOSITIONS:
                self._disposition(cur, env, DISPOSITIONS[kind])
            elif kind in ("Process.Published", "Process.VersionPublished"):
                self._flow_published(cur, env)

    # --- flow versions: the rules a pinned case is judged by -----------------------------------

    def _flow_published(self, cur: Cursor, env: Envelope) -> None:
        e: Any = env.event
        process_id = str(e.originator_id)
        code = getattr(e, "code", None)
        if code is None:  # a later version carries only the aggregate id
            cur.execute("SELECT code FROM ow_flows WHERE process_id = ? LIMIT 1", (process_id,))
            code = cast(dict[str, Any], cur.fetchone())["code"]
        rules = FlowRules.of(e.definition)
        version = str(e.definition["version"])
        cur.execute(
            "INSERT INTO ow_flows (code, version, process_id, rules, position) VALUES (?, ?, ?, ?, ?)",
            (code, version, process_id, rules.to_json(), env.position),
        )
        self._flows[(code, version)] = rules

    def _rules(self, cur: Cursor, case: dict[str, Any]) -> FlowRules:
        """The rules of the flow version the case was pinned to; the seed's for unpinned cases."""
        code, version = case.get("flow_code"), case.get("flow_version")
        if code is None or version is None:
            return SEED_RULES
        if (code, version) not in self._flows and not self._flows_read:  # one query a batch at most
            self._flows_read = True
            cur.execute("SELECT code, version, rules FROM ow_flows")
            for row in cur.fetchall():
                self._flows.setdefault((row["code"], row["version"]), FlowRules.from_json(row["rules"]))
        return self._flows.get((code, version), SEED_RULES)

    # --- warnings -----------------------------------------------------------------------------

    def _set(
        self,
        cur: Cursor,
        env: Envelope,
        rule: str,
        keys: tuple[str, ...],
        violated: bool,
        *,
        reason: str = "",
        explanation: str = "",
        subject: str = "",
        evidence: Sequence[int | None] = (),
        project_code: str | None = None,
        case_id: str | None = None,
        region_code: str | None = None,
        department: str | None = None,
    ) -> None:
        """Raise (or refresh) the warning when violated; resolve an open one when the evidence is gone."""
        wid = warning_id(rule, *keys)
        row = self._warning(cur, wid, keys, project_code, case_id)
        if not violated:
            if row is not None and row["status"] in AUTO_RESOLVABLE:
                positions = sorted({*json.loads(row["evidence"]), env.position})
                self._warnings[wid] = {"status": "resolved", "evidence": to_json(positions)}
                cur.execute(
                    "UPDATE warnings SET status = 'resolved', resolved_position = ?, updated_position = ?,"
                    " evidence = ? WHERE warning_id = ?",
                    (env.position, env.position, to_json(positions), wid),
                )
            elif row is not None and row["status"] != "resolved":  # in an inquiry: the officer decides
                cur.execute(
                    "UPDATE warnings SET resolved_position = ?, updated_position = ? WHERE warning_id = ?",
                    (env.position, env.position, wid),
                )
            return
        proof = sorted({p for p in evidence if p is not None})
        if row is None:
            if self._seq is None:
                cur.execute("SELECT COALESCE(MAX(seq), 0) AS n FROM warnings")
                top = cur.fetchone()
                self._seq = int(top["n"] if top else 0)
            self._seq += 1
            self._warnings[wid] = {"status": "open", "evidence": to_json(proof)}
            cur.execute(
                "INSERT INTO warnings (warning_id, seq, rule, severity, reason, subject, project_code, case_id,"
                " region_code, department, explanation, evidence, status, inquiry_id, raised_position, raised_at,"
                " updated_position, resolved_position)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', NULL, ?, ?, ?, NULL) RETURNING *",
                (
                    wid,
                    self._seq,
                    rule,
                    self.t.severity[rule],
                    reason,
                    subject,
                    project_code,
                    case_id,
                    region_code,
                    department,
                    explanation,
                    to_json(proof),
                    env.position,
                    cast(Any, env.event).timestamp.isoformat(),
                    env.position,
                ),
            )
            self.outbox.append(cast(dict[str, Any], cur.fetchone()))  # warningRaised, after the commit
            return
        merged = sorted({*json.loads(row["evidence"]), *proof})
        status = "open" if row["status"] == "resolved" else row["status"]
        self._warnings[wid] = {"status": status, "evidence": to_json(merged)}
        cur.execute(
            "UPDATE warnings SET reason = ?, explanation = ?, evidence = ?, status = ?, updated_position = ?,"
            " resolved_position = CASE WHEN ? = 'open' THEN NULL ELSE resolved_position END WHERE warning_id = ?",
            (reason, explanation, to_json(merged), status, env.position, status, wid),
        )

    def _disposition(self, cur: Cursor, env: Envelope, status: str) -> None:
        e: Any = env.event
        inquiry = getattr(e, "inquiry_id", None)
        held = self._warnings.get(str(e.warning_id))
        if held is not None:
            self._warnings[str(e.warning_id)] = {**held, "status": status}
        cur.execute(
            "UPDATE warnings SET status = ?, inquiry_id = COALESCE(?, inquiry_id), updated_position = ?"
            " WHERE warning_id = ?",
            (status, str(inquiry) if inquiry is not None else None, env.position, str(e.warning_id)),
        )

    # --- projects (W8) ------------------------------------------------------------------------

    def _project_generated(self, cur: Cursor, env: Envelope) -> None:
        e: Any = env.event
        cur.execute(
            "INSERT INTO ow_projects (code, project_id, owner_uscc, name, region_code, red_line, position, merged_into,"
            " flow_type) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
            (
                e.code,
                str(e.originator_id),
                e.owner_uscc,
                e.name,
                e.region_code,
                to_json(e.red_line) if e.red_line else None,
                env.position,
                e.flow_type,
            ),
        )
        self._projects[e.code] = {"code": e.code, "region_code": e.region_code, "flow_type": e.flow_type}
        self._duplicates(cur, env, e.code)

    def _land_supplied(self, cur: Cursor, env: Envelope) -> None:
        e: Any = env.event
        code = self._project_code(cur, e)
        if code is None:
            return
        cur.execute("UPDATE ow_projects SET red_line = ? WHERE code = ?", (to_json(e.red_line), code))
        self._duplicates(cur, env, code)

    def _project_code(self, cur: Cursor, e: Any) -> str | None:
        """Project events after generation carry only the aggregate id."""
        cur.execute("SELECT code FROM ow_projects WHERE project_id = ?", (str(e.originator_id),))
        row = cur.fetchone()
        return row["code"] if row else None

    def _duplicates(self, cur: Cursor, env: Envelope, code: str) -> None:
        cur.execute("SELECT * FROM ow_projects WHERE code = ?", (code,))
        me = cur.fetchone()
        if me is None or me["merged_into"]:
            return
        cur.execute(
            "SELECT * FROM ow_projects WHERE owner_uscc = ? AND code <> ? AND merged_into IS NULL ORDER BY position",
            (me["owner_uscc"], code),
        )
        for other in cur.fetchall():
            ratio = name_similarity(me["name"], other["name"])
            overlap = red_line_overlap(
                json.loads(me["red_line"]) if me["red_line"] else None,
                json.loads(other["red_line"]) if other["red_line"] else None,
            )
            if ratio < self.t.name_similarity and overlap < self.t.red_line_overlap:
                continue
            a, b = sorted((me["code"], other["code"]))
            self._set(
                cur,
                env,
                "W8",
                (a, b),
                True,
                reason="W8.duplicate",
                explanation=explain("W8.duplicate", a=a, b=b, ratio=f"{ratio:.2f}", overlap=f"{overlap:.2f}"),
                subject=f"{a} ≈ {b}",
                evidence=(other["position"], me["position"], env.position),
                project_code=code,
                region_code=me["region_code"],
            )

    def _merged(self, cur: Cursor, env: Envelope) -> None:
        e: Any = env.event
        duplicate = self._project_code(cur, e)
        if duplicate is None:
            return
        cur.execute("UPDATE ow_projects SET merged_into = ? WHERE code = ?", (e.canonical_code, duplicate))
        # the pair was handled: a merge resolves its W8 warning (merged codes are not compared again)
        a, b = sorted((duplicate, e.canonical_code))
        self._set(cur, env, "W8", (a, b), False)

    # --- cases (W1 re-check, W2, W3, W4, W6, W7, W10) -----------------------------------------

    def _case(self, cur: Cursor, env: Envelope, kind: str) -> None:
        e: Any = env.event
        case_id = str(e.originator_id)
        if kind in ("Received", "BackEntered"):
            self._case_created(cur, env, kind)
        case = self._case_row(cur, case_id)
        if case is None:  # cannot happen when processing starts at position 0
            raise LookupError(f"case {case_id} not in offline_warnings")
        if kind == "DeadlineRecomputed":
            return  # 工作日历: the system judged the deadline again; no business transition to check
        self._late_recording(cur, env, case, kind)
        if kind == "OpinionRecorded":
            self._hidden_opinion(cur, env, case)
            return
        times = json.loads(case["status_times"])
        times.append([env.position, e.business_time.isoformat()])
        updates: dict[str, Any] = {"status_times": json.dumps(times)}
        pauses: list[dict[str, Any]] = json.loads(case["pauses"])
        day = e.business_date.isoformat()
        match kind:
            case "Accepted":
                updates.update(accepted_position=env.position, accepted_on=day, limit_days=e.promised_limit_days)
            case "CorrectionRequested":
                corrections = [*json.loads(case["corrections"]), env.position]
                updates["corrections"] = json.dumps(corrections)
                if case["accepted_on"]:
                    pauses.append({"kind": "correction", "start": day, "end": None, "position": env.position})
                self._corrections(cur, env, case, corrections)
            case "SpecialProcedureStarted":
                pauses.append(
                    {
                        "kind": "special_procedure",
                        "start": day,
                        "end": None,
                        "position": env.position,
                        "name": e.procedure_name,
                        "limit_days": e.limit_days,
                    }
                )
            case "CorrectionCompleted" | "SpecialProcedureEnded" | "Withdrawn":
                for pause in pauses:
                    if pause["end"] is None:
                        pause["end"] = day
                        if kind == "SpecialProcedureEnded":
                            self._special_procedure(cur, env, case, pause)
        updates["pauses"] = json.dumps(pauses)
        if kind in APPROVALS:
            updates.update(approved_on=day, approved_position=env.position)
        if kind in CLOSINGS:
            updates.update(closed_on=day, closed_position=env.position)
        self._cases[case_id] = {**self._cases[case_id], **updates}  # a copy: rows fetched are not ours to change
        self._dirty.add(case_id)
        case = dict(self._cases[case_id])
        self._synthetic(cur, env, case, times)
        if kind in DECISIONS:
            self._decided_overdue(cur, env, case)
        if kind in APPROVALS:
            self._compressed(cur, env, case)
            if e.document_number:
                self._number_known(cur, env, e.document_number, day)
        if kind in APPROVALS or (kind == "BackEntered" and case["approved_on"]):
            self._order(cur, env, case["project_code"])
        if kind in CLOSINGS or kind == "BackEntered":
            self._stages(cur, env, case)

    def _case_created(self, cur: Cursor, env: Envelope, kind: str) -> None:
        e: Any = env.event
        approved = kind == "BackEntered" and e.decision in ("approved", "approved_pending_materials")
        case_id = str(e.originator_id)
        values = (
            case_id,
            e.project_code,
            e.item_code,
            e.department,
            e.region_code,
            env.position,
            _day(e.timestamp).isoformat(),
            e.business_time.isoformat() if kind == "Received" else None,
            None,
            e.accepted_on.isoformat() if kind == "BackEntered" and e.accepted_on else None,
            None,
            "[]",
            "[]",
            "[]",
            e.business_date.isoformat() if approved else None,
            env.position if approved else None,
            e.business_date.isoformat() if kind == "BackEntered" else None,
            env.position if kind == "BackEntered" else None,
            getattr(e, "flow_code", None),
            getattr(e, "flow_version", None),
        )
        if case_id in self._cases:  # a second creation: the table's primary key refuses it, as before
            cur.execute(f"INSERT INTO ow_cases ({', '.join(CASE_COLUMNS)}) VALUES ({_marks(values)})", values)  # noqa: S608
        self._cases[case_id] = dict(zip(CASE_COLUMNS, values, strict=True))
        self._new.append(case_id)
        if e.project_code in self._by_project:
            self._by_project[e.project_code].append(case_id)
        if kind == "BackEntered":
            self._back_entered(cur, env, approved)
            if approved and e.document_number:
                self._number_known(cur, env, e.document_number, e.business_date.isoformat())
        for row in [r for r in self._records_of(cur, e.project_code) if r["item_code"] == e.item_code]:
            self._certificate_without_case(cur, env, row["record_id"])

    def _case_columns(self, case: dict[str, Any]) -> dict[str, Any]:
        return {
            "project_code": case["project_code"],
            "case_id": case["case_id"],
            "region_code": case["region_code"],
            "department": case["department"],
            "subject": case["case_id"],
        }

    def _back_entered(self, cur: Cursor, env: Envelope, approved: bool) -> None:
        """W2 先批后录: a back-entry is created already decided; W3 when it has no acceptance at all."""
        e: Any = env.event
        columns = {
            "project_code": e.project_code,
            "case_id": str(e.originator_id),
            "region_code": e.region_code,
            "department": e.department,
            "subject": str(e.originator_id),
        }
        text = explain("W2.back_entry", business=_local(e.business_time), recorded=_local(e.timestamp))
        self._set(
            cur,
            env,
            "W2",
            (str(e.originator_id),),
            True,
            reason="W2.back_entry",
            explanation=text,
            evidence=(env.position,),
            **columns,
        )
        if approved and e.accepted_on is None:
            self._set(
                cur,
                env,
                "W3",
                (str(e.originator_id), "no_acceptance"),
                True,
                reason="W3.no_acceptance",
                explanation=explain("W3.no_acceptance"),
                evidence=(env.position,),
                **columns,
            )

    def _late_recording(self, cur: Cursor, env: Envelope, case: dict[str, Any], kind: str) -> None:
        """W2: a business time long before the recording time (imports; back-entries are W2 anyway)."""
        e: Any = env.event
        if e.occurred_at is None or kind == "BackEntered":
            return
        hours = (e.timestamp - e.occurred_at).total_seconds() / 3600
        if hours <= self.t.max_business_lag_hours:
            return
        text = explain(
            "W2.late_recording",
            event=env.event_type,
            business=_local(e.occurred_at),
            recorded=_local(e.timestamp),
            hours=f"{hours:.1f}",
            limit=f"{self.t.max_business_lag_hours:g}",
        )
        self._set(
            cur,
            env,
            "W2",
            (case["case_id"],),
            True,
            reason="W2.late_recording",
            explanation=text,
            evidence=(env.position,),
            **self._case_columns(case),
        )

    def _compressed(self, cur: Cursor, env: Envelope, case: dict[str, Any]) -> None:
        """W3: approved within minutes of receipt although the item promises days (rule-based excepted)."""
        e: Any = env.event
        if case["received_at"] is None or str(e.channel) in self.t.exempt_channels:
            return
        # the limit the case recorded at acceptance (its pinned version's), not the seed's
        limit = case["limit_days"] or CATALOG.items[case["item_code"]].promised_limit_days
        minutes = (e.business_time - datetime.fromisoformat(case["received_at"])).total_seconds() / 60
        if limit <= self.t.promised_limit_above_days or minutes >= self.t.min_minutes_receipt_to_approval:
            return
        self._set(
            cur,
            env,
            "W3",
            (case["case_id"], "compressed"),
            True,
            reason="W3.compressed",
            explanation=explain("W3.compressed", limit=limit, minutes=f"{minutes:.0f}"),
            evidence=(case["created_position"], env.position),
            **self._case_columns(case),
        )

    def _synthetic(self, cur: Cursor, env: Envelope, case: dict[str, Any], times: list[list[Any]]) -> None:
        """W3: N consecutive identical non-zero gaps between status events (timestamps made up afterwards)."""
        n = self.t.synthetic_equal_gaps
        if len(times) < n + 1:
            return
        last = times[-(n + 1) :]
        moments = [datetime.fromisoformat(t[1]) for t in last]
        gaps = {round((b - a).total_seconds()) for a, b in itertools.pairwise(moments)}
        if len(gaps) != 1 or 0 in gaps:
            return
        self._set(
            cur,
            env,
            "W3",
            (case["case_id"], "synthetic"),
            True,
            reason="W3.synthetic",
            explanation=explain("W3.synthetic", count=n, gap=gaps.pop()),
            evidence=[t[0] for t in last],
            **self._case_columns(case),
        )

    def _decided_overdue(self, cur: Cursor, env: Envelope, case: dict[str, Any]) -> None:
        """W6: the decision's business date lies past the deadline of the domain's CaseClock."""
        e: Any = env.event
        if case["accepted_on"] is None or case["limit_days"] is None:
            return
        decided = e.business_date
        clock = CaseClock(
            date.fromisoformat(case["accepted_on"]),
            case["limit_days"],
            tuple(
                Pause(p["kind"], date.fromisoformat(p["start"]), date.fromisoformat(p["end"]) if p["end"] else None)
                for p in json.loads(case["pauses"])
            ),
            decided,
        )
        if not clock.overdue(decided):
            return
        text = explain(
            "W6.decided_overdue",
            decided_on=decided.isoformat(),
            limit=case["limit_days"],
            deadline=str(clock.deadline(decided)),
        )
        self._set(
            cur,
            env,
            "W6",
            (case["case_id"],),
            True,
            reason="W6.decided_overdue",
            explanation=text,
            evidence=(case["accepted_position"], env.position),
            **self._case_columns(case),
        )

    def _stages(self, cur: Cursor, env: Envelope, case: dict[str, Any]) -> None:
        """W6: a main stage took more working days than its limit, or the project more than its target.

        Counted: the working days on which the clock of at least one case of the stage (of stages
        1–4 for the project) ran, from the first acceptance to the approval that completes the
        stage's milestone items. Like 审批时间, the applicant's time does not count: corrections and
        special procedures (checked on their own by W7) and the days between cases (preparing the
        next application, land supply, design, construction). A refused or withdrawn attempt's days
        do count: resubmitting does not reset the stage clock."""
        rule = self._rules(cur, case).items.get(case["item_code"])
        if rule is None or rule.stage not in MAIN_STAGES:
            return
        code = case["project_code"]
        cases = []  # the project's cases of main stages, each staged by its own pinned version
        for r in self._cases_of(cur, code):
            own = self._rules(cur, r)
            if r["item_code"] in own.items and own.items[r["item_code"]].stage in MAIN_STAGES:
                cases.append({**r, "stage": own.items[r["item_code"]].stage, "rules": own})
        approvals = [(c["item_code"], c["approved_on"], c["approved_position"]) for c in cases]
        stage = rule.stage
        in_stage = [c for c in cases if c["stage"] == stage]
        # a stage is judged by the version its first case was received under
        rules: FlowRules = in_stage[0]["rules"] if in_stage else SEED_RULES
        closing = stage_closing(approvals, stage, rules)
        if closing is not None:
            days, start, proof = _days_in_hand(in_stage, closing)
            limit = rules.stage_limit(stage)
            self._set(
                cur,
                env,
                "W6",
                ("stage", code, str(stage)),
                days > limit,
                reason="W6.stage_overdue",
                explanation=explain(
                    "W6.stage_overdue",
                    project=code,
                    stage=stage,
                    name=REFERENCE.stages[stage],
                    start=start,
                    closed=closing[0],
                    days=days,
                    limit=limit,
                ),
                subject=f"{code} 阶段{stage}",
                evidence=proof,
                project_code=code,
                region_code=case["region_code"],
            )
        last = [c for c in cases if c["stage"] == MAIN_STAGES[-1]]
        final = stage_closing(approvals, MAIN_STAGES[-1], last[0]["rules"] if last else SEED_RULES)
        project = self._project_facts(cur, code)
        if final is None or project is None or project["flow_type"] is None:
            return
        days, start, proof = _days_in_hand(cases, final)
        target = cast(FlowRules, cases[0]["rules"]).project_target(int(project["flow_type"]))
        self._set(
            cur,
            env,
            "W6",
            ("project", code),
            days > target,
            reason="W6.project_overdue",
            explanation=explain(
                "W6.project_overdue",
                project=code,
                start=start,
                closed=final[0],
                days=days,
                flow=REFERENCE.flow_types[int(project["flow_type"])],
                target=target,
            ),
            subject=code,
            evidence=proof,
            project_code=code,
            region_code=case["region_code"],
        )

    def _corrections(self, cur: Cursor, env: Envelope, case: dict[str, Any], positions: list[int]) -> None:
        """W7: more than one correction request breaks 一次性告知."""
        if len(positions) <= self.t.max_corrections:
            return
        self._set(
            cur,
            env,
            "W7",
            (case["case_id"], "corrections"),
            True,
            reason="W7.corrections",
            explanation=explain("W7.corrections", count=len(positions), limit=self.t.max_corrections),
            evidence=positions,
            **self._case_columns(case),
        )

    def _special_procedure(self, cur: Cursor, env: Envelope, case: dict[str, Any], pause: dict[str, Any]) -> None:
        """W7: a special procedure that lasted more working days than its own limit."""
        days = workdays_between(date.fromisoformat(pause["start"]), date.fromisoformat(pause["end"]))
        if days <= pause["limit_days"]:
            return
        self._set(
            cur,
            env,
            "W7",
            (case["case_id"], "special", str(pause["position"])),
            True,
            reason="W7.special_procedure",
            explanation=explain("W7.special_procedure", name=pause["name"], days=days, limit=pause["limit_days"]),
            evidence=(pause["position"], env.position),
            **self._case_columns(case),
        )

    def _hidden_opinion(self, cur: Cursor, env: Envelope, case: dict[str, Any]) -> None:
        """W10: an opinion by a department outside the item's configured flow (隐形审批)."""
        e: Any = env.event
        item = case["item_code"]
        pinned = self._rules(cur, case).items.get(item)
        home = pinned.department if pinned is not None else CATALOG.items[item].department
        allowed = {home, *self.t.consulted.get(item, ())}
        if e.department in allowed:
            return
        self._set(
            cur,
            env,
            "W10",
            (case["case_id"], "department", e.department),
            True,
            reason="W10.department",
            explanation=explain("W10.department", department=e.department, item=item),
            evidence=(case["created_position"], env.position),
            **{**self._case_columns(case), "department": e.department},
        )

    # --- W4: approvals in the order of the catalogue --------------------------------------------

    def _order(self, cur: Cursor, env: Envelope, project_code: str) -> None:
        """Re-check every approval of the project: each prerequisite approved on or before it."""
        approvals = [
            ("case", r["case_id"], r["item_code"], r["approved_on"], r["approved_position"], r["region_code"])
            for r in self._cases_of(cur, project_code)
            if r["approved_on"] is not None
        ]
        # a case's prerequisites and department are its pinned version's; other systems' records the seed's
        rules = {r["case_id"]: self._rules(cur, r) for r in self._cases_of(cur, project_code)}
        approvals += [
            ("record", r["record_id"], r["item_code"], r["issued_on"], r["position"], None)
            for r in self._records_of(cur, project_code)
            if r["item_code"] is not None and r["issued_on"] is not None and r["kind"] in CERTIFICATES
        ]
        # imported cases approved (a 办结 status row or an approval document) count as upstream
        upstream = approvals + [
            ("import", r["record_id"], r["item_code"], r["issued_on"], r["position"], None)
            for r in self._records_of(cur, project_code)
            if r["kind"] == "spgl_case" and r["issued_on"] is not None
        ]
        for source, ident, item, on, position, region in approvals:
            pinned = rules.get(ident, SEED_RULES).items.get(item)
            prerequisites = pinned.prerequisites if pinned is not None else ()
            missing, later = [], []
            for pre in prerequisites:
                done = [(p_on, p_pos) for _, _, p_item, p_on, p_pos, _ in upstream if p_item == pre]
                if not any(p_on <= on for p_on, _ in done):
                    missing.append(pre)
                    later += [p_pos for _, p_pos in done]
            what = f"办件{ident}（事项{item}）" if source == "case" else f"外部证书{ident}（事项{item}）"
            self._set(
                cur,
                env,
                "W4",
                ("catalogue", source, ident),
                bool(missing),
                reason="W4.catalogue",
                explanation=explain("W4.catalogue", what=what, on=on, missing="、".join(missing)) if missing else "",
                evidence=(position, *later),
                subject=ident,
                project_code=project_code,
                case_id=ident if source == "case" else None,
                region_code=region or self._region(cur, project_code),
                department=pinned.department if pinned is not None else None,
            )

    # --- external records (W1, W4, W5, W9, W10, W3 rows) ----------------------------------------

    def _region(self, cur: Cursor, project_code: str | None) -> str | None:
        if not project_code:
            return None
        row = self._project_facts(cur, project_code)
        return row["region_code"] if row else None

    def _record(self, cur: Cursor, env: Envelope) -> None:
        e: Any = env.event
        record_id = str(e.originator_id)
        issued = e.issued_on.isoformat() if e.issued_on else None
        self._records.clear()  # ow_records changes: read again when next needed
        self._cited.clear()
        cur.execute("DELETE FROM ow_records WHERE record_id = ?", (record_id,))
        cur.execute(
            "INSERT INTO ow_records (record_id, kind, project_code, item_code, number, issued_on, case_ref,"
            " status_code, source_system, department, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record_id,
                e.kind,
                e.project_code,
                e.item_code,
                e.number,
                issued,
                e.case_ref,
                e.status_code,
                e.source_system,
                e.department,
                env.position,
            ),
        )
        cur.execute("SELECT field, number FROM ow_citations WHERE record_id = ?", (record_id,))
        dropped = [r for r in cur.fetchall() if e.upstream.get(r["field"]) != r["number"]]
        for old in dropped:  # an amendment no longer cites it: nothing missing any more
            self._set(cur, env, "W5", (record_id, old["number"]), False)
            self._set(cur, env, "W4", ("upstream", record_id, old["number"]), False)
        cur.execute("DELETE FROM ow_citations WHERE record_id = ?", (record_id,))
        for field, number in sorted(e.upstream.items()):
            cur.execute(
                "INSERT INTO ow_citations (record_id, field, number) VALUES (?, ?, ?)", (record_id, field, number)
            )
        if e.kind in CERTIFICATES and e.number:
            self._number_known(cur, env, e.number, issued)
        self._upstream(cur, env, record_id)
        self._certificate_without_case(cur, env, record_id)
        self._unknown_project(cur, env, record_id)
        if e.kind == "status_row":
            self._status_row(cur, env, record_id)
        if e.project_code and e.item_code:
            self._order(cur, env, e.project_code)

    def _spgl_row(self, cur: Cursor, env: Envelope) -> None:
        """An imported SPGL row: a project row counts as generated (W9, duplicates), a case row as a
        case the platform knows (W10), status rows and certificates are evidence like external
        records. An invalidation withdraws nothing already raised: the warning's evidence stays."""
        e: Any = env.event
        row = e.row
        if e.table == spgl.PROJECT:
            cur.execute("SELECT 1 FROM ow_projects WHERE code = ?", (row["XMDM"],))
            if cur.fetchone() is None:
                project = SimpleNamespace(
                    **vars(e),
                    code=row["XMDM"],
                    owner_uscc=row["JSDWDM"],
                    name=row["XMMC"],
                    region_code=row["XZQHDM"],
                    red_line=None,
                    flow_type=int(row["SPLCLX"]) if row.get("SPLCLX") else None,
                )
                self._project_generated(cur, Envelope(env.position, cast(Any, project)))
        elif e.table == spgl.CASE:
            self._records.clear()  # ow_records changes: read again when next needed
            project_code = spgl.gcdm_project_code(row["GCDM"])
            cur.execute(
                "INSERT INTO ow_records (record_id, kind, project_code, item_code, case_ref, source_system, position)"
                " VALUES (?, 'spgl_case', ?, ?, ?, ?, ?) ON CONFLICT (record_id) DO NOTHING",
                (str(e.originator_id), project_code, row["SPSXBM"], row["SPSXSLBM"], e.source_system, env.position),
            )
            if project_code:  # a case of the item now exists: certificates of the project are re-checked (W1)
                self._recheck_certificates(cur, env, project_code)
        elif e.table == spgl.DOCUMENT:
            self._imported_document(cur, env)
        else:
            fact = spgl.as_record(e.table, row, e.source_system)
            if fact is not None:
                self._record(cur, Envelope(env.position, cast(Any, SimpleNamespace(**{**vars(e), **fact}))))
            if e.table == spgl.STATUS and int(row["BLZT"]) in APPROVING_STATUSES:
                self._imported_approval(cur, env, row["SPSXSLBM"], _business_day(row["BLSJ"]))

    def _imported_document(self, cur: Cursor, env: Envelope) -> None:
        """An imported approval document (批复文件): its number (PFWH) and the licence number it
        carries (ZZBH) identify the approval a certificate reports (W1) and are numbers a downstream
        certificate may cite (W5, W4.upstream); its date (PFRQ) approves its case (W4)."""
        e: Any = env.event
        row = e.row
        record_id = str(e.originator_id)
        project_code = spgl.gcdm_project_code(row["GCDM"])
        issued = _business_day(row["PFRQ"])
        self._records.clear()
        cur.execute("DELETE FROM ow_records WHERE record_id IN (?, ?)", (record_id, f"{record_id}#ZZBH"))
        numbers = [(record_id, row["PFWH"])]
        if row.get("ZZBH") and row["ZZBH"] != row["PFWH"]:
            numbers.append((f"{record_id}#ZZBH", row["ZZBH"]))
        for ident, number in numbers:
            cur.execute(
                "INSERT INTO ow_records (record_id, kind, project_code, number, issued_on, case_ref, source_system,"
                " position) VALUES (?, 'spgl_document', ?, ?, ?, ?, ?, ?)",
                (ident, project_code, number, issued, row["SPSXSLBM"], e.source_system, env.position),
            )
            self._number_known(cur, env, number, issued)  # a number a certificate may cite (W5, W4.upstream)
        self._imported_approval(cur, env, row["SPSXSLBM"], issued)
        if project_code:
            self._recheck_certificates(cur, env, project_code)

    def _imported_approval(self, cur: Cursor, env: Envelope, case_ref: str, day: str) -> None:
        """An imported case was approved on `day` (a status row 办结 or its approval document): the
        earliest such day is its approval date, and the project's order is re-checked (W4)."""
        cur.execute(
            "SELECT record_id, project_code, issued_on FROM ow_records WHERE kind = 'spgl_case' AND case_ref = ?",
            (case_ref,),
        )
        for case in cur.fetchall():
            if case["issued_on"] is not None and case["issued_on"] <= day:
                continue
            self._records.clear()
            cur.execute("UPDATE ow_records SET issued_on = ? WHERE record_id = ?", (day, case["record_id"]))
            if case["project_code"]:
                self._order(cur, env, case["project_code"])

    def _recheck_certificates(self, cur: Cursor, env: Envelope, project_code: str) -> None:
        for r in list(self._records_of(cur, project_code)):
            if r["kind"] in CERTIFICATES and r["item_code"]:
                self._certificate_without_case(cur, env, r["record_id"])

    def _imported_case(self, cur: Cursor, r: dict[str, Any]) -> dict[str, Any] | None:
        """The first imported SPGL case of the certificate's project and item, or imported approval
        document of the project whose number (PFWH or ZZBH) is the certificate's number."""
        cur.execute(
            "SELECT record_id, kind, position FROM ow_records WHERE project_code = ? AND ((kind = 'spgl_case'"
            " AND item_code = ?) OR (kind = 'spgl_document' AND number = ?)) ORDER BY position LIMIT 1",
            (r["project_code"], r["item_code"], r["number"]),
        )
        return cur.fetchone()

    def _record_row(self, cur: Cursor, record_id: str) -> dict[str, Any]:
        cur.execute("SELECT * FROM ow_records WHERE record_id = ?", (record_id,))
        row = cur.fetchone()
        assert row is not None
        return row

    def _record_columns(self, cur: Cursor, r: dict[str, Any]) -> dict[str, Any]:
        item = CATALOG.items.get(r["item_code"] or "")
        return {
            "subject": r["number"] or r["case_ref"] or r["record_id"],
            "project_code": r["project_code"],
            "region_code": self._region(cur, r["project_code"]) or _code_region(r["project_code"]),
            "department": r["department"] or (item.department if item else None),
        }

    def _number_known(self, cur: Cursor, env: Envelope, number: str, issued_on: str | None) -> None:
        """A certificate or approval number now exists: re-check everything that cites it (W5, W4)."""
        self._numbers.setdefault(number, (env.position, issued_on))  # written back by `_flush`
        for record_id in list(self._citing(cur, number)):
            self._upstream(cur, env, record_id)

    def _upstream(self, cur: Cursor, env: Envelope, record_id: str) -> None:
        """W5: a cited upstream number exists nowhere; W4: the upstream is dated after the downstream."""
        r = self._record_row(cur, record_id)
        columns = self._record_columns(cur, r)
        kind = KIND_NAMES.get(r["kind"], r["kind"])
        cur.execute("SELECT field, number FROM ow_citations WHERE record_id = ? ORDER BY field", (record_id,))
        for cite in cur.fetchall():
            cur.execute("SELECT position, issued_on FROM ow_numbers WHERE number = ?", (cite["number"],))
            known = cur.fetchone()
            if known is None and cite["number"] in self._numbers:  # known since, in this batch
                position, issued_on = self._numbers[cite["number"]]
                known = {"position": position, "issued_on": issued_on}
            self._set(
                cur,
                env,
                "W5",
                (record_id, cite["number"]),
                known is None,
                reason="W5.missing_upstream",
                explanation=explain(
                    "W5.missing_upstream", kind=kind, number=r["number"], upstream=cite["number"], field=cite["field"]
                ),
                evidence=(r["position"],),
                **columns,
            )
            late = (
                known is not None
                and known["issued_on"] is not None
                and r["issued_on"] is not None
                and r["issued_on"] < known["issued_on"]
            )
            self._set(
                cur,
                env,
                "W4",
                ("upstream", record_id, cite["number"]),
                late,
                reason="W4.upstream",
                explanation=explain(
                    "W4.upstream",
                    kind=kind,
                    number=r["number"],
                    issued_on=r["issued_on"],
                    upstream=cite["number"],
                    upstream_on=known["issued_on"] if known else None,
                ),
                evidence=(r["position"], known["position"] if known else None),
                **columns,
            )

    def _certificate_without_case(self, cur: Cursor, env: Envelope, record_id: str) -> None:
        """W1: a certificate for an item with no case here, or whose first case was created later."""
        r = self._record_row(cur, record_id)
        if r["kind"] not in CERTIFICATES or not r["item_code"] or not r["project_code"]:
            return
        if self._imported_case(cur, r) is not None:  # the city's system handled it: a case exists
            self._set(cur, env, "W1", (record_id,), False)
            return
        cases = [c for c in self._cases_of(cur, r["project_code"]) if c["item_code"] == r["item_code"]]
        kind = KIND_NAMES.get(r["kind"], r["kind"])
        if not cases:
            reason, text, proof = (
                "W1.no_case",
                explain("W1.no_case", kind=kind, number=r["number"], item=r["item_code"]),
                [r["position"]],
            )
        else:
            first = cases[0]
            late = r["issued_on"] is not None and first["created_on"] > r["issued_on"]
            reason, proof = "W1.case_after_certificate", [r["position"], first["created_position"]]
            text = explain(
                reason, kind=kind, number=r["number"], issued_on=r["issued_on"], created_on=first["created_on"]
            )
            if not late:
                self._set(cur, env, "W1", (record_id,), False)
                return
        self._set(
            cur,
            env,
            "W1",
            (record_id,),
            True,
            reason=reason,
            explanation=text,
            evidence=proof,
            **self._record_columns(cur, r),
        )

    def _unknown_project(self, cur: Cursor, env: Envelope, record_id: str) -> None:
        """W9: another system's data about a project never generated here (未策划生成), or no code at all."""
        r = self._record_row(cur, record_id)
        system = r["source_system"] or r["kind"]
        if r["project_code"]:
            if self._region(cur, r["project_code"]) is not None:
                return
            reason, text = (
                "W9.project_not_generated",
                explain("W9.project_not_generated", system=system, project=r["project_code"]),
            )
        elif r["kind"] == "status_row":
            reason, text = "W9.no_project_code", explain("W9.no_project_code", system=system, case_ref=r["case_ref"])
        else:
            return
        self._set(
            cur,
            env,
            "W9",
            (record_id,),
            True,
            reason=reason,
            explanation=text,
            evidence=(r["position"],),
            **self._record_columns(cur, r),
        )

    def _status_row(self, cur: Cursor, env: Envelope, record_id: str) -> None:
        """W10: a status row of another system for a case we do not have; W3: closed with no acceptance row."""
        r = self._record_row(cur, record_id)
        columns = {**self._record_columns(cur, r), "subject": f"{r['source_system']}:{r['case_ref']}"}
        ours = self._cases.get(r["case_ref"])
        if ours is None:
            self._flush(cur)
            cur.execute("SELECT case_id FROM ow_cases WHERE case_id = ?", (r["case_ref"],))
            ours = cur.fetchone()
        if ours is None:  # a case reported through the data-sharing tables is known to the platform
            cur.execute("SELECT 1 FROM ow_records WHERE kind = 'spgl_case' AND case_ref = ?", (r["case_ref"],))
            ours = cur.fetchone()
        cur.execute(
            "SELECT position, status_code FROM ow_records WHERE kind = 'status_row' AND source_system = ?"
            " AND case_ref = ? ORDER BY position",
            (r["source_system"], r["case_ref"]),
        )
        rows = cur.fetchall()
        keys = (r["source_system"], r["case_ref"])
        if ours is None:
            self._set(
                cur,
                env,
                "W10",
                ("external_case", *keys),
                True,
                reason="W10.external_case",
                explanation=explain("W10.external_case", system=r["source_system"], case_ref=r["case_ref"]),
                evidence=[row["position"] for row in rows],
                case_id=None,
                **columns,
            )
        closed = [row["position"] for row in rows if row["status_code"] in (11, 12)]
        accepted = any(row["status_code"] == 3 for row in rows)
        self._set(
            cur,
            env,
            "W3",
            ("rows", *keys),
            bool(closed) and not accepted,
            reason="W3.rows_no_acceptance",
            explanation=explain("W3.rows_no_acceptance", system=r["source_system"], case_ref=r["case_ref"]),
            evidence=closed,
            case_id=r["case_ref"] if ours else None,
            **columns,
        )

    # --- queries ------------------------------------------------------------------------------

    def get(self, warning_id: str) -> dict[str, Any] | None:
        rows = self.db.query("SELECT * FROM warnings WHERE warning_id = ?", (warning_id,))
        return rows[0] if rows else None

    def list(
        self,
        *,
        rule: str | None = None,
        region_scope: str | None = None,
        department: str | None = None,
        status: str | None = None,
        project_code: str | None = None,
        case_id: str | None = None,
        raised_from: str | None = None,
        raised_to: str | None = None,
        after: int = 0,
        first: int = 50,
    ) -> tuple[list[dict[str, Any]], bool, int]:
        """Warnings in the order they were raised, after the cursor `after` (a seq); (rows, has_next, total)."""
        conditions: list[str] = []
        filters: list[Any] = []
        for column, value in (
            ("rule", rule),
            ("department", department),
            ("status", status),
            ("project_code", project_code),
            ("case_id", case_id),
        ):
            if value is not None:
                conditions.append(f"{column} = ?")
                filters.append(value)
        if raised_from is not None:
            conditions.append("raised_at >= ?")
            filters.append(raised_from)
        if raised_to is not None:
            conditions.append("raised_at < ?")
            filters.append(raised_to)
        if region_scope and region_scope != "460000":
            codes = regions_within(region_scope)
            conditions.append(f"region_code IN ({', '.join('?' for _ in codes)})")
            filters.extend(codes)
        clause = " AND ".join(["seq > ?", *conditions])
        rows = self.db.query(
            f"SELECT * FROM warnings WHERE {clause} ORDER BY seq LIMIT ?",  # noqa: S608 — fixed column names
            [after, *filters, first + 1],
        )
        count_clause = " AND ".join(conditions) or "1 = 1"
        total = int(self.db.query(f"SELECT COUNT(*) AS n FROM warnings WHERE {count_clause}", filters)[0]["n"])  # noqa: S608
        return rows[:first], len(rows) > first, total
