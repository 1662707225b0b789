"""Kindle, the Spark floor: one read, one from_json with the job's explicit schema, one Parquet write of the items
columns. No dedupe, no quarantine, no other table: what any Spark implementation of the job must at least spend."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from pyspark.sql import functions as F

from benchmarks.baselines._args import parse, session

# The job's modules import each other from jobs/, as on EMR.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "jobs"))

from kindle_metadata import SOURCE_SCHEMA


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(__doc__, argv, "--input")
    spark = session("kindle-floor")
    parsed = spark.read.text(args.input).select(F.from_json("value", SOURCE_SCHEMA).alias("r")).select("r.*")
    author = [F.col(f"author.{name}").alias(f"author_{name}") for name in ("name", "avatar", "about")]
    columns = [c for c in SOURCE_SCHEMA.fieldNames() if c not in ("author", "images", "videos")]
    parsed.select(*columns, *author).write.mode("overwrite").parquet(str(args.output / "items"))
    spark.stop()


if __name__ == "__main__":
    main()
