"""W7 after the decision (docs/supervision.md): 容缺 materials not supplied and 告知承诺 commitments
not verified by their due day, judged by the pure rules of domain/supervision/rules/commitments.py
when the follow-up is settled and on every day the log's clock reaches (SupervisionClock.Ticked),
so a rebuild raises the same warnings as the live run. Table `ow_follow_ups`: one row per case and
kind with its decision day, due day, what is still outstanding and the day it was settled."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from domain.approvals import Case
from domain.supervision.rules.commitments import commitment_not_verified, materials_not_supplied
from infrastructure.db import Cursor
from projections.base import Envelope

MATERIALS, COMMITMENT = "materials", "commitment"
JUDGE = {MATERIALS: materials_not_supplied, COMMITMENT: commitment_not_verified}
# the events `_follow_up` reads (the others carry no follow-up fact)
FOLLOWED = (Case.ApprovedPendingMaterials, Case.Approved, Case.MaterialsSupplied, Case.CommitmentVerified, Case.Revoked)


class FollowUps:
    def create_follow_up_table(self, cur: Cursor) -> None:
        cur.execute(
            "CREATE TABLE IF NOT EXISTS ow_follow_ups (case_id TEXT NOT NULL, kind TEXT NOT NULL,"
            " decided_on TEXT NOT NULL, due_on TEXT, outstanding TEXT NOT NULL, settled_on TEXT,"
            " evidence TEXT NOT NULL, PRIMARY KEY (case_id, kind))"
        )
        cur.execute("CREATE INDEX IF NOT EXISTS ow_follow_ups_due ON ow_follow_ups (settled_on, due_on)")

    def _follow_up(self, cur: Cursor, env: Envelope) -> None:
        """The follow-up facts a Case event carries (after `_case` has seen it)."""
        e: Any = env.event
        if not isinstance(e, FOLLOWED):
            return
        case_id, day = str(e.originator_id), e.business_date
        if isinstance(e, Case.ApprovedPendingMaterials) and e.materials_due_on is not None:
            self._open_follow_up(cur, env, case_id, MATERIALS, day, e.materials_due_on, list(e.pending_materials))
        elif isinstance(e, Case.Approved) and e.commitment_due_on is not None:
            self._open_follow_up(cur, env, case_id, COMMITMENT, day, e.commitment_due_on, list(e.commitments or []))
        elif isinstance(e, Case.MaterialsSupplied):
            row = self._follow_up_row(cur, case_id, MATERIALS)
            if row is not None and row["settled_on"] is None:
                left = [m for m in json.loads(row["outstanding"]) if m not in set(e.supplied_materials)]
                self._settle(cur, env, row, left, day if not left else None)
        elif isinstance(e, Case.CommitmentVerified | Case.Revoked):
            row = self._follow_up_row(cur, case_id, COMMITMENT)
            if row is not None and row["settled_on"] is None:  # verified, or revoked (found false or not)
                self._settle(cur, env, row, [], day)

    def _open_follow_up(
        self, cur: Cursor, env: Envelope, case_id: str, kind: str, decided: date, due: date, outstanding: list[str]
    ) -> None:
        cur.execute(
            "INSERT INTO ow_follow_ups (case_id, kind, decided_on, due_on, outstanding, settled_on, evidence)"
            " VALUES (?, ?, ?, ?, ?, NULL, ?)",
            (case_id, kind, decided.isoformat(), due.isoformat(), json.dumps(outstanding, ensure_ascii=False),
             json.dumps([env.position])),
        )  # fmt: skip

    def _follow_up_row(self, cur: Cursor, case_id: str, kind: str) -> dict[str, Any] | None:
        cur.execute("SELECT * FROM ow_follow_ups WHERE case_id = ? AND kind = ?", (case_id, kind))
        return cur.fetchone()  # type: ignore[no-any-return]

    def _settle(self, cur: Cursor, env: Envelope, row: dict[str, Any], left: list[str], settled: date | None) -> None:
        evidence = [*json.loads(row["evidence"]), env.position]
        cur.execute(
            "UPDATE ow_follow_ups SET outstanding = ?, settled_on = ?, evidence = ? WHERE case_id = ? AND kind = ?",
            (json.dumps(left, ensure_ascii=False), settled.isoformat() if settled else None, json.dumps(evidence),
             row["case_id"], row["kind"]),
        )  # fmt: skip
        if settled is not None:  # a late settlement is a finding even if no clock tick saw it open
            self._judge_follow_up(cur, env, {**row, "settled_on": settled.isoformat(), "evidence": evidence}, settled)

    def _follow_ups_due(self, cur: Cursor, env: Envelope, day: date) -> None:
        """The log's day moved on: follow-ups still open past their due day are findings."""
        cur.execute(
            "SELECT * FROM ow_follow_ups WHERE settled_on IS NULL AND due_on < ? ORDER BY case_id, kind",
            (day.isoformat(),),
        )
        for row in cur.fetchall():
            self._judge_follow_up(cur, env, row, day)

    def _judge_follow_up(self, cur: Cursor, env: Envelope, row: dict[str, Any], today: date) -> None:
        settled = date.fromisoformat(row["settled_on"]) if row["settled_on"] else None
        evidence = row["evidence"] if isinstance(row["evidence"], list) else json.loads(row["evidence"])
        found = JUDGE[row["kind"]](
            row["case_id"], date.fromisoformat(row["decided_on"]), date.fromisoformat(row["due_on"]), settled, today,
            tuple(evidence),
        )  # fmt: skip
        if found is None:
            return
        me: Any = self
        case = me._case_row(cur, row["case_id"]) or {}
        me._set(
            cur, env, found.rule, found.keys, True, reason=found.reason, explanation=found.explanation,
            subject=row["case_id"], evidence=found.evidence, project_code=case.get("project_code"),
            case_id=row["case_id"], region_code=case.get("region_code"), department=case.get("department"),
        )  # fmt: skip
