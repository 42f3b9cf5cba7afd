"""数据共享 — facts reported by other systems (`POST /api/v1/external-records`).

A record is keyed by (source, source id): the first report creates it, a changed one amends it,
and the same report again writes nothing and answers the position of the record's last event.
"""

from __future__ import annotations

from typing import Any

from application.base import Service
from application.commands import Invocation
from application.commands.exchange import RecordReported, ReportExternalRecord
from application.policy import authorize
from domain.exchange import ExternalRecord, external_record_id
from domain.shared.events import Channel, Meta


class _Unchanged(Exception):
    """The report repeats the record as stored: nothing to save."""

    def __init__(self, record: ExternalRecord) -> None:
        self.record = record


class ExchangeService(Service):
    def report(self, by: Invocation, command: ReportExternalRecord) -> RecordReported:
        """Report or amend a record; the answer says which (`created`, `unchanged`). `by.occurred_at`:
        the fact's business time."""
        actor, fields = by.actor, dict(command.record)
        authorize(actor, "external-record.report")
        checked = ExternalRecord.validate(fields)  # a malformed record is a 422 before any load
        record_id = external_record_id(checked["source"], checked["source_id"])

        def work(meta: Meta) -> tuple[list[Any], dict[str, Any]]:
            record = self.find(ExternalRecord, record_id)
            if record is None:
                record = ExternalRecord.report(meta, fields)
                return [record], {"id": str(record.id), "created": True, "unchanged": False}
            if not record.amend(meta, fields):
                raise _Unchanged(record)
            return [record], {"id": str(record.id), "created": False, "unchanged": False}

        meta = self.meta(actor, by.request_id, channel=Channel.IMPORT, occurred_at=by.occurred_at)
        try:
            return RecordReported.of(self.execute(meta, actor, by.key, work))
        except _Unchanged as same:
            position = self.position_of(same.record.id, same.record.version) or self.app.max_position()
            return RecordReported(id=same.record.id, created=False, unchanged=True, position=position)
