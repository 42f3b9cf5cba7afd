"""The PostgreSQL application recorder: one round trip per save.

The library's recorder sends BEGIN, the lock timeout, LOCK TABLE, NOTIFY and the INSERT in a
pipeline, syncs, then COMMITs: two round trips and a connection-level transaction per save. Its
database-function mode is one statement but leaves out the table lock, which the projection engine
relies on (ids appear in commit order, so following `id > position` misses nothing). This recorder
calls a function that does all of it — lock timeout, EXCLUSIVE table lock, NOTIFY, INSERT — as one
autocommitted statement: same guarantees, one round trip.

The same statement can also check what a command relied on without reading it (`expecting`): the
last stored version of some aggregates, compared under the table lock, so a save succeeds only if
none of them moved since (else `StaleRead`, an IntegrityError, and nothing is written).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, InterfaceError, Notification, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Identifier

CREATE_LOCK = 0x67_6A_72_63  # any constant shared by every process of this system
STALE_READ = "23G01"  # class 23 (integrity): psycopg and the library raise an IntegrityError

# the versions the next save in this context must still find stored (None: nothing stored)
_EXPECTED: ContextVar[Mapping[UUID, int | None] | None] = ContextVar("gongjian_expected_versions", default=None)


class StaleRead(IntegrityError):
    """An aggregate a command relied on has moved: nothing was written."""


class LockingFunctionRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(datastore.schema)
        table = Identifier(events_table_name)
        function = Identifier(f"{events_table_name}_insert_checked")
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {schema}.{function}"
                "(events {schema}.{event}[], expected_ids uuid[], expected_versions bigint[]) "
                "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ BEGIN "
                "SET LOCAL lock_timeout = '{lock_timeout}s'; "
                "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
                # under the lock nothing moves until this commits: the check holds at the commit
                "IF EXISTS (SELECT 1 FROM unnest(expected_ids, expected_versions) AS e(id, v) "
                "WHERE (SELECT max(originator_version) FROM {schema}.{table} WHERE originator_id = e.id) "
                "IS DISTINCT FROM e.v) THEN "
                "RAISE EXCEPTION 'stale read: an aggregate this command relied on has moved' "
                "USING ERRCODE = '{stale}'; END IF; "
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
                table=table,
                stale=SQL(STALE_READ),
                channel=Identifier(self.channel_name),
            )
        )
        self.sql_insert_checked = SQL("SELECT * FROM {schema}.{function}(%s, %s::uuid[], %s::bigint[])").format(
            schema=schema, function=function
        )
        self.insert_checked_column = f"{events_table_name}_insert_checked"

    @staticmethod
    @contextmanager
    def expecting(versions: Mapping[UUID, int | None]) -> Iterator[None]:
        """Saves inside check that each of these aggregates' last stored version is still this."""
        token = _EXPECTED.set(versions)
        try:
            yield
        finally:
            _EXPECTED.reset(token)

    # the library's query, its rows read as tuples in binary (no dicts, no hex of the state, no
    # UUID parsed from text): half the CPU of the read that every rebuild batch starts with
    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        conditions: list[SQL] = []
        params: list[Any] = []
        if start is not None:
            conditions.append(SQL("notification_id>=%s" if inclusive_of_start else "notification_id>%s"))
            params.append(start)
        if stop is not None:
            conditions.append(SQL("notification_id<=%s"))
            params.append(stop)
        if topics:
            conditions.append(SQL("topic = ANY(%s)"))
            params.append(list(topics))
        statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {schema}.{table}"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        if conditions:
            statement += SQL(" WHERE ") + SQL(" AND ").join(conditions)
        statement += SQL(" ORDER BY notification_id LIMIT %s")
        params.append(limit)
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row, binary=True) as curs:
            curs.execute(statement, params, prepare=True)
            return [
                Notification(id=i, originator_id=oid, originator_version=version, topic=topic, state=state)
                for i, oid, version, topic, state in curs.fetchall()
            ]

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        # processes starting together (API workers, a projection runner) would race on CREATE OR
        # REPLACE FUNCTION ("tuple concurrently updated"): one at a time, in this transaction
        curs.execute(SQL("SELECT pg_advisory_xact_lock(%s)"), (CREATE_LOCK,))
        super()._create_table(curs)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if not stored_events:
            return []
        expected = _EXPECTED.get() or {}
        try:
            return self._insert(stored_events, list(expected), list(expected.values()))
        except IntegrityError as e:
            if getattr(e.__cause__, "sqlstate", None) == STALE_READ:
                raise StaleRead(str(e)) from e
            raise

    # the library's own retry: a lock timeout or a dropped connection is tried again
    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _insert(self, stored_events: Sequence[StoredEvent], ids: list[UUID], versions: list[int | None]) -> list[int]:
        rows = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            # no expectations: NULL arrays (nothing to adapt; unnest of NULL is no rows)
            curs.execute(self.sql_insert_checked, (rows, ids or None, versions or None), prepare=True)
            return [r[self.insert_checked_column] for r in curs.fetchall()]
