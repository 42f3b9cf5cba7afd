"""Rules over projects (W8) and the catalogue order (W4); the facts of our own cases, which the pure
lifecycle rules judge (W2, W3, W6, W7, W10: projections/offline_own.py), and their stages (W6)."""

from __future__ import annotations

import json
from typing import Any, cast

from domain.approvals import Case
from domain.catalog.catalog import MAIN_STAGES
from domain.catalog.rules import SEED_RULES, FlowRules, stage_closing
from domain.shared.reference import REFERENCE
from domain.supervision.names import similarity as name_similarity
from infrastructure.db import Cursor
from projections.base import Envelope, to_json
from projections.offline_base import (
    APPROVALS,
    CASE_COLUMNS,
    CASE_CREATED,
    CERTIFICATES,
    CLOSINGS,
    WarningsBase,
    _day,
    _days_in_hand,
    _marks,
)
from projections.offline_imported import NAMES
from projections.offline_own import OwnCases, own_steps
from projections.rules import explain, red_line_overlap

# the case events whose business day `_case` records (its match below, approvals and closings)
DATED = (
    Case.Accepted, Case.CorrectionRequested, Case.SpecialProcedureStarted, Case.CorrectionCompleted,
    Case.SpecialProcedureEnded, Case.Withdrawn, *APPROVALS, *CLOSINGS,
)  # fmt: skip


class CaseRules(OwnCases, WarningsBase):
    """Rules over projects (W8) and the catalogue order (W4); our cases' facts and stages (W6)."""

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
        if e.owner_uscc in self._owners:  # (the batch's copy of the owner's rows, as the table now is)
            self._owners[e.owner_uscc].append(
                {
                    "code": e.code,
                    "project_id": str(e.originator_id),
                    "owner_uscc": e.owner_uscc,
                    "name": e.name,
                    "region_code": e.region_code,
                    "red_line": to_json(e.red_line) if e.red_line else None,
                    "position": env.position,
                    "merged_into": None,
                    "flow_type": e.flow_type,
                }
            )
        self._duplicates(cur, env, e.code)
        self._city_project_known(cur, env, e.code)
        # data reported before the project reached us (a monthly dump brings the city's project row
        # after the daily certificates) is no longer about a project never generated (W9)
        if e.code in self._records:  # read up front (a large batch), kept equal to ow_records
            records = [r["record_id"] for r in self._records[e.code]]
        else:
            self._flush(cur)
            cur.execute("SELECT record_id FROM ow_records WHERE project_code = ? ORDER BY position", (e.code,))
            records = [r["record_id"] for r in cur.fetchall()]
        for record_id in records:
            self._set(cur, env, "W9", (record_id,), False)

    def _land_supplied(self, cur: Cursor, env: Envelope) -> None:
        e: Any = env.event
        code = self._project_code(cur, e)
        if code is None:
            return
        cur.execute("UPDATE ow_projects SET red_line = ? WHERE code = ?", (to_json(e.red_line), code))
        self._owned(code, red_line=to_json(e.red_line))
        self._duplicates(cur, env, code)

    def _project_code(self, cur: Cursor, e: Any) -> str | None:
        """Project events after generation carry only the aggregate id."""
        cur.execute("SELECT code FROM ow_projects WHERE project_id = ?", (str(e.originator_id),))
        row = cur.fetchone()
        return row["code"] if row else None

    def _owned(self, code: str, **changes: Any) -> dict[str, Any] | None:
        """The project's row in the batch's copies of its owner's rows (`_owners`), changed alike."""
        for rows in self._owners.values():
            for i, row in enumerate(rows):
                if row["code"] == code:
                    rows[i] = {**row, **changes}  # (a new dict: callers may hold the old)
                    return rows[i]
        return None

    def _duplicates(self, cur: Cursor, env: Envelope, code: str) -> None:
        me = self._owned(code)
        if me is None:
            cur.execute("SELECT * FROM ow_projects WHERE code = ?", (code,))
            me = cur.fetchone()
        if me is None or me["merged_into"]:
            return
        if me["owner_uscc"] in self._owners:
            others = [r for r in self._owners[me["owner_uscc"]] if r["code"] != code and r["merged_into"] is None]
        else:
            cur.execute(
                "SELECT * FROM ow_projects WHERE owner_uscc = ? AND code <> ? AND merged_into IS NULL ORDER BY position",
                (me["owner_uscc"], code),
            )
            others = cur.fetchall()
        for other in others:
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
        self._owned(duplicate, merged_into=e.canonical_code)
        # the pair was handled: a merge resolves its W8 warning (merged codes are not compared again)
        a, b = sorted((duplicate, e.canonical_code))
        self._set(cur, env, "W8", (a, b), False)

    # --- cases: their facts for the lifecycle rules (W2, W3, W6, W7, W10), W1 re-check, W4, stages --

    def _case(self, cur: Cursor, env: Envelope) -> None:
        e: Any = env.event
        kind = type(e)
        case_id = str(e.originator_id)
        if kind in CASE_CREATED:
            self._case_created(cur, env)
        case = self._cases.get(case_id) or self._case_row(cur, case_id)  # (read, never changed here)
        if case is None:  # cannot happen when processing starts at position 0
            raise LookupError(f"case {case_id} not in offline_warnings")
        if kind is Case.DeadlineRecomputed:
            return  # 工作日历: the system judged the deadline again; no business transition to check
        # the facts the lifecycle rules read (an opinion with its item's flow in force as it is read)
        flow = self._flow(cur, case) if kind is Case.OpinionRecorded else None
        updates: dict[str, Any] = {"steps": self._step_memo.append(case_id, case["steps"], own_steps(env, flow))}
        # what the stage rule (W6) and W4 read (the pauses text parsed only by the events that change it)
        dated = isinstance(e, DATED)  # (the day is read below by those only)
        day = e.business_date.isoformat() if dated else ""
        match e:
            case Case.Accepted():
                updates.update(accepted_position=env.position, accepted_on=day, limit_days=e.promised_limit_days)
            case Case.CorrectionRequested() if case["accepted_on"]:
                pause = {"kind": "correction", "start": day, "end": None, "position": env.position}
                updates["pauses"] = json.dumps([*json.loads(case["pauses"]), pause])
            case Case.SpecialProcedureStarted():
                pause = {"kind": "special_procedure", "start": day, "end": None, "position": env.position}
                updates["pauses"] = json.dumps([*json.loads(case["pauses"]), pause])
            case Case.CorrectionCompleted() | Case.SpecialProcedureEnded() | Case.Withdrawn():
                pauses: list[dict[str, Any]] = json.loads(case["pauses"])
                for pause in pauses:
                    pause["end"] = pause["end"] or day
                updates["pauses"] = json.dumps(pauses)
        if kind in APPROVALS:
            updates.update(approved_on=day, approved_position=env.position)
        if kind in CLOSINGS:
            updates.update(closed_on=day, closed_position=env.position)
        # a new row (rows fetched are not ours to change), never changed afterwards: replaced
        case = self._cases[case_id] = {**case, **updates}
        self._dirty.add(case_id)
        self._judge_own(cur, env, case, flow)
        if kind in APPROVALS and e.document_number:
            self._number_known(cur, env, e.document_number, day)
        if kind in APPROVALS or (kind is Case.BackEntered and case["approved_on"]):
            self._order(cur, env, case["project_code"])
        if kind in CLOSINGS or kind is Case.BackEntered:
            self._stages(cur, env, case)

    def _case_created(self, cur: Cursor, env: Envelope) -> None:
        e: Any = env.event
        back = isinstance(e, Case.BackEntered)
        approved = back and e.decision in ("approved", "approved_pending_materials")
        case_id = str(e.originator_id)
        row = {
            "case_id": case_id,
            "project_code": e.project_code,
            "item_code": e.item_code,
            "department": e.department,
            "region_code": e.region_code,
            "created_position": env.position,
            # a migrated approval was created (decided) on its issue date, not when it was migrated
            "created_on": (e.business_date if getattr(e, "provenance", None) else _day(e.timestamp)).isoformat(),
            "accepted_position": None,
            "accepted_on": e.accepted_on.isoformat() if back and e.accepted_on else None,
            "limit_days": None,
            "pauses": "[]",
            "steps": "[]",
            "found": "{}",
            "approved_on": e.business_date.isoformat() if approved else None,
            "approved_position": env.position if approved else None,
            "closed_on": e.business_date.isoformat() if back else None,
            "closed_position": env.position if back else None,
            "flow_code": getattr(e, "flow_code", None),
            "flow_version": getattr(e, "flow_version", None),
        }
        values = [row[c] for c in CASE_COLUMNS]
        if case_id in self._cases:  # a second creation: the table's primary key refuses it, as before
            cur.execute(f"INSERT INTO ow_cases ({', '.join(CASE_COLUMNS)}) VALUES ({_marks(values)})", values)  # noqa: S608
        self._cases[case_id] = row
        self._new.append(case_id)
        if e.project_code in self._by_project:
            self._by_project[e.project_code].append(case_id)
        if approved and e.document_number:
            self._number_known(cur, env, e.document_number, e.business_date.isoformat())
        for r in [r for r in self._records_of(cur, e.project_code) if r["item_code"] == e.item_code]:
            self._certificate_without_case(cur, env, r["record_id"])

    def _stages(self, cur: Cursor, env: Envelope, case: dict[str, Any], *, project: bool = True) -> bool:
        """W6: a main stage took more working days than its limit, or the project more than its target.

        Counted: the working days on which the clock of at least one case of the stage (of stages
        1–4 for the project) ran, from the first acceptance to the approval that completes the
        stage's milestone items. Like 审批时间, the applicant's time does not count: corrections and
        special procedures (checked on their own by W7) and the days between cases (preparing the
        next application, land supply, design, construction). A refused or withdrawn attempt's days
        do count: resubmitting does not reset the stage clock."""
        rule = self._rules(cur, case).items.get(case["item_code"])
        if rule is None or rule.stage not in MAIN_STAGES:
            return False
        code = case["project_code"]
        cases = []  # the project's cases of main stages, each staged by its own pinned version
        # ours and the city's (the same facts: acceptance, pauses, approval; judged by the seed's rules)
        for r in [*self._cases_of(cur, code), *self._city_case_rows(cur, code)]:
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
            days, start, proof = _days_in_hand(in_stage, closing, self._step_memo.running)
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
        if not project:  # (judged by the caller's first stage: the same facts, the same finding)
            return True
        last = [c for c in cases if c["stage"] == MAIN_STAGES[-1]]
        final = stage_closing(approvals, MAIN_STAGES[-1], last[0]["rules"] if last else SEED_RULES)
        facts = self._project_facts(cur, code)
        if final is None or facts is None or facts["flow_type"] is None:
            return True
        days, start, proof = _days_in_hand(cases, final, self._step_memo.running)
        target = cast(FlowRules, cases[0]["rules"]).project_target(int(facts["flow_type"]))
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
                flow=REFERENCE.flow_types[int(facts["flow_type"])],
                target=target,
            ),
            subject=code,
            evidence=proof,
            project_code=code,
            region_code=case["region_code"],
        )
        return True

    def _order(self, cur: Cursor, env: Envelope, project_code: str, *, imported: bool = False) -> None:
        """Re-check every approval of the project: each prerequisite approved on or before it. The
        city's cases are judged (`imported`) when an import completes, with all its rows known."""
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
        # imported cases approved (a 办结 status row or an approval document) count as upstream, and
        # are judged like ours, under our item code (a city's code mapped: domain/supervision/rules/mapping.py)
        cities = [
            ("import", r["case_ref"], NAMES.item(r["item_code"]) or r["item_code"], r["issued_on"], r["position"], None)
            for r in self._records_of(cur, project_code)
            if r["kind"] == "spgl_case" and r["issued_on"] is not None
        ]
        upstream = approvals + cities
        judged = approvals + (cities if imported else [])
        # a certificate is named by its number (its record id when it has none), like W1 and W5 name it
        numbers = {r["record_id"]: r["number"] for r in self._records_of(cur, project_code) if r["number"]}
        for source, ident, item, on, position, region in judged:
            subject = numbers.get(ident, ident) if source == "record" else ident
            pinned = rules.get(ident, SEED_RULES).items.get(item)
            prerequisites = pinned.prerequisites if pinned is not None else ()
            missing, later = [], []
            for pre in prerequisites:
                done = [(p_on, p_pos) for _, _, p_item, p_on, p_pos, _ in upstream if p_item == pre]
                if not any(p_on <= on for p_on, _ in done):
                    missing.append(pre)
                    later += [p_pos for _, p_pos in done]
            what = {"case": "办件", "import": "城市办件"}.get(source, "外部证书") + f"{subject}（事项{item}）"
            self._set(
                cur,
                env,
                "W4",
                ("catalogue", source, ident),
                bool(missing),
                reason="W4.catalogue",
                explanation=explain("W4.catalogue", what=what, on=on, missing="、".join(missing)) if missing else "",
                evidence=(position, *later),
                subject=subject,
                project_code=project_code,
                case_id=ident if source in ("case", "import") else None,
                region_code=region or self._region(cur, project_code),
                department=pinned.department if pinned is not None else None,
            )
