"""`gongjian witness` — 见证: run a C2SP tlog-witness (`serve`), make its key (`keygen`), print a key's
vkey (`vkey`), and on the service's side submit pending checkpoints (`submit`) and show what each
configured witness has cosigned (`status`). Added to `gongjian` in interfaces/cli.py
(docs/evidence.md, "Witnesses")."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from application.bootstrap import Container

witness = typer.Typer(help="见证 — C2SP witnesses: serve one, keys, submit checkpoints, status.", no_args_is_help=True)
console = Console()


def _container() -> Container:
    from interfaces.cli import _container as build

    return build()


@witness.command("keygen")
def witness_keygen(
    key: Annotated[Path, typer.Argument(help="where to write the new Ed25519 key (PEM, PKCS#8, mode 0600)")],
    name: Annotated[str, typer.Option(help="the witness's name, e.g. witness.example.org/w1")],
) -> None:
    """新密钥 — generate a witness key (never overwrites) and print its vkey (cosignature type 0x04)."""
    from domain.ledger.note import COSIGNATURE_V1, Verifier, raw_public_key
    from infrastructure.ledger_key import generate_key

    if key.exists():
        console.print(f"[red]{key} exists: a key is never overwritten[/red]")
        raise typer.Exit(code=2)
    typer.echo(Verifier(name, COSIGNATURE_V1, raw_public_key(generate_key(key))).vkey())


@witness.command("vkey")
def witness_vkey(
    key: Annotated[Path, typer.Argument(help="an Ed25519 private key (PEM)")],
    name: Annotated[str, typer.Option(help="the key's name (a log's: its origin)")],
    log_key: Annotated[bool, typer.Option("--log", help="a log's note key (type 0x01), not a cosigner's")] = False,
) -> None:
    """The vkey of a key: a witness's (0x04), or with --log the ledger's (0x01, name = GONGJIAN_LEDGER_ORIGIN)."""
    from domain.ledger.note import COSIGNATURE_V1, ED25519, Verifier, raw_public_key
    from infrastructure.ledger_key import load_key

    typer.echo(Verifier(name, ED25519 if log_key else COSIGNATURE_V1, raw_public_key(load_key(key))).vkey())


@witness.command("serve")
def witness_serve(
    port: Annotated[int, typer.Option(help="port to listen on")],
    key: Annotated[Path, typer.Option(help="the witness's Ed25519 key (PEM; `gongjian witness keygen`)")],
    state: Annotated[Path, typer.Option(help="the witness's state: a SQLite file of its own")],
    name: Annotated[str, typer.Option(help="the witness's name (its signature lines' key name)")],
    log_vkey: Annotated[
        list[str], typer.Option("--log", help="a trusted log's vkey (type 0x01, name = its origin); repeatable")
    ],
    hash_name: Annotated[str, typer.Option("--hash", help="the logs' tree hash: sha256 (RFC 6962) or sm3")] = "sha256",
    host: Annotated[str, typer.Option(help="bind address")] = "127.0.0.1",
) -> None:
    """见证服务 — a C2SP tlog-witness: POST /add-checkpoint, GET /<origin hash>/checkpoint."""
    import uvicorn

    from application.witness import Witness, log_config
    from domain.ledger.note import parse_vkey
    from infrastructure.ledger_key import load_key
    from interfaces.witness_http import witness_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logs = [log_config(parse_vkey(v), hash_name) for v in log_vkey]
    w = Witness(name, load_key(key), state, logs)
    console.print(f"witness {name} on http://{host}:{port} — {w.verifier.vkey()}", soft_wrap=True)
    for c in logs:
        console.print(f"  log {c.origin} ({c.hash})", soft_wrap=True)
    uvicorn.run(witness_app(w), host=host, port=port, log_level="warning")


@witness.command("submit")
def witness_submit(
    every: Annotated[float, typer.Option(help="seconds between rounds; 0: one round and exit")] = 0.0,
) -> None:
    """提交 — the outbox worker: each pending checkpoint to each configured witness (the service's
    `serve` runs the same in a thread)."""
    from application.witnessing import witness_outbox
    from interfaces.cli_audit import ledger_of

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    container = _container()
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        container.engine.catch_up(["ledger"])
        outbox = witness_outbox(container.db, ledger_of(container), container.settings)
        if outbox is None:
            console.print("no witnesses configured (GONGJIAN_WITNESS_URLS)")
            return
        while not stop.is_set():
            for a in outbox.run_once():
                console.print(f"{a.witness}: checkpoint {a.tree_size} {a.outcome}")
            if every <= 0:
                break
            stop.wait(every)
            container.engine.catch_up(["ledger"])
        for name, count in outbox.pending().items():
            console.print(f"{name}: {count} pending")
    finally:
        container.close()


@witness.command("status")
def witness_status() -> None:
    """What each configured witness has cosigned, and the quorum check of `audit verify`."""
    from application.witnessing import check_quorum
    from infrastructure.checkpoint_log import cosignature_rows

    container = _container()
    try:
        rows = cosignature_rows(container.db)
        for name in sorted(container.settings.witness_urls):
            sizes = [int(r["tree_size"]) for r in rows if r["witness"] == name]
            console.print(f"{name}: {len(sizes)} cosignatures, latest size {max(sizes, default=0)}")
        report = check_quorum(container.db, container.settings)
        console.print(report.summary())
        for f in report.findings or []:
            console.print(f"  {f.problem}", soft_wrap=True)
    finally:
        container.close()
