"""What the benchmarks share: a fresh PostgreSQL schema per run, a container on it, percentiles,
and one JSON line per figure."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import psycopg

from application.bootstrap import Container, bootstrap
from application.clock import Clock
from infrastructure.db import DatabaseURL
from infrastructure.ledger_key import generate_key
from infrastructure.settings import Settings

URL = os.environ.get("GONGJIAN_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
SECRET = "bench-secret-bench-secret-bench-secret!!"


def conninfo(url: str = URL) -> str:
    return DatabaseURL(url.split("?")[0]).conninfo


@contextmanager
def fresh_schema(prefix: str = "bench", keep: bool = False) -> Iterator[str]:
    """A new schema in the bench database, dropped afterwards; yields its store URL."""
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{URL.split('?')[0]}?schema={schema}"
    finally:
        if not keep:
            with psycopg.connect(conninfo(), autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


# the raw baseline's table: the stored-event columns, no lock, no function, no notification
RAW_EVENTS_DDL = (
    "CREATE TABLE raw_events (originator_id uuid, originator_version int, topic text, state bytea,"
    " id bigserial, PRIMARY KEY (originator_id, originator_version))"
)


@contextmanager
def filled_store() -> Iterator[Container]:
    """A container on GONGJIAN_BENCH_STORE (a kept store, used as it is) or on a fresh schema filled
    with GONGJIAN_BENCH_EVENTS generated events (dropped afterwards)."""
    from bench.dataset import Generator  # bench.dataset imports this module

    store = os.environ.get("GONGJIAN_BENCH_STORE")
    with nullcontext(store) if store else fresh_schema() as url:
        c = open_container(url)
        try:
            if not store:
                Generator(c.app).run(int(os.environ.get("GONGJIAN_BENCH_EVENTS", "20000")))
            yield c
        finally:
            c.close()


def open_container(url: str, clock: Clock | None = None, **overrides: Any) -> Container:
    keys = tempfile.mkdtemp(prefix="gongjian-bench-keys-")
    ledger_key = os.path.join(keys, "ledger-ed25519.pem")
    generate_key(Path(ledger_key))  # checkpoints signed, as in production
    settings = Settings(
        database_url=url,
        jwt_secret=SECRET,
        keystore_passphrase="bench-keystore-passphrase",
        keystore_path=keys,
        ledger_key_file=ledger_key,
        archive_path=os.path.join(keys, "archives"),
        **overrides,
    )
    return bootstrap(settings, clock)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))]


def emit(figure: str, **fields: Any) -> None:
    """One JSON line per figure (its baseline and ratio included)."""
    print(json.dumps({"figure": figure, **fields}, ensure_ascii=False, default=str), flush=True)


def unpack(ref: str, directory: str) -> None:
    """The code as committed at `ref`, unpacked into `directory`: the "before" side of an A/B."""
    tree = Path(__file__).resolve().parent.parent
    archive = subprocess.run(["git", "archive", ref], cwd=tree, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", directory], input=archive, check=True)


def generate(url: str, catch_up: bool = False) -> None:
    """The bench dataset (GONGJIAN_BENCH_EVENTS events, default 20,000) into the store at `url`."""
    from bench.dataset import Generator  # (it imports this module)

    c = open_container(url)
    try:
        Generator(c.app).run(int(os.environ.get("GONGJIAN_BENCH_EVENTS", "20000")))
        if catch_up:
            c.engine.catch_up()
    finally:
        c.close()
