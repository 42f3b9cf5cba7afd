"""`python -m tests.city_dump [--projects N] [--store sqlite|postgresql URL] [--order ...]`: build
the labelled dump, feed it through the application services and print recall and precision."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from application.bootstrap import bootstrap
from infrastructure.db import DatabaseURL
from infrastructure.settings import Settings
from tests.city_dump import build
from tests.city_dump.run import ORDERS, clock, feed, open_warnings, score
from tests.conftest import JWT_SECRET


@contextmanager
def store(target: str) -> Iterator[str]:
    """A temporary SQLite file, or a fresh schema of the PostgreSQL database (dropped afterwards)."""
    if target == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/city_dump.db"
        return
    schema = f"city_dump_{uuid.uuid4().hex[:8]}"
    info = DatabaseURL(target).conninfo
    with psycopg.connect(info, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{target}?schema={schema}"
    finally:
        with psycopg.connect(info, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.city_dump", description=__doc__)
    parser.add_argument("--projects", type=int, default=200, help="clean projects (default 200)")
    parser.add_argument("--store", default="sqlite", help="sqlite, or a postgresql:// URL")
    parser.add_argument("--order", choices=ORDERS, default="nightly")
    parser.add_argument("--variants", type=int, default=2, help="variants of each planted kind")
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the report")
    args = parser.parse_args()
    d = build(args.projects, args.seed, args.variants)
    started = time.perf_counter()
    with store(args.store) as url:
        clk = clock()
        c = bootstrap(Settings(database_url=url, jwt_secret=JWT_SECRET, wait_timeout_s=5), clk)
        try:
            fed = feed(c, clk, d, args.order)
            warnings = open_warnings(c)
        finally:
            c.close()
    s = score(d, warnings)
    seconds = round(time.perf_counter() - started, 1)
    summary = {
        "projects": {"clean": len(d.clean), "lookalike": len(d.lookalikes), "planted": len(d.planted)},
        "rows": len(d.rows), "certificates": len(d.certificates), "batches": fed.batches,
        "labels": len(d.labels), "kinds": len(d.kinds), "order": args.order, "seconds": seconds,
        "unexpected_import_errors": len(fed.unexpected_errors), "open_warnings": s.warnings,
        "recall": s.recall, "precision": s.precision, "true_as_consequence": s.consequences,
    }  # fmt: skip
    if args.json:
        missed = [f"{lb.kind} {lb.subject}" for lb in s.missed]
        print(json.dumps({**summary, "per_rule": s.per_rule, "false_by_reason": s.false_by_reason(), "missed": missed}, ensure_ascii=False))  # fmt: skip
        return
    print(json.dumps(summary, ensure_ascii=False))
    print(f"\n{'rule':<5} {'labels':>6} {'caught':>6} {'recall':>7} {'warnings':>8} {'precision':>9}")
    for rule, r in s.per_rule.items():
        precision = "-" if r["precision"] is None else f"{r['precision']:.3f}"
        print(f"{rule:<5} {r['labels']:>6} {r['caught']:>6} {r['recall']:>7.3f} {r['warnings']:>8} {precision:>9}")
    print(f"{'all':<5} {len(d.labels):>6} {len(d.labels) - len(s.missed):>6} {s.recall:>7.3f} {s.warnings:>8} {s.precision:>9.3f}")  # fmt: skip
    print("\nfalse warnings by reason and where they fall:")
    where = {**dict.fromkeys(d.clean, "clean"), **{k: f"look-alike {v}" for k, v in d.lookalikes.items()}}
    grouped: dict[tuple[str, str], int] = {}
    for w in s.false:
        place = where.get(
            w.get("project_code") or "", "planted project" if w.get("project_code") in d.planted else "other"
        )
        grouped[(w["reason"], place)] = grouped.get((w["reason"], place), 0) + 1
    for (reason, place), n in sorted(grouped.items(), key=lambda x: -x[1]):
        print(f"  {n:>5}  {reason:<28} {place}")
    print("\nmissed labels:")
    for lb in s.missed:
        print(f"  {lb.rule:<4} {lb.kind:<40} {lb.subject}")
    for error in fed.unexpected_errors[:10]:
        print("unexpected import error:", error)


if __name__ == "__main__":
    main()
