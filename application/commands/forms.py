"""智能表单 commands (application/forms.py `FormService`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from application.commands import Outcome


@dataclass(frozen=True)
class SubmitForm:
    """智能表单提交 — the answers of one smart form: one case per item, one parallel application id."""

    project_code: str
    item_codes: Sequence[str]
    values: Mapping[str, Any]
    situation_codes: Sequence[str] = ()
    acceptance_mode: int = 4  # 1 window, 4 fully online


@dataclass(frozen=True, kw_only=True)
class FormSubmitted(Outcome):
    id: str  # the parallel application id (BL-…)
    parallel_application_id: str
    cases: list[dict[str, Any]]  # id and item_code of each case received
