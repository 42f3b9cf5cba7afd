"""电子证照 — electronic licences issued on approvals, signed with the department's seal."""

from domain.licences.licence import (
    LICENCE_TYPES,
    Kind,
    LicenceStatus,
    License,
    canonical_content,
    content_hash,
    licence_id,
    normalise,
    prepare,
    topic_kind,
)

__all__ = [
    "LICENCE_TYPES",
    "Kind",
    "LicenceStatus",
    "License",
    "canonical_content",
    "content_hash",
    "licence_id",
    "normalise",
    "prepare",
    "topic_kind",
]
