"""A process benchmark: one input per size, each implementation run as whole processes on it, rounds interleaved.

The job runs as its README command line (`python jobs/<job>.py ...`: the local recipe of jobs/_session.py), each
baseline as `python -m benchmarks.baselines.<name>`. Every round runs every size and implementation once, so a slow
moment of a shared machine spreads over all of them; the figures are medians over the rounds.
"""

from __future__ import annotations

import shutil
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import _process
from benchmarks._tables import output_tables

ROOT = Path(__file__).resolve().parents[1]
MB = 1_000_000


@dataclass(frozen=True)
class Prepared:
    """One generated input: its size in the benchmark's unit, its bytes on disk, and what the commands need."""

    size: int
    input_bytes: int
    paths: dict[str, Path]
    counts: dict = field(default_factory=dict)


# Given the input and the implementation's output folder: the processes to run, in order, and where the tables land.
Commands = Callable[[Prepared, Path], tuple[list[list[str]], Path]]


@dataclass(frozen=True)
class Implementation:
    name: str
    description: str
    commands: Commands
    tables: tuple[str, ...]


@dataclass(frozen=True)
class ProcessBenchmark:
    name: str
    unit: str
    default_sizes: tuple[int, ...]
    default_rounds: int
    prepare: Callable[[Path, int], Prepared]
    # The job first: every other implementation is a baseline the job's time is divided by.
    implementations: tuple[Implementation, ...]
    targets: Callable[[dict], list[dict]]
    check: Callable[[Prepared, Path], None] | None = None


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def median_summary(seconds: list[float], peaks: list[int]) -> dict:
    """The medians of a list of rounds, with the range of the times."""
    return {
        "seconds": round(statistics.median(seconds), 2),
        "seconds_range": [round(min(seconds), 2), round(max(seconds), 2)],
        "peak_rss_mb": round(statistics.median(peaks) / MB),
        "rounds": len(seconds),
    }


def _run_once(implementation: Implementation, prepared: Prepared, out: Path) -> tuple[float, int, dict]:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    commands, tables_root = implementation.commands(prepared, out)
    seconds, peak = 0.0, 0
    for command in commands:
        measured = _process.run(command, cwd=ROOT)
        seconds += measured.seconds
        peak = max(peak, measured.peak_rss_bytes)
    return seconds, peak, output_tables(tables_root, implementation.tables)


def measure(bench: ProcessBenchmark, work_dir: Path, sizes: list[int], rounds: int, log=print) -> dict:
    """Generate the inputs, run every implementation `rounds` times at every size; the summary with its targets."""
    prepared = {size: bench.prepare(work_dir / "inputs", size) for size in sizes}
    runs: dict[tuple[int, str], list[tuple[float, int]]] = {}
    tables: dict[tuple[int, str], dict] = {}
    for round_number in range(1, rounds + 1):
        for size in sizes:
            for implementation in bench.implementations:
                out = work_dir / "out" / implementation.name
                seconds, peak, found = _run_once(implementation, prepared[size], out)
                if bench.check and implementation is bench.implementations[0]:
                    bench.check(prepared[size], out)
                runs.setdefault((size, implementation.name), []).append((seconds, peak))
                tables[size, implementation.name] = found
                log(f"  round {round_number}/{rounds}: {bench.name} {size:,} {bench.unit} {implementation.name}"
                    f" {seconds:.1f} s, peak {peak / MB:,.0f} MB")  # fmt: skip
    job = bench.implementations[0].name
    rows = []
    for size in sizes:
        variants = {}
        for implementation in bench.implementations:
            measured = runs[size, implementation.name]
            variants[implementation.name] = median_summary([s for s, _ in measured], [p for _, p in measured]) | {
                "tables": tables[size, implementation.name]
            }
        for variant in variants.values():
            variant["job_ratio"] = round(variants[job]["seconds"] / variant["seconds"], 2)
        rows.append(
            {
                "size": size,
                "input_mb": round(prepared[size].input_bytes / MB, 1),
                "us_per_unit": round(variants[job]["seconds"] / size * 1e6, 1),
                "variants": variants,
            }
        )
    summary = {
        "benchmark": bench.name,
        "unit": bench.unit,
        "job": job,
        "implementations": {i.name: i.description for i in bench.implementations},
        "sizes": rows,
    }
    summary["targets"] = bench.targets(summary)
    summary["targets_met"] = all(t["met"] for t in summary["targets"])
    return summary


def target(name: str, value: float, limit: float | None) -> dict:
    """A figure and the most it may be; a limit of None is a figure reported beside the targets, never missed."""
    value = round(value, 2)
    return {"target": name, "value": value, "limit": limit, "met": limit is None or value <= limit}


def files_limit(table: dict) -> float:
    """The most files a table may be written as per partition: max(2, 2 x its size / 128 MB)."""
    return max(2, 2 * table["bytes"] / (128 * 1024 * 1024))
