"""Orders ingest: the Lambda's flattening (stdlib json + pyarrow) against pandas.json_normalize on the same file.

S3 is bypassed: each variant turns the file's bytes into Parquet bytes in memory. Each runs in a fresh interpreter,
so its peak RSS (ru_maxrss, which also sees pyarrow's allocations outside Python's allocator) is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from pipelines.orders import INGEST_LANDING

ROOT = Path(__file__).resolve().parents[1]
TARGET_SPEEDUP = 3.0
TARGET_MEMORY_RATIO = 0.5
SOURCE_KEY = f"{INGEST_LANDING.prefix}bench.json"


def _rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ingest(data: bytes) -> tuple[int, int]:
    """What the handler runs on an object's bytes: flatten (vectorized when the file is regular) and Parquet."""
    from functions.ingest.flatten import flatten
    from functions.ingest.table import to_parquet

    flat = flatten(data, source=f"s3://bench/{SOURCE_KEY}", source_key=SOURCE_KEY, source_version="v")
    return flat.table.num_rows, len(to_parquet(flat.table))


def _ingest_reference(data: bytes) -> tuple[int, int]:
    """The handler's reference path alone (stdlib json, one document at a time): what an irregular file costs."""
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
    command = [sys.executable, "-m", "benchmarks.ingest", "--variant", variant, "--file", str(path)]
    completed = subprocess.run(
        [*command, "--warm-up", str(warm_up)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if completed.returncode:
        raise RuntimeError(f"benchmark variant {variant} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


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


def run(work_dir: Path, size_mb: int = 50) -> dict:
    """Generate a ~`size_mb` MB orders array, measure both variants, print a table; returns the numbers."""
    work_dir.mkdir(parents=True, exist_ok=True)
    path, warm_up, orders = _orders_files(work_dir, size_mb)
    results = {name: _in_subprocess(name, path, warm_up) for name in VARIANTS}
    ingest, pandas = results["ingest"], results["pandas"]
    if len({r["rows"] for r in results.values()}) != 1:
        raise RuntimeError(f"variants disagree on the row count: { {n: r['rows'] for n, r in results.items()} }")
    speedup = pandas["seconds"] / ingest["seconds"]
    memory_ratio = ingest["peak_rss_mb"] / pandas["peak_rss_mb"]
    summary = {
        "file_mb": round(path.stat().st_size / 1_000_000, 1),
        "orders": orders,
        "rows": ingest["rows"],
        "variants": results,
        "speedup": round(speedup, 2),
        "memory_ratio": round(memory_ratio, 2),
        "targets_met": speedup >= TARGET_SPEEDUP and memory_ratio <= TARGET_MEMORY_RATIO,
    }
    _print(summary)
    return summary


def _print(summary: dict) -> None:
    print(f"orders ingest: {summary['file_mb']} MB JSON array, {summary['orders']} orders, {summary['rows']} rows")
    print(f"{'variant':<17} {'seconds':>8} {'peak RSS MB':>12} {'RSS before MB':>14} {'parquet KB':>11}")
    for name, r in summary["variants"].items():
        print(
            f"{name:<17} {r['seconds']:>8.2f} {r['peak_rss_mb']:>12.0f} {r['rss_before_mb']:>14.0f}"
            f" {r['parquet_bytes'] / 1024:>11.0f}"
        )
    speedup, memory = summary["speedup"], summary["memory_ratio"]
    print(
        f"ingest vs pandas: {speedup:.2f}x faster (target >= {TARGET_SPEEDUP:.0f}x), peak memory {memory:.2f} of"
        f" pandas' (target <= {TARGET_MEMORY_RATIO}); targets met: {summary['targets_met']}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", choices=sorted(VARIANTS), help="measure one variant here (used by run)")
    parser.add_argument("--file", type=Path)
    parser.add_argument("--warm-up", type=Path)
    parser.add_argument("--size-mb", type=int, default=50)
    parser.add_argument("--work-dir", type=Path, default=ROOT / ".bench" / "ingest")
    args = parser.parse_args(argv)
    if args.variant:
        print(json.dumps(measure(args.variant, args.file, args.warm_up)))
    else:
        run(args.work_dir, args.size_mb)


if __name__ == "__main__":
    main()
