"""数据共享交换 — import of the national data-sharing tables from another system (a city system
such as Haikou's) and their export (to the national platform).

Import: every row is checked (code checks, then the uploaders' six rules, looking up what earlier
rows and this dump made known), valid rows become `SpglRow` events with channel `import` and the
source system, invalid ones stay out of the exchange tables and are listed, by rule, in the
import's own `SpglImport.Completed` event; a row refused by R2 or R3 is still evidence of
off-system handling and enters the log as `SpglRefusedRow.Recorded` (once per source row). Tables are taken in dependency order (flows before cases, cases
before their status rows), rows of a table in serial (LSH) order. The same dump again writes
nothing: the import is keyed by the dump's digest, each row by (table, DFSJZJ) and serial.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from application.base import Service
from application.clock import Clock
from application.commands import Invocation
from application.commands.spgl import ImportSpglTables, RecordSpglUpload, SpglImported, SpglUploadRecorded
from application.policy import Actor, authorize
from application.ports import SpglKeys
from domain.exchange import spgl
from domain.exchange.spgl import (
    ImportReport,
    Known,
    RowError,
    RowRejected,
    SpglImport,
    SpglRow,
    SpglUpload,
    spgl_import_id,
    spgl_row_id,
)
from domain.exchange.spgl_export import check_upload_results
from domain.exchange.spgl_refused import EVIDENCE_RULES, SpglRefusedRow
from domain.shared.errors import Conflict, InvalidValue
from domain.shared.events import Channel, Meta
from infrastructure.log import GongjianApplication

CHUNK = 1_000  # rows saved per transaction: a crash loses at most the unsaved chunk, and a re-run redoes it
Rows = Mapping[str, Sequence[Mapping[str, Any]]]


def dump_digest(tables: Rows) -> str:
    canonical = {
        t: [{str(k): "" if v is None else str(v) for k, v in r.items()} for r in rows] for t, rows in tables.items()
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _serial(row: Mapping[str, Any]) -> int:
    try:
        return int(str(row.get("LSH", "")).strip())
    except ValueError:
        return 0  # rejected by the format check later, in file order


class SpglService(Service):
    def __init__(
        self,
        app: GongjianApplication,
        clock: Clock,
        position_of: Callable[[UUID, int], int | None],
        exchange: SpglKeys,
    ) -> None:
        super().__init__(app, clock, position_of)
        self.exchange = exchange

    def import_tables(self, by: Invocation, command: ImportSpglTables) -> SpglImported:
        """Import a dump; the answer counts rows per table and lists every rejected row with its rule."""
        actor, source_system, tables = by.actor, command.source_system, command.tables
        authorize(actor, "spgl.import")
        if not source_system.strip():
            raise InvalidValue("source_system", "name the system the rows come from", "required")
        for name in tables:
            if name not in spgl.tables():
                raise InvalidValue(f"tables.{name}", f"not a national data-sharing table; one of {spgl.ORDER}", "table")
        digest = dump_digest(tables)
        import_id = spgl_import_id(source_system, digest)
        done = self.find(SpglImport, import_id)
        if done is not None:
            return self._answer(done, unchanged=True)
        meta = self.meta(actor, by.request_id, channel=Channel.IMPORT)
        report = ImportReport()
        known = Known(self.exchange.known_keys())  # the keys of rows the store already holds, as of now
        pending: dict[UUID, Aggregate] = {}
        for table in spgl.ORDER:
            for raw in sorted(tables.get(table, ()), key=_serial):
                self._take(meta, table, raw, source_system, known, report, pending, import_id)
                if len(pending) >= CHUNK:
                    self._save(list(pending.values()))
                    pending.clear()
        run = SpglImport.complete(meta, source_system, digest, report)
        self._save([*pending.values(), run])
        return self._answer(run, unchanged=False)

    def _take(
        self,
        meta: Meta,
        table: str,
        raw: Mapping[str, Any],
        source: str,
        known: Known,
        report: ImportReport,
        pending: dict[UUID, Aggregate],
        import_id: UUID,
    ) -> None:
        count = report.count(table)
        count.rows += 1
        key, lsh = str(raw.get("DFSJZJ") or ""), str(raw.get("LSH") or "")
        try:
            row = spgl.normalise_row(raw)
            spgl.check_row(table, row, known)
            row_id = spgl_row_id(table, row["DFSJZJ"])
            aggregate = cast(SpglRow | None, pending.get(row_id))
            if aggregate is None and known.has("row", str(row_id)):
                aggregate = self.find(SpglRow, row_id)
            if aggregate is None:
                if row["SJYXBS"] == "0":
                    raise RowRejected("invalidates_unknown", "SJYXBS", f"no earlier row {table}/{row['DFSJZJ']}")
                aggregate = SpglRow.import_row(meta, table, row, source)
                known.add("row", str(row_id))
                outcome: str | None = "imported"
            else:
                outcome = aggregate.receive(meta, row, source)
        except RowRejected as bad:
            count.rejected += 1
            region = str(raw.get("XZQHDM") or "")
            report.errors.append(RowError(table, key, lsh, bad.rule, bad.field, bad.message, region))
            if bad.rule in EVIDENCE_RULES:  # still evidence (W9, W10): the refused row enters the log too
                refused = SpglRefusedRow.record(meta, import_id, table, row, bad.rule, bad.field, bad.message, source)
                if refused.id not in pending and self.find(SpglRefusedRow, refused.id) is None:
                    pending[refused.id] = refused
            return
        if outcome is None:
            count.unchanged += 1
            return
        setattr(count, outcome, getattr(count, outcome) + 1)
        pending[aggregate.id] = aggregate
        if row["SJYXBS"] == "1":
            for kind, k in spgl.keys_of(table, row):
                known.add(kind, k)

    def _save(self, aggregates: Sequence[Aggregate]) -> None:
        try:
            self.app.save_all(*aggregates)
        except IntegrityError:
            raise Conflict("another import changed the same rows meanwhile; run the import again") from None

    def _answer(self, run: SpglImport, *, unchanged: bool) -> SpglImported:
        position = self.position_of(run.id, run.version) or self.app.max_position()
        return SpglImported(
            id=run.id,
            position=position,
            unchanged=unchanged,
            source_system=run.source_system,
            digest=run.digest,
            counts=run.counts,
            rejected=sum(c["rejected"] for c in run.counts.values()),
            errors=run.errors,
        )

    def record_upload(self, by: Invocation, command: RecordSpglUpload) -> SpglUploadRecorded:
        """Record the national platform's answer for uploaded rows; the same answer again writes nothing."""
        actor = by.actor
        authorize(actor, "spgl.export")
        checked = check_upload_results(command.results)
        meta = self.meta(actor, by.request_id, channel=Channel.IMPORT)
        upload = SpglUpload.record(meta, checked)
        if self.find(SpglUpload, upload.id) is None:
            self._save([upload])
            unchanged = False
        else:
            unchanged = True
        position = self.position_of(upload.id, 1) or self.app.max_position()
        return SpglUploadRecorded(id=upload.id, position=position, unchanged=unchanged, rows=len(checked))

    def export(self, actor: Actor, since: int = 0) -> dict[str, list[dict[str, str]]]:
        """The rows of every table after log position `since` (0: all, with the catalogue's flows)."""
        authorize(actor, "spgl.export")
        return self.exchange.export(since)
