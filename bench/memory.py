"""`python -m bench.memory URL` — rebuild every read model of the store at URL in this (fresh)
process and print its peak memory: `events=… base_rss_mb=… peak_rss_mb=… heap_peak_mb=…` (base:
after imports and bootstrap; heap: tracemalloc's peak during a second, traced rebuild)."""

from __future__ import annotations

import os
import resource
import sys
import tracemalloc

from bench.common import open_container


def peak_mb() -> float:
    """This process's own peak RSS. Not getrusage's ru_maxrss: Linux carries it over fork and exec,
    so a child of a large parent (the bench, holding a million rows) reported the parent's peak."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    c = open_container(sys.argv[1])
    try:
        base = peak_mb()
        c.engine.rebuild_all()
        peak = peak_mb()
        heap = ""
        if os.environ.get("GONGJIAN_BENCH_HEAP", "1") != "0":  # off at 1M: the traced rebuild is 2-3x slower
            tracemalloc.start()  # a second rebuild, traced: the Python heap's own peak (slower, so not timed)
            c.engine.rebuild_all()
            heap = f" heap_peak_mb={tracemalloc.get_traced_memory()[1] / 2**20:.1f}"
            tracemalloc.stop()
        print(f"events={c.app.max_position()} base_rss_mb={base:.1f} peak_rss_mb={peak:.1f}{heap}")
    finally:
        c.close()


if __name__ == "__main__":
    main()
