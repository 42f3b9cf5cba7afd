"""`python -m bench.append [REF [ROUNDS COMMANDS]]` — the `append` figure before and after in one
process: case commands (submit + accept, one atomic save each, as `python -m bench`) through the
services and recorder as committed at REF (default HEAD) and through the working tree's,
interleaved command by command (the order flips each time), each pair followed by raw psycopg
inserts of the rows both stored (fresh ids, one commit per save), so that all three see the same
load on this shared machine (its load moves within a second: blocks were too coarse). Prints one
JSON line per round and a summary with the medians of the ratios (raw time per save / command time
per save) and the statements each side sends per command.

    python -m bench.append HEAD 5 40
    python -m bench.append --profile 300   # the tree alone: where one save's time goes

`--profile [COMMANDS]` (no REF, no git): the tree's services only, each command followed by raw
inserts of the rows it stored (one INSERT + COMMIT per save, as the baseline), then the same commands
under cProfile: saves/s, this thread's CPU per save, statements per command, and the functions with
the most time of their own.

"Before" is a second application on the same schema whose recorder is REF's
infrastructure/recorder.py and whose CaseService is REF's application/approvals.py, bound to REF's
application/base.py and application/catalogue.py (each loaded under a name of its own).
"""

from __future__ import annotations

import cProfile
import pstats
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import psycopg

from application.commands import Invocation
from application.commands.cases import AcceptCase, SubmitCase
from bench.__main__ import CLERK, project, schema_of
from bench.common import RAW_EVENTS_DDL, conninfo, emit, fresh_schema, open_container
from bench.compare import committed_module
from infrastructure.db import DatabaseURL
from infrastructure.log import GongjianApplication
from infrastructure.store import eventsourcing_env, stored_versions


def command(cases: Any, code: str) -> int:
    """Submit and accept a case: two commands, two atomic saves; returns the last position."""
    case_id = cases.submit(
        Invocation(CLERK, f"bench-{uuid.uuid4()}"),
        SubmitCase(project_code=code, item_code="GJ-1-02"),
    ).id
    return int(cases.act(Invocation(CLERK, f"bench-{uuid.uuid4()}"), AcceptCase(case_id)).position)


@contextmanager
def swapped(modules: dict[str, Any]) -> Iterator[None]:
    """These modules stand for their names while a committed module is loaded (its imports bind them)."""
    saved = {name: sys.modules[name] for name in modules}
    sys.modules.update(modules)
    try:
        yield
    finally:
        sys.modules.update(saved)


def committed_cases(ref: str, url: str, c: Any) -> tuple[Any, GongjianApplication]:
    """REF's CaseService on a second application whose recorder is REF's."""
    recorder = committed_module(ref, "infrastructure/recorder.py")
    base = committed_module(ref, "application/base.py")
    with swapped({"application.base": base}):
        catalogue = committed_module(ref, "application/catalogue.py")
        with swapped({"application.catalogue": catalogue}):
            approvals = committed_module(ref, "application/approvals.py")
    env = {
        **eventsourcing_env(DatabaseURL(url)),
        "APPLICATION_RECORDER_TOPIC": f"{recorder.__name__}:LockingFunctionRecorder",
    }
    app = GongjianApplication(env=env)
    app.after_save.extend(c.app.after_save)
    pins = catalogue.PinMemory(partial(stored_versions, c.db))
    return approvals.CaseService(app, c.clock, c.cases.position_of, c.cases.find_licences, pins), app


def statements(run: Callable[[], Any]) -> int:
    """The statements psycopg sends while `run` runs (each one round trip here: no pipeline)."""
    count = 0
    execute = psycopg.Cursor.execute

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal count
        count += 1
        return execute(self, *args, **kwargs)

    psycopg.Cursor.execute = counting  # type: ignore[method-assign]
    try:
        run()
    finally:
        psycopg.Cursor.execute = execute  # type: ignore[method-assign]
    return count


def profile(commands: int) -> None:
    with fresh_schema() as url:
        c = open_container(url)
        try:
            code = project(c)
            for _ in range(10):  # warm: caches, prepared statements, the pool
                command(c.cases, code)
            per_command = statements(partial(command, c.cases, code))
            app = raw = cpu = 0.0
            saves = 0
            with psycopg.connect(conninfo(), options=f"-c search_path={schema_of(url)}") as conn:
                conn.execute(RAW_EVENTS_DDL)
                conn.commit()
                for _ in range(commands):
                    start = c.app.max_position()
                    t0, c0 = time.perf_counter(), time.thread_time()
                    command(c.cases, code)
                    app += time.perf_counter() - t0
                    cpu += time.thread_time() - c0
                    rows = conn.execute(
                        "SELECT originator_id, originator_version, topic, state FROM gongjian_events"
                        " WHERE notification_id > %s ORDER BY notification_id",
                        (start,),
                    ).fetchall()
                    conn.commit()
                    t0 = time.perf_counter()
                    for row in rows:  # one event per save here
                        conn.execute(
                            "INSERT INTO raw_events (originator_id, originator_version, topic, state)"
                            " VALUES (%s, %s, %s, %s)",
                            (uuid.uuid4(), row[1], row[2], row[3]),
                        )
                        conn.commit()
                    raw += time.perf_counter() - t0
                    saves += 2
            emit(
                "append_profile",
                saves=saves,
                saves_per_s=round(saves / app),
                raw_saves_per_s=round(saves / raw),
                ratio=round(raw / app, 3),
                cpu_ms_per_save=round(cpu / saves * 1000, 3),
                wall_ms_per_save=round(app / saves * 1000, 3),
                raw_ms_per_save=round(raw / saves * 1000, 3),
                statements_per_command=per_command,
            )
            profiler = cProfile.Profile()
            profiler.runcall(lambda: [command(c.cases, code) for _ in range(commands)])
            pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
        finally:
            c.close()


def main() -> None:
    if sys.argv[1:2] == ["--profile"]:
        profile(int(sys.argv[2]) if len(sys.argv) > 2 else 300)
        return
    ref = sys.argv[1] if len(sys.argv) > 1 else "HEAD"
    rounds, block = (int(a) for a in (sys.argv[2:4] or ["5", "40"]))
    with fresh_schema() as url:
        c = open_container(url)
        before, before_app = committed_cases(ref, url, c)
        sides = {"before": before, "after": c.cases}
        try:
            code = project(c)
            for cases in sides.values():
                for _ in range(10):  # warm: caches, prepared statements, the pool
                    command(cases, code)
            per_command = {label: statements(partial(command, cases, code)) for label, cases in sides.items()}
            ratios: dict[str, list[float]] = {"before": [], "after": []}
            with psycopg.connect(conninfo(), options=f"-c search_path={schema_of(url)}") as conn:
                conn.execute(RAW_EVENTS_DDL)
                conn.commit()
                for r in range(rounds):
                    seconds = {"before": 0.0, "after": 0.0, "raw": 0.0}
                    cpu = {"before": 0.0, "after": 0.0}
                    saves = 0
                    for i in range(block):  # interleaved command by command: the load changes by the second here
                        start = c.app.max_position()
                        for label in ("before", "after") if (r + i) % 2 == 0 else ("after", "before"):
                            t0, c0 = time.perf_counter(), time.thread_time()
                            command(sides[label], code)
                            seconds[label] += time.perf_counter() - t0
                            cpu[label] += time.thread_time() - c0
                        rows = conn.execute(
                            "SELECT originator_id, originator_version, topic, state FROM gongjian_events"
                            " WHERE notification_id > %s ORDER BY notification_id",
                            (start,),
                        ).fetchall()
                        conn.commit()
                        t0 = time.perf_counter()
                        for row in rows:  # one event per save here
                            with conn.cursor() as cur:
                                cur.executemany(
                                    "INSERT INTO raw_events (originator_id, originator_version, topic, state)"
                                    " VALUES (%s, %s, %s, %s)",
                                    [(uuid.uuid4(), row[1], row[2], row[3])],
                                )
                            conn.commit()
                        seconds["raw"] += time.perf_counter() - t0
                        saves += len(rows)
                    raw_per_save = seconds["raw"] / saves
                    per_side = 2 * block
                    for label in ratios:
                        ratios[label].append(raw_per_save / (seconds[label] / per_side))
                    emit(
                        "append_ab_round",
                        round=r,
                        saves_per_side=per_side,
                        before_saves_per_s=round(per_side / seconds["before"]),
                        after_saves_per_s=round(per_side / seconds["after"]),
                        raw_saves_per_s=round(1 / raw_per_save),
                        ratio_before=round(ratios["before"][-1], 3),
                        ratio_after=round(ratios["after"][-1], 3),
                        # this thread's CPU per command (submit + accept): what bounds it on a quiet machine
                        before_cpu_ms=round(cpu["before"] / block * 1000, 2),
                        after_cpu_ms=round(cpu["after"] / block * 1000, 2),
                    )
            emit(
                "append_ab",
                ref=ref,
                rounds=rounds,
                block_commands=block,
                statements_per_command_before=per_command["before"],
                statements_per_command_after=per_command["after"],
                median_ratio_before=round(statistics.median(ratios["before"]), 3),
                median_ratio_after=round(statistics.median(ratios["after"]), 3),
                after_over_before=round(
                    statistics.median(a / b for a, b in zip(ratios["after"], ratios["before"], strict=True)), 3
                ),
                target=">= 0.5",
            )
        finally:
            before_app.close()
            c.close()


if __name__ == "__main__":
    main()
