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
from application.commands import Invocation
from application.commands.licences import IssueLicence, LicenceIssued, LicenceRevoked, RevokeLicence
from application.policy import Actor, authorize
from domain.approvals import Case
from domain.approvals.status import CaseStatus
from domain.licences import License, licence_id, prepare
from domain.shared.errors import Conflict, Forbidden, IllegalTransition, InvalidValue
from domain.shared.events import Meta
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

    def issue(self, by: Invocation, command: IssueLicence) -> LicenceIssued:
        """证照签发 — check the content, sign its hash with the seal, record `License.Issued`."""
        c, actor = command, by.actor
        authorize(actor, "licence.issue", region_code=c.region_code)
        seal_id = UUID(str(c.seal_id))
        content = prepare(
            number=c.number,
            licence_type=c.licence_type,
            holder_name=c.holder_name,
            holder_uscc=c.holder_uscc,
            project_code=c.project_code,
            item_code=c.item_code,
            region_code=c.region_code,
            valid_from=c.valid_from,
            valid_until=c.valid_until,
            topic=dict(c.topic),
            case_id=str(c.case_id) if c.case_id is not None else None,
        )

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

        return LicenceIssued.of(self.execute(self.meta_of(by), actor, by.key, work))

    def revoke(self, by: Invocation, command: RevokeLicence) -> LicenceRevoked:
        """证照注销."""
        actor, number, reason = by.actor, command.number, command.reason
        authorize(actor, "licence.revoke")

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            licence = self.load(License, licence_id(number), f"licence {number}")
            authorize(actor, "licence.revoke", region_code=licence.region_code)
            _check_seal_holder(actor, self.load(Seal, UUID(licence.seal_id), "seal"))
            licence.revoke(meta, reason)
            return [licence], {"id": str(licence.id), "number": licence.number, "status": "revoked"}

        return LicenceRevoked.of(self.execute(self.meta(actor, by.request_id), actor, by.key, work))

    def get(self, number: str) -> License:
        return self.load(License, licence_id(number), f"licence {number}")

    def _check_case(self, case_id: UUID, content: dict[str, Any]) -> None:
        case = self.load(Case, case_id, "case")
        if case.status not in APPROVED:
            raise IllegalTransition(f"case {case_id}", case.status.name.lower(), "issue-licence")
        for field in ("item_code", "project_code"):
            if getattr(case, field) != content[field]:
                raise InvalidValue(field, f"differs from the case's {getattr(case, field)}", "case_mismatch")
