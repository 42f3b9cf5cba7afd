"""Shared fixtures. PostgreSQL and Redis are real; under CI=true an unreachable one is a failure.

Each test session gets a fresh PostgreSQL schema (dropped at the end); SQLite stores live in tmp dirs.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator

import psycopg
import pytest
import redis

PG_URL = os.environ.get("GONGJIAN_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("GONGJIAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
JWT_SECRET = "test-secret-key-for-gongjian-tests-0123456789"
# outside the embedded default the seal key store refuses its public development passphrase
os.environ.setdefault("GONGJIAN_KEYSTORE_PASSPHRASE", "test-keystore-passphrase-for-gongjian-tests")
# the suite is not throttled: tests of the rate limit set their own (tests/e2e/test_limits.py)
os.environ.setdefault("GONGJIAN_RATE_LIMIT", "")
# keys and archive packages written by tests go to a temporary folder, never to the checkout's var/
_SCRATCH = tempfile.mkdtemp(prefix="gongjian-tests-")
atexit.register(shutil.rmtree, _SCRATCH, ignore_errors=True)  # a script importing this module
os.environ.setdefault("GONGJIAN_KEYSTORE_PATH", f"{_SCRATCH}/keys")
os.environ.setdefault("GONGJIAN_ARCHIVE_PATH", f"{_SCRATCH}/archives")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Each pytest process (an xdist worker too, which ends without running atexit) removes its scratch."""
    shutil.rmtree(_SCRATCH, ignore_errors=True)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The order files are handed to the workers of `make test` (`--dist loadfile
    --no-loadscope-reorder`): those marked `long_running(seconds)` first, longest first, then the
    rest by number of tests, most first (pytest-xdist's own default). With xdist's default a file of
    one 100-second test went out last and kept one worker busy while the other had finished."""
    files: dict[str, list[pytest.Item]] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::")[0], []).append(item)

    def order(tests: list[pytest.Item]) -> tuple[float, int]:
        mark = tests[0].get_closest_marker("long_running")
        return (-float(mark.args[0]) if mark else 0.0, -len(tests))

    items[:] = [item for tests in sorted(files.values(), key=order) for item in tests]


def _unavailable(what: str, exc: Exception) -> None:
    message = f"{what} is unreachable: {exc}"
    if IN_CI:
        pytest.fail(message + " (CI=true: services must be up; .ci/run starts them)")
    pytest.skip(message)


def _conninfo(url: str) -> str:
    from infrastructure.db import DatabaseURL

    return DatabaseURL(url).conninfo


@pytest.fixture(scope="session")
def pg_base_url() -> str:
    try:
        with psycopg.connect(_conninfo(PG_URL), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any connection failure
        _unavailable("PostgreSQL", exc)
    return PG_URL


@pytest.fixture
def pg_url(pg_base_url: str) -> Iterator[str]:
    """A fresh schema per test: unique ids instead of cleanup tricks, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    conninfo = _conninfo(pg_base_url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    yield f"{pg_base_url}?schema={schema}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    return f"sqlite:///{tmp_path}/gongjian.db"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str:
    """The same test on the embedded default and on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
        client.ping()
        client.close()
    except Exception as exc:
        _unavailable("Redis", exc)
    return REDIS_URL


@pytest.fixture(autouse=True, scope="module")
def _seed_catalogue_between_modules() -> Iterator[None]:
    """The catalogue in force is process-wide (domain/catalog/catalog.py): a module that published an
    edition, or opened a store holding one, leaves the seed edition behind it, so no module's
    outcome depends on which modules ran before it in the same worker."""
    yield
    from domain.catalog.catalog import on_unknown_item, reset_to_seed

    reset_to_seed()
    on_unknown_item(lambda: None)  # the hook of a container that has closed
