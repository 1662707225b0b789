"""Kindle metadata: the job's README command line against a naive Spark flatten, the Spark floor and DuckDB.

All four are whole processes on the same generated JSON Lines file, at three sizes (300k items the largest).
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks._runs import Implementation, Prepared, ProcessBenchmark, python, target
from pipelines.kindle import ITEM_IMAGES, ITEM_VIDEOS, ITEMS

TABLES = (ITEMS.name, ITEM_IMAGES.name, ITEM_VIDEOS.name)
SIZES = (75_000, 150_000, 300_000)
ROUNDS = 3
MAX_NAIVE_RATIO = 0.8
MAX_FLOOR_RATIO = 1.3
MAX_FILES = 8
MAX_PER_ITEM_GROWTH = 1.2


def prepare(work_dir: Path, size: int) -> Prepared:
    """The generated file for `size` items and its counts (generated once; kept across runs with --keep)."""
    from local.samples.kindle import write_jsonl

    path, counts_path = work_dir / f"kindle-{size}.jsonl", work_dir / f"kindle-{size}.counts.json"
    if not (path.exists() and counts_path.exists()):
        counts_path.parent.mkdir(parents=True, exist_ok=True)
        counts_path.write_text(json.dumps(write_jsonl(path, size)))
    return Prepared(size, path.stat().st_size, {"input": path}, json.loads(counts_path.read_text()))


def _job(prepared: Prepared, out: Path):
    return [python("jobs/kindle_metadata.py", "--input", str(prepared.paths["input"]), "--output", str(out))], out


def _baseline(module: str):
    def commands(prepared: Prepared, out: Path):
        argv = python("-m", f"benchmarks.baselines.{module}", "--input", str(prepared.paths["input"]))
        return [[*argv, "--output", str(out)]], out

    return commands


IMPLEMENTATIONS = (
    Implementation("job", "python jobs/kindle_metadata.py, as the README runs it", _job, TABLES),
    Implementation("naive", "schema inference, the same three tables, no cache", _baseline("kindle_naive"), TABLES),
    Implementation(
        "floor", "read, from_json (explicit schema), one Parquet write", _baseline("kindle_floor"), TABLES[:1]
    ),
    Implementation(
        "duckdb", "DuckDB read_json, typed columns, one Parquet table", _baseline("kindle_duckdb"), TABLES[:1]
    ),
)


def check(prepared: Prepared, out: Path) -> None:
    """The job must have written one items row per distinct generated item."""
    report = json.loads((out / "_run" / "kindle_metadata.json").read_text())
    rows = report["tables"][ITEMS.name]["rows"]
    if rows != prepared.counts["items"]:
        raise RuntimeError(f"the job wrote {rows} items for {prepared.counts['items']} distinct ones")


def targets(summary: dict) -> list[dict]:
    first, last = summary["sizes"][0], summary["sizes"][-1]
    variants = last["variants"]
    job = variants["job"]
    found = [
        target(f"job / naive at {last['size']:,}", variants["naive"]["job_ratio"], MAX_NAIVE_RATIO),
        target(f"job / floor at {last['size']:,}", variants["floor"]["job_ratio"], MAX_FLOOR_RATIO),
        target("per-item time, largest size / smallest", last["us_per_unit"] / first["us_per_unit"],
               MAX_PER_ITEM_GROWTH),
    ]  # fmt: skip
    found += [
        target(f"{name} files at {last['size']:,}", table["files"], MAX_FILES) for name, table in job["tables"].items()
    ]
    # Reported beside the targets, never one: no JVM, one table, no dedupe or quarantine.
    found.append(target(f"job / duckdb at {last['size']:,} (reported)", variants["duckdb"]["job_ratio"], None))
    return found


BENCHMARK = ProcessBenchmark(
    name="kindle",
    unit="items",
    default_sizes=SIZES,
    default_rounds=ROUNDS,
    prepare=prepare,
    implementations=IMPLEMENTATIONS,
    targets=targets,
    check=check,
)
