"""The stored side of the witnesses, on both stores: a checkpoint table from before the C2SP form gets
its `origin` column and its v1-signed rows still verify; the cosignature table refuses UPDATE and
DELETE like the checkpoints; new checkpoints are signed in the C2SP form with the origin as the
note's key name; outside development mode the service refuses a ledger key next to its SQLite file."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from application.bootstrap import bootstrap
from application.ledger import signed_note
from domain.ledger import Checkpoint
from domain.ledger.checkpoint import checkpoint_of
from domain.ledger.note import ED25519, Verifier, parse_note, raw_public_key, verify_note
from infrastructure.checkpoint_log import COSIGNATURES, INSERT_COSIGNATURE, TABLE, create_checkpoint_log
from infrastructure.db import DatabaseURL
from infrastructure.ledger_key import LedgerKeyError, generate_key
from infrastructure.settings import Settings
from tests.conftest import JWT_SECRET
from tests.integration.test_projection_engine import fill


def test_a_table_of_before_gets_the_origin_column_and_its_rows_still_verify(store_url: str, tmp_path: Path) -> None:
    key = generate_key(tmp_path / "k" / "ledger.pem")
    db = DatabaseURL(store_url).open()
    v1 = Checkpoint(4, b"\x07" * 32, "2026-03-02T01:23:45+00:00", "sm3")
    signature = key.sign(v1.message()).hex()
    try:
        with db.transaction() as cur:  # the table as issue 16 found it: no origin column
            cur.execute(
                f"CREATE TABLE {TABLE} (tree_size BIGINT PRIMARY KEY, root_hash TEXT NOT NULL, time TEXT NOT NULL,"
                " algorithm TEXT NOT NULL, last_position BIGINT NOT NULL, signature TEXT, public_key TEXT)"
            )
            cur.execute(
                f"INSERT INTO {TABLE} VALUES (4, ?, ?, 'sm3', 4, ?, ?)",
                ((b"\x07" * 32).hex(), v1.time, signature, raw_public_key(key).hex()),
            )
        with db.transaction() as cur:
            create_checkpoint_log(cur, db.dialect)
        row = db.query(f"SELECT * FROM {TABLE}")[0]
        assert row["origin"] is None
        assert checkpoint_of(row).signature_valid(raw_public_key(key))  # the v1 lines, as signed then
        with db.transaction() as cur:
            cur.execute(INSERT_COSIGNATURE, (4, "w1.test/witness", "00000000", 1, "\u2014 w1.test/witness AAAA", "t"))
        for statement in (f"UPDATE {COSIGNATURES} SET timestamp = 2", f"DELETE FROM {COSIGNATURES}"):
            with pytest.raises(Exception, match="append-only"), db.transaction() as cur:
                cur.execute(statement)
        assert len(db.query(f"SELECT * FROM {COSIGNATURES}")) == 1
    finally:
        db.close()


def test_new_checkpoints_are_c2sp_notes_signed_under_the_origin(store_url: str, tmp_path: Path) -> None:
    key_path = tmp_path / "secrets" / "ledger.pem"
    key = generate_key(key_path)
    settings = Settings(
        database_url=store_url, jwt_secret=JWT_SECRET, ledger_key_file=str(key_path), ledger_checkpoint_every=4,
        ledger_origin="gongjian.test/ledger",
    )  # fmt: skip
    c = bootstrap(settings)
    try:
        fill(c, 2)
        c.engine.catch_up()
        rows = c.db.query(f"SELECT * FROM {TABLE} ORDER BY tree_size")
    finally:
        c.close()
    assert [(r["tree_size"], r["origin"]) for r in rows] == [(4, "gongjian.test/ledger")]
    note = parse_note(signed_note(checkpoint_of(rows[0]), raw_public_key(key)))
    root = base64.b64encode(bytes.fromhex(rows[0]["root_hash"])).decode()
    assert note.text == f"gongjian.test/ledger\n4\n{root}\n"
    log_key = Verifier("gongjian.test/ledger", ED25519, raw_public_key(key))
    assert verify_note(note, [log_key]) == [log_key]


def test_outside_development_mode_a_ledger_key_next_to_the_sqlite_file_is_refused(tmp_path: Path) -> None:
    beside = tmp_path / "ledger.pem"
    generate_key(beside)
    url = f"sqlite:///{tmp_path}/gongjian.db"
    with pytest.raises(LedgerKeyError, match="directory of the store"):
        bootstrap(Settings(database_url=url, jwt_secret=JWT_SECRET, ledger_key_file=str(beside)))
    elsewhere = tmp_path / "secrets" / "ledger.pem"
    generate_key(elsewhere)
    bootstrap(Settings(database_url=url, jwt_secret=JWT_SECRET, ledger_key_file=str(elsewhere))).close()
    # development mode keeps its convenience (the embedded default generates var/keys/ beside its file)
    bootstrap(Settings(database_url=url, jwt_secret=JWT_SECRET, ledger_key_file=str(beside), development=True)).close()
