"""`make bench`: every job as the README runs it against its baselines, and the ingest Lambda against pandas.

Each measurement is a whole process (wall time, and the peak of the summed RSS of its process tree), the figures are
medians of rounds run in the same invocation, and each job is reported as ratios to its baselines. The results go
to the terminal and to results.json, results.csv and chart.png in --results. It exits 1 when a benchmark misses a
target or fails, and deletes the inputs and outputs it generated (unless --keep).
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import time
from pathlib import Path

from benchmarks import _results, _runs, etl, ingest, kindle
from local.cli import OneLineParser

PROCESS_BENCHMARKS = {"kindle": kindle.BENCHMARK, **etl.BENCHMARKS}
# Kindle and ingest first: the two with targets from before this harness, and ingest takes a minute.
BENCHMARKS = ["kindle", "ingest", *etl.BENCHMARKS]
PROG = "python -m benchmarks"
DEFAULT_WORK_DIR = Path(".bench")
DEFAULT_RESULTS = Path(__file__).resolve().parent / "results"


def _remove(scratch: Path, work_dir: Path, ours: bool) -> None:
    """Delete one benchmark's scratch folder, then the work dir if it is empty and the benchmarks' own."""
    shutil.rmtree(scratch, ignore_errors=True)
    if ours and work_dir.is_dir() and not any(work_dir.iterdir()):
        work_dir.rmdir()


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def _sizes(text: str) -> tuple[str, list[int]]:
    """'kindle=75000,150000,300000' -> ('kindle', [75000, 150000, 300000])."""
    name, _, sizes = text.partition("=")
    if name not in PROCESS_BENCHMARKS:
        raise ValueError(f"--sizes {text}: no benchmark {name!r} (one of {', '.join(PROCESS_BENCHMARKS)})")
    values = sorted({int(size) for size in sizes.split(",") if size.strip()})
    if len(values) < 2 or values[0] <= 0:
        raise ValueError(f"--sizes {text}: give at least two positive sizes, comma-separated")
    return name, values


def _parser() -> OneLineParser:
    parser = OneLineParser(prog=PROG, description=__doc__)
    parser.add_argument("--only", choices=BENCHMARKS, action="append", help="run only these benchmarks")
    parser.add_argument(
        "--sizes",
        action="append",
        default=[],
        metavar="NAME=N,N,N",
        help="input sizes of one benchmark, in its unit (defaults: "
        + "; ".join(f"{n}={','.join(map(str, b.default_sizes))} {b.unit}" for n, b in PROCESS_BENCHMARKS.items())
        + f"; ingest: --ingest-mb {ingest.DEFAULT_MB})",
    )
    parser.add_argument("--ingest-mb", type=int, default=ingest.DEFAULT_MB, help="size of the ingest benchmark's file")
    parser.add_argument("--rounds", type=int, help="rounds of every benchmark (defaults: jobs 3, ingest 5)")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR, help="scratch space (default .bench)")
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS, help="where results.* and chart.png go")
    parser.add_argument("--keep", action="store_true", help="keep the generated inputs (reused by the next run)")
    return parser


def _machine() -> dict:
    load = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in load],
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _finish(machine: dict, started: float) -> None:
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    machine["minutes"] = round((time.perf_counter() - started) / 60, 1)


def _run(name: str, scratch: Path, sizes: dict[str, list[int]], args) -> dict:
    if name == "ingest":
        return ingest.run(scratch, args.ingest_mb, args.rounds or ingest.ROUNDS)
    bench = PROCESS_BENCHMARKS[name]
    summary = _runs.measure(
        bench, scratch, sizes.get(name, list(bench.default_sizes)), args.rounds or bench.default_rounds
    )
    _results.print_summary(summary)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        sizes = dict(_sizes(text) for text in args.sizes)
    except ValueError as error:
        parser.error(str(error))
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    # .bench is the benchmarks' own; a folder the user named is removed only if this run created it.
    ours = args.work_dir == DEFAULT_WORK_DIR or not args.work_dir.exists()
    machine, started = _machine(), time.perf_counter()
    results, missed, failed = {}, [], []
    written: list[Path] = []
    for name in dict.fromkeys(args.only or BENCHMARKS):
        print(f"\n=== benchmark: {name}", flush=True)
        scratch = args.work_dir / name
        try:
            results[name] = _run(name, scratch, sizes, args)
            if not results[name].get("targets_met"):
                missed.append(name)
        except Exception as error:  # one broken benchmark must not hide the others' results
            failed.append(f"{name} ({_first_line(error)})")
        finally:
            if not args.keep:
                _remove(scratch, args.work_dir, ours)
        # Written after each benchmark, so an interrupted run keeps what it measured.
        _finish(machine, started)
        if results:
            written = _results.write(results, args.results, machine)
    # A busy machine slows every implementation, but not evenly: the load says how far to trust the ratios.
    print(
        f"\nmake bench took {machine['minutes']} min; load average {machine['load_average_at_start'][0]} at the start,"
        f" {machine['load_average_at_end'][0]} at the end ({machine['cpus']} CPUs)"
    )
    if written:
        print(f"results: {', '.join(str(path) for path in written)}")
    if failed:
        print(f"{PROG}: error: failed: {'; '.join(failed)}", file=sys.stderr)
    if missed:
        print(f"{PROG}: error: targets missed: {', '.join(missed)} (see each benchmark's table)", file=sys.stderr)
    return 1 if failed or missed else 0


if __name__ == "__main__":
    sys.exit(main())
