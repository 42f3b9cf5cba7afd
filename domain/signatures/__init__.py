"""签章 — signatures: seals (印章), signing and countersigning (签章, 会签, 移动签章), verification (验真)."""

from domain.signatures.crypto import Algorithm, HashAlgorithm
from domain.signatures.seal import Seal, SealNotUsable, SealStatus, SignerNotAuthorised
from domain.signatures.signing import MobileCodeRefused, Mode, SignatureEntry, SigningRequest
from domain.signatures.verification import SignatureCheck, Verification, check_signatures

__all__ = [
    "Algorithm",
    "HashAlgorithm",
    "MobileCodeRefused",
    "Mode",
    "Seal",
    "SealNotUsable",
    "SealStatus",
    "SignatureCheck",
    "SignatureEntry",
    "SignerNotAuthorised",
    "SigningRequest",
    "Verification",
    "check_signatures",
]
