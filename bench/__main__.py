"""``python -m bench [NAME...] [--quick]``: run the benchmarks (all by default)."""
from __future__ import annotations

import importlib
import sys

BENCHMARKS = ("processors", "progress", "throughput", "submit_latency", "upload_memory", "scaling", "load")


def main() -> int:
    args = sys.argv[1:]
    names = [a for a in args if not a.startswith("-")] or list(BENCHMARKS)
    status = 0
    for name in names:
        if name not in BENCHMARKS:
            print(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
            return 2
        print(f"== {name}", flush=True)
        status |= importlib.import_module(f"bench.{name}").main(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
