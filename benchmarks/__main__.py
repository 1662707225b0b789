"""`make bench`: the Kindle job against a plain schema-inferring read, and the ingest Lambda against pandas.

Each benchmark runs its baseline in the same process run, so the reported ratios hold on any machine. It exits 1
when a benchmark misses its target or fails, and deletes the inputs and outputs it generated (unless --keep).
"""

import shutil
import sys
from pathlib import Path

from benchmarks import ingest, kindle
from local.cli import OneLineParser

BENCHMARKS = {"kindle": kindle.run, "ingest": ingest.run}
PROG = "python -m benchmarks"
DEFAULT_WORK_DIR = Path(".bench")


def _remove(scratch: Path, work_dir: Path, ours: bool) -> None:
    """Delete one benchmark's scratch folder, then the work dir if it is empty and the benchmarks' own."""
    shutil.rmtree(scratch, ignore_errors=True)
    if ours and work_dir.is_dir() and not any(work_dir.iterdir()):
        work_dir.rmdir()


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog=PROG, description=__doc__)
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append", help="run only these benchmarks")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR, help="scratch space (default .bench)")
    parser.add_argument("--keep", action="store_true", help="keep the generated inputs (reused by the next run)")
    args = parser.parse_args(argv)
    # .bench is the benchmarks' own; a folder the user named is removed only if this run created it.
    ours = args.work_dir == DEFAULT_WORK_DIR or not args.work_dir.exists()
    missed, failed = [], []
    for name in dict.fromkeys(args.only or BENCHMARKS):
        print(f"\n=== benchmark: {name}", flush=True)
        scratch = args.work_dir / name
        try:
            summary = BENCHMARKS[name](scratch)
        except Exception as error:  # one broken benchmark must not hide the others' results
            failed.append(f"{name} ({_first_line(error)})")
            continue
        finally:
            if not args.keep:
                _remove(scratch, args.work_dir, ours)
        if not summary.get("targets_met"):
            missed.append(name)
    if failed:
        print(f"{PROG}: error: failed: {'; '.join(failed)}", file=sys.stderr)
    if missed:
        print(f"{PROG}: error: targets missed: {', '.join(missed)} (see each benchmark's table)", file=sys.stderr)
    return 1 if failed or missed else 0


if __name__ == "__main__":
    sys.exit(main())
