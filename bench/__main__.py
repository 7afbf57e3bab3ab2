"""``python -m bench [NAME...] [--quick]``: run the benchmarks (all by default), each next to its
baseline in the same run. Never part of the test suite; ``make bench`` runs them all."""
from __future__ import annotations

import importlib
import os
import platform
import shutil
import subprocess
import sys
import time

BENCHMARKS = ("processors", "pdf_designs", "ocr", "pdf_recall", "fidelity", "progress", "throughput", "submit_latency",
              "embedded_start", "upload_memory", "scaling", "load", "containment", "list_index", "web_rest")


def machine() -> str:
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1024
    redis = "no redis-server"
    if exe := shutil.which("redis-server"):
        redis = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.split()[2]
    return (f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), {mem / 1024:.1f} GiB, "
            f"Python {platform.python_version()}, Redis {redis.removeprefix('v=')}, load average "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> int:
    args = sys.argv[1:]
    names = [a for a in args if not a.startswith("-")] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown or "-h" in args or "--help" in args:
        print(f"usage: python -m bench [{'|'.join(BENCHMARKS)} ...] [--quick]", file=sys.stderr)
        return 2 if unknown else 0
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} on {machine()}", flush=True)
    status = 0
    for name in names:
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        status |= importlib.import_module(f"bench.{name}").main(args) or 0
        print(f"   ({name} took {time.perf_counter() - started:.0f}s)", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
