"""End-to-end fixtures: a real uvicorn server on a free local port, over a real store."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from application.bootstrap import Container, bootstrap
from infrastructure.settings import Settings
from infrastructure.tokens import issue
from interfaces.rest import create_app
from tests.conftest import IN_CI, JWT_SECRET
from tests.pgcluster import Cluster, ClusterUnavailable, replication_lab

OWNER_USCC = "91460000MA5T0P3X64"


@dataclass
class Server:
    base_url: str
    container: Container

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30)

    def position(self) -> int:
        return self.container.app.max_position()


def token(role: str, org: str = OWNER_USCC, region: str = "460100", sub: str | None = None) -> str:
    """A bearer token for one role, signed with the test secret."""
    return issue(JWT_SECRET, sub or f"{role}-1", role, org, region, name=f"测试{role}", ttl_hours=1)


def auth(role: str, org: str = OWNER_USCC, region: str = "460100", **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, org, region)}", **headers}


def problem_of(r: httpx.Response, status: int) -> dict[str, Any]:
    """The body of a problem+json answer with this status (RFC 9457), after checking it is one."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    return body


_SERIALS_GIVEN: set[int] = set()
_SERIALS_LOCK = threading.Lock()


def new_project_code() -> str:
    """A project code this process has not given before (a random serial could repeat: among 400 codes,
    two equal ones 8 times in 100 runs, and the second project is then rightly refused as a duplicate)."""
    with _SERIALS_LOCK:
        serial = random.randrange(10**6)
        while serial in _SERIALS_GIVEN:
            serial = random.randrange(10**6)
        _SERIALS_GIVEN.add(serial)
    return f"2611-460100-04-01-{serial:06d}"


def project_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": new_project_code(),
        "name": "海口市测试安置房项目",
        "owner": {"name": "海南测试建设有限公司", "uscc": OWNER_USCC},
        "region_code": "460106",
        "flow_type": 3,
        "investment_type": "enterprise",
        "category": "房屋建筑",
        "total_investment": "12800.50",
        "red_line": None,
        "planned_start": "2026-03-01",
        "planned_end": "2027-12-31",
    }
    body.update(overrides)
    return body


@contextmanager
def serving(container: Container) -> Iterator[str]:
    """Run uvicorn in a thread on a free port until the block ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(container), log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError("the test server did not answer /health")
        time.sleep(0.02)
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def server(store_url: str) -> Iterator[Server]:
    """A running API over a fresh store (SQLite file or PostgreSQL schema)."""
    container = bootstrap(Settings(database_url=store_url, jwt_secret=JWT_SECRET))
    try:
        with serving(container) as base_url:
            yield Server(base_url, container)
    finally:
        container.close()


@pytest.fixture
def pg_server(pg_url: str) -> Iterator[Server]:
    """The API over PostgreSQL only (concurrency tests: SQLite serialises writers anyway)."""
    container = bootstrap(Settings(database_url=pg_url, jwt_secret=JWT_SECRET))
    try:
        with serving(container) as base_url:
            yield Server(base_url, container)
    finally:
        container.close()


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


@pytest.fixture
def own_postgres() -> Iterator[Cluster]:
    """A PostgreSQL server of the test's own (tests/pgcluster.py: its own port, directory and socket),
    which the test stops and starts: the shared server on 5432, which other workers' tests use at the
    same time, is never touched."""
    try:
        with replication_lab() as lab:
            yield lab.primary(max_connections="200")
    except ClusterUnavailable as exc:
        if IN_CI:
            pytest.fail(f"{exc} (CI=true: this fault test must run)")
        pytest.skip(str(exc))
