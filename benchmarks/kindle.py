"""Kindle metadata: the kindle_metadata job against a plain schema-inferring `spark.read.json` of the same file.

Both run in one local Spark session on generated JSON Lines at three sizes. The job should beat the plain approach
at every size, and its time per item should not grow with the input (linear scaling).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

from local.spark import local_session

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = [50_000, 100_000, 200_000]
# Time per item at the largest size over the smallest: above this the job scales worse than linearly.
MAX_PER_ITEM_GROWTH = 1.2


def _import_paths() -> None:
    # The job imports its shared `_*.py` modules from jobs/ (as on EMR); the generator lives in local/ under the root.
    for path in (ROOT, ROOT / "jobs"):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


def _jvm_cpu_seconds(spark) -> float | None:
    """CPU time of the Spark JVM (driver and local executors): steadier than wall time on a shared machine."""
    stat = Path(f"/proc/{spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()}/stat")
    if not stat.exists():
        return None
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _input(work_dir: Path, size: int) -> tuple[Path, dict]:
    """The generated file for `size` items and its counts (reused only when a run with --keep left it behind)."""
    from local.samples.kindle import write_jsonl

    path, counts_path = work_dir / f"kindle-{size}.jsonl", work_dir / f"kindle-{size}.counts.json"
    if not (path.exists() and counts_path.exists()):
        counts_path.write_text(json.dumps(write_jsonl(path, size)))
    return path, json.loads(counts_path.read_text())


def _job(spark, path: Path, output: Path) -> int:
    import kindle_metadata

    return kindle_metadata.main(["--input", str(path), "--output", str(output)])["tables"]["items"]["rows"]


def _plain(spark, path: Path, output: Path) -> int:
    """The naive approach: infer the schema (a full pass), then flatten and write the same three tables.

    Without spark.sql.caseSensitive it cannot even read this data ("Language" and "language" collide), and the
    inferred `details` becomes a struct with one field per key ever seen: hundreds of mostly-null columns.
    """
    from pyspark.sql import functions as F

    previous = spark.conf.get("spark.sql.caseSensitive")
    spark.conf.set("spark.sql.caseSensitive", "true")
    try:
        df = spark.read.json(str(path))
        author = [F.col(f"author.{name}").alias(f"author_{name}") for name in ("name", "avatar", "about")]
        scalars = ["main_category", "title", "subtitle", "average_rating", "rating_number", "features"]
        rest = ["description", "price", "store", "categories", "details", "bought_together"]
        df.select("parent_asin", *scalars, *author, *rest).write.mode("overwrite").parquet(str(output / "items"))
        for array in ("images", "videos"):
            exploded = df.select("parent_asin", F.posexplode(array).alias("position", "element"))
            exploded.select("parent_asin", "position", "element.*").write.mode("overwrite").parquet(
                str(output / f"item_{array}")
            )
        return spark.read.parquet(str(output / "items")).count()
    finally:
        spark.conf.set("spark.sql.caseSensitive", previous)


def _measure(spark, variant, path: Path, output: Path) -> dict:
    shutil.rmtree(output, ignore_errors=True)
    cpu, started = _jvm_cpu_seconds(spark), time.perf_counter()
    rows = variant(spark, path, output)
    seconds = time.perf_counter() - started
    cpu_seconds = None if cpu is None else _jvm_cpu_seconds(spark) - cpu
    mb = path.stat().st_size / 1_000_000
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": None if cpu_seconds is None else round(cpu_seconds, 2),
        "items_rows": rows,
        "items_per_s": round(rows / seconds),
        "mb_per_s": round(mb / seconds, 2),
    }


def _fit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Least-squares line y = slope * x + intercept, and its R²."""
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx
    intercept = mean_y - slope * mean_x
    total = sum((y - mean_y) ** 2 for y in ys)
    residual = sum((y - slope * x - intercept) ** 2 for x, y in zip(xs, ys, strict=True))
    return slope, intercept, 1 - residual / total if total else 1.0


def run(work_dir: Path, sizes: list[int] | None = None) -> dict:
    """Generate the inputs, time the job and the plain approach at each size, print a table; returns the numbers."""
    sizes = sorted(sizes or DEFAULT_SIZES)
    if len(sizes) < 2:
        raise ValueError("linear scaling needs at least two sizes")
    _import_paths()
    work_dir.mkdir(parents=True, exist_ok=True)
    inputs = {size: _input(work_dir, size) for size in sizes}
    spark = local_session("datalake-bench-kindle")
    # Class loading and JIT compilation happen once per JVM, and a small file does not make every path hot: warm
    # up on the smallest measured input (measured on a 5,000-item warm-up, the first 50,000-item run took 1.7x).
    warm_up = inputs[sizes[0]][0]
    _measure(spark, _job, warm_up, work_dir / "out-job")
    _measure(spark, _plain, warm_up, work_dir / "out-plain")
    rows = []
    for size in sizes:
        path, counts = inputs[size]
        job = _measure(spark, _job, path, work_dir / "out-job")
        plain = _measure(spark, _plain, path, work_dir / "out-plain")
        if job["items_rows"] != counts["items"]:
            raise RuntimeError(f"the job wrote {job['items_rows']} items for {counts['items']} distinct ones")
        rows.append(
            {
                "items": size,
                "lines": counts["lines"],
                "file_mb": round(path.stat().st_size / 1_000_000, 1),
                "job": job,
                "plain": plain,
                "ratio": round(job["seconds"] / plain["seconds"], 2),
                "cpu_ratio": None
                if job["cpu_seconds"] is None
                else round(job["cpu_seconds"] / plain["cpu_seconds"], 2),
                "us_per_item": round(job["seconds"] / size * 1e6, 1),
            }
        )
    slope, intercept, r2 = _fit([r["items"] for r in rows], [r["job"]["seconds"] for r in rows])
    growth = rows[-1]["us_per_item"] / rows[0]["us_per_item"]
    summary = {
        "sizes": rows,
        "fit": {"us_per_item": round(slope * 1e6, 1), "intercept_s": round(intercept, 2), "r2": round(r2, 4)},
        "per_item_growth": round(growth, 2),
        "targets_met": all(r["ratio"] < 1 for r in rows) and growth <= MAX_PER_ITEM_GROWTH,
    }
    _print(summary)
    return summary


def _print(summary: dict) -> None:
    print("kindle_metadata job vs plain spark.read.json (inference) + flatten, local[2]; seconds are wall time")
    header = f"{'items':>8} {'MB':>6} {'job s':>7} {'job cpu':>8} {'items/s':>8} {'MB/s':>6}"
    print(f"{header} {'plain s':>8} {'plain cpu':>9} {'items/s':>8} {'MB/s':>6} {'job/plain':>9} {'cpu ratio':>9}")
    for r in summary["sizes"]:
        job, plain = r["job"], r["plain"]
        print(
            f"{r['items']:>8} {r['file_mb']:>6.1f} {job['seconds']:>7.2f} {job['cpu_seconds'] or 0:>8.1f}"
            f" {job['items_per_s']:>8} {job['mb_per_s']:>6.2f} {plain['seconds']:>8.2f}"
            f" {plain['cpu_seconds'] or 0:>9.1f} {plain['items_per_s']:>8} {plain['mb_per_s']:>6.2f}"
            f" {r['ratio']:>9.2f} {r['cpu_ratio'] or 0:>9.2f}"
        )
    fit = summary["fit"]
    per_item = ", ".join(f"{r['us_per_item']} us/item at {r['items']}" for r in summary["sizes"])
    print(f"job time = {fit['us_per_item']} us/item x items + {fit['intercept_s']} s (R² {fit['r2']}); {per_item}")
    print(
        f"per-item time, largest size over smallest: {summary['per_item_growth']} (target <= {MAX_PER_ITEM_GROWTH});"
        f" job faster than plain at every size: {all(r['ratio'] < 1 for r in summary['sizes'])};"
        f" targets met: {summary['targets_met']}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", help=f"items per input (default {DEFAULT_SIZES})")
    parser.add_argument("--work-dir", type=Path, default=ROOT / ".bench" / "kindle")
    args = parser.parse_args(argv)
    run(args.work_dir, args.sizes)


if __name__ == "__main__":
    main()
