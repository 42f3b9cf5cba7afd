"""历史数据迁移 commands: historical projects (application/project_import.py `import_projects`) and
在建工程 with their licences (application/migration.py `MigrationService`). Batch imports that report
per row (`ImportReport`, `MigrationReport`) rather than answer one command; neither is keyed (an
`Invocation`'s key is not used): a row already written is counted `unchanged`, so a re-run writes nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ImportProjects:
    """历史项目迁移 — (row number, cells) per CSV record; each valid row is one `GenerateProject`."""

    rows: Sequence[tuple[int, Mapping[str, str]]]


@dataclass(frozen=True)
class MigrateProjects:
    """在建工程迁移 — the rows read from `path` (its name and SHA-256 are the provenance), all or nothing."""

    official: str  # the migrating official, kept with each migrated licence
    path: Path
    rows: Sequence[tuple[int, Mapping[str, str]]]
