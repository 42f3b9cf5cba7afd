"""账本验证 — verify the ledger against the raw store, export an evidence bundle, verify a bundle offline.

`verify_store` re-reads every stored event from the events table itself (`stored_pages`: one query
per 5,000 rows, the bytes as stored; not the read models), recomputes each leaf, the per-aggregate chains and the tree roots, and compares them with what the ledger
holds (its leaves, to name the first bad position), with the durable signed checkpoints, and with
checkpoints held outside the database (`Held`: earlier bundles). Every signed root at a size the
store reaches is compared with the store's recomputed root at that size; two different validly
signed roots for one size, wherever they come from, are an equivocation and both signed notes are
reported. The first bad position is exact where some leaf hashes are held that the intruder did not
rewrite (a held bundle's events, or the ledger's own leaves when it was not re-derived); with only
roots held it is the first position after the last size that still matches, and the finding says
up to where the difference can lie.
A gap in notification ids is not tampering (PostgreSQL skips ids after a rollback); a leaf whose
position the store no longer has is, and so is a checkpoint larger than the log (a removed tail).
Events after the ledger's last leaf are reported as not yet in the ledger, not as bad.

With a trusted key (given by the verifier, or the key of the bundles it held) an unsigned checkpoint,
a held one the store lacks, or a run of more than `every` leaves under no checkpoint fails.

`verify_bundle` runs the same checks on an exported bundle, with nothing but the bundle: the
events' stored bytes, the leaf hashes, the signed checkpoints and the public key.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from typing import Any

from application.ledger_verifier import (
    KEY_NAME,
    PAGE,
    STORE,
    Equivocation,
    EventRow,
    Finding,
    Held,
    LeafRow,
    Report,
    StoredEvent,
    _Verifier,
    signed_note,
)
from application.ports import LedgerReader
from domain.ledger import Checkpoint, uuid_text
from domain.ledger.checkpoint import SIGNATURE_ALGORITHM, checkpoint_of, checkpoints_of
from infrastructure.checkpoint_log import TABLE as SIGNED_TABLE
from infrastructure.db import Database
from infrastructure.log import GongjianApplication
from infrastructure.store import events_table, position_column

__all__ = [
    "KEY_NAME",
    "STORE",
    "Equivocation",
    "Finding",
    "Held",
    "Report",
    "StoredEvent",
    "_Verifier",
    "export_bundle",
    "held_of",
    "ledger_leaf_rows",
    "load_bundle",
    "signed_checkpoints",
    "signed_note",
    "stored_events",
    "stored_pages",
    "stored_rows",
    "verify_bundle",
    "verify_store",
]  # fmt: skip

BUNDLE_FORMAT = "gongjian-ledger-bundle/1"


# --- from the store -------------------------------------------------------------------------


def stored_events(app: GongjianApplication, page: int = PAGE) -> Iterator[StoredEvent]:
    """Every stored event in log order, straight from the recorder (gaps in ids are skipped over)."""
    start = 0
    while True:
        notifications = app.recorder.select_notifications(start=start, limit=page, inclusive_of_start=False)
        for n in notifications:
            yield StoredEvent(n.id, uuid_text(n.originator_id), n.originator_version, n.topic, bytes(n.state))
        if len(notifications) < page:
            return
        start = notifications[-1].id


def stored_pages(db: Database, page: int = PAGE) -> Iterator[list[EventRow]]:
    """Every stored event in log order, read from the events table itself a page at a time (one
    query per page, rows as tuples: position, originator id as stored, version, topic, the state's
    bytes as stored): the same events as `stored_events`, without the recorder's objects."""
    pos = position_column(db)
    # PostgreSQL's uuid as text: psycopg would build a UUID object per row, slower to make and to hash
    oid = "originator_id" if db.dialect == "sqlite" else "originator_id::text"
    sql = (
        f"SELECT {pos}, {oid}, originator_version, topic, state"  # noqa: S608 — fixed names
        f" FROM {events_table(db)} WHERE {pos} > ? ORDER BY {pos} LIMIT ?"
    )
    after = 0
    while True:
        rows = db.query_tuples(sql, (after, page))
        if rows:
            yield rows  # type: ignore[misc]  # the five columns above
        if len(rows) < page:
            return
        after = rows[-1][0]


def stored_rows(db: Database, page: int = PAGE) -> Iterator[StoredEvent]:
    """`stored_pages` one event at a time."""
    as_event = StoredEvent._make
    for rows in stored_pages(db, page):
        yield from map(as_event, rows)


def ledger_leaf_rows(db: Database, page: int = PAGE) -> Iterator[LeafRow]:
    """The ledger's leaves in order, the columns `audit verify` compares (`projections.ledger.VERIFIED`),
    one query per page, as tuples."""
    sql = (
        "SELECT leaf_index, position, leaf_hash, prev_leaf_hash FROM ledger_leaves"
        " WHERE leaf_index > ? ORDER BY leaf_index LIMIT ?"
    )
    after = -1
    while True:
        rows = db.query_tuples(sql, (after, page))
        yield from rows  # type: ignore[misc]  # the four columns above
        if len(rows) < page:
            return
        after = rows[-1][0]


def signed_checkpoints(db: Database) -> tuple[list[Checkpoint], set[str]]:
    """The durable signed checkpoints in size order (`Ledger.checkpoints`, read as tuples) and the
    public keys (hex) they name."""
    rows = db.query_tuples(
        f"SELECT tree_size, root_hash, time, algorithm, signature, origin FROM {SIGNED_TABLE}"  # noqa: S608
        " ORDER BY tree_size"
    )
    # the keys apart: one per store, not a 64-character string per checkpoint
    keys = db.query_tuples(f"SELECT DISTINCT public_key FROM {SIGNED_TABLE} WHERE public_key <> ''")  # noqa: S608
    return checkpoints_of(rows), {key for (key,) in keys}


def verify_store(
    app: GongjianApplication, ledger: LedgerReader, held: Sequence[Held] = (), public_key: bytes | None = None
) -> Report:
    """`held`: checkpoints (and leaf hashes) held outside the database, compared too. `public_key`:
    the key the verifier trusts (obtained from outside); without it the key of the held bundles is
    trusted, and without those the key the store's checkpoints name (then unsigned or missing
    checkpoints are only counted, not failed)."""
    checkpoints, keys = signed_checkpoints(ledger.db)
    held_keys = {h.public_key for h in held if h.public_key}
    trusted = public_key or (next(iter(held_keys)) if len(held_keys) == 1 else None)
    key = trusted or (bytes.fromhex(next(iter(keys))) if len(keys) == 1 else None)
    verifier = _Verifier(
        ledger.algorithm(),
        checkpoints,
        key,
        held=held,
        trusted=trusted is not None,
        every=ledger.config.every,
    )
    if len(keys) > 1:
        verifier.bad(0, "checkpoints are signed by more than one key")
    elif trusted is not None and keys and keys != {trusted.hex()}:
        verifier.bad(0, "the store's checkpoints are signed by another key than the trusted one")
    for h in held:
        if h.public_key is not None and h.public_key != key:
            verifier.bad(0, f"{h.source} is signed by another key than the trusted one")
    return verifier.run_pages(stored_pages(ledger.db), ledger_leaf_rows(ledger.db))


# --- bundles --------------------------------------------------------------------------------


def export_bundle(app: GongjianApplication, ledger: LedgerReader) -> dict[str, Any]:
    """Everything a third party needs: algorithm, public key, signed checkpoints, each ledgered
    event's stored bytes with its leaf hash and chain link."""
    keys = {r["public_key"] for r in ledger.checkpoint_rows() if r.get("public_key")}
    events = []
    for event, leaf in zip(stored_events(app), ledger.leaves(), strict=False):
        events.append(
            {
                "position": event.position,
                "originator_id": event.originator_id,
                "originator_version": event.originator_version,
                "topic": event.topic,
                "state": base64.b64encode(event.state).decode(),
                "leaf_hash": leaf["leaf_hash"],
                "prev_leaf_hash": leaf["prev_leaf_hash"],
            }
        )
    return {
        "format": BUNDLE_FORMAT,
        "algorithm": ledger.algorithm(),
        "signature_algorithm": SIGNATURE_ALGORITHM,
        "public_key": keys.pop() if len(keys) == 1 else None,
        "checkpoints": [
            {
                k: r.get(k)
                for k in ("tree_size", "root_hash", "time", "algorithm", "signature", "last_position", "origin")
            }
            for r in ledger.checkpoint_rows(up_to=len(events))  # those the exported events reach
        ],
        "events": events,
    }


def bundle_checkpoints(bundle: dict[str, Any]) -> list[Checkpoint]:
    return [checkpoint_of(c) for c in bundle["checkpoints"]]


def held_of(bundle: dict[str, Any], source: str) -> Held:
    """An earlier bundle kept outside the database: its signed checkpoints, its public key and its
    events' leaf hashes (check the bundle itself with `verify_bundle`)."""
    if bundle.get("format") != BUNDLE_FORMAT:
        raise ValueError(f"{source} is not a {BUNDLE_FORMAT} bundle")
    key = bundle.get("public_key")
    leaves = tuple((int(e["position"]), str(e["leaf_hash"])) for e in bundle.get("events", ()))
    return Held(source, tuple(bundle_checkpoints(bundle)), bytes.fromhex(key) if key else None, leaves)


def verify_bundle(bundle: dict[str, Any], trusted_public_key: bytes | None = None) -> Report:
    """Offline: no database, only the bundle. A verifier who got the authority's public key some
    other way passes it as `trusted_public_key`: a bundle re-signed with another key then fails."""
    if bundle.get("format") != BUNDLE_FORMAT:
        report = Report(str(bundle.get("algorithm")))
        report.findings.append(Finding(0, f"not a {BUNDLE_FORMAT} bundle"))
        return report
    public_key = bytes.fromhex(bundle["public_key"]) if bundle.get("public_key") else None
    if trusted_public_key is not None and public_key != trusted_public_key:
        report = Report(str(bundle.get("algorithm")))
        report.findings.append(Finding(0, "the bundle is signed by another key than the trusted one"))
        return report
    events = [
        StoredEvent(
            int(e["position"]),
            uuid_text(e["originator_id"]),
            int(e["originator_version"]),
            e["topic"],
            base64.b64decode(e["state"]),
        )
        for e in bundle["events"]
    ]
    leaves = [
        {"position": e["position"], "leaf_hash": e["leaf_hash"], "prev_leaf_hash": e["prev_leaf_hash"]}
        for e in bundle["events"]
    ]
    verifier = _Verifier(
        bundle["algorithm"],
        bundle_checkpoints(bundle),
        public_key,
        trusted=trusted_public_key is not None,
        source="the bundle",
    )
    report = verifier.run(events, leaves)
    if not bundle["checkpoints"]:
        report.findings.append(Finding(0, "the bundle holds no signed checkpoint: nothing binds its events"))
    return report


def load_bundle(text: str) -> dict[str, Any]:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("a bundle is a JSON object")
    return data
