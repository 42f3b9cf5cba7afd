"""`python -m bench.compare REF projections/ledger.py …` — before and after in one process: read
models as committed at REF against the working tree's, rebuilt alternately on one dataset (each
alone, then all together), as JSON lines with the events/s of each round.

The dataset: GONGJIAN_BENCH_STORE=<URL of a kept `python -m bench.rebuild` schema>, or a fresh one
of GONGJIAN_BENCH_EVENTS events. GONGJIAN_BENCH_ROUNDS (3) rounds each.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench.common import emit, filled_store
from projections.base import ReadModel

ROUNDS = int(os.environ.get("GONGJIAN_BENCH_ROUNDS", "3"))


def committed_models(ref: str, path: str) -> dict[str, type[ReadModel]]:
    """The read-model classes of `path` as committed at `ref`, by model name."""
    module = committed_module(ref, path)
    return {
        v.name: v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, ReadModel) and v.__module__ == module.__name__
    }


def committed_module(ref: str, path: str) -> Any:
    """The module at `path` as committed at `ref`, loaded under a name of its own."""
    source = subprocess.run(["git", "show", f"{ref}:{path}"], capture_output=True, text=True, check=True).stdout
    module_name = f"_bench_{ref.replace('/', '_')}_{Path(path).stem}"
    file = Path(tempfile.mkdtemp(prefix="gongjian-bench-")) / f"{module_name}.py"
    file.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(module_name, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main() -> None:
    ref, paths = sys.argv[1], sys.argv[2:]
    with filled_store() as c:
        n = c.app.max_position()
        after = dict(c.engine.models)
        before = dict(after)
        for path in paths:
            for name, cls in committed_models(ref, path).items():
                config = getattr(after[name], "config", None)  # the ledger's settings
                before[name] = cls(c.db, config) if config is not None else cls(c.db)  # type: ignore[call-arg]
        changed = [name for name in after if before[name] is not after[name]]

        def rounds(work: Callable[[], Any]) -> dict[str, list[int]]:
            out: dict[str, list[int]] = {"before": [], "after": []}
            for _ in range(ROUNDS):
                for label, models in (("before", before), ("after", after)):
                    c.engine.models.update(models)
                    t0 = time.perf_counter()
                    work()
                    out[label].append(round(n / (time.perf_counter() - t0)))
            return out

        for name in changed:
            emit("rebuild_model", name=name, events=n, ref=ref, **rounds(partial(c.engine.rebuild, name)))
        emit("rebuild", events=n, read_models=len(after), ref=ref, **rounds(c.engine.rebuild_all))
        c.engine.models.update(after)


if __name__ == "__main__":
    main()
