"""图纸电子化交付 — deliver a discipline's drawing set to a case (signed by the design institute),
comment per sheet, send back for revision, deliver the revision, approve; check files against the
approved hashes. The approved sets of a case go into its archive package (`approved_for_case`)."""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

from application.base import Service
from application.commands import Invocation
from application.commands.drawings import (
    ApproveDrawings,
    CheckDrawingFiles,
    CommentSheet,
    DeliverDrawings,
    DrawingFilesChecked,
    DrawingSetOutcome,
    RequestDrawingRevision,
    ReviseDrawings,
)
from application.policy import Actor, authorize
from domain.approvals.case import Case
from domain.industry.drawings import (
    SET_HASH_ALGORITHM,
    Discipline,
    DrawingSet,
    check_discipline,
    check_sheets,
    drawing_set_id,
    set_hash,
)
from domain.shared.codes import validate_uscc
from domain.shared.errors import Conflict, InvalidValue
from domain.shared.events import Meta
from domain.signatures.seal import Seal
from domain.signatures.signing import SigningRequest
from domain.signatures.verification import check_signatures


class DrawingService(Service):
    def _set(self, actor: Actor, action: str, set_id: UUID) -> DrawingSet:
        drawings = self.load(DrawingSet, set_id, "drawing set")
        case = self.load(Case, UUID(drawings.case_id), "case")
        authorize(actor, action, owner_org=case.applicant_org, region_code=case.region_code)
        return drawings

    def _signed(self, signing_request_id: UUID, expected_hash: str, institute_uscc: str) -> dict[str, str]:
        """The design institute's signature over the set hash: a completed signing request whose
        signatures verify; its first party is the seal recorded with the version."""
        request = self.load(SigningRequest, signing_request_id, "signing request")
        if request.document_hash != expected_hash or request.hash_algorithm != SET_HASH_ALGORITHM:
            raise InvalidValue(
                "signing_request_id",
                f"the signing request is over {request.document_hash}, the set hash is {expected_hash} ({SET_HASH_ALGORITHM})",
                "signature_hash_mismatch",
            )
        if not request.completed:
            raise Conflict("the design institute has not finished signing the set")
        entries = list(request.signed)
        seals = {e.seal_id: s for e in entries if (s := self.find_seal(e.seal_id)) is not None}
        bad = [r for r in check_signatures(expected_hash, SET_HASH_ALGORITHM, entries, seals) if not r.valid]
        if bad:
            raise InvalidValue(
                "signing_request_id", f"signature of seal {bad[0].seal_id}: {bad[0].reason}", "signature_invalid"
            )
        holder = seals[entries[0].seal_id].holder_org
        if holder != institute_uscc:
            raise InvalidValue(
                "signing_request_id", f"signed with a seal of {holder}, not of the design institute", "seal_holder"
            )
        return {"signing_request_id": str(request.id), "seal_id": entries[0].seal_id, "signer": entries[0].signer}

    def find_seal(self, seal_id: str) -> Seal | None:
        try:
            return self.find(Seal, UUID(seal_id))
        except ValueError:
            return None

    def deliver(self, by: Invocation, command: DeliverDrawings) -> DrawingSetOutcome:
        """图纸交付: version 1 of a discipline's set for a case."""
        actor, case_id, discipline = by.actor, command.case_id, command.discipline
        design_institute = command.design_institute
        case = self.load(Case, case_id, "case")
        authorize(actor, "drawings.deliver", owner_org=case.applicant_org, region_code=case.region_code)
        check_discipline(discipline)
        if not design_institute.strip():
            raise InvalidValue("design_institute", "the design institute's name is required", "required")
        uscc = validate_uscc(command.institute_uscc, "institute_uscc")
        checked = check_sheets([dict(s) for s in command.sheets])
        digest = set_hash(discipline, checked)

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            set_id = drawing_set_id(case_id, discipline)
            if self.exists(set_id):
                raise Conflict(f"case {case_id} already has a {discipline} drawing set: deliver a revision")
            drawings = DrawingSet.deliver(
                meta,
                set_id=set_id,
                discipline=discipline,
                case_id=str(case_id),
                project_code=case.project_code,
                design_institute=design_institute.strip(),
                institute_uscc=uscc,
                sheets=checked,
                set_hash=digest,
                **self._signed(command.signing_request_id, digest, uscc),
            )
            return [drawings], _view(drawings)

        return DrawingSetOutcome.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    def comment(self, by: Invocation, command: CommentSheet) -> DrawingSetOutcome:
        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            drawings = self._set(by.actor, "drawings.review", command.set_id)
            drawings.comment(meta, command.sheet_number, command.comment)
            return [drawings], _view(drawings)

        return DrawingSetOutcome.of(self.execute(self.meta(by.actor, by.request_id), by.actor, by.key, work))

    def request_revision(self, by: Invocation, command: RequestDrawingRevision) -> DrawingSetOutcome:
        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            drawings = self._set(by.actor, "drawings.review", command.set_id)
            drawings.request_revision(meta, command.reason)
            return [drawings], _view(drawings)

        return DrawingSetOutcome.of(self.execute(self.meta(by.actor, by.request_id), by.actor, by.key, work))

    def revise(self, by: Invocation, command: ReviseDrawings) -> DrawingSetOutcome:
        """图纸修改版交付: a new version superseding the current one, signed again."""
        checked = check_sheets([dict(s) for s in command.sheets])

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            drawings = self._set(by.actor, "drawings.deliver", command.set_id)
            digest = set_hash(drawings.discipline, checked)
            signed = self._signed(command.signing_request_id, digest, drawings.institute_uscc)
            drawings.revise(meta, sheets=checked, new_hash=digest, **signed)
            return [drawings], _view(drawings)

        return DrawingSetOutcome.of(self.execute(self.meta(by.actor, by.request_id), by.actor, by.key, work))

    def approve(self, by: Invocation, command: ApproveDrawings) -> DrawingSetOutcome:
        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            drawings = self._set(by.actor, "drawings.approve", command.set_id)
            drawings.approve(meta)
            return [drawings], _view(drawings)

        return DrawingSetOutcome.of(self.execute(self.meta(by.actor, by.request_id), by.actor, by.key, work))

    def check_files(self, by: Invocation, command: CheckDrawingFiles) -> DrawingFilesChecked:
        """图纸一致性核验: each file as `{number, content}` (bytes) or `{number, sha256}`."""
        found: dict[str, str] = {}
        for i, f in enumerate(command.files):
            number = str(f.get("number", ""))
            if f.get("content") is not None:
                found[number] = hashlib.sha256(f["content"]).hexdigest()
            elif f.get("sha256"):
                found[number] = str(f["sha256"]).strip().lower()
            else:
                raise InvalidValue(f"files.{i}", "give the file's content or its sha256", "required")

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            drawings = self._set(by.actor, "drawings.check", command.set_id)
            outcome = drawings.check_files(meta, found)
            return [drawings], {"id": str(drawings.id), **outcome}

        return DrawingFilesChecked.of(self.execute(self.meta(by.actor, by.request_id), by.actor, by.key, work))

    def get(self, actor: Actor, set_id: UUID) -> dict[str, Any]:
        return _view(self._set(actor, "read", set_id), full=True)

    def approved_for_case(self, case_id: UUID) -> list[dict[str, Any]]:
        """The archive's view: each discipline's approved version of the case (hashes, signature)."""
        out = []
        for discipline in Discipline:
            drawings = self.find(DrawingSet, drawing_set_id(case_id, discipline.value))
            entry = drawings.archive_entry() if drawings is not None else None
            if entry is not None:
                out.append(entry)
        return out


def _view(drawings: DrawingSet, *, full: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": str(drawings.id),
        "case_id": drawings.case_id,
        "project_code": drawings.project_code,
        "discipline": drawings.discipline,
        "status": drawings.status.value,
        "version": drawings.current["version"],
        "set_hash": drawings.current["set_hash"],
        "approved_version": drawings.approved_version,
        "open_comments": len(drawings.open_comments()),
    }
    if full:
        view |= {
            "design_institute": drawings.design_institute,
            "institute_uscc": drawings.institute_uscc,
            "versions": drawings.versions,
            "comments": drawings.comments,
        }
    return view
