"""Zero-downtime read-model upgrades (blue/green): a read model whose shape changed is built afresh
in shadow tables while the tables built under the old shape keep serving, then swapped in.

A process whose code has a newer `shape` for read model M than the store's (`projection_shapes`)
leaves M's live tables alone. It creates M's tables once more under suffixed names (`cases` becomes
`cases__s5`, its indexes too: the shadow's SQL is M's own, rewritten by `Renaming`) and follows the
log into them from position 0 under a tracking row of their own (`M@shape5`), while whoever runs the
old code keeps M's live tables current. Once the shadow is within one batch of the log's head the
swap runs in one transaction: it locks M's tracking row (so no batch of M is half-way), applies what
the live M has and the shadow lacks, drops the live tables, renames the shadow's to the live names
(on PostgreSQL its indexes too), moves M's position to the shadow's (never backwards) and records
the new shape. Readers see the old tables until the commit and the new ones after it, never an empty
or a shorter model.

A runner of an older shape checks M's recorded shape inside each batch's transaction, after the
compare-and-set of its position (so after a swap that committed first): once newer, its batch rolls
back and it leaves M alone (`Superseded`). A newer runner that did not swap finds its shadow's
tracking row gone and follows M live. Read models with durable tables (the ledger's signatures) are
still rebuilt in place: their records must never be built twice.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from infrastructure.db import Cursor, Database, PostgresDatabase, SQLiteDatabase, table_exists
from infrastructure.log import GongjianApplication
from infrastructure.notify import Waker
from infrastructure.store import SETUP_LOCK
from projections.base import Envelope, ReadModel

log = logging.getLogger(__name__)

SHADOWS_TABLE = (
    "CREATE TABLE IF NOT EXISTS projection_shadows (shadow TEXT PRIMARY KEY, read_model TEXT NOT NULL,"
    " shape INTEGER NOT NULL, started_at DOUBLE PRECISION NOT NULL)"
)
# an identifier after one of these words names a table (`CREATE INDEX i ON t`, `IF NOT EXISTS t`)
_TABLE_WORDS = frozenset({"from", "join", "into", "update", "table", "exists", "on", "truncate"})
_LITERAL = re.compile(r"('(?:[^']|'')*')")
_INDEX = re.compile(r"\bCREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)", re.IGNORECASE)
_LAST_WORD = re.compile(r"(\w+)\s*$")


def shadow_name(model: ReadModel) -> str:
    return f"{model.name}@shape{model.shape}"


class Superseded(Exception):
    """The store records another shape for a read model than this code's: the batch rolled back."""


_COLUMNS: dict[str, frozenset[str]] = {}


def _columns(cls: type[ReadModel]) -> frozenset[str]:
    """Every column name of a read model's tables (its DDL run once on an in-memory SQLite)."""
    key = f"{cls.__module__}.{cls.__qualname__}"
    if key in _COLUMNS:
        return _COLUMNS[key]
    probe = SQLiteDatabase(":memory:")
    try:
        try:
            model = cls(probe)  # type: ignore[call-arg]
        except TypeError:
            model = cls.__new__(cls)
            ReadModel.__init__(model, probe)
        with probe.transaction() as cur:
            model.create_tables(cur, "sqlite")
        return frozenset(r["name"] for t in (*cls.tables, *cls.durable) for r in probe.query(f"PRAGMA table_info({t})"))
    finally:
        probe.close()


class Renaming:
    """A cursor whose SQL names a read model's tables and indexes under the shadow's suffix. Names
    are replaced outside string literals; one that is also a column name (`cases` in case_timeline)
    only where it stands as a table: after FROM, JOIN, INTO, UPDATE, TABLE, EXISTS, ON, or before a dot."""

    def __init__(self, cur: Any, model: ShadowModel) -> None:
        self._cur = cur
        self._model = model

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cur.execute(self._model.rename(sql), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> Any:
        return self._cur.executemany(self._model.rename(sql), rows)

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self._cur.insert_rows(self._model.names.get(table, table), columns, rows)

    def fetchall(self) -> list[dict[str, Any]]:
        return list(self._cur.fetchall())

    def fetchone(self) -> dict[str, Any] | None:
        row: dict[str, Any] | None = self._cur.fetchone()
        return row

    def __getattr__(self, name: str) -> Any:
        if name == "sibling":  # PostgreSQL: look-ups sent together (base.fetch_together)
            sibling = self._cur.sibling
            return lambda: Renaming(sibling(), self._model)
        raise AttributeError(name)


class ShadowModel(ReadModel):
    """Read model M's new shape, built under suffixed table names by M's own handler."""

    def __init__(self, inner: ReadModel) -> None:
        super().__init__(inner.db)
        self.inner = inner
        self.name = shadow_name(inner)  # type: ignore[misc]
        self.suffix = f"__s{inner.shape}"
        self.names = {t: f"{t}{self.suffix}" for t in inner.tables}
        self.tables = tuple(self.names.values())  # type: ignore[misc]
        self.pipelined = inner.pipelined  # type: ignore[misc]
        self.reads = inner.reads  # type: ignore[misc]
        self.ambiguous = frozenset(inner.tables) & _columns(type(inner))
        self._sql: dict[str, str] = {}
        self._pattern = self._compile()

    def _compile(self) -> re.Pattern[str]:
        return re.compile(r"\b(" + "|".join(sorted(map(re.escape, self.names), key=len, reverse=True)) + r")\b")

    def rename(self, sql: str) -> str:
        done = self._sql.get(sql)
        if done is None:
            for index in _INDEX.findall(sql):  # index names are global (SQLite: per file; PostgreSQL: per schema)
                if index not in self.names:
                    self.names[index] = f"{index}{self.suffix}"
                    self._pattern = self._compile()
            parts = _LITERAL.split(sql)
            parts[::2] = [self._pattern.sub(self._replace, part) for part in parts[::2]]
            done = self._sql[sql] = "".join(parts)
        return done

    def _replace(self, m: re.Match[str]) -> str:
        name = m.group(1)
        if name in self.ambiguous:
            text, start, end = m.string, m.start(), m.end()
            before = _LAST_WORD.search(text, 0, start)
            is_table = (before is not None and before.group(1).lower() in _TABLE_WORDS) or text[end:].lstrip()[
                :1
            ] == "."
            if not is_table or text[:start].rstrip()[-1:] == ".":
                return name
        return self.names[name]

    def create_tables(self, cur: Cursor, dialect: str) -> None:
        self.inner.create_tables(Renaming(cur, self), dialect)

    def clear(self, cur: Cursor) -> None:
        self.inner.clear(Renaming(cur, self))

    def drop_tables(self, cur: Cursor) -> None:
        self.inner.drop_tables(Renaming(cur, self))

    def handle(self, cur: Cursor, batch: Sequence[Envelope]) -> None:
        try:
            self.inner.handle(Renaming(cur, self), batch)
        finally:
            self.inner.outbox.clear()  # history being rebuilt, not news: the live model published it


class Engine(Protocol):
    """What upgrades use of the projection engine (projections/engine.py)."""

    app: GongjianApplication
    db: Database
    models: dict[str, ReadModel]
    batch_size: int
    rebuild_batch_size: int
    conflicts: dict[str, int]
    progress: Waker
    progress_channel: str | None

    def read(self, after: int, limit: int | None = None) -> list[Envelope]: ...
    def _apply_group(
        self, names: Sequence[str], old: int, batch: Sequence[Envelope]
    ) -> tuple[list[str], list[str], list[tuple[str, Exception]]]: ...
    def _conflict(self, name: str) -> bool: ...
    def catch_up(
        self, names: Sequence[str] | None = None, *, skip_failing: bool = False, batch_size: int | None = None
    ) -> int: ...


class Upgrades:
    """The engine's side of upgrades: which read models this process holds back (shadowing, or
    superseded by a newer version's shape), their shadows, the swap, and what status shows."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.held: dict[str, str] = {}  # read model -> why this process does not apply it
        self.shadows: dict[str, ShadowModel] = {}  # by shadow name
        self.vacuumed: set[str] = set()

    # -- setup ----------------------------------------------------------------------------------

    def reshape(self, cur: Any) -> tuple[set[str], set[str]]:
        """In setup's transaction. Stores from before shapes were recorded count as shape 1. Returns
        the read models whose tables this code must not (re)create (built under its shape, or held),
        and those with a tracking row."""
        engine = self.engine
        cur.execute(SHADOWS_TABLE)
        cur.execute("SELECT read_model, shape FROM projection_shapes")
        stored = {r["read_model"]: int(r["shape"]) for r in cur.fetchall()}
        cur.execute("SELECT read_model FROM projection_tracking")
        tracked = {r["read_model"] for r in cur.fetchall()}
        cur.execute("SELECT shadow, read_model, shape FROM projection_shadows")
        shadows = cur.fetchall()
        self.held.clear()
        self.shadows.clear()
        for model in engine.models.values():
            before = stored.get(model.name, 1 if model.name in tracked else None)
            for row in shadows:  # an older version's unfinished shadow of it: never to be swapped in
                if row["read_model"] == model.name and int(row["shape"]) < model.shape:
                    self._drop_shadow(cur, ShadowModel(_at_shape(model, int(row["shape"]))))
            if before is not None and before > model.shape:
                self.held[model.name] = f"superseded: shape {before} is live, this code has {model.shape}"
                log.warning("%s: %s; not applied here", model.name, self.held[model.name])
                continue
            if before is not None and before < model.shape and not model.durable:
                self._start_shadow(cur, model, before, stored, tracked)
                continue
            if before is not None and before != model.shape:
                log.warning("%s: shape %s -> %s, rebuilding from position 0", model.name, before, model.shape)
                model.drop_tables(cur)
                cur.execute(
                    "UPDATE projection_tracking SET position = 0, updated_at = ? WHERE read_model = ?",
                    (_now(), model.name),
                )
            if stored.get(model.name) != model.shape:
                _record_shape(cur, model.name, model.shape)
        built = {n for n, s in stored.items() if n in engine.models and engine.models[n].shape == s}
        return built | set(self.held), tracked

    def _start_shadow(self, cur: Any, model: ReadModel, before: int, stored: dict[str, int], tracked: set[str]) -> None:
        shadow = ShadowModel(model)
        self.held[model.name] = f"shadowing: shape {before} serves while {shadow.name} is built"
        self.shadows[shadow.name] = shadow
        if model.name not in stored:  # a store from before shapes were recorded: say what is live
            _record_shape(cur, model.name, before)
        if shadow.name in tracked and all(table_exists(cur, self.engine.db.dialect, t) for t in shadow.tables):
            return  # resumed where it was (no DDL: another runner may be writing it)
        log.warning(
            "%s: shape %s -> %s, building %s beside the live tables", model.name, before, model.shape, shadow.name
        )
        shadow.create_tables(cur, self.engine.db.dialect)
        cur.execute(
            "INSERT INTO projection_tracking (read_model, position, updated_at) VALUES (?, 0, ?)"
            " ON CONFLICT (read_model) DO NOTHING",
            (shadow.name, _now()),
        )
        cur.execute(
            "INSERT INTO projection_shadows (shadow, read_model, shape, started_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (shadow) DO NOTHING",
            (shadow.name, model.name, model.shape, time.time()),
        )

    def _drop_shadow(self, cur: Any, shadow: ShadowModel) -> None:
        for table in shadow.tables:
            cur.execute(f"DROP TABLE IF EXISTS {table}")  # our names
        cur.execute("DELETE FROM projection_tracking WHERE read_model = ?", (shadow.name,))
        cur.execute("DELETE FROM projection_shadows WHERE shadow = ?", (shadow.name,))

    def attach(self) -> None:
        """Without setup (a rebuild worker process): the same shadows setup would find, no DDL."""
        with self.engine.db.transaction() as cur:
            cur.execute("SELECT read_model, shape FROM projection_shapes")
            stored = {r["read_model"]: int(r["shape"]) for r in cur.fetchall()}
        for model in self.engine.models.values():
            if stored.get(model.name, model.shape) < model.shape and not model.durable:
                shadow = ShadowModel(model)
                self.shadows[shadow.name] = shadow
                self.held[model.name] = "shadowing"

    # -- following ------------------------------------------------------------------------------

    def model(self, name: str) -> ReadModel:
        found = self.engine.models.get(name)
        return found if found is not None else self.shadows[name]

    def positions(self) -> dict[str, int]:
        """Every read model's position and every shadow's of this process."""
        rows = self.engine.db.query("SELECT read_model, position FROM projection_tracking")
        found = {r["read_model"]: int(r["position"]) for r in rows}
        return {name: found.get(name, 0) for name in (*self.engine.models, *self.shadows)}

    def followed(self, names: Sequence[str] | None) -> list[str]:
        """What catch_up applies: the named read models and shadows (default: every read model,
        no shadow: the runner builds those a batch per round, `step`), less those held back (a
        shadow's live model, one superseded)."""
        return [n for n in (names or self.engine.models) if n not in self.held]

    def to_rebuild(self, names: Sequence[str]) -> list[str]:
        """What `rebuild` replays for these names: a shadowing read model's shadow (the live tables
        keep serving). A superseded one (a newer version's shape is live) is taken back under this
        code's shape first: the explicit way to roll an upgrade back (its tables are empty meanwhile)."""
        shadows = {s.inner.name: n for n, s in self.shadows.items()}
        for name in names:
            if name in self.held and name not in shadows:
                self._take_back(self.engine.models[name])
            elif name in shadows:  # its rate counts from the replay's start
                with self.engine.db.transaction() as cur:
                    cur.execute(
                        "UPDATE projection_shadows SET started_at = ? WHERE shadow = ?", (time.time(), shadows[name])
                    )
        return [shadows.get(n, n) for n in names]

    def _take_back(self, model: ReadModel) -> None:
        with self.engine.db.transaction() as cur:
            if self.engine.db.dialect == "postgresql":
                cur.execute("SELECT pg_advisory_xact_lock(?)", (SETUP_LOCK,))
            model.drop_tables(cur)
            model.create_tables(cur, self.engine.db.dialect)
            _record_shape(cur, model.name, model.shape)
        self.held.pop(model.name, None)
        log.warning("%s: taken back under shape %s (rebuilt in place)", model.name, model.shape)

    def ask(self, cur: Any, names: Sequence[str]) -> Callable[[], None]:
        """Sends, inside a batch's transaction and after its compare-and-set, the shapes the store
        records for these read models; returns the check that raises `Superseded` if one is not
        this code's (called at once, or after the handlers when pipelined: all rolls back)."""
        live = [n for n in names if n in self.engine.models]
        if not live:
            return lambda: None
        cur.execute(
            f"SELECT read_model, shape FROM projection_shapes WHERE read_model IN ({', '.join('?' * len(live))})",  # noqa: S608
            live,
        )

        def check() -> None:
            for row in cur.fetchall():
                if int(row["shape"]) != self.engine.models[row["read_model"]].shape:
                    raise Superseded(f"{row['read_model']}: the store records shape {row['shape']}")

        return check

    def reconcile(self, name: str) -> bool:
        """After a lost compare-and-set or a `Superseded`: True when `name` is no longer applied
        here under that name (superseded, or its shadow swapped in by another runner)."""
        rows = self.engine.db.query("SELECT read_model, shape FROM projection_shapes")
        stored = {r["read_model"]: int(r["shape"]) for r in rows}
        shadow = self.shadows.get(name)
        if shadow is not None:
            if stored.get(shadow.inner.name) != shadow.inner.shape:
                return False  # still building (a plain lost race)
            log.info("%s: swapped in by another runner; following %s live", name, shadow.inner.name)
            self._swapped(shadow)
            return True
        model = self.engine.models.get(name)
        if model is None or stored.get(name, model.shape) == model.shape:
            return False
        self.held[name] = f"superseded: shape {stored[name]} is live, this code has {model.shape}"
        log.warning("%s: %s; no longer applied here", name, self.held[name])
        return True

    def _swapped(self, shadow: ShadowModel) -> None:
        self.shadows.pop(shadow.name, None)
        self.held.pop(shadow.inner.name, None)

    # -- the swap -------------------------------------------------------------------------------

    def step(self) -> int:
        """One round of a runner: a rebuild-sized batch for each shadow still more than a batch
        behind the head (so the live read models are caught up between two, never kept waiting for a
        whole build), and the swap of every other one. Returns the events applied and shadows swapped."""
        if not self.shadows:
            return 0
        engine = self.engine
        head = engine.app.max_position()
        at = self.positions()
        found = {r["read_model"] for r in engine.db.query("SELECT read_model FROM projection_tracking")}
        done = 0
        for name, shadow in list(self.shadows.items()):
            if name not in found:  # another runner swapped it in
                self.reconcile(name)
            elif head - at[name] > engine.batch_size:
                batch = engine.read(at[name], engine.rebuild_batch_size)
                applied, conflicts, failures = engine._apply_group([name], at[name], batch)
                done += len(batch) if applied else 0
                for _ in conflicts:
                    engine._conflict(name)
                for _, exc in failures:
                    log.error("%s: batch failed and was rolled back; retrying later", name, exc_info=exc)
            else:
                done += self.swap(shadow)
        return done

    def finish(self) -> int:
        """Build every shadow to the head and swap it in, here and now; returns how many were."""
        if self.shadows:
            self.engine.catch_up(list(self.shadows), batch_size=self.engine.rebuild_batch_size)
        return self.swap_ready()

    def swap_ready(self, names: Sequence[str] | None = None) -> int:
        """Swap in every (named) shadow within one batch of the log's head; returns how many were."""
        if not self.shadows or (names is not None and not set(names) & set(self.shadows)):
            return 0
        head = self.engine.app.max_position()
        positions = self.engine.db.query("SELECT read_model, position FROM projection_tracking")
        at = {r["read_model"]: int(r["position"]) for r in positions}
        swapped = 0
        for name, shadow in list(self.shadows.items()):
            if names is not None and name not in names:
                continue
            if name not in at:  # another runner swapped it in
                self.reconcile(name)
            elif head - at[name] <= self.engine.batch_size:
                swapped += self.swap(shadow)
        return swapped

    def swap(self, shadow: ShadowModel) -> int:
        """Put the shadow in the live model's place, in one transaction; 1 when done, 0 when another
        runner did it first."""
        engine, live = self.engine, shadow.inner
        if isinstance(engine.db, PostgresDatabase) and shadow.name not in self.vacuumed:
            engine.db.vacuum_analyze(list(shadow.tables))  # planner statistics, before it serves
            self.vacuumed.add(shadow.name)
        with engine.db.transaction() as cur:
            if engine.db.dialect == "postgresql":
                cur.execute("SELECT pg_advisory_xact_lock(?)", (SETUP_LOCK,))
            # the live model's row first: a batch of it (old code) holds it before writing its tables
            cur.execute(
                "UPDATE projection_tracking SET updated_at = ? WHERE read_model = ? RETURNING position",
                (_now(), live.name),
            )
            row = cur.fetchone()
            cur.execute(
                "UPDATE projection_tracking SET updated_at = ? WHERE read_model = ? RETURNING position",
                (_now(), shadow.name),
            )
            mine = cur.fetchone()
            if mine is None:  # swapped by another runner of this version
                self._swapped(shadow)
                return 0
            position = int(mine["position"])
            live_at = int(row["position"]) if row is not None else 0
            while position < live_at:  # what the live model has and the shadow lacks: a batch or so
                batch = [e for e in engine.read(position, engine.rebuild_batch_size) if e.position <= live_at]
                if not batch:
                    break
                shadow.handle(cur, batch)
                position = batch[-1].position
            position = max(position, live_at)
            for table in live.tables:
                cur.execute(f"DROP TABLE IF EXISTS {table}")  # our names
            for table, renamed in shadow.names.items():
                if table in live.tables:
                    cur.execute(f"ALTER TABLE {renamed} RENAME TO {table}")
            if engine.db.dialect == "postgresql":
                _rename_indexes(cur, live.tables, shadow.suffix)
            cur.execute(
                "INSERT INTO projection_tracking (read_model, position, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (read_model) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
                (live.name, position, _now()),
            )
            cur.execute("DELETE FROM projection_tracking WHERE read_model = ?", (shadow.name,))
            cur.execute("DELETE FROM projection_shadows WHERE shadow = ?", (shadow.name,))
            _record_shape(cur, live.name, live.shape)
            if engine.progress_channel is not None:
                cur.execute("SELECT pg_notify(?, ?)", (engine.progress_channel, str(position)))
        self._swapped(shadow)
        engine.progress.notify(position)
        log.warning("%s: shape %s live (swapped in at position %s)", live.name, live.shape, position)
        return 1

    # -- status ---------------------------------------------------------------------------------

    def status(self, positions: dict[str, int], log_position: int) -> list[dict[str, Any]]:
        """Each shadow being built (by any process): position, events behind, rate and ETA."""
        rows = self.engine.db.query(
            "SELECT s.shadow, s.read_model, s.shape, s.started_at, t.position FROM projection_shadows s"
            " JOIN projection_tracking t ON t.read_model = s.shadow ORDER BY s.shadow"
        )
        found = []
        now = time.time()
        for r in rows:
            position, lag = int(r["position"]), max(0, log_position - int(r["position"]))
            rate = position / max(now - float(r["started_at"]), 1e-3)  # events per second since it started
            found.append(
                {
                    "name": r["shadow"],
                    "kind": "shadow",
                    "state": f"building shape {r['shape']} of {r['read_model']}",
                    "replaces": r["read_model"],
                    "position": position,
                    "log_position": log_position,
                    "lag": lag,
                    "live_position": positions.get(r["read_model"], 0),
                    "rate": round(rate, 1),
                    "eta_s": round(lag / rate, 1) if rate > 0 else None,
                    "conflicts": self.engine.conflicts.get(r["shadow"], 0),
                }
            )
        return found


def _at_shape(model: ReadModel, shape: int) -> ReadModel:
    """`model` as it stood at another shape (its shadow's names)."""
    other = type(model).__new__(type(model))
    other.__dict__.update(model.__dict__)
    other.shape = shape  # type: ignore[misc]
    return other


def _rename_indexes(cur: Any, tables: Sequence[str], suffix: str) -> None:
    """PostgreSQL: the swapped-in tables' indexes take the live names again (one schema, one namespace)."""
    cur.execute(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ANY(?)", (list(tables),)
    )
    for row in cur.fetchall():
        index = row["indexname"]
        if suffix in index:
            plain = index.replace(suffix, "")
            cur.execute(f"DROP INDEX IF EXISTS {plain}")  # a table of the old shape the new one no longer has
            cur.execute(f"ALTER INDEX {index} RENAME TO {plain}")


def _record_shape(cur: Any, name: str, shape: int) -> None:
    cur.execute(
        "INSERT INTO projection_shapes (read_model, shape, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (read_model) DO UPDATE SET shape = excluded.shape, updated_at = excluded.updated_at",
        (name, shape, _now()),
    )


def _now() -> str:
    return datetime.now(UTC).isoformat()
