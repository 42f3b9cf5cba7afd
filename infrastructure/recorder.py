"""The PostgreSQL application recorder: one round trip per save.

The library's recorder sends BEGIN, the lock timeout, LOCK TABLE, NOTIFY and the INSERT in a
pipeline, syncs, then COMMITs: two round trips and a connection-level transaction per save. Its
database-function mode is one statement but leaves out the table lock, which the projection engine
relies on (ids appear in commit order, so following `id > position` misses nothing). This recorder
calls a function that does all of it — lock timeout, EXCLUSIVE table lock, NOTIFY, INSERT — as one
autocommitted statement: same guarantees, one round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

CREATE_LOCK = 0x67_6A_72_63  # any constant shared by every process of this system


class LockingFunctionRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(datastore.schema)
        function = Identifier(f"{events_table_name}_insert_locked")
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}(events {schema}.{event}[]) "
                "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ BEGIN "
                "SET LOCAL lock_timeout = '{lock_timeout}s'; "
                "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
                "NOTIFY {channel}; "
                "RETURN QUERY INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
                "SELECT originator_id, originator_version, topic, state FROM unnest(events) "
                "RETURNING notification_id; "
                "END; $BODY$"
            ).format(
                schema=schema,
                function=function,
                event=Identifier(self.stored_event_type_name),
                lock_timeout=datastore.lock_timeout,
                table=Identifier(events_table_name),
                channel=Identifier(self.channel_name),
            )
        )
        self.sql_insert_locked = SQL("SELECT * FROM {schema}.{function}((%s))").format(schema=schema, function=function)
        self.insert_locked_column = f"{events_table_name}_insert_locked"

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        # processes starting together (API workers, a projection runner) would race on CREATE OR
        # REPLACE FUNCTION ("tuple concurrently updated"): one at a time, in this transaction
        curs.execute(SQL("SELECT pg_advisory_xact_lock(%s)"), (CREATE_LOCK,))
        super()._create_table(curs)

    # the library's own retry: a lock timeout or a dropped connection is tried again
    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if not stored_events:
            return []
        rows = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.sql_insert_locked, (rows,), prepare=True)
            return [r[self.insert_locked_column] for r in curs.fetchall()]
