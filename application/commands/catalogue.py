"""事项库 commands (application/catalogue_editions.py `CatalogueEditionService`) and the flows' (流程:
application/catalogue.py `CatalogueService`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.commands import Outcome


@dataclass(frozen=True)
class PublishCatalogueEdition:
    """事项库发布 — the edition's tables (domain/catalog/edition_rows.py checks every row); `sha256`
    None: the digest of the tables; `file_name`: the workbook's, kept with the edition."""

    tables: Mapping[str, Any]
    sha256: str | None = None
    file_name: str = ""


@dataclass(frozen=True)
class PublishFlow:
    """流程发布 — a new version of the flow of this type at this region (the first creates it); the
    complete definition, as docs/catalogue.md describes it (domain/catalog/definition.py checks it)."""

    region_code: str
    flow_type: int
    definition: Mapping[str, Any]


@dataclass(frozen=True)
class RetireFlow:
    """流程停用 — the flow takes no new cases (the flows above it apply again)."""

    code: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class FlowPublished(Outcome):
    """The flow's Process, its code and the version published."""

    id: UUID
    code: str
    version: str


@dataclass(frozen=True, kw_only=True)
class FlowRetired(Outcome):
    id: UUID
    code: str


@dataclass(frozen=True, kw_only=True)
class EditionPublished(Outcome):
    """The edition in force now, how much it holds, and the flows it published (code, version)."""

    id: UUID
    version: str
    sha256: str
    items: int
    departments: int
    licence_types: int
    flows: list[dict[str, str]]
