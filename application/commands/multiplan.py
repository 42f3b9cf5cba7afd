"""多规合一 commands (application/multiplan.py `MultiPlanService`): the platform's messages about a project code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from application.commands import Outcome


@dataclass(frozen=True)
class ReceiveOpinion:
    """前期意见 — a department's pre-project opinion (the project need not be generated yet)."""

    project_code: str
    department: str
    conclusion: str
    opinion: str
    issued_on: date
    conditions: Sequence[str] = ()
    document_number: str = ""


@dataclass(frozen=True)
class ReceiveControlLine:
    """规划控制线 — checked at the project's next generation or land supply."""

    project_code: str
    code: str
    kind: str
    geometry: dict[str, Any]
    region_code: str
    name: str = ""


@dataclass(frozen=True, kw_only=True)
class OpinionReceived(Outcome):
    id: UUID
    project_code: str
    opinions: int  # how many the project's record holds now


@dataclass(frozen=True, kw_only=True)
class ControlLineReceived(Outcome):
    id: UUID
    project_code: str
    control_lines: list[str]  # the codes the record holds now
