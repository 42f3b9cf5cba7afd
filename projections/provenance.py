"""provenance — the chain behind a licence, a document hash or a case, from the audit trail.

Answers: where does this licence come from — the project's generation (赋码), the case (收件,
受理 …), its decisions (审批结论), the licence (证照签发/注销), the signatures over its content
(签章, the seals' registration and status) and the case's archive package (归档/移交). Reads
`audit_events` / `audit_subjects` (projections/audit_trail.py); owns no table. Stages are given by
event class (`STAGES`); an event class missing there is not a step.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from domain.approvals.case import Case
from domain.archives.package import ArchivePackage
from domain.licences.licence import License
from domain.projects.project import Project
from domain.signatures.seal import Seal
from domain.signatures.signing import SigningRequest
from domain.signatures.verification import Verification
from projections.audit_trail import AuditTrail

ORDER = ("generation", "case", "decision", "licence", "signature", "archive")
DECISIONS = (
    Case.Approved,
    Case.ApprovedPendingMaterials,
    Case.Refused,
    Case.NotAccepted,
    Case.AcceptanceRefused,
    Case.Withdrawn,
    Case.Revoked,
    Case.RuleApprovalDeclined,
    Case.OpinionRecorded,
)
CASE_STEPS = (
    Case.Received,
    Case.BackEntered,
    Case.Accepted,
    Case.CorrectionRequested,
    Case.CorrectionCompleted,
    Case.ReviewStarted,
    Case.SpecialProcedureStarted,
    Case.SpecialProcedureEnded,
    Case.DeadlineRecomputed,
)
SIGNATURES = (
    SigningRequest.Requested,
    SigningRequest.Signed,
    SigningRequest.Completed,
    Verification.Recorded,
    Seal.Registered,
    Seal.SignersChanged,
    Seal.Suspended,
    Seal.Resumed,
    Seal.Revoked,
)
ARCHIVE = (
    ArchivePackage.Generated,
    ArchivePackage.Received,
    ArchivePackage.TransferRequested,
    ArchivePackage.TransferFailed,
    ArchivePackage.TransferSucceeded,
)
STAGES: dict[type[Any], str] = {
    Project.Generated: "generation",
    **dict.fromkeys(CASE_STEPS, "case"),
    **dict.fromkeys(DECISIONS, "decision"),
    License.Issued: "licence",
    License.Revoked: "licence",
    **dict.fromkeys(SIGNATURES, "signature"),
    **dict.fromkeys(ARCHIVE, "archive"),
}


def names(classes: Iterable[type[Any]]) -> list[str]:
    """The stored event types (`Aggregate.Event`) of event classes."""
    return [cls.__qualname__ for cls in classes]


STAGE_OF = {cls.__qualname__: stage for cls, stage in STAGES.items()}
ANCHORS = names((License.Issued, ArchivePackage.Generated))  # events that name the case they come from
CREATIONS = names((Case.Received, Case.BackEntered))
ISSUED = License.Issued.__qualname__


@dataclass
class Provenance:
    subject: str
    project_codes: list[str] = field(default_factory=list)
    case_ids: list[str] = field(default_factory=list)
    licence_numbers: list[str] = field(default_factory=list)
    document_hashes: list[str] = field(default_factory=list)
    seal_ids: list[str] = field(default_factory=list)
    steps: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (stage, audit_events row)


def provenance(audit: AuditTrail, subject: str) -> Provenance:
    """The chain of `subject` (a licence number, a document hash or a case id), stage by stage,
    each stage in global order."""
    found = Provenance(subject)
    anchors = audit.about([subject], event_types=ANCHORS)
    own = audit.about([subject], event_types=CREATIONS, originators=[subject], limit=1)
    cases = _unique([*(r["originator_id"] for r in own), *(_data(r).get("case_id") for r in anchors)])
    rows: dict[int, dict[str, Any]] = {r["position"]: r for r in anchors}
    rows.update({r["position"]: r for r in audit.about(cases, originators=cases)} if cases else {})
    numbers = _unique(_data(r).get("number") for r in anchors if r["event_type"] == ISSUED)
    licences = audit.about([*cases, *numbers], event_types=names(c for c, s in STAGES.items() if s == "licence"))
    rows.update({r["position"]: r for r in licences})
    issued = [r for r in rows.values() if r["event_type"] == ISSUED]
    found.case_ids = cases
    found.licence_numbers = _unique(_data(r).get("number") for r in issued)
    found.document_hashes = _unique(_data(r).get("document_hash") for r in issued)
    if not issued and not cases:
        found.document_hashes = [subject]  # a hash signed outside a licence: its signatures alone
    found.seal_ids = _unique(_data(r).get("seal_id") for r in issued)
    creations = [r for r in rows.values() if r["event_type"] in CREATIONS]
    found.project_codes = _unique(
        [*(_data(r).get("project_code") for r in creations), *(_data(r).get("project_code") for r in issued)]
    )
    signature_types = names(c for c, s in STAGES.items() if s == "signature")
    for part in (
        audit.about(found.project_codes, event_types=names([Project.Generated])),
        audit.about(found.document_hashes, event_types=signature_types),
        audit.about(found.seal_ids, event_types=signature_types, originators=found.seal_ids),
        audit.about(cases, event_types=names(ARCHIVE)),
    ):
        rows.update({r["position"]: r for r in part})
    steps = [(STAGE_OF[r["event_type"]], r) for r in rows.values() if r["event_type"] in STAGE_OF]
    found.steps = sorted(steps, key=lambda s: (ORDER.index(s[0]), s[1]["position"]))
    return found


def _data(row: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(row["data"]))


def _unique(values: Iterable[Any]) -> list[str]:
    return list(dict.fromkeys(str(v) for v in values if v))
