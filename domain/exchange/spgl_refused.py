"""交换数据拒收行 — a row an uploader rule refused that is still evidence (issue 15).

The uploaders' rule R2 refuses a case row whose engineering code is not in the project table, R3
the status, opinion, document and special-procedure rows of a case not in the case table. Such a
row stays out of the exchange tables (it is listed in `SpglImport.Completed`), but it is exactly
what an officer needs to see a case handled for a project never generated (W9) or a case nobody
reported (W10): it enters the log as this fact, with the rule that refused it.
"""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.projects.project import NAMESPACE
from domain.shared.events import AuditedEvent, Meta

EVIDENCE_RULES = frozenset({"R2", "R3"})  # refusals that are evidence of off-system handling


def spgl_refused_id(source_system: str, table: str, row: Mapping[str, str]) -> UUID:
    """The same refused row (source, table, local key, serial) in a later dump is the same fact."""
    key = f"{source_system}:{table}:{row.get('DFSJZJ', '')}:{row.get('LSH', '')}"
    return uuid5(NAMESPACE, f"spgl-refused:{key}")


class SpglRefusedRow(Aggregate):
    """交换数据拒收行 — a refused row of a dump kept as evidence."""

    class Event(AuditedEvent):
        pass

    class Recorded(Event, Aggregate.Created):
        """交换数据拒收留证 — a row refused by R2/R3 entered the log as evidence (channel import)."""

        import_id: str
        table: str
        row: dict[str, str]
        rule: str
        field: str
        message: str
        source_system: str

    def __init__(
        self, import_id: str, table: str, row: dict[str, str], rule: str, field: str, message: str, source_system: str
    ) -> None:
        self.import_id = import_id
        self.table = table
        self.row = row
        self.rule = rule
        self.field = field
        self.message = message
        self.source_system = source_system

    @classmethod
    def record(
        cls, meta: Meta, import_id: UUID, table: str, row: Mapping[str, str], rule: str, field: str, message: str,
        source_system: str,
    ) -> SpglRefusedRow:  # fmt: skip
        return cls._create(
            cls.Recorded,
            id=spgl_refused_id(source_system, table, row),
            import_id=str(import_id),
            table=table,
            row=dict(row),
            rule=rule,
            field=field,
            message=message,
            source_system=source_system,
            **meta.fields(),
        )
