"""Sparkify, orders and car rentals: each pipeline's jobs, run as the README runs them, against a naive Spark
version (schema inference, nothing cached, the obvious joins), on the same generated input at three sizes.

The job's command lines come from the pipeline's steps in pipelines/ (the ones `make run` and Step Functions use);
rentals is its two jobs one after the other, against the two naive steps likewise (times added, peaks the larger).

Orders is timed with both of its steps, `orders` then `orders_ingest_merge`, though the naive baseline has nothing
like the second: a user of the pipeline runs both (Step Functions and `make run` run the merge step on every run,
whether or not the ingest Lambda staged anything), so what the merge step costs on a day with nothing staged is part
of what running orders costs. Here nothing is staged, and the step costs what such a day costs: run on its own on
local folders it starts no Spark at all (jobs/orders_ingest_merge.nothing_staged), about half a second.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from benchmarks._runs import Implementation, Prepared, ProcessBenchmark, files_limit, python, target
from local.run import resolve, step_argv
from pipelines import PIPELINES

ROUNDS = 3
# The job beats its naive baseline by at least 10%.
MAX_NAIVE_RATIO = 0.9
SIZES = {"sparkify": (20_000, 40_000, 80_000), "orders": (10_000, 20_000, 40_000), "rentals": (20_000, 40_000, 80_000)}
UNITS = {"sparkify": "events", "orders": "orders", "rentals": "rentals"}
# The naive steps of each pipeline: the module under benchmarks/baselines/ and the flags it takes, from the job's.
NAIVE = {
    "sparkify": (("sparkify_naive", ("--song-data", "--log-data")),),
    "orders": (("orders_naive", ("--input",)),),
    "rentals": (("rentals_naive", ("--input",)), ("rentals_kpis_naive", ("--input",))),
}


def _tables(name: str) -> tuple[str, ...]:
    pipeline = PIPELINES[name]
    jobs = {step.job for step in pipeline.steps}
    return tuple(table.name for table in pipeline.tables if table.writer in jobs)


def _prepare(name: str):
    def prepare(work_dir: Path, size: int) -> Prepared:
        """The pipeline's generator (local/samples/<name>.py) writing its raw folder at `size` (once)."""
        raw = work_dir / f"{name}-{size}"
        done = raw / ".generated"
        if not done.exists():
            importlib.import_module(f"local.samples.{name}").write_sample(raw, size=size)
            done.touch()
        files = [p for p in raw.rglob("*") if p.is_file() and not p.name.startswith(".")]
        return Prepared(size, sum(p.stat().st_size for p in files), {"raw": raw})

    return prepare


def _job(name: str):
    def commands(prepared: Prepared, out: Path):
        pipeline = PIPELINES[name]
        steps = [step for wave in pipeline.waves() for step in wave]
        run = [python(f"jobs/{step.job}.py", *step_argv(out, step, {name: prepared.paths["raw"]})) for step in steps]
        return run, Path(resolve(out, pipeline.output))

    return commands


def _naive(name: str):
    def commands(prepared: Prepared, out: Path):
        pipeline = PIPELINES[name]
        curated = Path(resolve(out, pipeline.output))
        first = pipeline.waves()[0][0]
        argv = step_argv(out, first, {name: prepared.paths["raw"]})
        inputs = dict(zip(argv[::2], argv[1::2], strict=True))
        run = []
        for module, flags in NAIVE[name]:
            # The first naive step reads the job's raw inputs; a later one the curated tables the first wrote.
            values = [inputs[flag] for flag in flags] if not run else [str(curated)]
            argv = [part for flag, value in zip(flags, values, strict=True) for part in (flag, value)]
            run.append(python("-m", f"benchmarks.baselines.{module}", *argv, "--output", str(curated)))
        return run, curated

    return commands


def _targets(summary: dict) -> list[dict]:
    found = []
    for row in summary["sizes"]:
        variants = row["variants"]
        found.append(target(f"job / naive at {row['size']:,}", variants["naive"]["job_ratio"], MAX_NAIVE_RATIO))
        for table_name, table in variants["job"]["tables"].items():
            found.append(
                target(
                    f"{table_name} files per partition at {row['size']:,}",
                    table["max_files_per_partition"],
                    round(files_limit(table), 2),
                )
            )
    return found


def _benchmark(name: str) -> ProcessBenchmark:
    jobs = ", ".join(f"python jobs/{step.job}.py" for step in PIPELINES[name].steps)
    naive = " then ".join(module for module, _ in NAIVE[name])
    tables = _tables(name)
    return ProcessBenchmark(
        name=name,
        unit=UNITS[name],
        default_sizes=SIZES[name],
        default_rounds=ROUNDS,
        prepare=_prepare(name),
        implementations=(
            Implementation("job", f"{jobs}, as the README runs it", _job(name), tables),
            Implementation("naive", f"benchmarks/baselines: {naive}", _naive(name), tables),
        ),
        targets=_targets,
    )


BENCHMARKS = {name: _benchmark(name) for name in SIZES}
