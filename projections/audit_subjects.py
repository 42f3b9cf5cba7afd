"""审计追溯的主体 — which subjects each event of each aggregate is about (the audit trail's index).

A table, by class: `AGGREGATES` gives each aggregate the kind of its own id (an event is always
about its aggregate) and the kinds its later events inherit from earlier ones (a licence's
revocation names no number: it is about the number, project, case and document hash its issue
named); `EVENTS` gives, per event class, the fields that name a subject and their kind (a field
of a base event class counts for its subclasses). Every event is also about its actor.

Kinds: project (code), case (id), licence (number), document_number (文号: a licence issued on an
approval carries the approval's document number), document (a hash: licence content, signed
document, archive package and manifest, drawing set, model, survey report), seal (id), archive
(package id), inquiry (id), warning (id), signing_request (id), actor (acting official, and the
signer of a seal impression when it differs), and each aggregate's own kind.
`tests/unit/test_audit_subjects.py` checks that every aggregate of domain/ is listed and every
field named here exists on its event class. Fields of the common names (`COMMON`: project_code, case_id,
document_hash, seal_id, signer …) count wherever they appear, so a new event class is covered.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from eventsourcing.domain import Aggregate

from domain.approvals.case import Case
from domain.archives.package import ArchivePackage
from domain.blueprint.plan import AssessmentArea, PlanZone
from domain.catalog.process import Process
from domain.catalog.publication import Catalogue
from domain.exchange.delivery import Delivery
from domain.exchange.external_record import ExternalRecord
from domain.exchange.spgl import SpglImport, SpglRow, SpglUpload
from domain.exchange.spgl_refused import SpglRefusedRow
from domain.industry.bim import BimReview
from domain.industry.drawings import DrawingSet
from domain.industry.multiplan import MultiPlanRecord
from domain.industry.survey import JointSurvey
from domain.intermediaries.agency import Agency
from domain.intermediaries.order import ServiceOrder
from domain.intermediaries.review import AssessmentReview
from domain.licences.licence import License
from domain.projects.project import Project
from domain.signatures.seal import Seal
from domain.signatures.signing import SigningRequest
from domain.signatures.verification import Verification
from domain.supervision.clock import SupervisionClock
from domain.supervision.feedback import Feedback
from domain.supervision.inquiry import Inquiry
from domain.supervision.rating import Rating
from domain.supervision.warning import WarningDisposition
from domain.work_calendar.work_calendar import WorkCalendar

Subject = tuple[str, str]  # (subject, kind)
# a subject field: an attribute name, or a function of the event for values inside a field
Field = tuple[str | Callable[[Any], Any], str]


@dataclass(frozen=True)
class About:
    """An aggregate's own kind (its id is a subject of each of its events) and the kinds its
    later events inherit from its earlier ones."""

    own: str
    sticky: frozenset[str] = frozenset()


def _spgl_project(e: Any) -> Any:
    return e.row.get("XMDM") if isinstance(e.row, dict) else None


def _parties(e: Any) -> list[str]:
    """The signers a signing request names (each party: signer, seal)."""
    return [p.get("signer", "") for p in e.parties if isinstance(p, dict)]


def _party_seals(e: Any) -> list[str]:
    return [p.get("seal_id", "") for p in e.parties if isinstance(p, dict)]


PROJECT_CASE = frozenset({"project", "case"})

AGGREGATES: dict[type[Aggregate], About] = {
    Project: About("project_id", frozenset({"project"})),
    Case: About("case", frozenset({"project"})),
    License: About("licence_id", frozenset({"licence", "project", "case", "document", "document_number"})),
    Seal: About("seal"),
    SigningRequest: About("signing_request", frozenset({"document"})),
    Verification: About("verification", frozenset({"document", "signing_request"})),
    ArchivePackage: About("archive", PROJECT_CASE),
    Inquiry: About("inquiry", frozenset({"warning", "inquiry_subject"})),
    WarningDisposition: About("warning_disposition", frozenset({"warning"})),
    Rating: About("rating", PROJECT_CASE),
    Feedback: About("feedback", frozenset({"case"})),
    DrawingSet: About("drawing_set", PROJECT_CASE),
    BimReview: About("bim_review", PROJECT_CASE),
    JointSurvey: About("survey", frozenset({"project"})),
    MultiPlanRecord: About("multiplan", frozenset({"project"})),
    AssessmentReview: About("assessment_review", PROJECT_CASE),
    ServiceOrder: About("service_order", frozenset({"project", "agency"})),
    Agency: About("agency_id", frozenset({"agency"})),
    ExternalRecord: About("external_record", frozenset({"project", "document_number"})),
    SpglRow: About("spgl_row", frozenset({"project"})),
    SpglImport: About("spgl_import"),
    SpglUpload: About("spgl_upload"),
    SpglRefusedRow: About("spgl_refused_row", frozenset({"project"})),
    SupervisionClock: About("supervision_clock"),
    Delivery: About("delivery", frozenset({"delivery_subject"})),
    Process: About("process_id", frozenset({"process"})),
    PlanZone: About("zone_id", frozenset({"zone"})),
    AssessmentArea: About("assessment_area_id", frozenset({"assessment_area"})),
    WorkCalendar: About("calendar"),
    Catalogue: About("catalogue"),
}

_ARCHIVE: tuple[Field, ...] = (
    ("case_id", "case"),
    ("project_code", "project"),
    ("package_hash", "document"),
    ("manifest_hash", "document"),
)
_ISSUED_SIGNATURE: tuple[Field, ...] = (("seal_id", "seal"), ("signer", "actor"))

EVENTS: dict[type[Any], tuple[Field, ...]] = {
    Project.Generated: (("code", "project"),),
    Project.ItemApproved: (("case_id", "case"),),
    Project.ItemApprovalRevoked: (("case_id", "case"),),
    Project.MergedInto: (("canonical_code", "project"),),
    Project.DuplicateAbsorbed: (("duplicate_code", "project"),),
    Case.Received: (("project_code", "project"),),
    Case.BackEntered: (("project_code", "project"), ("document_number", "document_number")),
    Case.Approved: (("document_number", "document_number"),),
    Case.ApprovedPendingMaterials: (("document_number", "document_number"),),
    License.Issued: (
        ("number", "licence"),
        ("project_code", "project"),
        ("case_id", "case"),
        ("document_hash", "document"),
        *_ISSUED_SIGNATURE,
    ),
    SigningRequest.Requested: (("document_hash", "document"), (_parties, "actor"), (_party_seals, "seal")),
    SigningRequest.Signed: _ISSUED_SIGNATURE,
    Verification.Recorded: (("document_hash", "document"), ("signing_request_id", "signing_request")),
    ArchivePackage.Generated: _ARCHIVE,
    ArchivePackage.Received: _ARCHIVE,
    Inquiry.Opened: (("warning_ids", "warning"), ("subject", "inquiry_subject")),
    Inquiry.SanctionRecorded: (("target", "actor"),),
    WarningDisposition.Event: (("warning_id", "warning"),),
    WarningDisposition.LinkedToInquiry: (("inquiry_id", "inquiry"),),
    Rating.Rated: (("case_id", "case"), ("project_code", "project")),
    Feedback.Submitted: (("case_id", "case"),),
    DrawingSet.Delivered: (
        ("case_id", "case"),
        ("project_code", "project"),
        ("set_hash", "document"),
        ("signing_request_id", "signing_request"),
        *_ISSUED_SIGNATURE,
    ),
    DrawingSet.RevisionDelivered: (
        ("set_hash", "document"),
        ("signing_request_id", "signing_request"),
        *_ISSUED_SIGNATURE,
    ),
    DrawingSet.Approved: (("set_hash", "document"),),
    BimReview.Opened: (("project_code", "project"),),
    BimReview.ModelSubmitted: (("case_id", "case"), ("file_sha256", "document")),
    BimReview.DesignApproved: (("file_sha256", "document"),),
    JointSurvey.Recorded: (
        ("project_code", "project"),
        ("report_sha256", "document"),
        ("report_number", "document_number"),
    ),
    JointSurvey.Corrected: (("report_sha256", "document"), ("report_number", "document_number")),
    MultiPlanRecord.Opened: (("project_code", "project"),),
    MultiPlanRecord.OpinionReceived: (("document_number", "document_number"),),
    AssessmentReview.Started: (("case_id", "case"), ("project_code", "project")),
    ServiceOrder.Placed: (("project_code", "project"),),
    ServiceOrder.AgencySelected: (("agency_uscc", "agency"),),
    ServiceOrder.ResultDelivered: (("document_hash", "document"), *_ISSUED_SIGNATURE),
    Agency.Registered: (("uscc", "agency"),),
    ExternalRecord.Event: (("project_code", "project"), ("number", "document_number")),
    SpglRow.Event: ((_spgl_project, "project"),),
    SpglRefusedRow.Event: ((_spgl_project, "project"),),  # a refused row is evidence about its project
    Delivery.Requested: (("subject", "delivery_subject"),),
    Process.Published: (("code", "process"),),
    PlanZone.Imported: (("code", "zone"),),
    AssessmentArea.Imported: (("code", "assessment_area"),),
}

# fields that name a subject wherever they appear (an event class added later is covered by them)
COMMON: tuple[Field, ...] = (
    ("project_code", "project"),
    ("case_id", "case"),
    ("document_hash", "document"),
    ("seal_id", "seal"),
    ("signer", "actor"),
    ("signing_request_id", "signing_request"),
    ("inquiry_id", "inquiry"),
    ("warning_id", "warning"),
    ("warning_ids", "warning"),
)
UNKNOWN = About("aggregate")

# fields a trail does not show: the salted hash of a live one-time code (6 digits: a hash is no
# secret); the stored event of such a class is served only to auditors (ledger.raw), docs/security.md
SECRET_FIELDS: dict[type[Any], frozenset[str]] = {
    SigningRequest.MobileCodeIssued: frozenset({"code_salt", "code_hash"}),
}
SECRET_EVENT_TYPES = frozenset(cls.__qualname__ for cls in SECRET_FIELDS)


@dataclass(frozen=True)
class Plan:
    """What one event class's subjects are made of (compiled once per class)."""

    own: str
    sticky: frozenset[str]
    fields: tuple[Field, ...]


_PLANS: dict[type[Any], Plan] = {}


def plan_of(cls: type[Any]) -> Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        about = AGGREGATES.get(_owner(cls), UNKNOWN)
        fields = [f for c in reversed(cls.__mro__) for f in EVENTS.get(c, ())]
        names = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
        fields += [f for f in COMMON if f[0] in names]
        plan = _PLANS[cls] = Plan(about.own, about.sticky, tuple(dict.fromkeys(fields)))
    return plan


def _owner(cls: type[Any]) -> Any:
    """The aggregate class an event class is nested in (by its module and qualified name), or None."""
    if "." not in cls.__qualname__:
        return None
    return getattr(sys.modules.get(cls.__module__), cls.__qualname__.rsplit(".", 1)[0], None)


def _values(value: Any) -> Iterator[str]:
    if value is None or value == "":
        return
    if isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _values(item)
        return
    yield str(value)


def subjects_of(event: Any, oid: str, inherited: tuple[Subject, ...] = ()) -> tuple[list[Subject], list[Subject]]:
    """(every subject of the event, the ones its aggregate's later events inherit), each subject
    once (its first kind wins); `inherited` are what the aggregate's creation passed on."""
    plan = _PLANS.get(type(event)) or plan_of(type(event))
    found: dict[str, str] = {oid: plan.own}
    actor = getattr(event, "actor_id", None)
    if actor:
        found.setdefault(actor, "actor")
    for subject, kind in inherited:
        found.setdefault(subject, kind)
    sticky: dict[str, str] = dict(inherited)
    for attr, kind in plan.fields:
        raw = attr(event) if callable(attr) else getattr(event, attr, None)
        if raw is None or raw == "":
            continue
        # most fields hold one text: `_values` (a generator) only for the others
        for value in (raw,) if raw.__class__ is str else _values(raw):
            found.setdefault(value, kind)
            if kind in plan.sticky:
                sticky.setdefault(value, kind)
    return list(found.items()), list(sticky.items())
