"""`make run`: every pipeline end to end on generated data, in one local Spark session, then every query in DuckDB.

The steps come from pipelines/ (the same description Step Functions is built from); the lake lands in ./.lake/.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "jobs"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from local.spark import local_session  # noqa: E402  (after the path set-up above)
from pipelines import PIPELINES, Location, Pipeline, Step  # noqa: E402

SAMPLES = {"kindle": "kindle", "sparkify": "sparkify", "orders": "orders", "rentals": "rentals"}


def resolve(lake: Path, location: Location) -> str:
    """A lake location on this machine: `<lake>/<zone>/<prefix>`."""
    return str(lake / location.zone / location.prefix)


def step_argv(lake: Path, step: Step) -> list[str]:
    return [part for flag, location in step.args for part in (flag, resolve(lake, location))]


def generate(lake: Path, pipeline: Pipeline, *, scale: float, seed: int) -> dict[str, int]:
    """Fresh, deterministic sample data in the pipeline's raw location."""
    module = importlib.import_module(f"local.samples.{SAMPLES[pipeline.name]}")
    dest = Path(resolve(lake, pipeline.raw))
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    return module.write_sample(dest, size=max(1, int(module.DEFAULT_SIZE * scale)), seed=seed)


def run_pipeline(lake: Path, pipeline: Pipeline, log) -> list[dict]:
    """Run the pipeline's steps wave by wave (a step only after the steps it depends on)."""
    reports = []
    for wave in pipeline.waves():
        for step in wave:
            started = time.perf_counter()
            log(f"  {pipeline.name}: {step.name} ...")
            job = importlib.import_module(step.job)
            report = job.main(step_argv(lake, step))
            log(f"  {pipeline.name}: {step.name} done in {time.perf_counter() - started:.1f} s")
            reports.append(report)
    return reports


def ingest_locally(lake: Path, pipeline: Pipeline, log) -> dict:
    """The orders ingest Lambda's flattening on each generated export, as if each had landed in the watched prefix:
    one Parquet file per source file in the ingested_items table, like the Lambda writes it."""
    from functions import orders_ingest  # noqa: PLC0415  (pyarrow path of the Lambda, no AWS)
    from pipelines.orders import INGESTED_ITEMS  # noqa: PLC0415

    out = Path(resolve(lake, INGESTED_ITEMS.location))
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    counts = {"path": resolve(lake, pipeline.raw), "read": 0, "written": 0, "quarantined": 0, "filtered": {}}
    superseded = 0
    for source in sorted(Path(resolve(lake, pipeline.raw)).rglob("*.json*")):
        key = f"orders/incoming/{source.name}"
        try:
            flat = orders_ingest.flatten(
                source.read_bytes(), source=str(source), source_key=key, source_version="local"
            )
        except orders_ingest.FileRejected as rejected:  # the Lambda copies such a file to quarantine, whole
            log(f"  orders: ingest would quarantine {source.name}: {rejected}")
            counts["read"] += 1
            counts["quarantined"] += 1
            continue
        if flat.table.num_rows:
            (out / Path(orders_ingest.output_key("", key, "local")).name).write_bytes(
                orders_ingest.to_parquet(flat.table)
            )
        counts["read"] += flat.records
        counts["written"] += flat.orders
        counts["quarantined"] += len(flat.rejects)
        superseded += flat.superseded
    counts["filtered"] = {"superseded within its file": superseded}
    counts["balanced"] = counts["read"] == counts["written"] + counts["quarantined"] + superseded
    log(f"  orders: ingest Lambda flattening done ({counts['written']} orders into {INGESTED_ITEMS.glue_name})")
    return {"job": "orders_ingest (local)", "inputs": {"files": counts}}


def summary_rows(reports: Sequence[dict]) -> list[tuple]:
    rows = []
    for report in reports:
        for name, counts in report["inputs"].items():
            filtered = sum(counts["filtered"].values())
            rows.append(
                (
                    report["job"],
                    name,
                    counts["read"],
                    counts["written"],
                    counts["quarantined"],
                    filtered,
                    "yes" if counts["balanced"] else "NO",
                )
            )
    return rows


def run_queries(lake: Path, pipelines: Sequence[str], log) -> int:
    from local import duck  # noqa: PLC0415  (DuckDB and sqlglot only for this part)
    from pipelines.queries import load_queries  # noqa: PLC0415

    curated = lake / "curated"
    connection = duck.connect(curated)
    missing = [name for name in duck.missing_tables(curated) if name.split("_", 1)[0] in pipelines]
    if missing:
        log(f"tables with no data yet (their queries may be empty): {', '.join(missing)}")
    failures = 0
    for query in load_queries().values():
        if query.pipeline not in pipelines:
            continue
        values = dict(query.examples)
        shown = ", ".join(f"{k}={v}" for k, v in values.items())
        log(f"\n== {query.name} ({query.pipeline}){f'  [{shown}]' if shown else ''}\n{query.description}")
        try:
            columns, rows = duck.run_query(connection, query, values)
        except Exception as error:  # one broken query must not hide the others' results
            failures += 1
            log(f"FAILED: {error}")
            continue
        log(duck.format_table(columns, rows))
    return failures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.run", description=__doc__)
    parser.add_argument("--lake", type=Path, default=ROOT / ".lake", help="where the local lake goes (default .lake)")
    parser.add_argument("--pipelines", nargs="+", choices=sorted(PIPELINES), default=list(PIPELINES))
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every generator's default size")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-queries", action="store_true", help="skip the DuckDB queries")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, flush=True)

    started = time.perf_counter()
    lake = args.lake.resolve()
    local_session("datalake-local")
    reports = []
    for name in args.pipelines:
        pipeline = PIPELINES[name]
        counts = generate(lake, pipeline, scale=args.scale, seed=args.seed)
        log(f"[{name}] generated {', '.join(f'{k}={v}' for k, v in counts.items())}")
        reports += run_pipeline(lake, pipeline, log)
        if name == "orders":
            reports.append(ingest_locally(lake, pipeline, log))
    failures = 0 if args.no_queries else run_queries(lake, args.pipelines, log)

    from local import duck  # noqa: PLC0415

    header = ("job", "input", "read", "written", "quarantined", "filtered", "balanced")
    log("\n== summary: rows per job input (read = written + quarantined + filtered)")
    log(duck.format_table(header, summary_rows(reports), max_rows=100))
    unbalanced = [r for r in summary_rows(reports) if r[-1] != "yes"]
    log(f"\nlake: {lake}   time: {time.perf_counter() - started:.0f} s")
    return 1 if failures or unbalanced else 0


if __name__ == "__main__":
    sys.exit(main())
