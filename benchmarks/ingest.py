"""Orders ingest: the Lambda's flattening (stdlib json + pyarrow) against pandas.json_normalize on the same file.

S3 is bypassed: each variant turns the file's bytes into Parquet bytes in memory. Every round runs each variant in a
fresh interpreter (the variants interleaved), so its peak RSS (ru_maxrss, which also sees pyarrow's allocations
outside Python's allocator) is its own; the figures are the medians of the rounds.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from pipelines.orders import INGEST_LANDING

ROOT = Path(__file__).resolve().parents[1]
TARGET_SPEEDUP = 3.0
TARGET_MEMORY_RATIO = 0.5
ROUNDS = 5
DEFAULT_MB = 50
SOURCE_KEY = f"{INGEST_LANDING.prefix}bench.json"
MEASURES = ("seconds", "process_seconds", "peak_rss_mb", "rss_before_mb")


def _rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ingest(data: bytes) -> tuple[int, int]:
    """What the handler runs on an object's bytes: flatten (vectorized when the file is regular) and Parquet."""
    import functions.orders_ingest  # noqa: F401  (the Lambda loads its handler module, boto3 with it)
    from functions.ingest.flatten import flatten
    from functions.ingest.table import to_parquet

    flat = flatten(data, source=f"s3://bench/{SOURCE_KEY}", source_key=SOURCE_KEY, source_version="v")
    return flat.table.num_rows, len(to_parquet(flat.table))


def _ingest_reference(data: bytes) -> tuple[int, int]:
    """The handler's reference path alone (stdlib json, one document at a time): what an irregular file costs."""
    import functions.orders_ingest  # noqa: F401  (as above)
    from functions.ingest.flatten import flatten_text
    from functions.ingest.records import decode
    from functions.ingest.table import to_parquet

    flat = flatten_text(decode(data), source="s3://bench", source_key=SOURCE_KEY, source_version="v")
    return flat.table.num_rows, len(to_parquet(flat.table))


def _pandas(data: bytes) -> tuple[int, int]:
    """The usual way: load everything, json_normalize the products with the order fields as meta, fix the types."""
    import pandas as pd
    import pyarrow as pa

    from functions.ingest.table import SCHEMA, to_parquet

    orders = json.loads(data)
    latest = list({str(o["order_id"]): o for o in orders}.values())
    meta = [
        "order_id",
        "order_date",
        "total_amount",
        *[["customer", k] for k in ("customer_id", "name", "email", "address")],
    ]
    df = pd.json_normalize(latest, record_path="products", meta=meta, errors="ignore")
    df = df.rename(
        columns={
            "name": "product_name",
            "category": "product_category",
            "customer.customer_id": "customer_id",
            "customer.name": "customer_name",
            "customer.email": "customer_email",
            "customer.address": "customer_address",
        }
    )
    for column in ("order_id", "customer_id", "product_id"):
        df[column] = df[column].astype("string")
    df["price"] = pd.to_numeric(df["price"])
    df["total_amount"] = pd.to_numeric(df["total_amount"])
    df["line_amount"] = (df["price"] * df["quantity"]).round(2)
    df["order_date"] = pd.to_datetime(df["order_date"], format="%Y-%m-%d").dt.date
    df["source_key"] = SOURCE_KEY
    df["source_version"] = "v"
    table = pa.Table.from_pandas(df[SCHEMA.names], preserve_index=False).cast(SCHEMA, safe=False)
    return table.num_rows, len(to_parquet(table))


VARIANTS = {"ingest": _ingest, "ingest-reference": _ingest_reference, "pandas": _pandas}


def measure(variant: str, path: Path, warm_up: Path) -> dict:
    """Run one variant in this process (meant to be a fresh one) and return its time and memory.

    A first run on a small file loads what each variant loads lazily (pyarrow's compute kernels, pandas' internals),
    as in a warm Lambda container; the peak RSS of the measured run is the process's peak."""
    VARIANTS[variant](warm_up.read_bytes())
    baseline = _rss_mb()
    started = time.perf_counter()
    rows, parquet_bytes = VARIANTS[variant](path.read_bytes())
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(_rss_mb(), 1),
        "rss_before_mb": round(baseline, 1),
        "rows": rows,
        "parquet_bytes": parquet_bytes,
    }


def _in_subprocess(variant: str, path: Path, warm_up: Path) -> dict:
    """One fresh interpreter running one variant; adds the whole process's wall time, start-up and imports too."""
    command = [sys.executable, "-m", "benchmarks.ingest", "--variant", variant, "--file", str(path)]
    started = time.perf_counter()
    completed = subprocess.run(
        [*command, "--warm-up", str(warm_up)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    process_seconds = time.perf_counter() - started
    if completed.returncode:
        raise RuntimeError(f"benchmark variant {variant} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1]) | {"process_seconds": round(process_seconds, 3)}


def _orders_files(work_dir: Path, size_mb: int) -> tuple[Path, Path, int]:
    """The measured file (about size_mb MB), a 2 MB warm-up file, and the measured file's order count."""
    from local.samples.orders import write_orders_file

    warm_up = work_dir / "warm-up.json"
    probe = 2000
    per_order = write_orders_file(warm_up, orders=probe, seed=8) / probe
    write_orders_file(warm_up, orders=int(2_000_000 / per_order), seed=8)
    orders = int(size_mb * 1_000_000 / per_order)
    path = work_dir / f"orders-{orders}.json"
    if not path.exists():
        write_orders_file(path, orders=orders)
    return path, warm_up, orders


def summarise(runs: dict[str, list[dict]]) -> dict:
    """Each variant's medians over its rounds (and the range of its times), and the ingest-to-pandas ratios of the
    medians, checked against the targets."""
    rows = {r["rows"] for variant in runs.values() for r in variant}
    if len(rows) != 1:
        raise RuntimeError(
            f"variants disagree on the row count: { {n: [r['rows'] for r in v] for n, v in runs.items()} }"
        )
    variants = {}
    for name, rounds in runs.items():
        medians = {key: round(statistics.median(r[key] for r in rounds), 3) for key in MEASURES}
        seconds = [r["seconds"] for r in rounds]
        variants[name] = medians | {
            "seconds_range": [min(seconds), max(seconds)],
            "rounds": len(rounds),
            "parquet_bytes": rounds[0]["parquet_bytes"],
        }
    ingest, pandas = variants["ingest"], variants["pandas"]
    speedup = pandas["seconds"] / ingest["seconds"]
    memory_ratio = ingest["peak_rss_mb"] / pandas["peak_rss_mb"]
    return {
        "rows": rows.pop(),
        "variants": variants,
        "speedup": round(speedup, 2),
        "process_speedup": round(pandas["process_seconds"] / ingest["process_seconds"], 2),
        "memory_ratio": round(memory_ratio, 2),
        "targets_met": speedup >= TARGET_SPEEDUP and memory_ratio <= TARGET_MEMORY_RATIO,
    }


def run(work_dir: Path, size_mb: int = 50, rounds: int = ROUNDS) -> dict:
    """Generate a ~`size_mb` MB orders array, measure every variant `rounds` times, print a table; returns it."""
    work_dir.mkdir(parents=True, exist_ok=True)
    path, warm_up, orders = _orders_files(work_dir, size_mb)
    runs: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    for _ in range(rounds):
        # Interleaved, so that a slow moment of the machine does not fall on one variant only.
        for name in VARIANTS:
            runs[name].append(_in_subprocess(name, path, warm_up))
    summary = {"file_mb": round(path.stat().st_size / 1_000_000, 1), "orders": orders} | summarise(runs)
    _print(summary)
    return summary


def _print(summary: dict) -> None:
    rounds = summary["variants"]["ingest"]["rounds"]
    print(
        f"orders ingest: {summary['file_mb']} MB JSON array, {summary['orders']} orders, {summary['rows']} rows;"
        f" medians of {rounds} rounds, each variant in a fresh process"
    )
    print(
        f"{'variant':<17} {'seconds':>8} {'(min-max)':>13} {'process s':>10} {'peak RSS MB':>12}"
        f" {'RSS before MB':>14} {'parquet KB':>11}"
    )
    for name, r in summary["variants"].items():
        low, high = r["seconds_range"]
        print(
            f"{name:<17} {r['seconds']:>8.2f} {f'({low:.2f}-{high:.2f})':>13} {r['process_seconds']:>10.2f}"
            f" {r['peak_rss_mb']:>12.0f} {r['rss_before_mb']:>14.0f} {r['parquet_bytes'] / 1024:>11.0f}"
        )
    speedup, memory = summary["speedup"], summary["memory_ratio"]
    print(
        f"ingest vs pandas: {speedup:.2f}x faster (target >= {TARGET_SPEEDUP:.0f}x; whole processes"
        f" {summary['process_speedup']:.2f}x), peak memory {memory:.2f} of pandas' (target <= {TARGET_MEMORY_RATIO});"
        f" targets met: {summary['targets_met']}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", choices=sorted(VARIANTS), help="measure one variant here (used by run)")
    parser.add_argument("--file", type=Path)
    parser.add_argument("--warm-up", type=Path)
    parser.add_argument("--size-mb", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"fresh processes per variant (default {ROUNDS})")
    parser.add_argument("--work-dir", type=Path, default=ROOT / ".bench" / "ingest")
    args = parser.parse_args(argv)
    if args.variant:
        print(json.dumps(measure(args.variant, args.file, args.warm_up)))
    else:
        run(args.work_dir, args.size_mb, args.rounds)


if __name__ == "__main__":
    main()
