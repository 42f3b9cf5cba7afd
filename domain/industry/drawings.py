"""图纸电子化交付 — the DrawingSet aggregate: one discipline's drawings delivered to one case.

A set is versioned: version 1 is delivered, reviewers comment per sheet and may send it back
(退回修改); the design institute delivers a revision that supersedes the version before; the
approver fixes one version (approved). Every version records each sheet's SHA-256 and the set hash
(SM3 over the canonical sheet list), signed by the design institute's seal. After approval, a check
of the files against the fixed hashes records which sheets changed.

States: under_review → revision_requested → under_review (revised) … → approved.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.projects.project import NAMESPACE
from domain.shared.errors import Conflict, IllegalTransition, InvalidValue
from domain.shared.events import AuditedEvent, Meta
from domain.signatures.crypto import HashAlgorithm, digest

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
SHEET_NUMBER_RE = re.compile(r"^[A-Za-z0-9\u3400-\u9fff][A-Za-z0-9\u3400-\u9fff_.\-/]{0,39}$")
MAX_SHEETS = 2000
SET_HASH_ALGORITHM = HashAlgorithm.SM3.value


class Discipline(StrEnum):
    """专业."""

    SITE = "site"  # 总图
    ARCHITECTURE = "architecture"  # 建筑
    STRUCTURE = "structure"  # 结构
    PLUMBING = "plumbing"  # 给排水
    HVAC = "hvac"  # 暖通
    ELECTRICAL = "electrical"  # 电气
    FIRE = "fire"  # 消防
    LANDSCAPE = "landscape"  # 景观


class DrawingStatus(StrEnum):
    UNDER_REVIEW = "under_review"
    REVISION_REQUESTED = "revision_requested"
    APPROVED = "approved"


def drawing_set_id(case_id: UUID, discipline: str) -> UUID:
    """Natural key: one set per case and discipline, so the archive finds it without an index."""
    return uuid5(NAMESPACE, f"drawing-set:{case_id}:{discipline}")


def check_discipline(value: str) -> str:
    if value not in Discipline.__members__.values():
        raise InvalidValue("discipline", f"one of {[d.value for d in Discipline]}", "enum")
    return value


def check_sheets(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sheets as recorded: number, title, sha256 (lower-case hex), size; numbers unique, sorted."""
    if not raw:
        raise InvalidValue("sheets", "a drawing set needs at least one sheet", "required")
    if len(raw) > MAX_SHEETS:
        raise InvalidValue("sheets", f"at most {MAX_SHEETS} sheets", "too_many")
    sheets: dict[str, dict[str, Any]] = {}
    for i, sheet in enumerate(raw):
        number = str(sheet.get("number", "")).strip()
        if not SHEET_NUMBER_RE.match(number):
            raise InvalidValue(f"sheets.{i}.number", "1–40 letters, digits, '.', '_', '-' or '/'", "sheet_number")
        if number in sheets:
            raise InvalidValue(f"sheets.{i}.number", f"sheet {number} is listed twice", "duplicate")
        sha = str(sheet.get("sha256", "")).strip().lower()
        if not SHA256_RE.match(sha):
            raise InvalidValue(f"sheets.{i}.sha256", "a SHA-256 digest: 64 hex digits", "hash_format")
        title = str(sheet.get("title", "")).strip()
        if not title:
            raise InvalidValue(f"sheets.{i}.title", "a sheet needs a title", "required")
        size = int(sheet.get("size", 0) or 0)
        if size < 0:
            raise InvalidValue(f"sheets.{i}.size", "cannot be negative", "non_negative")
        sheets[number] = {"number": number, "title": title, "sha256": sha, "size": size}
    return [sheets[n] for n in sorted(sheets)]


def set_hash(discipline: str, sheets: list[dict[str, Any]]) -> str:
    """The hash the design institute signs: SM3 of the canonical (number, sha256) list."""
    body = {"discipline": discipline, "sheets": [[s["number"], s["sha256"]] for s in sheets]}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return digest(SET_HASH_ALGORITHM, canonical).hex()


class DrawingSet(Aggregate):
    """图纸 — the drawings of one discipline delivered to one case, version by version."""

    class Event(AuditedEvent):
        pass

    class Delivered(Event, Aggregate.Created):
        """图纸交付 — version 1 delivered to a case, signed by the design institute."""

        case_id: str
        project_code: str
        discipline: str
        design_institute: str
        institute_uscc: str
        sheets: list[dict[str, Any]]
        set_hash: str
        signing_request_id: str
        seal_id: str
        signer: str

    class SheetCommented(Event):
        """审查意见（图纸）— a reviewer's comment on one sheet of the current version."""

        version: int
        sheet_number: str
        comment: str

        def apply(self, aggregate: DrawingSet) -> None:
            aggregate.comments.append(
                {"version": self.version, "sheet_number": self.sheet_number, "comment": self.comment}
            )

    class RevisionRequested(Event):
        """退回修改 — the reviewed version goes back to the design institute with its comments."""

        version: int
        reason: str

        def apply(self, aggregate: DrawingSet) -> None:
            aggregate.status = DrawingStatus.REVISION_REQUESTED

    class RevisionDelivered(Event):
        """图纸修改版交付 — a revised version that supersedes the one before, signed again."""

        version: int
        supersedes: int
        sheets: list[dict[str, Any]]
        set_hash: str
        changed_sheets: list[str]
        signing_request_id: str
        seal_id: str
        signer: str

        def apply(self, aggregate: DrawingSet) -> None:
            aggregate.versions.append(
                {
                    "version": self.version,
                    "sheets": self.sheets,
                    "set_hash": self.set_hash,
                    "signing_request_id": self.signing_request_id,
                    "seal_id": self.seal_id,
                    "signer": self.signer,
                }
            )
            aggregate.status = DrawingStatus.UNDER_REVIEW

    class Approved(Event):
        """图纸审查合格 — this version is fixed: its sheet hashes are the approved set."""

        version: int
        set_hash: str

        def apply(self, aggregate: DrawingSet) -> None:
            aggregate.status = DrawingStatus.APPROVED
            aggregate.approved_version = self.version

    class FilesChecked(Event):
        """图纸一致性核验 — files hashed against the approved set; changed and missing sheets listed."""

        version: int
        checked: int
        changed: list[dict[str, Any]]
        missing: list[str]

    def __init__(
        self,
        case_id: str,
        project_code: str,
        discipline: str,
        design_institute: str,
        institute_uscc: str,
        sheets: list[dict[str, Any]],
        set_hash: str,
        signing_request_id: str,
        seal_id: str,
        signer: str,
    ) -> None:
        self.case_id = case_id
        self.project_code = project_code
        self.discipline = discipline
        self.design_institute = design_institute
        self.institute_uscc = institute_uscc
        signed = {"signing_request_id": signing_request_id, "seal_id": seal_id, "signer": signer}
        self.versions: list[dict[str, Any]] = [{"version": 1, "sheets": sheets, "set_hash": set_hash, **signed}]
        self.comments: list[dict[str, Any]] = []
        self.status = DrawingStatus.UNDER_REVIEW
        self.approved_version: int | None = None

    @property
    def current(self) -> dict[str, Any]:
        return self.versions[-1]

    @property
    def approved(self) -> dict[str, Any] | None:
        if self.approved_version is None:
            return None
        return self.versions[self.approved_version - 1]

    def open_comments(self) -> list[dict[str, Any]]:
        return [c for c in self.comments if c["version"] == self.current["version"]]

    # --- commands -------------------------------------------------------------------

    @classmethod
    def deliver(cls, meta: Meta, *, set_id: UUID, discipline: str, **fields: Any) -> DrawingSet:
        return cls._create(cls.Delivered, id=set_id, discipline=discipline, **fields, **meta.fields())

    def check_status(self, action: str, *allowed: DrawingStatus) -> None:
        if self.status not in allowed:
            raise IllegalTransition(f"drawing set {self.id}", self.status.value, action)

    def comment(self, meta: Meta, sheet_number: str, comment: str) -> None:
        self.check_status("comment", DrawingStatus.UNDER_REVIEW)
        if sheet_number not in {s["number"] for s in self.current["sheets"]}:
            raise InvalidValue(
                "sheet_number", f"version {self.current['version']} has no sheet {sheet_number}", "sheet_unknown"
            )
        if not comment.strip():
            raise InvalidValue("comment", "a review comment needs text", "required")
        self.trigger_event(
            self.SheetCommented,
            version=self.current["version"],
            sheet_number=sheet_number,
            comment=comment.strip(),
            **meta.fields(),
        )

    def request_revision(self, meta: Meta, reason: str) -> None:
        self.check_status("request-revision", DrawingStatus.UNDER_REVIEW)
        if not self.open_comments():
            raise Conflict("a drawing set goes back for revision with at least one sheet comment")
        self.trigger_event(
            self.RevisionRequested, version=self.current["version"], reason=reason.strip(), **meta.fields()
        )

    def revise(
        self,
        meta: Meta,
        *,
        sheets: list[dict[str, Any]],
        new_hash: str,
        signing_request_id: str,
        seal_id: str,
        signer: str,
    ) -> int:
        self.check_status("revise", DrawingStatus.REVISION_REQUESTED)
        if new_hash == self.current["set_hash"]:
            raise Conflict("the revision is identical to the version it would supersede")
        before = {s["number"]: s["sha256"] for s in self.current["sheets"]}
        changed = sorted(s["number"] for s in sheets if before.get(s["number"]) != s["sha256"])
        removed = sorted(set(before) - {s["number"] for s in sheets})
        version = self.current["version"] + 1
        self.trigger_event(
            self.RevisionDelivered,
            version=version,
            supersedes=version - 1,
            sheets=sheets,
            set_hash=new_hash,
            changed_sheets=changed + removed,
            signing_request_id=signing_request_id,
            seal_id=seal_id,
            signer=signer,
            **meta.fields(),
        )
        return version

    def approve(self, meta: Meta) -> None:
        self.check_status("approve", DrawingStatus.UNDER_REVIEW)
        self.trigger_event(
            self.Approved, version=self.current["version"], set_hash=self.current["set_hash"], **meta.fields()
        )

    def check_files(self, meta: Meta, found: dict[str, str]) -> dict[str, Any]:
        """`found`: sheet number → SHA-256 of the file as it is now. Records and returns the outcome."""
        approved = self.approved
        if approved is None:
            raise IllegalTransition(f"drawing set {self.id}", self.status.value, "check-files")
        changed, missing = [], []
        for sheet in approved["sheets"]:
            now = found.get(sheet["number"])
            if now is None:
                missing.append(sheet["number"])
            elif now != sheet["sha256"]:
                changed.append(
                    {"sheet_number": sheet["number"], "approved_sha256": sheet["sha256"], "found_sha256": now}
                )
        self.trigger_event(
            self.FilesChecked,
            version=approved["version"],
            checked=len(found),
            changed=changed,
            missing=missing,
            **meta.fields(),
        )
        return {
            "version": approved["version"],
            "intact": not changed and not missing,
            "changed": changed,
            "missing": missing,
        }

    def archive_entry(self) -> dict[str, Any] | None:
        """What the case's archive package carries: the approved version's hashes and signature."""
        approved = self.approved
        if approved is None:
            return None
        return {
            "drawing_set_id": str(self.id),
            "discipline": self.discipline,
            "design_institute": self.design_institute,
            "institute_uscc": self.institute_uscc,
            "version": approved["version"],
            "set_hash": approved["set_hash"],
            "set_hash_algorithm": SET_HASH_ALGORITHM,
            "signing_request_id": approved["signing_request_id"],
            "seal_id": approved["seal_id"],
            "sheets": [{"number": s["number"], "title": s["title"], "sha256": s["sha256"]} for s in approved["sheets"]],
        }
