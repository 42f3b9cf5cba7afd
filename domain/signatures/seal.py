"""印章 — the Seal aggregate: an organisation's signing key (public part only), its validity, who
may use it, and its suspension and revocation. The private key lives in a key store, never here.

Every status change is kept with the time it took effect, so a signature can be judged by the
seal's state *at signing time* (a revocation may be back-dated to when a key was compromised).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.shared.errors import Conflict, Forbidden, IllegalTransition, InvalidValue
from domain.shared.events import AuditedEvent, Meta
from domain.signatures.crypto import check_algorithm, check_public_key


class SealStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class SealNotUsable(Conflict):
    """印章不可用 — the seal was not valid, was suspended or revoked at the time (maps to 409)."""

    def __init__(self, seal_id: str, reason: str) -> None:
        super().__init__(f"seal {seal_id}: {reason.replace('_', ' ')}")
        self.reason = reason


class SignerNotAuthorised(Forbidden):
    """签章人未授权 — the signer is not among the seal's authorised signers (maps to 403)."""

    def __init__(self, seal_id: str, signer: str) -> None:
        super().__init__(f"signer {signer} is not authorised to use seal {seal_id}")
        self.reason = "signer_not_authorised"


class Seal(Aggregate):
    """印章 — an electronic seal: holder organisation, purpose, public key, validity, authorised signers."""

    class Event(AuditedEvent):
        pass

    class Registered(Event, Aggregate.Created):
        """印章登记 — a seal was registered with its public key, validity and authorised signers."""

        holder_org: str
        name: str
        purpose: str
        algorithm: str
        public_key: str
        valid_from: datetime
        valid_until: datetime
        signers: list[str]

        def apply(self, aggregate: Seal) -> None:
            aggregate.signer_history = [(self.timestamp, frozenset(self.signers))]
            aggregate.status_history = [(self.timestamp, SealStatus.ACTIVE)]

    class SignersChanged(Event):
        """授权签章人变更 — the set of actors allowed to sign with the seal was replaced."""

        signers: list[str]

        def apply(self, aggregate: Seal) -> None:
            aggregate.signer_history.append((self.timestamp, frozenset(self.signers)))

    class Suspended(Event):
        """印章暂停 — the seal may not be used until it is resumed."""

        reason: str

        def apply(self, aggregate: Seal) -> None:
            aggregate.status_history.append((self.timestamp, SealStatus.SUSPENDED))

    class Resumed(Event):
        """印章恢复 — a suspended seal may be used again."""

        reason: str

        def apply(self, aggregate: Seal) -> None:
            aggregate.status_history.append((self.timestamp, SealStatus.ACTIVE))

    class Revoked(Event):
        """印章注销 — the seal is revoked for good, from `effective_at` (may precede the recording)."""

        reason: str
        effective_at: datetime

        def apply(self, aggregate: Seal) -> None:
            aggregate.status_history.append((self.effective_at, SealStatus.REVOKED))
            aggregate.status_history.sort(key=lambda change: change[0])

    def __init__(
        self,
        holder_org: str,
        name: str,
        purpose: str,
        algorithm: str,
        public_key: str,
        valid_from: datetime,
        valid_until: datetime,
        signers: list[str],
    ) -> None:
        self.holder_org = holder_org
        self.name = name
        self.purpose = purpose
        self.algorithm = algorithm
        self.public_key = public_key
        self.valid_from = valid_from
        self.valid_until = valid_until
        self.signer_history: list[tuple[datetime, frozenset[str]]] = []
        self.status_history: list[tuple[datetime, SealStatus]] = []

    @classmethod
    def register(
        cls,
        meta: Meta,
        *,
        holder_org: str,
        name: str,
        purpose: str,
        algorithm: str,
        public_key: bytes,
        valid_from: datetime,
        valid_until: datetime,
        signers: list[str],
        seal_id: UUID | None = None,
    ) -> Seal:
        algo = check_algorithm(algorithm)
        check_public_key(algo, public_key)
        for field, value in (("holder_org", holder_org), ("name", name), ("purpose", purpose)):
            if not value.strip():
                raise InvalidValue(field, "required", "required")
        if valid_from.tzinfo is None or valid_until.tzinfo is None:
            raise InvalidValue("valid_until", "validity needs timezone-aware times", "naive_datetime")
        if valid_until <= valid_from:
            raise InvalidValue("valid_until", "the validity must end after it starts", "validity_order")
        return cls._create(
            cls.Registered,
            id=seal_id,
            holder_org=holder_org.strip(),
            name=name.strip(),
            purpose=purpose.strip(),
            algorithm=algo.value,
            public_key=public_key.hex(),
            valid_from=valid_from,
            valid_until=valid_until,
            signers=_check_signers(signers),
            **meta.fields(),
        )

    @property
    def status(self) -> SealStatus:
        return SealStatus.REVOKED if self._revoked else self.status_history[-1][1]

    @property
    def _revoked(self) -> bool:
        return any(status == SealStatus.REVOKED for _, status in self.status_history)

    @property
    def signers(self) -> frozenset[str]:
        return self.signer_history[-1][1]

    @property
    def public_key_bytes(self) -> bytes:
        return bytes.fromhex(self.public_key)

    def status_at(self, moment: datetime) -> SealStatus:
        current = SealStatus.ACTIVE
        for since, status in self.status_history:
            if since <= moment:
                if status == SealStatus.REVOKED:
                    return status  # final, whatever was recorded after it
                current = status
        return current

    def signers_at(self, moment: datetime) -> frozenset[str]:
        current: frozenset[str] = frozenset()
        for since, signers in self.signer_history:
            if since <= moment:
                current = signers
        return current

    def problem_at(self, signer: str, moment: datetime) -> str | None:
        """Why the signer could not use the seal at that moment, or None when it could."""
        if moment < self.valid_from:
            return "seal_not_yet_valid"
        if moment > self.valid_until:
            return "seal_expired"
        status = self.status_at(moment)
        if status != SealStatus.ACTIVE:
            return f"seal_{status.value}"
        if signer not in self.signers_at(moment):
            return "signer_not_authorised"
        return None

    def check_usable(self, signer: str, moment: datetime) -> None:
        problem = self.problem_at(signer, moment)
        if problem == "signer_not_authorised":
            raise SignerNotAuthorised(str(self.id), signer)
        if problem is not None:
            raise SealNotUsable(str(self.id), problem)

    def change_signers(self, meta: Meta, signers: list[str]) -> None:
        self._check_not_revoked("change-signers")
        self.trigger_event(self.SignersChanged, signers=_check_signers(signers), **meta.fields())

    def suspend(self, meta: Meta, reason: str) -> None:
        if self.status != SealStatus.ACTIVE:
            raise IllegalTransition(f"seal {self.id}", self.status.value, "suspend")
        self.trigger_event(self.Suspended, reason=_check_reason(reason), **meta.fields())

    def resume(self, meta: Meta, reason: str) -> None:
        if self.status != SealStatus.SUSPENDED:
            raise IllegalTransition(f"seal {self.id}", self.status.value, "resume")
        self.trigger_event(self.Resumed, reason=_check_reason(reason), **meta.fields())

    def revoke(self, meta: Meta, reason: str, effective_at: datetime | None = None) -> None:
        self._check_not_revoked("revoke")
        effective = effective_at or meta.now
        if effective.tzinfo is None:
            raise InvalidValue("effective_at", "needs a UTC offset", "naive_datetime")
        if effective > meta.now:
            raise InvalidValue("effective_at", "a revocation cannot take effect in the future", "effective_in_future")
        self.trigger_event(self.Revoked, reason=_check_reason(reason), effective_at=effective, **meta.fields())

    def _check_not_revoked(self, action: str) -> None:
        if self._revoked:
            raise IllegalTransition(f"seal {self.id}", SealStatus.REVOKED.value, action)


def _check_signers(signers: list[str]) -> list[str]:
    cleaned = sorted({s.strip() for s in signers if s.strip()})
    if not cleaned:
        raise InvalidValue("signers", "at least one authorised signer (actor id)", "required")
    return cleaned


def _check_reason(reason: str) -> str:
    if not reason.strip():
        raise InvalidValue("reason", "a reason is required", "required")
    return reason.strip()
