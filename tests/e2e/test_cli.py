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

CLI = [sys.executable, "-m", "interfaces.cli"]
SCRATCH = ("GONGJIAN_KEYSTORE_PATH", "GONGJIAN_ARCHIVE_PATH")  # tests write keys and packages to scratch


def _env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGJIAN_") or k in SCRATCH}
    env["GONGJIAN_DATABASE_URL"] = database_url
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_development_tokens_are_refused_outside_the_embedded_default(pg_url: str, sqlite_url: str) -> None:
    ok = subprocess.run([*CLI, "token", "--role", "analyst"], env=_env(sqlite_url), capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.count(".") == 2  # a JWT
    env = {
        **_env(pg_url),
        "GONGJIAN_JWT_SECRET": "a-production-secret-of-at-least-32-chars!",
        "GONGJIAN_KEYSTORE_PASSPHRASE": "a-production-keystore-passphrase",
    }
    refused = subprocess.run([*CLI, "token", "--role", "analyst"], env=env, capture_output=True, text=True)
    assert refused.returncode == 2
    assert "embedded" in refused.stdout


def test_the_demo_is_served_and_explorable_with_a_printed_token(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/demo.db"
    env = _env(url)
    # Step: load a small demo through the services.
    demo = subprocess.run([*CLI, "demo", "--projects", "20"], env=env, capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stderr
    # Step: serve it; the read models catch up in-process; tokens are printed.
    port = _free_port()
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
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
        [*CLI, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
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
    env = _env(f"sqlite:///{tmp_path}/city.db")
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
