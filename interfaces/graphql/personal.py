"""个人信息 — fields that carry personal data, and how they are withheld.

Officials' ids and organisations, applicants' names and USCCs, free text people wrote (opinions,
notes, event data) and signers are personal data. A reader without the policy's
`personal-data.read` (analysts: aggregates only) gets `null` for each such field, and the response's
`extensions.personalData` names the fields withheld and why — one notice per response rather than one
error per row, so a page of 100 cases stays readable and a client cannot mistake `null` for "unknown".

A field is marked by declaring it with `personal(...)`; tests/integration/test_personal_data.py walks
the schema so that a field named like actor/org/holder/owner data cannot be added without it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.types import Info

from application.policy import PERMISSIONS

WITHHELD = "PERSONAL_DATA_WITHHELD"
REASON = (
    "personal data (officials' ids and organisations, applicants' names and codes, free text, signers) "
    "is withheld from readers without personal-data.read; statistics, ratings, the monthly report and "
    "data-quality counts carry none (docs/security.md)"
)


def may_see_personal_data(role: str) -> bool:
    return role in PERMISSIONS["personal-data.read"]


class Withheld(FieldExtension):
    """Resolves the field only for readers who may see personal data; `null` otherwise, noted once."""

    def _allowed(self, info: Info[Any, Any]) -> bool:
        actor = getattr(info.context, "actor", None)
        if actor is not None and may_see_personal_data(actor.role):
            return True
        withheld = getattr(info.context, "withheld", None)
        if withheld is not None:
            withheld.add(f"{info.path.typename}.{info.field_name}")
        return False

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info[Any, Any], **kwargs: Any) -> Any:
        return next_(source, info, **kwargs) if self._allowed(info) else None

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info[Any, Any], **kwargs: Any
    ) -> Any:
        if not self._allowed(info):
            return None
        result = next_(source, info, **kwargs)
        return await result if isinstance(result, Awaitable) else result


def personal(description: str | None = None) -> Any:
    """A field carrying personal data: nullable, `null` for readers without personal-data.read."""
    note = "个人信息: null without personal-data.read (see extensions.personalData)"
    return strawberry.field(description=f"{description}; {note}" if description else note, extensions=[Withheld()])


class WithheldNotice(SchemaExtension):
    """Adds `extensions.personalData` to a response in which fields were withheld."""

    def get_results(self) -> dict[str, Any]:
        withheld = getattr(self.execution_context.context, "withheld", None)
        if not withheld:
            return {}
        return {"personalData": {"code": WITHHELD, "withheld": sorted(withheld), "reason": REASON}}
