"""外部数据 commands (application/exchange.py `ExchangeService`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.commands import Outcome


@dataclass(frozen=True)
class ReportExternalRecord:
    """A fact another system reports (a certificate, a bidding report …): the record's fields as
    `ExternalRecord.validate` checks them, by kind (docs/events.md). The same source id again amends."""

    record: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class RecordReported(Outcome):
    """`created`: new; `unchanged`: the same record again, nothing written."""

    id: UUID
    created: bool
    unchanged: bool
