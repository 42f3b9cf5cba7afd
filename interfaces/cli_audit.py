"""`gongjian audit` — 账本: verify the tamper-evident ledger (against held bundles and witnesses),
export the evidence bundle, print an inclusion proof. Added to `gongjian` in interfaces/cli.py."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from application.bootstrap import Container

audit = typer.Typer(help="账本 — the tamper-evident ledger: verify, export, proof.", no_args_is_help=True)
console = Console()


def _container() -> Container:
    from interfaces.cli import _container as build

    return build()


def ledger_of(container: Container) -> Any:
    from projections.ledger import Ledger

    model = container.engine.models["ledger"]
    assert isinstance(model, Ledger)
    return model


@audit.command("verify")
def audit_verify(
    bundle: Annotated[Path | None, typer.Option(help="verify this exported bundle offline (no database)")] = None,
    against: Annotated[
        list[Path] | None,
        typer.Option(help="also hold the store to an earlier bundle's signed checkpoints and leaves (repeatable)"),
    ] = None,
    public_key: Annotated[str | None, typer.Option(help="trusted Ed25519 public key (hex) of the checkpoints")] = None,
    witnesses: Annotated[
        bool, typer.Option("--witnesses", help="also hold the store to each configured witness's latest checkpoint")
    ] = False,
) -> None:
    """验证 — recompute every leaf, chain and root from the raw store (or a bundle); compare every signed
    root at its size; name the first bad position and any equivocation (both signed notes); with
    GONGJIAN_WITNESS_QUORUM, every checkpoint older than GONGJIAN_WITNESS_MAX_AGE_S needs that many
    valid witness cosignatures."""
    from application.ledger import held_of, load_bundle, verify_bundle, verify_store
    from application.witnessing import check_quorum, witness_heads

    trusted = bytes.fromhex(public_key) if public_key else None
    quorum = None
    if bundle is not None:
        result = verify_bundle(load_bundle(bundle.read_text()), trusted)
    else:
        held = [held_of(load_bundle(path.read_text()), str(path)) for path in against or []]
        container = _container()
        try:
            if witnesses:  # 见证: the witnesses' heads, signed by the log key (the trusted one, else the store's)
                rows = ledger_of(container).checkpoint_rows()
                key = trusted or next((bytes.fromhex(r["public_key"]) for r in rows if r.get("public_key")), None)
                if key is not None:
                    heads, unreachable = witness_heads(container.settings, ledger_of(container).algorithm(), key)
                    held += heads
                    for problem in unreachable:
                        console.print(f"[yellow]witness not compared[/yellow] {problem}", soft_wrap=True)
            result = verify_store(container.app, ledger_of(container), held, trusted)
            quorum = check_quorum(container.db, container.settings)
            result.findings.extend(quorum.findings or [])
        finally:
            container.close()
    rate = result.bytes_hashed / result.seconds / 1e6 if result.seconds else 0.0
    console.print(result.summary(), style="green" if result.ok else "bold red", soft_wrap=True)
    for finding in sorted(result.findings, key=lambda f: f.position)[:20]:
        console.print(f"  position {finding.position}: {finding.problem}", soft_wrap=True)
    for fork in result.equivocations:
        console.print(f"EQUIVOCATION at size {fork.tree_size}: two signed checkpoints disagree", style="bold red")
        for source, note in zip(fork.sources, fork.notes, strict=True):
            console.print(f"--- signed note from {source}", soft_wrap=True)
            typer.echo(note)
    if quorum is not None:
        console.print(quorum.summary(), soft_wrap=True)
    console.print(f"  {result.seconds:.2f} s, {rate:.0f} MB/s of leaf data")
    if not result.ok:
        raise typer.Exit(code=1)


@audit.command("export")
def audit_export(file: Annotated[Path, typer.Argument(help="where to write the JSON bundle")]) -> None:
    """导出 — write the evidence bundle (events, leaf hashes, signed checkpoints, public key)."""
    import json

    from application.ledger import export_bundle

    container = _container()
    try:
        container.engine.catch_up(["ledger"])
        bundle = export_bundle(container.app, ledger_of(container))
    finally:
        container.close()
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps(bundle, ensure_ascii=False, indent=1))
    console.print(
        f"{file}: {len(bundle['events'])} events, {len(bundle['checkpoints'])} checkpoints ({bundle['algorithm']})"
    )


@audit.command("proof")
def audit_proof(
    position: Annotated[int, typer.Argument(help="log position of the event")],
    tree_size: Annotated[
        int | None, typer.Option(help="tree size (default: the latest checkpoint covering it)")
    ] = None,
) -> None:
    """存在性证明 — print the inclusion proof of one event as JSON."""
    import json

    container = _container()
    try:
        container.engine.catch_up(["ledger"])
        ledger = ledger_of(container)
        proof = ledger.inclusion_proof(position, tree_size)
        checkpoint = ledger.latest_checkpoint()
    finally:
        container.close()
    if proof is None:
        console.print(f"[red]position {position} is not in the ledger[/red]")
        raise typer.Exit(code=2)
    signed = checkpoint if checkpoint and checkpoint["tree_size"] == proof.tree_size else None
    typer.echo(
        json.dumps(
            {
                "position": proof.position,
                "leaf_index": proof.leaf_index,
                "tree_size": proof.tree_size,
                "leaf_hash": proof.leaf_hash.hex(),
                "audit_path": [p.hex() for p in proof.path],
                "root_hash": proof.root_hash.hex(),
                "checkpoint": signed,
            },
            indent=1,
        )
    )
