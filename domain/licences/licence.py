"""电子证照 — the License aggregate: a licence an approval issues (number, type, holder, project,
item, validity and its 主题字段 topic fields), signed with the department's seal; and its revocation.

What is signed: the SM3 digest of the licence's canonical content (`canonical_content`), as a
one-party signature entry whose `signing_request_id` is the licence's id. So the entry
(`License.signature_entry`) verifies through the ordinary signature verification (验真) with no
licence-specific code. Expiry is not an event: it follows from `valid_until` and is derived on
the day it is asked (`status_on`).
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.catalog import CATALOG
from domain.projects.project import NAMESPACE
from domain.shared.codes import validate_project_code, validate_region, validate_uscc
from domain.shared.errors import IllegalTransition, InvalidValue
from domain.shared.events import AuditedEvent, Meta
from domain.signatures.crypto import HashAlgorithm, digest, verify
from domain.signatures.seal import Seal
from domain.signatures.signing import SignatureEntry, signing_payload

MAX_NUMBER = 64
MAX_TEXT = 200
CONTENT_VERSION = 1


class LicenceStatus(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"  # derived from valid_until on the day asked, never recorded


class Kind(StrEnum):
    """How a topic field is checked and matched: codes exactly, names normalised."""

    CODE = "code"
    NAME = "name"
    AREA = "area"  # m², > 0
    MONEY = "money"  # 万元, ≥ 0
    DATE = "date"


@dataclass(frozen=True)
class TopicField:
    name: str
    label: str
    kind: Kind
    required: bool = False


# filled from the licence's own fields: not given in `topic`
DERIVED_TOPIC = {
    "holder_name": Kind.NAME,
    "holder_uscc": Kind.CODE,
    "project_code": Kind.CODE,
    "item_code": Kind.CODE,
    "region_code": Kind.CODE,
}
_COMMON = (
    TopicField("project_name", "项目名称", Kind.NAME, required=True),
    TopicField("document_number", "批准文号", Kind.CODE),
    TopicField("location", "建设地址", Kind.NAME),
)


class _LicenceTypes(Mapping[str, tuple[str, tuple[TopicField, ...]]]):
    """The licence types of the catalogue in force (its licence_types and licence_fields sheets):
    code → (name, its own topic fields). `_COMMON` and `DERIVED_TOPIC` are implied for every type."""

    def _types(self) -> dict[str, tuple[str, tuple[TopicField, ...]]]:
        raw = CATALOG.licence_types
        found = _CACHE.get("of")
        if found is None or found[0] is not raw:  # one edition in force at a time: converted once
            types = {
                code: (name, tuple(TopicField(n, label, Kind(kind), required) for n, label, kind, required in fields))
                for code, (name, fields) in raw.items()
            }
            found = _CACHE["of"] = (raw, types)
        return found[1]

    def __getitem__(self, code: str) -> tuple[str, tuple[TopicField, ...]]:
        return self._types()[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._types())

    def __len__(self) -> int:
        return len(self._types())


_CACHE: dict[str, tuple[object, dict[str, tuple[str, tuple[TopicField, ...]]]]] = {}
LICENCE_TYPES = _LicenceTypes()


def licence_id(number: str) -> UUID:
    """One licence per number: the id is derived from it (a second issue is a 409)."""
    return uuid5(NAMESPACE, f"licence:{number}")


def topic_kind(licence_type: str | None, field: str) -> Kind:
    """How a topic field matches (unknown fields match as names)."""
    if field in DERIVED_TOPIC:
        return DERIVED_TOPIC[field]
    for name, (_label, fields) in LICENCE_TYPES.items():
        if licence_type in (None, name):
            for f in (*_COMMON, *fields):
                if f.name == field:
                    return f.kind
    return Kind.NAME


_SPACE = re.compile(r"\s+")


def normalise(kind: Kind | str, value: str) -> str:
    """The matching form: codes upper-case without spaces; names NFKC (full-width → half-width),
    without whitespace, case-folded; numbers as plain decimals."""
    text = _SPACE.sub("", unicodedata.normalize("NFKC", str(value)))
    if kind == Kind.CODE:
        return text.upper()
    if kind in (Kind.AREA, Kind.MONEY):
        try:
            return _plain(Decimal(text))
        except InvalidOperation:
            return text
    return text.casefold()


def _plain(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return text if text not in ("-0",) else "0"


def check_number(number: str) -> str:
    value = unicodedata.normalize("NFKC", number).strip()
    if not value:
        raise InvalidValue("number", "the licence number is required", "required")
    if len(value) > MAX_NUMBER:
        raise InvalidValue("number", f"at most {MAX_NUMBER} characters", "too_long")
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") or ch in "/?#%\\" for ch in value):
        raise InvalidValue("number", "no spaces, control characters or / ? # % \\", "number_format")
    return value


def check_topic(licence_type: str, topic: dict[str, Any]) -> dict[str, str]:
    """The given topic fields of a type, checked and in their stored form (strings)."""
    if licence_type not in LICENCE_TYPES:
        raise InvalidValue("licence_type", f"one of {sorted(LICENCE_TYPES)}", "licence_type_unknown")
    allowed = {f.name: f for f in (*_COMMON, *LICENCE_TYPES[licence_type][1])}
    unknown = sorted(set(topic) - set(allowed))
    if unknown:
        derived = [u for u in unknown if u in DERIVED_TOPIC]
        why = f"{derived} come from the licence's own fields" if derived else f"allowed: {sorted(allowed)}"
        raise InvalidValue(f"topic.{unknown[0]}", f"not a topic field of {licence_type} ({why})", "topic_field_unknown")
    checked: dict[str, str] = {}
    for name, spec in allowed.items():
        raw = topic.get(name)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if spec.required:
                raise InvalidValue(f"topic.{name}", f"{spec.label} is required for {licence_type}", "required")
            continue
        checked[name] = _check_value(f"topic.{name}", spec, raw)
    return checked


def _check_value(field: str, spec: TopicField, raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise InvalidValue(field, "a text or a number", "topic_value_type")
    text = str(raw).strip()
    if spec.kind in (Kind.AREA, Kind.MONEY):
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise InvalidValue(field, f"{spec.label}: a number", "number") from None
        if not number.is_finite() or number < 0 or (spec.kind == Kind.AREA and number == 0):
            raise InvalidValue(
                field, f"{spec.label}: a {'positive' if spec.kind == Kind.AREA else 'non-negative'} number", "range"
            )
        return _plain(number)
    if spec.kind == Kind.DATE:
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise InvalidValue(field, f"{spec.label}: a date YYYY-MM-DD", "date") from None
    if len(text) > MAX_TEXT:
        raise InvalidValue(field, f"at most {MAX_TEXT} characters", "too_long")
    return text.upper() if spec.kind == Kind.CODE else text


def canonical_content(fields: dict[str, Any]) -> bytes:
    """The bytes whose digest is signed: the licence's content as canonical JSON (sorted keys, no
    spaces, non-ASCII kept, dates ISO). See docs/evidence.md, "Electronic licences"."""
    body = {"v": CONTENT_VERSION, **{k: fields[k] for k in CONTENT_FIELDS}}
    for k in ("valid_from", "valid_until"):
        body[k] = body[k].isoformat() if body[k] is not None else None
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


CONTENT_FIELDS = (
    "number",
    "licence_type",
    "holder_name",
    "holder_uscc",
    "project_code",
    "item_code",
    "case_id",
    "department",
    "region_code",
    "valid_from",
    "valid_until",
    "topic",
)


def prepare(
    *,
    number: str,
    licence_type: str,
    holder_name: str,
    holder_uscc: str,
    project_code: str,
    item_code: str,
    region_code: str,
    valid_from: date,
    valid_until: date | None,
    topic: dict[str, Any],
    case_id: str | None = None,
) -> dict[str, Any]:
    """Check a licence's content and return it complete (department from the catalogue, the
    derived topic fields filled in), ready for `canonical_content`."""
    item = CATALOG.item(item_code)
    if item.licence_type is None:
        raise InvalidValue("item_code", f"item {item_code} issues no licence", "item_issues_no_licence")
    if licence_type != item.licence_type:
        raise InvalidValue("licence_type", f"item {item_code} issues {item.licence_type}", "licence_type_mismatch")
    name = holder_name.strip()
    if not name or len(name) > MAX_TEXT:
        raise InvalidValue("holder_name", f"required, at most {MAX_TEXT} characters", "required")
    if valid_until is not None and valid_until < valid_from:
        raise InvalidValue("valid_until", "the validity must not end before it starts", "validity_order")
    content: dict[str, Any] = {
        "number": check_number(number),
        "licence_type": licence_type,
        "holder_name": name,
        "holder_uscc": validate_uscc(holder_uscc, "holder_uscc"),
        "project_code": validate_project_code(project_code),
        "item_code": item.code,
        "case_id": str(UUID(case_id)) if case_id else None,
        "department": item.department,
        "region_code": validate_region(region_code),
        "valid_from": valid_from,
        "valid_until": valid_until,
    }
    given = check_topic(licence_type, topic)
    content["topic"] = {**given, **{k: content[k] for k in DERIVED_TOPIC}}
    return content


PROVENANCE_FIELDS = ("source_file", "source_sha256", "row", "migrated_by", "issuing_authority")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def check_provenance(provenance: dict[str, Any]) -> dict[str, Any]:
    """迁移来源 — where a migrated record comes from: the source file's name and SHA-256, its row
    (the header is row 1), the migrating official and the original issuing authority."""
    unknown = sorted(set(provenance) - set(PROVENANCE_FIELDS))
    if unknown:
        raise InvalidValue(f"provenance.{unknown[0]}", f"allowed: {list(PROVENANCE_FIELDS)}", "provenance_field")
    for name in ("source_file", "migrated_by", "issuing_authority"):
        text = str(provenance.get(name) or "").strip()
        if not text or len(text) > MAX_TEXT:
            raise InvalidValue(f"provenance.{name}", f"required, at most {MAX_TEXT} characters", "required")
    if not _SHA256.fullmatch(str(provenance.get("source_sha256", ""))):
        raise InvalidValue("provenance.source_sha256", "64 lower-case hex digits", "sha256")
    row = provenance.get("row")
    if isinstance(row, bool) or not isinstance(row, int) or row < 2:
        raise InvalidValue("provenance.row", "the row number in the file (the header is row 1)", "row")
    return {k: (str(provenance[k]).strip() if k != "row" else row) for k in PROVENANCE_FIELDS}


def content_hash(content: dict[str, Any]) -> str:
    return digest(HashAlgorithm.SM3, canonical_content(content)).hex()


class License(Aggregate):
    """电子证照 — a licence issued on an approval, signed with the department's seal."""

    class Event(AuditedEvent):
        pass

    class Issued(Event, Aggregate.Created):
        """证照签发 — a licence was issued: its content, topic fields and the seal's signature over its hash."""

        number: str
        licence_type: str
        holder_name: str
        holder_uscc: str
        project_code: str
        item_code: str
        case_id: str | None
        department: str
        region_code: str
        valid_from: date
        valid_until: date | None
        topic: dict[str, str]
        document_hash: str
        hash_algorithm: str
        seal_id: str
        signer: str
        algorithm: str
        signed_at: datetime
        signature: str
        # v2: where a migrated licence (存量证照, docs/operations.md "Migrating 在建工程") comes from; None: issued here
        provenance: dict[str, Any] | None = None

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """v1 licences were all issued in the system: no provenance."""
            state.setdefault("provenance", None)

    class Revoked(Event):
        """证照注销 — the licence was revoked (撤销/注销) and is no longer valid."""

        reason: str

        def apply(self, aggregate: License) -> None:
            aggregate.revoked = True
            aggregate.revocation_reason = self.reason

    def __init__(
        self,
        number: str,
        licence_type: str,
        holder_name: str,
        holder_uscc: str,
        project_code: str,
        item_code: str,
        case_id: str | None,
        department: str,
        region_code: str,
        valid_from: date,
        valid_until: date | None,
        topic: dict[str, str],
        document_hash: str,
        hash_algorithm: str,
        seal_id: str,
        signer: str,
        algorithm: str,
        signed_at: datetime,
        signature: str,
        provenance: dict[str, Any] | None = None,
    ) -> None:
        self.number = number
        self.licence_type = licence_type
        self.holder_name = holder_name
        self.holder_uscc = holder_uscc
        self.project_code = project_code
        self.item_code = item_code
        self.case_id = case_id
        self.department = department
        self.region_code = region_code
        self.valid_from = valid_from
        self.valid_until = valid_until
        self.topic = topic
        self.document_hash = document_hash
        self.hash_algorithm = hash_algorithm
        self.seal_id = seal_id
        self.signer = signer
        self.algorithm = algorithm
        self.signed_at = signed_at
        self.signature = signature
        self.provenance = provenance
        self.revoked = False
        self.revocation_reason: str | None = None

    @staticmethod
    def payload(content: dict[str, Any], seal_id: str, signer: str, signed_at: datetime) -> bytes:
        """What the seal signs: the signature payload over the content's hash (no previous signature)."""
        return signing_payload(
            str(licence_id(content["number"])),
            content_hash(content),
            HashAlgorithm.SM3.value,
            seal_id,
            signer,
            signed_at,
            "",
        )

    @classmethod
    def issue(
        cls,
        meta: Meta,
        content: dict[str, Any],
        seal: Seal,
        signer: str,
        signature: bytes,
        provenance: dict[str, Any] | None = None,
    ) -> License:
        """Record a licence prepared by `prepare`, signed at `meta.now` by `signer` with `seal`; a
        migrated licence (存量证照电子化) carries its `provenance` (`check_provenance`)."""
        seal.check_usable(signer, meta.now)
        payload = cls.payload(content, str(seal.id), signer, meta.now)
        if not verify(seal.algorithm, seal.public_key_bytes, payload, signature):
            raise InvalidValue("signature", "does not verify with the seal's public key", "bad_signature")
        return cls._create(
            cls.Issued,
            id=licence_id(content["number"]),
            **{k: content[k] for k in CONTENT_FIELDS},
            document_hash=content_hash(content),
            hash_algorithm=HashAlgorithm.SM3.value,
            seal_id=str(seal.id),
            signer=signer,
            algorithm=seal.algorithm,
            signed_at=meta.now,
            signature=base64.b64encode(signature).decode(),
            provenance=check_provenance(provenance) if provenance is not None else None,
            **meta.fields(),
        )

    def revoke(self, meta: Meta, reason: str) -> None:
        if self.revoked:
            raise IllegalTransition(f"licence {self.number}", LicenceStatus.REVOKED.value, "revoke")
        if not reason.strip():
            raise InvalidValue("reason", "a reason is required", "required")
        self.trigger_event(self.Revoked, reason=reason.strip(), **meta.fields())

    def status_on(self, today: date) -> LicenceStatus:
        if self.revoked:
            return LicenceStatus.REVOKED
        if self.valid_until is not None and self.valid_until < today:
            return LicenceStatus.EXPIRED
        return LicenceStatus.VALID

    def content(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in CONTENT_FIELDS}

    def signature_entry(self) -> SignatureEntry:
        """The signature as `POST /api/v1/signatures/verify` takes it (with `document_hash`)."""
        return SignatureEntry(
            signing_request_id=str(self.id),
            document_hash=self.document_hash,
            hash_algorithm=self.hash_algorithm,
            seal_id=self.seal_id,
            signer=self.signer,
            algorithm=self.algorithm,
            signed_at=self.signed_at,
            previous_hash="",
            signature=self.signature,
        )
