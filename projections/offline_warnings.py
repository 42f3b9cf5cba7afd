"""offline_warnings — approvals that happened outside the system (体外循环, 隐形审批, 先批后录) and
other anomalies the log proves: rules W1–W10 (docs/supervision.md), thresholds in warning_rules.toml.

Each warning has a stable id (rule + sha1 of its subject keys: the same on every replay), the log
positions of the events that prove it, and a status: open → acknowledged → in_inquiry →
closed_explained (WarningDisposition events), or `resolved` when a later fact removes the evidence
(a missing upstream number appears, a duplicate code is merged, a city case's later rows). Handlers
never read the clock: "today" is the day of the log's last SupervisionClock.Ticked.

Cases are judged by the flow version they were pinned to (stage limits and milestone rules, item
stages, departments, prerequisites: `ow_flows`, from the Process events); unpinned cases by the seed.

The read model is put together from mixins: offline_base.py (the batch's copies, `_set`),
offline_cases.py (projects W8, our cases' facts and stages, catalogue order W4), offline_own.py (our
cases judged by the pure rules of domain/supervision/rules: W2/W3/W6/W7/W10), offline_records.py
(external records and imported SPGL rows: W1, W4, W5, W9, W10), offline_imported.py (the lives of
city cases, refused rows and the clock, judged by the pure rules of domain/supervision/rules),
offline_follow_ups.py (容缺 materials and 告知承诺 commitments after the decision: W7).

Consumes (`reads`, dispatched by class): Project.Generated, Project.LandSupplied, Project.MergedInto,
Case.*, ExternalRecord.Reported, ExternalRecord.Amended, SpglRow.Imported / Corrected (every table: a
city's fact counts like ours),
SpglImport.Completed, SpglRefusedRow.Recorded, SupervisionClock.Ticked,
WarningDisposition.Acknowledged / LinkedToInquiry / ClosedAsExplained, Process.Published / VersionPublished.
Tables: `warnings`; facts the rules need: `ow_projects`, `ow_cases`, `ow_numbers`, `ow_records`,
`ow_citations`, `ow_flows`, `ow_city_cases`, `ow_steps`, `ow_pending`, `ow_item_map`, `ow_clock`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.approvals import Case
from domain.catalog.process import Process
from domain.exchange import ExternalRecord
from domain.exchange.spgl import SpglImport, SpglRow
from domain.exchange.spgl_refused import SpglRefusedRow
from domain.projects.project import Project
from domain.shared.reference import regions_within
from domain.supervision import WarningDisposition
from domain.supervision.clock import SupervisionClock
from domain.supervision.rules.facts import warning_id
from infrastructure.db import Cursor
from projections.base import Envelope, Events, bigint
from projections.offline_base import DISPOSITIONS
from projections.offline_cases import CaseRules
from projections.offline_follow_ups import FollowUps
from projections.offline_imported import CityCases
from projections.offline_records import RecordRules

__all__ = ["OfflineWarnings", "warning_id"]


class OfflineWarnings(CityCases, CaseRules, RecordRules, FollowUps):
    name = "offline_warnings"
    reads = Events(
        Case,
        Project.Generated,
        Project.LandSupplied,
        Project.MergedInto,
        ExternalRecord.Reported,
        ExternalRecord.Amended,
        SpglRow.Imported,
        SpglRow.Corrected,
        SpglImport.Completed,
        SpglRefusedRow.Recorded,
        SupervisionClock.Ticked,
        *DISPOSITIONS,
        Process.Published,
        Process.VersionPublished,
    )
    tables = (
        "warnings", "ow_projects", "ow_cases", "ow_numbers", "ow_records", "ow_citations", "ow_flows",
        "ow_city_cases", "ow_steps", "ow_pending", "ow_item_map", "ow_clock", "ow_follow_ups",
    )  # fmt: skip
    # 2: cases keep their pinned flow version; flows come from the catalogue events;
    # 3: times in explanations all in Asia/Shanghai (business and recording time in one offset);
    # 4: imported approval documents and the approval date of imported cases are facts (W1, W4)
    # 5: the lives of city cases (status rows, opinions, special procedures) are facts (W2, W3, W6, W7, W10)
    # 6: city cases keep the day W6.open_overdue may first hold and their stage summary (speed, issue 15)
    # 7: 容缺 materials and 告知承诺 commitments followed up (ow_follow_ups, W7 after the decision)
    # 8: our own cases keep their facts (ow_cases.steps) and findings (found), judged by the pure rules
    shape = 8
    pipelined = True  # a catch-up writes row by row between reads: the writes are not waited for

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
            f" created_position {big} NOT NULL, created_on TEXT NOT NULL,"
            f" accepted_position {big}, accepted_on TEXT, limit_days INTEGER, pauses TEXT NOT NULL,"
            " steps TEXT NOT NULL, found TEXT NOT NULL, approved_on TEXT,"
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
        self.create_city_tables(cur, dialect)
        self.create_follow_up_table(cur)

    def _dispatch(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        for env in batch:  # in log order: each rule sees exactly the facts before and at this event
            e: Any = env.event
            match e:
                case Case.Event():
                    self._case(cur, env)
                    self._follow_up(cur, env)
                case Project.Generated():
                    self._project_generated(cur, env)
                case Project.LandSupplied():
                    self._land_supplied(cur, env)
                case Project.MergedInto():
                    self._merged(cur, env)
                case ExternalRecord.Reported() | ExternalRecord.Amended():
                    self._record(cur, env)
                case SpglRow.Imported() | SpglRow.Corrected():
                    self._spgl_row(cur, env)
                    self._city_row(cur, env)
                case SpglImport.Completed():
                    self._import_completed(cur, env)
                case SpglRefusedRow.Recorded():
                    self._refused_row(cur, env)
                case SupervisionClock.Ticked():
                    self._clock_ticked(cur, env, e.day)
                    self._follow_ups_due(cur, env, e.day)
                case (
                    WarningDisposition.Acknowledged()
                    | WarningDisposition.LinkedToInquiry()
                    | (WarningDisposition.ClosedAsExplained())
                ):
                    self._disposition(cur, env, DISPOSITIONS[type(e)])
                case Process.Published() | Process.VersionPublished():
                    self._flow_published(cur, env)

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
