"""数据共享交换 commands (application/spgl.py `SpglService`): a dump imported, the national platform's
answer recorded. Neither is keyed (an `Invocation`'s key is not used): each is idempotent by its
content, and the same content again answers `unchanged` with the first one's record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application.commands import Outcome


@dataclass(frozen=True)
class ImportSpglTables:
    """共享交换导入 — rows per table (`SPGL_*` names, fields as in the standard) from another system."""

    source_system: str
    tables: Mapping[str, Sequence[Mapping[str, Any]]]


@dataclass(frozen=True)
class RecordSpglUpload:
    """上报结果 — the national platform's answer per uploaded row: `{table, LSH, SJSCZT, SBYY}`."""

    results: Sequence[Mapping[str, Any]]


@dataclass(frozen=True, kw_only=True)
class SpglImported(Outcome):
    """The import's record: rows per table (imported, corrected, invalidated, unchanged, rejected) and
    every rejected row with its rule."""

    id: UUID
    unchanged: bool
    source_system: str
    digest: str
    counts: dict[str, dict[str, int]]
    rejected: int
    errors: list[dict[str, str]]


@dataclass(frozen=True, kw_only=True)
class SpglUploadRecorded(Outcome):
    id: UUID
    unchanged: bool
    rows: int
