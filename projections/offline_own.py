"""Our own cases as facts for the off-system warnings (issue 15): each Case event is a `Step` of
the case's `CaseFacts` (its business time, the time we recorded it when it differs, its channel
and log position), kept in the case's `ow_cases.steps`, and the case is judged by the same pure
rules as a city's (domain/supervision/rules/lifecycle.py `judge_case`: W2, W3, W6, W7, W10).

The read model stores what the rules return: `ow_cases.found` holds the findings of the case's
last judging (warning id → explanation and evidence); a finding new or changed is raised or
refreshed, one no longer returned is resolved. A case is judged at each of its events, with
"today" the day of the log's last clock tick, and again on each tick while it is open and may be
far past its deadline (W6.open_overdue: the only rule that depends on the day).
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any, cast

from domain.approvals import Case
from domain.catalog import CATALOG
from domain.shared.events import SHANGHAI
from domain.supervision.rules import CaseFacts, Finding, Kind, Limits, Source, Step, judge_case
from domain.supervision.rules.facts import warning_id
from domain.supervision.rules.lifecycle import NEVER, open_overdue, open_overdue_from
from infrastructure.db import Cursor
from projections.base import Envelope
from projections.offline_steps import limits
from projections.rules import Thresholds

# what each of our case events is as a step (DeadlineRecomputed is none: the system re-judged a
# deadline, nothing happened to the case)
KINDS: dict[type, Kind] = {
    Case.Received: Kind.RECEIVED,
    Case.Accepted: Kind.ACCEPTED,
    Case.NotAccepted: Kind.NOT_ACCEPTED,
    Case.AcceptanceRefused: Kind.NOT_ACCEPTED,
    Case.CorrectionRequested: Kind.CORRECTION_REQUESTED,
    Case.CorrectionCompleted: Kind.CORRECTION_COMPLETED,
    Case.ReviewStarted: Kind.REVIEW,
    Case.OpinionRecorded: Kind.OPINION,
    Case.SpecialProcedureStarted: Kind.SPECIAL_STARTED,
    Case.SpecialProcedureEnded: Kind.SPECIAL_ENDED,
    Case.Approved: Kind.APPROVED,
    Case.ApprovedPendingMaterials: Kind.APPROVED,
    Case.Refused: Kind.REFUSED,
    Case.Withdrawn: Kind.WITHDRAWN,
    Case.Revoked: Kind.REVOKED,
    Case.MaterialsSupplied: Kind.FOLLOW_UP,
    Case.CommitmentVerified: Kind.FOLLOW_UP,
    Case.RuleApprovalDeclined: Kind.FOLLOW_UP,
}
DECIDED = {"approved": Kind.APPROVED, "approved_pending_materials": Kind.APPROVED, "refused": Kind.REFUSED}


def own_steps(env: Envelope, flow: frozenset[str] | None = None) -> list[list[Any]]:
    """The steps a case event records, as stored in `ow_cases.steps`: [kind, event, business time,
    recorded time (only when the event names a business time of its own), channel, position,
    details]. `flow`: an opinion's item flow in force as it is read (W10)."""
    e: Any = env.event
    event = type(e).__name__
    late = e.timestamp.isoformat() if e.occurred_at is not None else None
    base: list[Any] = [e.business_time.isoformat(), late, str(e.channel), env.position]
    if isinstance(e, Case.BackEntered):
        steps: list[list[Any]] = []
        if e.accepted_on is not None:  # the stated acceptance date proves an acceptance (no time of day)
            moment = datetime.combine(e.accepted_on, time(0), SHANGHAI).isoformat()
            steps.append([str(Kind.ACCEPTED), event, moment, None, str(e.channel), env.position, None])
        # a migrated approval (with provenance) was decided before the system existed: no 补录
        entered = None if getattr(e, "provenance", None) else {"back_entry": True}
        recorded = e.timestamp.isoformat() if entered else None
        steps.append([str(DECIDED[str(e.decision)]), event, base[0], recorded, *base[2:], entered])
        return steps
    kind = KINDS.get(type(e))
    if kind is None:
        return []
    details: dict[str, Any] | None = None
    if kind == Kind.OPINION:
        details = {"department": e.department, "flow": sorted(flow) if flow is not None else None}
    elif kind == Kind.SPECIAL_STARTED:
        details = {"limit_days": e.limit_days, "name": e.procedure_name}
    return [[str(kind), event, *base, details]]


_KIND = {str(kind): kind for kind in Kind}  # (a dict look-up: Kind(value) costs far more)


def _step(case_id: str, raw: list[Any]) -> Step:
    kind, event, business, recorded, channel, position, details = raw
    extra = dict(details or {})
    if extra.get("flow") is not None:
        extra["flow"] = frozenset(extra["flow"])
    else:
        extra.pop("flow", None)
    return Step(
        _KIND[kind],
        datetime.fromisoformat(business),
        Source(channel, int(position), f"本系统办件{case_id} {event}"),
        recorded_at=datetime.fromisoformat(recorded) if recorded else None,
        **extra,
    ).keyed(business)  # (`business` was written by isoformat: the text the sort key holds)


class PendingSteps:
    """A case's steps text as `json.dumps(steps)` writes it, written only when the row is (`str`,
    offline_base `_flush`): the stored text and the steps added since, not encoded at each event."""

    __slots__ = ("added", "base", "text")

    def __init__(self, base: str, added: list[list[Any]]) -> None:
        self.base, self.added, self.text = base, added, ""

    def __str__(self) -> str:
        # `json.dumps([*json.loads(base), *added])` (json.dumps wrote `base`), the steps of `base`
        # not encoded again
        if not self.text:
            tail = json.dumps(self.added)
            base = self.base
            self.text = base if not self.added else tail if base == "[]" else f"{base[:-1]}, {tail[1:]}"
        return self.text


def stored(value: Any) -> Any:
    """An ow_cases value as written (a pending steps text encoded)."""
    return str(value) if isinstance(value, PendingSteps) else value


class StepMemo:
    """The batch's parsed `ow_cases.steps` and `found` (case id → the text and its parse: `Step`s,
    findings): a case gets a step and is judged again at each of its events, so each is parsed
    once per batch rather than at every later event of its case. Held only while the text is the
    row's (compared): the same text, the same parse."""

    def __init__(self) -> None:
        self.held: dict[str, tuple[str | PendingSteps, tuple[Step, ...]]] = {}
        self.found: dict[str, tuple[str, dict[str, list[Any]]]] = {}
        self.running: dict[Any, set[date]] = {}  # each case's clock days (offline_base `_days_in_hand`)

    def append(self, case_id: str, text: str | PendingSteps, added: list[list[Any]]) -> PendingSteps:
        """The steps text of the case after `added` (the row's text is `text`)."""
        steps = self.steps(case_id, text) + tuple(_step(case_id, r) for r in added)
        if isinstance(text, PendingSteps):
            new = PendingSteps(text.base, [*text.added, *added])
        else:
            new = PendingSteps(text, added)
        self.held[case_id] = (new, steps)
        return new

    def steps(self, case_id: str, text: str | PendingSteps) -> tuple[Step, ...]:
        held = self.held.get(case_id)
        if held is None or (held[0] is not text and held[0] != text):
            held = self.held[case_id] = (text, tuple(_step(case_id, r) for r in json.loads(str(text))))
        return held[1]

    def findings(self, case_id: str, text: str) -> dict[str, list[Any]]:
        """The case's `found` (read, never changed: `keep` a new one)."""
        held = self.found.get(case_id)
        if held is None or held[0] != text:
            held = self.found[case_id] = (text, json.loads(text))
        return held[1]

    def keep(self, case_id: str, found: dict[str, list[Any]]) -> str:
        """The text of the case's new `found` (which equals the parse of that text)."""
        text = json.dumps(found, ensure_ascii=False)
        self.found[case_id] = (text, found)
        return text


def own_facts(case: dict[str, Any], flow: frozenset[str], memo: StepMemo | None = None) -> CaseFacts:
    """One of our cases (its ow_cases row) as facts; `flow`: its item's departments in force."""
    steps = (memo or StepMemo()).steps(case["case_id"], case["steps"])
    created = int(case["created_position"])
    channel = ""
    for s in steps:  # (its first step, as a rule: a loop, not a generator, at every event)
        if s.source.position == created:
            channel = s.source.channel
            break
    item = CATALOG.items.get(case["item_code"])
    return CaseFacts(
        case["case_id"],
        case["item_code"],
        case["limit_days"],  # the promised limit recorded at acceptance (the pinned version's)
        flow,
        steps,
        Source(channel, created, f"本系统办件{case['case_id']}"),
        "",
        # before acceptance: the item's promised limit (W3 reads it)
        item.promised_limit_days if item is not None and case["limit_days"] is None else None,
    )


class OwnCases:
    """Mixed into OfflineWarnings: `self._set`, `self._resolve_id`, `self._rules`, `self._flush`,
    `self._cases`, `self._dirty` are its own."""

    t: Thresholds
    _own_day: tuple[date | None] | None = None  # the log's day, read once per batch (offline_base resets it)
    _own_limits: tuple[Thresholds, Limits] | None = None

    def _limits(self) -> Limits:
        if self._own_limits is None or self._own_limits[0] is not self.t:
            self._own_limits = (self.t, limits(self.t))
        return self._own_limits[1]

    def _log_day(self, cur: Cursor) -> date | None:
        if self._own_day is None:
            cur.execute("SELECT day FROM ow_clock WHERE id = 1")
            row = cur.fetchone()
            self._own_day = (date.fromisoformat(row["day"]) if row else None,)
        return self._own_day[0]

    def _flow(self, cur: Cursor, case: dict[str, Any]) -> frozenset[str]:
        """The item's flow: its department (the pinned version's) and the departments it consults
        (the catalogue in force)."""
        me: Any = self
        item = case["item_code"]
        pinned = me._rules(cur, case).items.get(item)
        home = pinned.department if pinned is not None else CATALOG.items[item].department
        return frozenset({home, *self.t.consulted.get(item, ())})

    def _judge_own(self, cur: Cursor, env: Envelope, case: dict[str, Any], flow: frozenset[str] | None = None) -> None:
        """Judge the case on its facts so far and store what the rules return (`flow`: the item's
        flow when the caller has just read it)."""
        facts = own_facts(case, self._flow(cur, case) if flow is None else flow, cast(Any, self)._step_memo)
        today = self._log_day(cur)
        due = open_overdue_from(facts, self._limits()) if today is not None else None
        # before `due` W6.open_overdue cannot hold: no need to count its working days
        on = today if today is not None and (due is None or due <= today) else None
        self._store_own(cur, env, case, judge_case(facts, self._limits(), on, imported=False))

    def _store_own(
        self, cur: Cursor, env: Envelope, case: dict[str, Any], found: list[Finding], scope: set[str] | None = None
    ) -> None:
        """Raise or refresh the findings new or changed since the case was last judged; resolve
        those no longer found (`scope`: only among these warning ids)."""
        me: Any = self
        if not found and case["found"] == "{}":
            return  # nothing found, nothing held: nothing to raise, resolve or write
        memo: StepMemo = me._step_memo
        before = memo.findings(case["case_id"], case["found"])
        after = {k: v for k, v in before.items() if scope is not None and k not in scope}
        for f in found:
            wid = warning_id(f.rule, *f.keys)
            after[wid] = [f.explanation, list(f.evidence)]
            if before.get(wid) == after[wid]:
                continue
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
                department=f.department or case["department"],
            )
        for wid in sorted(set(before) - set(after)):
            me._resolve_id(cur, env, wid)
        if after != before:
            case_id = case["case_id"]
            me._cases[case_id] = {**me._cases[case_id], "found": memo.keep(case_id, after)}
            me._dirty.add(case_id)

    def _our_open_cases(self, cur: Cursor, env: Envelope, day: date) -> None:
        """Our own cases still open on the log's new day: W6.open_overdue by the same pure rule
        (the other rules do not depend on the day: they stand as judged at the case's last event)."""
        me: Any = self
        self._own_day = (day,)
        me._flush(cur)  # ow_cases equals the batch's copies
        cur.execute(
            "SELECT * FROM ow_cases WHERE closed_on IS NULL AND accepted_on IS NOT NULL AND limit_days IS NOT NULL"
            " ORDER BY case_id"
        )
        for row in cur.fetchall():
            case_id = row["case_id"]
            me._cases.setdefault(case_id, row)
            case = dict(me._cases[case_id])
            facts = own_facts(case, frozenset(), me._step_memo)  # (W6 reads no department)
            due = open_overdue_from(facts, self._limits())
            if due == NEVER or (due is not None and due > day):
                continue
            found = open_overdue(facts, self._limits(), day)
            self._store_own(cur, env, case, found, scope={warning_id("W6", case_id, "open")})
