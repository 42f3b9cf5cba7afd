"""What a case's decision left to follow — 容缺 materials and 告知承诺 commitments — folded from its
timeline (the same transitions for the read model and for `asOf` replays: no read-model column).

`overdue` is the W7 rule's own judgement (domain/supervision/rules/commitments.py) on the day asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Protocol

import strawberry

from domain.shared.events import SHANGHAI
from domain.supervision.rules.commitments import commitment_not_verified, materials_not_supplied


class _Step(Protocol):
    event_type: str
    business_time: datetime
    detail: Any


@strawberry.type(description="容缺材料 — a material to follow, and the day it was supplied.")
class SuppliedMaterial:
    material: str
    supplied_on: date


@strawberry.type(description="容缺受理 — the materials an approval (12) left to follow, their due day and what came.")
class PendingMaterials:
    materials: list[str] = strawberry.field(description="every material the approval left to follow")
    due_on: date | None = strawberry.field(description="the day they are due; null: recorded before due days")
    outstanding: list[str] = strawberry.field(description="still to follow; empty once all are supplied")
    supplied: list[SuppliedMaterial]
    overdue: bool = strawberry.field(description="not all supplied by the due day (warning W7.materials_not_supplied)")


@strawberry.type(description="告知承诺制 — an approval on the applicant's commitments and their verification.")
class CommitmentApproval:
    commitments: list[str]
    due_on: date | None = strawberry.field(description="the last day to verify the commitments")
    basis: str | None = strawberry.field(description="the item's basis for approving on commitment")
    result: str = strawberry.field(description="pending, verified, or false (the approval was revoked)")
    checked_on: date | None = strawberry.field(description="the day verified or found false")
    false_commitments: list[str]
    overdue: bool = strawberry.field(description="not verified by the due day (warning W7.commitment_unverified)")


def _day(value: Any) -> date | None:
    return date.fromisoformat(value[:10]) if isinstance(value, str) and value else None


def follow_ups(
    case_id: str, steps: Iterable[_Step], today: date
) -> tuple[PendingMaterials | None, CommitmentApproval | None]:
    pending: PendingMaterials | None = None
    commitment: CommitmentApproval | None = None
    decided: date | None = None
    for step in steps:
        d: dict[str, Any] = step.detail if isinstance(step.detail, dict) else {}
        day = step.business_time.astimezone(SHANGHAI).date()
        kind = step.event_type.rsplit(".", 1)[-1]
        if kind == "ApprovedPendingMaterials":
            decided = day
            materials = list(d.get("pending_materials") or [])
            pending = PendingMaterials(
                materials=materials,
                due_on=_day(d.get("materials_due_on")),
                outstanding=materials,
                supplied=[],
                overdue=False,
            )
        elif kind == "MaterialsSupplied" and pending is not None:
            came = list(d.get("supplied_materials") or [])
            pending.supplied += [SuppliedMaterial(material=m, supplied_on=day) for m in came]
            pending.outstanding = [m for m in pending.outstanding if m not in came]
        elif kind == "Approved" and d.get("commitments"):
            decided = day
            due, basis = _day(d.get("commitment_due_on")), d.get("commitment_basis")
            commitment = CommitmentApproval(
                commitments=list(d["commitments"]),
                due_on=due,
                basis=basis,
                result="pending",
                checked_on=None,
                false_commitments=[],
                overdue=False,
            )
        elif kind == "CommitmentVerified" and commitment is not None:
            commitment.result, commitment.checked_on = "verified", day
        elif kind == "Revoked" and commitment is not None and d.get("false_commitments"):
            commitment.result, commitment.checked_on = "false", day
            commitment.false_commitments = list(d["false_commitments"])
    if pending is not None and decided is not None:
        last = max((s.supplied_on for s in pending.supplied), default=None) if not pending.outstanding else None
        pending.overdue = materials_not_supplied(case_id, decided, pending.due_on, last, today) is not None
    if commitment is not None and decided is not None:
        found = commitment_not_verified(case_id, decided, commitment.due_on, commitment.checked_on, today)
        commitment.overdue = found is not None
    return pending, commitment
