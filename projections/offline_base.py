"""The core of the offline_warnings read model (projections/offline_warnings.py): constants, the
batch's copies of the fact tables, and how a warning is raised, refreshed or resolved (`_set`).
The rules live in offline_cases.py (projects, our cases, W4), offline_records.py (external records
and imported SPGL rows) and offline_imported.py (the lives of city cases, the supervision clock).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, cast

from domain.approvals import Case
from domain.catalog.rules import SEED_RULES, FlowRules
from domain.projects.project import Project
from domain.shared.events import SHANGHAI
from domain.shared.workdays import is_workday
from domain.supervision import WarningDisposition
from domain.supervision.rules.facts import warning_id
from infrastructure.db import Cursor
from projections.base import Envelope, ReadModel, fetch_together, to_json
from projections.offline_batch import batch_approved, batch_cited, batch_numbers, batch_projects
from projections.offline_own import StepMemo, stored
from projections.rules import THRESHOLDS, Thresholds

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
APPROVALS: frozenset[type] = frozenset({Case.Approved, Case.ApprovedPendingMaterials})
# BLZT of an imported status row that closes a case with an approval: 办结（通过）, 办结（容缺通过）
APPROVING_STATUSES = frozenset({11, 12})
DECISIONS = APPROVALS | {Case.Refused}
CLOSINGS = DECISIONS | {Case.Withdrawn}  # the case leaves the departments' hands
DISPOSITIONS: dict[type, str] = {
    WarningDisposition.Acknowledged: "acknowledged",
    WarningDisposition.LinkedToInquiry: "in_inquiry",
    WarningDisposition.ClosedAsExplained: "closed_explained",
}
AUTO_RESOLVABLE = ("open", "acknowledged")
CASE_CREATED: frozenset[type] = frozenset({Case.Received, Case.BackEntered})
CASE_COLUMNS = (
    "case_id", "project_code", "item_code", "department", "region_code", "created_position", "created_on",
    "accepted_position", "accepted_on", "limit_days", "pauses", "steps", "found",
    "approved_on", "approved_position", "closed_on", "closed_position", "flow_code", "flow_version",
)  # fmt: skip
CASE_CHANGES = CASE_COLUMNS[7:-2]  # what the case's later events change (not its pin)
PRELOAD_FROM = 50  # events: a batch this large reads its projects' facts up front, a smaller one on demand


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" for _ in values)


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


def _days_in_hand(cases: list[dict[str, Any]], closing: tuple[str, int], memo: dict) -> tuple[int, str, list[int]]:
    """Working days in the union of the days the cases' own clocks ran, from acceptance to decision
    (or the closing approval); the first acceptance date counted; the positions of the acceptances
    and decisions counted (`memo`: each case's days, kept for the batch's later closings)."""
    end = date.fromisoformat(closing[0])
    covered: set[date] = set()
    starts, proof = [], [closing[1]]
    for c in cases:
        if c["accepted_on"] is None or c["accepted_on"] >= closing[0]:
            continue
        accepted = date.fromisoformat(c["accepted_on"])
        until = min(date.fromisoformat(c["closed_on"]), end) if c["closed_on"] else end
        if (key := (c["accepted_on"], until, c["pauses"])) not in memo:
            memo[key] = _running_days(accepted, until, json.loads(c["pauses"]))
        days = memo[key]
        if not days:
            continue
        covered.update(days)
        starts.append(c["accepted_on"])
        # a back-entry has no acceptance event: its creation proves the acceptance date
        proof.append(c["accepted_position"] or c["created_position"])
        if c["closed_position"] is not None and c["closed_position"] <= closing[1]:
            proof.append(c["closed_position"])
    return len(covered), min(starts, default=closing[0]), proof


class WarningsBase(ReadModel):
    """State and helpers shared by the rule mixins; OfflineWarnings puts them together."""

    def __init__(self, db: Any, thresholds: Thresholds = THRESHOLDS) -> None:
        super().__init__(db)
        self.t = thresholds
        # the batch's copies (see _begin), empty between batches
        self._cases: dict[str, dict[str, Any]] = {}
        self._warnings: dict[str, dict[str, Any]] = {}
        self._absent: set[str] = set()  # warning ids read and not found in this batch (none raised since)
        self._pended: set[str] = set()  # city cases put in ow_pending in this batch
        self._ids: set[str] | None = None  # in a large batch: every warning id there is (none else)
        self._complete: set[str] = set()
        self._seq: int | None = None
        # ow_cases rows are changed here and written back once per batch (`_flush`); every read of
        # ow_cases in a batch goes through these copies, or flushes first
        self._by_project: dict[str, list[str]] = {}  # project code → every case id, for projects read whole
        self._new: list[str] = []  # created in this batch, not inserted yet
        self._dirty: set[str] = set()  # changed in this batch, not written yet
        self._projects: dict[str, dict[str, Any] | None] = {}  # code → region_code, flow_type (None: none)
        self._records: dict[str, list[dict[str, Any]]] = {}  # project code → its ow_records facts
        # projects known to have no ow_city_cases row (a large batch reads which; any insert there empties it)
        self._cityless: set[str] = set()
        # owner → every ow_projects row (all columns) of the owner, in log order: the owners of the
        # projects a large batch generates, kept equal to the table by every write to it (W8)
        self._owners: dict[str, list[dict[str, Any]]] = {}
        self._step_memo = StepMemo()  # our cases' parsed steps, per batch (projections/offline_own.py)
        self._raised: list[Any] = []  # cursors holding the batch's new warnings (PostgreSQL), in order
        self._cited: dict[str, list[str]] = {}  # number → record ids citing it
        self._spgl_cases: dict[str, list[dict[str, Any]]] = {}  # case ref → its imported case rows (ow_records)
        self._receipts_of: dict[str, dict[str, Any] | None] = {}  # city case → its earliest step (W1)
        self._receipts_read: set[str] = set()  # projects whose judged city cases' receipts are read
        self._numbers: dict[str, tuple[int, str | None]] = {}  # ow_numbers rows not inserted yet
        # writes nothing reads before the next `_flush` (ow_steps, ow_pending): one executemany each
        self._deferred: dict[str, list[Sequence[Any]]] = {}
        self._deferred_keys: set[str] = set()  # the record ids and city cases those writes are about
        self._known: dict[str, dict[str, Any] | None] = {}  # ow_numbers rows as read in this batch
        self._items: dict[str | None, str | None] = {}  # a city's item code → ours (`_item`)
        # flow versions never change: kept across batches, read from ow_flows (whole) on a miss
        self._flows: dict[tuple[str, str], FlowRules] = {}
        self._flows_read = False  # ow_flows read whole in this batch: a miss is the unrecorded seed
        self._own_day: tuple[date | None] | None = None  # the log's day as this batch knows it (offline_own.py)

    # --- dispatch ---------------------------------------------------------------------------

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        self._begin(cur, batch)
        try:
            self._dispatch(cur, batch)
            self._flush(cur)
            self._flush_numbers(cur)
            self.outbox.extend(cast(dict[str, Any], raised.fetchone()) for raised in self._raised)
        finally:  # per batch only: another runner may write these tables between two batches
            self._cases, self._warnings, self._complete, self._seq = {}, {}, set(), None
            self._absent, self._pended, self._ids = set(), set(), None
            self._by_project, self._new, self._dirty = {}, [], set()
            self._projects, self._records, self._cited, self._numbers = {}, {}, {}, {}
            self._cityless, self._raised, self._owners, self._step_memo = set(), [], {}, StepMemo()
            self._spgl_cases, self._deferred, self._receipts_of, self._receipts_read = {}, {}, {}, set()
            self._deferred_keys, self._known, self._items = set(), {}, {}
            self._flows_read = False
            self._own_day = None  # (the log's day, projections/offline_own.py)

    def _flush(self, cur: Cursor) -> None:
        """Write the batch's new and changed ow_cases rows (before any SQL reads ow_cases) and the
        deferred writes (before any SQL reads ow_steps, ow_pending, ow_records)."""
        for sql, rows in self._deferred.items():  # (each statement's rows in order; tables apart)
            cur.executemany(sql, rows)
        self._deferred, self._deferred_keys = {}, set()
        if self._new:
            cur.insert_rows(
                "ow_cases", CASE_COLUMNS, [[stored(self._cases[i][c]) for c in CASE_COLUMNS] for i in self._new]
            )
        changed = sorted(self._dirty.difference(self._new))
        if changed:
            cur.executemany(
                f"UPDATE ow_cases SET {', '.join(f'{c} = ?' for c in CASE_CHANGES)} WHERE case_id = ?",  # noqa: S608
                [[*(stored(self._cases[i][c]) for c in CASE_CHANGES), i] for i in changed],
            )
        self._new, self._dirty = [], set()

    def _flush_numbers(self, cur: Cursor) -> None:
        """The numbers the batch made known, at its end (`_upstream` reads the copies before the table)."""
        if self._numbers:  # the first position of a number stays (DO NOTHING), as when inserted at once
            cur.executemany(
                "INSERT INTO ow_numbers (number, position, issued_on) VALUES (?, ?, ?) ON CONFLICT (number) DO NOTHING",
                [(number, *known) for number, known in self._numbers.items()],
            )
            self._numbers = {}

    def _defer(self, sql: str, params: Sequence[Any], key: str) -> None:
        """An insert into ow_steps, ow_pending or ow_records about `key` (a record id, a city case),
        sent with the others at the next `_flush`: every read of those tables, and every other write
        to them, flushes first (`_flush_for`: a read of one key's rows only if that key has some)."""
        self._deferred.setdefault(sql, []).append(params)
        self._deferred_keys.add(key)

    def _flush_for(self, cur: Cursor, key: str) -> None:
        if key in self._deferred_keys:
            self._flush(cur)

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
            self._flush(cur)
            cur.execute(
                "SELECT record_id, project_code, item_code, issued_on, position, kind, case_ref, number, department"
                " FROM ow_records"
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

    def _cite(self, record_id: str, before: set[str], after: set[str]) -> None:
        """The copies of `_citing` as ow_citations now is: the record cites `after`, no longer `before`."""
        for number in before | after:
            held = self._cited.get(number)
            if held is not None:
                kept = [r for r in held if r != record_id]
                self._cited[number] = sorted([*kept, record_id]) if number in after else kept

    def _preload(self, cur: Cursor, codes: list[str]) -> None:
        """A large batch (a rebuild) reads its projects' cases, facts and records in a few queries
        rather than a few per project."""
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
                "SELECT record_id, project_code, item_code, issued_on, position, kind, case_ref, number, department"  # noqa: S608
                f" FROM ow_records WHERE project_code IN ({marks}) ORDER BY position",
                part,
            )
            for row in cur.fetchall():
                self._records[row["project_code"]].append(row)

    def _begin(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        """Read up front, in a few queries, the ow_cases rows of the batch's cases and every warning
        of their projects (in a large batch, also the projects' cases, facts, records and the
        citations of the batch's numbers: `_preload`). ow_cases rows change in these copies and are
        written back once (`_flush`); the other tables are written at once and the copies of what
        they hold are kept equal to the rows or dropped."""
        self._cases = {}
        self._warnings, self._absent = {}, set()
        self._complete = set()
        self._seq = None
        ids = list({str(cast(Any, env.event).originator_id) for env in batch if isinstance(env.event, Case.Event)})
        codes = {cast(Any, env.event).project_code for env in batch if type(env.event) in CASE_CREATED}
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
        # what cites the numbers the batch makes known (`_number_known` re-checks it)
        numbers = _chunks(batch_numbers(batch))
        queries += [
            (f"SELECT DISTINCT record_id, number FROM ow_citations WHERE number IN ({_marks(part)})", part)  # noqa: S608
            for part in numbers
        ]
        # the imported cases the batch's status and document rows may approve (`_imported_approval`)
        refs = _chunks(batch_approved(batch))
        queries += [
            (
                "SELECT record_id, project_code, issued_on, case_ref FROM ow_records"  # noqa: S608
                f" WHERE kind = 'spgl_case' AND case_ref IN ({_marks(part)}) ORDER BY position",
                part,
            )
            for part in refs
        ]
        # ow_numbers holds during a batch what it held before (written at its end): looked up once
        looked_up = _chunks(sorted({*batch_numbers(batch), *batch_cited(batch)}))
        queries += [
            (f"SELECT number, position, issued_on FROM ow_numbers WHERE number IN ({_marks(part)})", part)  # noqa: S608
            for part in looked_up
        ]
        found = fetch_together(cur, queries)
        for rows in found[len(queries) - len(looked_up) :]:
            self._known.update({r.pop("number"): r for r in rows})
        self._known.update({n: None for part in looked_up for n in part if n not in self._known})
        found = found[: len(queries) - len(looked_up)]
        queries = queries[: len(queries) - len(looked_up)]
        cited_at, refs_at = len(queries) - len(refs) - len(numbers), len(queries) - len(refs)
        for rows in found[: len(chunks)]:
            for row in rows:
                self._cases[row["case_id"]] = row
                codes.add(row["project_code"])
        for rows in found[len(chunks) : cited_at]:
            for row in rows:
                self._warnings[row["warning_id"]] = {"status": row["status"], "evidence": row["evidence"]}
        self._cited = {number: [] for part in numbers for number in part}
        for rows in found[cited_at:refs_at]:
            for row in sorted(rows, key=lambda r: r["record_id"]):
                self._cited[row["number"]].append(row["record_id"])
        self._spgl_cases = {ref: [] for part in refs for ref in part}
        for rows in found[refs_at:]:
            for row in rows:
                self._spgl_cases[row.pop("case_ref")].append(row)
        known = list(codes)
        self._complete = set(known)
        if len(batch) >= PRELOAD_FROM:  # one query spares one per warning never raised
            cur.execute("SELECT warning_id FROM warnings")
            self._ids = {r["warning_id"] for r in cur.fetchall()}
            # the projects it generates too: records reported before them (W9), owners' other projects (W8)
            generated = [cast(Any, env.event) for env in batch if isinstance(env.event, Project.Generated)]
            read = sorted({*known, *batch_projects(batch), *(e.code for e in generated)})
            self._preload(cur, read)
            for part in _chunks(read):
                cur.execute(
                    f"SELECT DISTINCT project_code FROM ow_city_cases WHERE project_code IN ({_marks(part)})",  # noqa: S608
                    part,
                )
                self._cityless.update(set(part).difference(r["project_code"] for r in cur.fetchall()))
            for part in _chunks(sorted({e.owner_uscc for e in generated})):
                self._owners.update({owner: [] for owner in part})
                cur.execute(f"SELECT * FROM ow_projects WHERE owner_uscc IN ({_marks(part)}) ORDER BY position", part)  # noqa: S608
                for row in cur.fetchall():
                    self._owners[row["owner_uscc"]].append(row)

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
        if wid in self._absent or (self._ids is not None and wid not in self._ids):
            return None
        if project_code in self._complete and (
            (case_id is not None and (keys[0] == case_id or keys == ("catalogue", "case", case_id)))
            or (keys[0] in ("stage", "project") and keys[1] == project_code)
        ):
            return None
        cur.execute("SELECT status, evidence FROM warnings WHERE warning_id = ?", (wid,))
        row = cur.fetchone()
        if row is not None:
            self._warnings[wid] = row
        else:
            self._absent.add(wid)
        return row

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
            self._resolve_row(cur, env, wid, row)
            return
        proof = sorted({p for p in evidence if p is not None})
        if row is None:
            if self._seq is None:
                cur.execute("SELECT COALESCE(MAX(seq), 0) AS n FROM warnings")
                top = cur.fetchone()
                self._seq = int(top["n"] if top else 0)
            self._seq += 1
            self._warnings[wid] = {"status": "open", "evidence": to_json(proof)}
            self._absent.discard(wid)
            if self._ids is not None:
                self._ids.add(wid)
            # PostgreSQL: the new row is read back at the batch's end (`handle`), so the insert is not
            # waited for here (in pipeline mode); SQLite reads it at once
            sibling = getattr(cur, "sibling", None)
            raising = sibling() if sibling is not None else cur
            raising.execute(
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
            if sibling is None:
                self.outbox.append(cast(dict[str, Any], cur.fetchone()))  # warningRaised, after the commit
            else:
                self._raised.append(raising)
            return
        merged = sorted({*json.loads(row["evidence"]), *proof})
        status = "open" if row["status"] == "resolved" else row["status"]
        self._warnings[wid] = {"status": status, "evidence": to_json(merged)}
        cur.execute(
            "UPDATE warnings SET reason = ?, explanation = ?, evidence = ?, status = ?, updated_position = ?,"
            " resolved_position = CASE WHEN ? = 'open' THEN NULL ELSE resolved_position END WHERE warning_id = ?",
            (reason, explanation, to_json(merged), status, env.position, status, wid),
        )

    def _resolve_id(self, cur: Cursor, env: Envelope, wid: str) -> None:
        row = self._warnings.get(wid)
        if row is None:
            cur.execute("SELECT status, evidence FROM warnings WHERE warning_id = ?", (wid,))
            row = cur.fetchone()
        self._resolve_row(cur, env, wid, row)

    def _resolve_row(self, cur: Cursor, env: Envelope, wid: str, row: dict[str, Any] | None) -> None:
        """The evidence of the warning is gone: resolve it while open, or mark it in an inquiry."""
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

    def _region(self, cur: Cursor, project_code: str | None) -> str | None:
        if not project_code:
            return None
        row = self._project_facts(cur, project_code)
        return row["region_code"] if row else None

    # --- what the rule mixins provide (projections/offline_cases.py, offline_records.py,
    # offline_imported.py): declared here so that each mixin may call the others'

    def _dispatch(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        raise NotImplementedError

    def _order(self, cur: Cursor, env: Envelope, project_code: str, *, imported: bool = False) -> None:
        raise NotImplementedError

    def _project_generated(self, cur: Cursor, env: Envelope) -> None:
        raise NotImplementedError

    def _certificate_without_case(
        self, cur: Cursor, env: Envelope, record_id: str, fact: dict[str, Any] | None = None
    ) -> None:
        raise NotImplementedError

    def _number_known(self, cur: Cursor, env: Envelope, number: str, issued_on: str | None) -> None:
        raise NotImplementedError

    def _city_project_known(self, cur: Cursor, env: Envelope, code: str) -> None:
        raise NotImplementedError

    def _city_case_rows(self, cur: Cursor, code: str) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _stages(self, cur: Cursor, env: Envelope, case: dict[str, Any], *, project: bool = True) -> bool:
        """W6 of the case's stage and (`project`) of its project; False: not a main stage's case."""
        raise NotImplementedError
