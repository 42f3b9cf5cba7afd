"""The command line as a newcomer uses it: demo data, a served API, development tokens."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.long_running(35)  # scheduled first (tests/conftest.py)

CLI = [sys.executable, "-m", "interfaces.cli"]
SCRATCH = ("GONGJIAN_KEYSTORE_PATH", "GONGJIAN_ARCHIVE_PATH")  # tests write keys and packages to scratch


# what an operator of a production store configures (docs/operations.md)
PRODUCTION = {
    "GONGJIAN_JWT_SECRET": "a-production-secret-of-at-least-32-chars!",
    "GONGJIAN_KEYSTORE_PASSPHRASE": "a-production-keystore-passphrase",
}


def _env(database_url: str | None, **extra: str) -> dict[str, str]:
    """The environment of a fresh shell: no GONGJIAN_ setting but the scratch folders; the embedded
    default (sqlite:///var/gongjian.db under the working directory) when `database_url` is None."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGJIAN_") or k in SCRATCH}
    if database_url is not None:
        env["GONGJIAN_DATABASE_URL"] = database_url
    return {**env, **extra}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(port: int, env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[str], str]:
    """`gongjian serve` on a port, once /health answers (its output kept for the test to read)."""
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
        time.sleep(0.2)


def _token(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "token", "--role", "admin"], env=env, cwd=cwd, capture_output=True, text=True)


def test_development_tokens_are_issued_only_on_the_embedded_default_or_with_the_switch(
    pg_url: str, tmp_path: Path
) -> None:
    # Step: the README's `make run` store (var/gongjian.db under the working directory) mints tokens.
    ok = _token(_env(None), tmp_path)
    assert ok.returncode == 0 and ok.stdout.count(".") == 2  # a JWT
    # Step: a county's SQLite file is a production store: no secret configured, nothing starts.
    county = f"sqlite:///{tmp_path}/county/gongjian.db"
    refused = _token(_env(county), tmp_path)
    assert refused.returncode == 2 and "GONGJIAN_DEVELOPMENT" in refused.stdout, refused.stdout + refused.stderr
    assert "Traceback" not in refused.stdout + refused.stderr
    # Step: with a real secret it starts, but mints nothing.
    refused = _token(_env(county, **PRODUCTION), tmp_path)
    assert refused.returncode == 2 and "development tokens are only issued" in refused.stdout
    refused = _token(_env(pg_url, **PRODUCTION), tmp_path)
    assert refused.returncode == 2 and "development tokens are only issued" in refused.stdout
    # Step: the explicit switch turns development mode on for that file, and says so.
    switched = _token(_env(county, GONGJIAN_DEVELOPMENT="true"), tmp_path)
    assert switched.returncode == 0 and switched.stdout.count(".") == 2


def test_a_server_on_another_sqlite_file_refuses_to_start_without_a_secret_and_refuses_development_tokens(
    tmp_path: Path,
) -> None:
    from infrastructure.settings import DEV_SECRET
    from infrastructure.tokens import issue

    county = f"sqlite:///{tmp_path}/county.db"
    port = _free_port()
    # Step: no secret, no key set: the server does not start, and says what to set.
    down = subprocess.run(
        [*CLI, "serve", "--port", str(port)], env=_env(county), capture_output=True, text=True, timeout=120
    )
    assert down.returncode == 2, down.stdout + down.stderr
    assert "GONGJIAN_JWT_SECRET" in down.stdout and "GONGJIAN_DEVELOPMENT" in down.stdout
    # Step: with a real secret it serves; a token signed with the public development key is refused.
    server, base = _serve(port, _env(county, **PRODUCTION), tmp_path)
    try:
        forged = issue(DEV_SECRET, "dev-admin", "admin", "dev-org", "460000", ttl_hours=1)
        answer = httpx.post(
            f"{base}/graphql",
            json={"query": "{ projects { totalCount } }"},
            headers={"Authorization": f"Bearer {forged}"},
            timeout=10,
        )
        real = issue(PRODUCTION["GONGJIAN_JWT_SECRET"], "admin-1", "admin", "dev-org", "460000", ttl_hours=1)
        accepted = httpx.post(
            f"{base}/graphql",
            json={"query": "{ projects { totalCount } }"},
            headers={"Authorization": f"Bearer {real}"},
            timeout=10,
        )
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)
    assert answer.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "status": 401}, answer.text
    assert accepted.status_code == 200 and accepted.json()["data"]["projects"]["totalCount"] == 0
    assert "development tokens" not in output  # none printed outside development mode


def test_the_demo_is_served_and_explorable_with_a_printed_token(tmp_path: Path) -> None:
    env = _env(None)  # the embedded default, as `make run` in a fresh checkout (here: tmp_path)
    # Step: load a small demo through the services.
    demo = subprocess.run(
        [*CLI, "demo", "--projects", "20"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert demo.returncode == 0, demo.stderr
    # Step: serve it; the read models catch up in-process; tokens are printed.
    port = _free_port()
    server, base = _serve(port, env, tmp_path)
    try:
        deadline = time.monotonic() + 120
        # the read models catch up in-process (the automation may still be archiving: poll)
        caught_up = False
        while not caught_up and time.monotonic() < deadline:
            health = httpx.get(f"{base}/health", timeout=5).json()
            caught_up = all(p["lag"] == 0 for p in health["projections"])
            time.sleep(0.2)
        assert caught_up, health
        assert httpx.get(f"{base}/docs", timeout=5).status_code == 200
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=30)
    tokens = {
        line.split()[0]: line.split()[1]
        for line in output.splitlines()
        if line.startswith("    ") and len(line.split()) == 2
    }
    assert {"applicant", "supervisor", "analyst", "window_clerk"} <= tokens.keys()
    # Step: with the printed token, GraphQL answers over the demo (served again, briefly).
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        answer = httpx.post(
            f"{base}/graphql",
            json={"query": "{ projects { totalCount } cases { totalCount } }"},
            headers={"Authorization": f"Bearer {tokens['supervisor']}"},
            timeout=10,
        ).json()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    assert answer["data"]["projects"]["totalCount"] >= 20
    assert answer["data"]["cases"]["totalCount"] > 20


def test_spgl_import_and_export_from_the_command_line(tmp_path: Path) -> None:
    from infrastructure.spgl_files import read_dump, write_dump
    from tests.spgl_city_dump import Dump

    dump = Dump(projects=8)
    source = tmp_path / "haikou"
    write_dump(source, {t: [{k: str(v) for k, v in r.items()} for r in rows] for t, rows in dump.tables.items()})
    env = _env(f"sqlite:///{tmp_path}/city.db", **PRODUCTION)
    # Step: import the city's CSV files; rejected rows are named by rule.
    first = subprocess.run(
        [*CLI, "import", "spgl", str(source), "--source", "haikou"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert first.returncode == 0, first.stderr
    for rule in dump.planted:
        assert f"rejected by {rule}: {dump.planted[rule]}" in first.stdout
    # Step: the same files again write nothing.
    again = subprocess.run(
        [*CLI, "import", "spgl", str(source), "--source", "haikou"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0 and "nothing written" in again.stdout
    # Step: export; the city's projects come out with their corrections.
    out = tmp_path / "out"
    exported = subprocess.run([*CLI, "export", "spgl", str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert exported.returncode == 0, exported.stderr
    projects = read_dump(out)["SPGL_XMJBXXB"]
    assert {p["DFSJZJ"] for p in projects} == {f"P{n}" for n in range(8)}
    assert len(projects) == 8 + dump.corrections


def test_help_names_every_option_whole_in_an_80_column_terminal(tmp_path: Path) -> None:
    shown = subprocess.run(
        [*CLI, "serve", "--help"], env={**_env(None), "COLUMNS": "80"}, cwd=tmp_path, capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    for option in ("--projections-in-process", "--no-projections-in-process", "--demo-if-empty", "--workers"):
        assert option in shown.stdout, shown.stdout
    assert max(len(line) for line in shown.stdout.splitlines()) <= 80
