"""`make bench`: the Kindle job against a plain schema-inferring read, and the ingest Lambda against pandas.

Each benchmark runs its baseline in the same process run, so the reported ratios hold on any machine.
"""

import argparse
import sys
from pathlib import Path

from benchmarks import ingest, kindle

BENCHMARKS = {"kindle": kindle.run, "ingest": ingest.run}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append", help="run only these benchmarks")
    parser.add_argument("--work-dir", type=Path, default=Path(".bench"), help="scratch space (default .bench)")
    args = parser.parse_args(argv)
    for name in args.only or list(BENCHMARKS):
        print(f"\n=== benchmark: {name}", flush=True)
        BENCHMARKS[name](args.work_dir / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
