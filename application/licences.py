"""电子证照 — issuing and revoking electronic licences.

The licence is signed directly with the seal's private key from the key store, as a one-party
signature (no SigningRequest): the service signs on behalf of the acting official, who must be an
authorised signer of the seal at that moment, and the domain verifies the signature again before
recording it. Issuance is a command (`POST /api/v1/licenses`, by an approver or the integration
account), and issued automatically on `Case.Approved` by the process manager
(application/automation.py, channel system_rule).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from application.base import Service
from application.clock import Clock
from application.idempotency import IdempotencyKey
from application.policy import Actor, authorize
from domain.approvals import Case
from domain.approvals.status import CaseStatus
from domain.licences import License, licence_id, prepare
from domain.shared.errors import Conflict, Forbidden, IllegalTransition, InvalidValue
from domain.shared.events import Channel, Meta
from domain.signatures import Seal
from domain.signatures.crypto import sign
from infrastructure.log import GongjianApplication

if TYPE_CHECKING:
    from infrastructure.keystore import KeyStore

APPROVED = (CaseStatus.APPROVED, CaseStatus.APPROVED_PENDING_MATERIALS)


def _check_seal_holder(actor: Actor, seal: Seal) -> None:
    # an approver uses (and revokes under) only their own organisation's seals
    if actor.role == "approver" and actor.org != seal.holder_org:
        raise Forbidden(f"{actor.org} may not use the seal of {seal.holder_org}")


class LicenceService(Service):
    def __init__(
        self, app: GongjianApplication, clock: Clock, position_of: Callable[[UUID, int], int | None], keys: KeyStore
    ) -> None:
        super().__init__(app, clock, position_of)
        self.keys = keys

    def issue(
        self,
        actor: Actor,
        request_id: str,
        key: IdempotencyKey | None,
        fields: dict[str, Any],
        channel: Channel | None = None,
    ) -> dict[str, Any]:
        """证照签发 — check the content, sign its hash with the seal, record `License.Issued`."""
        authorize(actor, "licence.issue", region_code=fields["region_code"])
        seal_id = UUID(str(fields["seal_id"]))
        content = prepare(**{k: v for k, v in fields.items() if k != "seal_id"})

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            if self.find(License, licence_id(content["number"])) is not None:
                raise Conflict(f"licence {content['number']} has already been issued")
            if content["case_id"] is not None:
                self._check_case(UUID(content["case_id"]), content)
            seal = self.load(Seal, seal_id, "seal")
            _check_seal_holder(actor, seal)
            seal.check_usable(actor.actor_id, meta.now)  # before the private key is touched
            payload = License.payload(content, str(seal.id), actor.actor_id, meta.now)
            signature = sign(seal.algorithm, self.keys.get(str(seal.id)), payload)
            licence = License.issue(meta, content, seal, actor.actor_id, signature)
            return [licence], {
                "id": str(licence.id),
                "number": licence.number,
                "document_hash": licence.document_hash,
                "hash_algorithm": licence.hash_algorithm,
                "signature": licence.signature_entry().as_dict(),
            }

        return self.execute(self.meta(actor, request_id, channel=channel), actor, key, work)

    def revoke(
        self, actor: Actor, request_id: str, key: IdempotencyKey | None, number: str, reason: str
    ) -> dict[str, Any]:
        """证照注销."""
        authorize(actor, "licence.revoke")

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            licence = self.load(License, licence_id(number), f"licence {number}")
            authorize(actor, "licence.revoke", region_code=licence.region_code)
            _check_seal_holder(actor, self.load(Seal, UUID(licence.seal_id), "seal"))
            licence.revoke(meta, reason)
            return [licence], {"id": str(licence.id), "number": licence.number, "status": "revoked"}

        return self.execute(self.meta(actor, request_id), actor, key, work)

    def get(self, number: str) -> License:
        return self.load(License, licence_id(number), f"licence {number}")

    def _check_case(self, case_id: UUID, content: dict[str, Any]) -> None:
        case = self.load(Case, case_id, "case")
        if case.status not in APPROVED:
            raise IllegalTransition(f"case {case_id}", case.status.name.lower(), "issue-licence")
        for field in ("item_code", "project_code"):
            if getattr(case, field) != content[field]:
                raise InvalidValue(field, f"differs from the case's {getattr(case, field)}", "case_mismatch")
