"""benchmarks/_runs.py: rounds interleaved, medians per implementation, the job's ratios and the targets."""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks import _runs
from benchmarks._runs import Implementation, Prepared, ProcessBenchmark

# Writes `files` part files of 1 kB into the table folder, then sleeps a little.
WRITE = (
    "import pathlib, sys, time; t = pathlib.Path(sys.argv[1]); t.mkdir(parents=True, exist_ok=True); "
    "[(t / f'part-{n}.parquet').write_bytes(b'x' * 1000) for n in range(int(sys.argv[2]))]; "
    "time.sleep(float(sys.argv[3]))"
)


def implementation(name: str, files: int, seconds: float, calls: list) -> Implementation:
    def commands(prepared: Prepared, out: Path):
        calls.append((prepared.size, name))
        return [[sys.executable, "-c", WRITE, str(out / "t"), str(files), str(seconds)]], out

    return Implementation(name, f"{name} writing {files} files", commands, ("t",))


def bench(calls: list) -> ProcessBenchmark:
    def prepare(work_dir: Path, size: int) -> Prepared:
        work_dir.mkdir(parents=True, exist_ok=True)
        return Prepared(size, size * 1_000_000, {})

    def targets(summary):
        ratio = summary["sizes"][-1]["variants"]["slow"]["job_ratio"]
        return [_runs.target("job / slow", ratio, 0.9)]

    return ProcessBenchmark(
        name="fake",
        unit="things",
        default_sizes=(1, 2),
        default_rounds=3,
        prepare=prepare,
        implementations=(implementation("job", 3, 0.0, calls), implementation("slow", 1, 0.6, calls)),
        targets=targets,
    )


def test_every_round_runs_every_size_and_implementation_and_the_medians_are_reported(tmp_path):
    calls: list = []
    summary = _runs.measure(bench(calls), tmp_path, [1, 2], rounds=3, log=lambda line: None)
    assert calls == [(1, "job"), (1, "slow"), (2, "job"), (2, "slow")] * 3
    last = summary["sizes"][-1]
    job, slow = last["variants"]["job"], last["variants"]["slow"]
    assert job["rounds"] == slow["rounds"] == 3
    assert slow["seconds"] >= 0.6 > job["seconds"]
    assert job["job_ratio"] == 1.0
    assert job["job_ratio"] > slow["job_ratio"]
    assert job["tables"]["t"]["files"] == 3
    assert slow["tables"]["t"]["mean_bytes"] == 1000
    assert last["input_mb"] == 2.0
    assert summary["targets"][0]["met"]
    assert summary["targets_met"]


def test_medians_resist_one_slow_round():
    summary = _runs.median_summary([1.0, 9.0, 1.2], [100, 900, 120])
    assert summary == {"seconds": 1.2, "seconds_range": [1.0, 9.0], "peak_rss_mb": 0, "rounds": 3}
    assert _runs.median_summary([2.0], [3_000_000])["peak_rss_mb"] == 3


def test_a_reported_figure_is_never_missed_and_files_scale_with_the_table():
    assert _runs.target("job / duckdb", 30.0, None)["met"]
    assert not _runs.target("job / naive", 0.95, 0.9)["met"]
    assert _runs.files_limit({"bytes": 10}) == 2
    assert _runs.files_limit({"bytes": 640 * 1024 * 1024}) == 10
