"""What a decision leaves to follow, and the Case commands that record it (a mixin of Case, kept
here so domain/approvals/case.py stays within 600 lines; the events stay nested in Case).

- 容缺受理: `approve_pending_materials` records the materials to follow and their due date (the
  item's working-day period after the decision, or a date the official sets within the item's
  maximum); `supply_materials` records some or all of them arriving. The status stays 12.
- 告知承诺制: `approve_on_commitment` approves (status 11) an item that allows it on the applicant's
  commitments, due to be verified within the item's period; `verify_commitment` records them true
  (`CommitmentVerified`) or false, which revokes the case (`Revoked`, naming the false commitments).
- `recompute_deadline` judges an open case again on a newly published working calendar.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from domain.approvals.clock import CaseClock
from domain.approvals.status import CaseStatus, Phase
from domain.catalog import Item
from domain.shared.errors import IllegalTransition, InvalidValue
from domain.shared.events import SHANGHAI, Channel, Meta
from domain.shared.workdays import PACKAGE, Calendar, add_workdays


class _Case(Protocol):
    """What the commands use of Case (a structural supertype, so mypy accepts it as `self`)."""

    follow_up: FollowUp
    accepted_on: date | None
    stopped_on: date | None
    calendars_judged: dict[int, int]

    @property
    def id(self) -> UUID: ...
    # the nested event classes
    @property
    def ApprovedPendingMaterials(self) -> Any: ...
    @property
    def MaterialsSupplied(self) -> Any: ...
    @property
    def Approved(self) -> Any: ...
    @property
    def CommitmentVerified(self) -> Any: ...
    @property
    def Revoked(self) -> Any: ...
    @property
    def RuleApprovalDeclined(self) -> Any: ...
    @property
    def DeadlineRecomputed(self) -> Any: ...
    @property
    def status(self) -> CaseStatus: ...
    @property
    def phase(self) -> Phase: ...
    def check_allowed(self, action: str) -> None: ...
    def _do(self, action: str, event_class: Any, meta: Meta, **fields: Any) -> None: ...
    def trigger_event(self, event_class: Any, **kwargs: Any) -> None: ...


@dataclass
class FollowUp:
    """The case's open and settled follow-ups, as its events recorded them."""

    pending_materials: list[str] = field(default_factory=list)  # still to follow (容缺)
    materials_due_on: date | None = None
    supplied: list[tuple[str, date]] = field(default_factory=list)  # (material, day supplied)
    commitments: list[str] = field(default_factory=list)  # 告知承诺 the approval rests on
    commitment_due_on: date | None = None
    commitment_checked_on: date | None = None  # verified, or found false and revoked
    false_commitments: list[str] = field(default_factory=list)


def _names(values: list[str], field_name: str) -> list[str]:
    names = [v.strip() for v in values if isinstance(v, str)]
    if not values or len(names) != len(values) or not all(names):
        raise InvalidValue(field_name, f"{field_name}: at least one, none blank", "required")
    if len(set(names)) != len(names):
        raise InvalidValue(field_name, f"{field_name}: each named once", "duplicate")
    return names


def _decided_on(meta: Meta) -> date:
    return meta.business_time.astimezone(SHANGHAI).date()


class FollowUpCommands:
    """The Case commands of 容缺 and 告知承诺 (and the deadline recomputation)."""

    def approve_pending_materials(
        self: _Case,
        meta: Meta,
        document_number: str | None,
        pending_materials: list[str],
        *,
        item: Item | None = None,
        calendar: Calendar = PACKAGE,
        materials_due_on: date | None = None,
    ) -> None:
        """办结（容缺通过）: due on the item's period after the decision, or on a date within its maximum."""
        if not pending_materials:
            raise InvalidValue("pending_materials", "name the materials to follow (容缺)", "required")
        materials = _names(pending_materials, "pending_materials")
        decided = _decided_on(meta)
        due = None
        if item is not None:
            terms = item.pending_materials
            latest = add_workdays(decided, terms.max_days, calendar)
            if materials_due_on is not None and not decided < materials_due_on <= latest:
                raise InvalidValue(
                    "materials_due_on",
                    f"due after the decision ({decided}) and by {latest} ({terms.max_days} working days)",
                    "range",
                )
            due = materials_due_on or add_workdays(decided, terms.period_days, calendar)
        self._do(
            "approve-pending-materials",
            self.ApprovedPendingMaterials,
            meta,
            document_number=document_number,
            pending_materials=materials,
            materials_due_on=due,
        )

    def supply_materials(self: _Case, meta: Meta, materials: list[str], note: str) -> None:
        """补齐容缺材料: some or all of the materials still to follow arrived."""
        self.check_allowed("supply-materials")
        if not self.follow_up.pending_materials:
            raise IllegalTransition(
                f"case {self.id}",
                f"{self.status.value} {self.status.label} (no materials to follow)",
                "supply-materials",
            )
        names = _names(materials, "supplied_materials")
        unknown = [n for n in names if n not in self.follow_up.pending_materials]
        if unknown:
            raise InvalidValue("supplied_materials", f"not among the materials to follow: {unknown}", "not_pending")
        self._do("supply-materials", self.MaterialsSupplied, meta, supplied_materials=names, note=note.strip())

    def approve_on_commitment(
        self: _Case,
        meta: Meta,
        item: Item,
        commitments: list[str],
        *,
        document_number: str | None = None,
        document_title: str | None = None,
        valid_until: date | None = None,
        calendar: Calendar = PACKAGE,
    ) -> None:
        """承诺制审批: an approval (status 11) resting on the applicant's commitments, to be verified."""
        self.check_allowed("approve-on-commitment")
        if item.commitment is None:
            raise IllegalTransition(
                f"case {self.id}", f"item {item.code} does not allow approval on commitment", "approve-on-commitment"
            )
        if meta.channel == Channel.SYSTEM_RULE:
            raise InvalidValue("channel", "a commitment is accepted by a person, not a rule", "channel")
        names = _names(commitments, "commitments")
        self._do(
            "approve-on-commitment",
            self.Approved,
            meta,
            document_number=document_number,
            document_title=document_title,
            valid_until=valid_until,
            rule_evidence=None,
            commitments=names,
            commitment_due_on=add_workdays(_decided_on(meta), item.commitment.verify_days, calendar),
            commitment_basis=item.commitment.basis,
        )

    def verify_commitment(self: _Case, meta: Meta, verified: bool, finding: str, false_commitments: list[str]) -> None:
        """承诺核查: true is recorded; false revokes the approval, naming the false commitments."""
        self.check_allowed("verify-commitment")
        f = self.follow_up
        if not f.commitments or f.commitment_checked_on is not None:
            state = "no commitment to verify" if not f.commitments else "commitment already verified"
            raise IllegalTransition(
                f"case {self.id}", f"{self.status.value} {self.status.label} ({state})", "verify-commitment"
            )
        finding = finding.strip()
        if not finding:
            raise InvalidValue("finding", "say what the verification found", "required")
        if verified:
            if false_commitments:
                raise InvalidValue("false_commitments", "only a false result names false commitments", "rule")
            self._do("verify-commitment", self.CommitmentVerified, meta, finding=finding)
            return
        named = _names(false_commitments, "false_commitments")
        unknown = [n for n in named if n not in f.commitments]
        if unknown:
            raise InvalidValue("false_commitments", f"not among the case's commitments: {unknown}", "not_committed")
        reason = f"告知承诺不实（{'；'.join(named)}）：{finding}"
        self._do("verify-commitment", self.Revoked, meta, reason=reason, false_commitments=named)

    def decline_rule_approval(self: _Case, meta: Meta, rule_evidence: dict[str, Any]) -> None:
        """Record why the rules did not decide; only right after receipt, before anyone acted."""
        if self.phase != Phase.RECEIVED or meta.channel != Channel.SYSTEM_RULE:
            raise IllegalTransition(f"case {self.id}", f"{self.status.value} {self.status.label}", "decline-rule")
        self.trigger_event(self.RuleApprovalDeclined, rule_evidence=rule_evidence, **meta.fields())

    def recompute_deadline(
        self: _Case,
        meta: Meta,
        *,
        year: int,
        calendar_version: int,
        notice_number: str,
        before: CaseClock,
        after: CaseClock,
    ) -> bool:
        """Judge an open case again on a newly published calendar (`after`, against `before`): an
        event when it was estimated or its deadline moves; once per calendar version. True if recorded."""
        today = meta.now.astimezone(SHANGHAI).date()
        if self.accepted_on is None or self.stopped_on is not None:
            return False
        if self.calendars_judged.get(year, 0) >= calendar_version:
            return False
        was, now = before.deadline(today), after.deadline(today)
        last = max(today, was or today, now or today)
        if not self.accepted_on.year <= year <= last.year:
            return False  # its clock does not reach into that year
        if not before.estimated(today) and was == now:
            return False
        self.trigger_event(
            self.DeadlineRecomputed,
            year=year,
            calendar_version=calendar_version,
            notice_number=notice_number,
            previous_deadline=was,
            deadline=now,
            previously_estimated=before.estimated(today),
            estimated=after.estimated(today),
            **meta.fields(),
        )
        return True
