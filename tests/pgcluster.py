"""Throw-away PostgreSQL servers for replication tests: a primary (initdb, its own port, wal_level
replica, a replication line in pg_hba.conf) and streaming replicas of it (pg_basebackup -R).

The shared server on 5432 is never touched. Each server lives in a temporary directory with its own
port and socket directory, and is stopped (immediate) and removed at the end even on failure.
initdb refuses to run as root: as root the servers run as the `postgres` OS user (runuser), in
directories owned by it. Binaries: GONGJIAN_PG_BIN, else `pg_config --bindir`, else the newest
/usr/lib/postgresql/*/bin."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

TOOLS = ("initdb", "pg_ctl", "pg_basebackup", "postgres")
RUN_AS = "postgres"  # the OS user of the servers when the tests run as root


class ClusterUnavailable(Exception):
    """The PostgreSQL server binaries (or an OS user to run them as) are not here."""


def pg_bin() -> Path:
    """The directory holding initdb, pg_ctl, pg_basebackup and postgres."""
    candidates: list[Path] = []
    if os.environ.get("GONGJIAN_PG_BIN"):
        candidates.append(Path(os.environ["GONGJIAN_PG_BIN"]))
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True)
            candidates.append(Path(out.stdout.strip()))
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True)
    candidates.extend(versions)
    for candidate in candidates:
        if all((candidate / tool).is_file() for tool in TOOLS):
            return candidate
    raise ClusterUnavailable(f"no PostgreSQL server binaries ({', '.join(TOOLS)}) in {candidates or 'any place'}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Cluster:
    """One PostgreSQL server in `directory`/data, on 127.0.0.1:`port`, trust authentication."""

    def __init__(self, bindir: Path, directory: Path, port: int, as_user: str | None, history: list[str]) -> None:
        self.bindir, self.directory, self.port, self.as_user = bindir, directory, port, as_user
        self.data = directory / "data"
        self.logfile = directory / "server.log"
        self.history = history  # the lab's: every tool command that ran, as `ReplicationLab.spelled` writes it

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def conninfo(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres connect_timeout=3"

    def command(self, tool: str, *args: str) -> list[str]:
        """The command line that runs `tool` as the servers' OS user."""
        line = [str(self.bindir / tool), *args]
        return ["runuser", "-u", self.as_user, "--", *line] if self.as_user else line

    def run(self, tool: str, *args: str, timeout: float = 60) -> str:
        self.history.append(" ".join([tool, *args]))
        done = subprocess.run(self.command(tool, *args), capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed ({done.returncode}): {done.stderr}{self.log_tail()}")
        return done.stdout

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return "\n--- server log ---\n" + "\n".join(self.logfile.read_text().splitlines()[-20:])
        return ""

    def configure(self, **settings: str) -> None:
        """Append to postgresql.conf (the last setting of a name wins); the file keeps its owner."""
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    def start(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "30", "start")

    def start_on_a_free_port(self, attempts: int = 3) -> None:
        """Start; if another process took the port between picking and binding, pick another."""
        for attempt in range(attempts):
            try:
                self.start()
                return
            except RuntimeError as exc:
                if attempt == attempts - 1 or "already in use" not in str(exc):
                    raise
                self.history.pop()  # the failed start is not part of the drill
                self.port = _free_port()
                self.configure(port=str(self.port))

    def stop(self, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def promote(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-w", "-t", "30", "promote")

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with psycopg.connect(self.conninfo, autocommit=True, row_factory=dict_row) as conn:
            cur = conn.execute(query, params)  # type: ignore[arg-type]  # fixed test statements
            return list(cur.fetchall()) if cur.description else []

    def kill(self) -> None:
        """Teardown: stop however it can, never raising."""
        if not self.running():
            return
        try:
            self.stop("immediate")
        except Exception:
            with contextlib.suppress(Exception):
                os.kill(int((self.data / "postmaster.pid").read_text().splitlines()[0]), signal.SIGKILL)


class ReplicationLab:
    """A primary and its replicas under one temporary directory; `close` removes everything."""

    def __init__(self) -> None:
        self.bindir = pg_bin()
        self.as_user: str | None = None
        if os.geteuid() == 0:  # initdb refuses root
            try:
                pwd.getpwnam(RUN_AS)
            except KeyError:
                raise ClusterUnavailable(
                    f"running as root and there is no {RUN_AS!r} OS user to run PostgreSQL as"
                ) from None
            self.as_user = RUN_AS
        self.root = Path(tempfile.mkdtemp(prefix="gongjian-pglab-"))
        self.root.chmod(0o755)
        self.clusters: list[Cluster] = []
        self.history: list[str] = []

    def spelled(self) -> list[str]:
        """The commands that ran, as docs/scaling.md writes them: `$PGLAB` for the lab's directory,
        `$<NAME>_PORT` for each server's port (the binaries on PATH, run as the postgres OS user)."""
        lines = []
        for line in self.history:
            line = line.replace(str(self.root), "$PGLAB")
            for cluster in self.clusters:
                line = line.replace(str(cluster.port), f"${cluster.directory.name.upper()}_PORT")
            lines.append(line)
        return lines

    def _directory(self, name: str) -> Path:
        directory = self.root / name
        directory.mkdir(mode=0o700)
        if self.as_user:
            entry = pwd.getpwnam(self.as_user)
            os.chown(directory, entry.pw_uid, entry.pw_gid)
        return directory

    def _common(self, cluster: Cluster) -> None:
        cluster.configure(
            port=str(cluster.port),
            listen_addresses="'127.0.0.1'",
            unix_socket_directories=f"'{cluster.directory}'",  # not /var/run/postgresql of the shared server
            fsync="off",  # throw-away data: speed over durability
            full_page_writes="off",
            shared_buffers="32MB",
            max_connections="60",
            logging_collector="off",
        )

    def primary(self, **settings: str) -> Cluster:
        """A primary; `settings` go to its postgresql.conf before it starts."""
        cluster = Cluster(self.bindir, self._directory("primary"), _free_port(), self.as_user, self.history)
        self.clusters.append(cluster)
        cluster.run("initdb", "-D", str(cluster.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
        self._common(cluster)
        cluster.configure(**settings)
        cluster.configure(wal_level="replica", max_wal_senders="5", wal_keep_size="'64MB'")
        with (cluster.data / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        cluster.start_on_a_free_port()
        return cluster

    def replica(self, of: Cluster, name: str = "replica") -> Cluster:
        """pg_basebackup -R: standby.signal and primary_conninfo written; hot_standby takes queries."""
        cluster = Cluster(self.bindir, self._directory(name), _free_port(), self.as_user, self.history)
        self.clusters.append(cluster)
        cluster.run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(of.port), "-U", "postgres",
            "-D", str(cluster.data), "-R", "-X", "stream", "-c", "fast", "--no-sync",
        )  # fmt: skip
        self._common(cluster)
        cluster.configure(hot_standby="on")
        cluster.start_on_a_free_port()
        deadline = time.monotonic() + 30
        while not cluster.sql("SELECT pg_is_in_recovery() AS r")[0]["r"] or not of.sql(
            "SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'"
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("the replica did not start streaming" + cluster.log_tail())
            time.sleep(0.05)
        return cluster

    def close(self) -> None:
        for cluster in reversed(self.clusters):
            cluster.kill()
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def replication_lab() -> Iterator[ReplicationLab]:
    lab = ReplicationLab()
    try:
        yield lab
    finally:
        lab.close()


def wait_until_replayed(primary: Cluster, replica: Cluster, timeout: float = 30) -> None:
    """Until the replica has replayed everything the primary has written so far."""
    (target,) = primary.sql("SELECT pg_current_wal_lsn() AS lsn")
    deadline = time.monotonic() + timeout
    while not replica.sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn AS done", (target["lsn"],))[0]["done"]:
        if time.monotonic() > deadline:
            raise RuntimeError("the replica did not catch up" + replica.log_tail())
        time.sleep(0.02)
