"""Kindle, naive: infer the schema (a full pass), then flatten and write the job's three tables, nothing cached.

Without spark.sql.caseSensitive it cannot even read this data ("Language" and "language" collide), and the inferred
`details` becomes a struct with one field per key ever seen: hundreds of mostly-null columns.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import functions as F

from benchmarks.baselines._args import parse, session


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(__doc__, argv, "--input")
    spark = session("kindle-naive")
    spark.conf.set("spark.sql.caseSensitive", "true")
    df = spark.read.json(args.input)
    author = [F.col(f"author.{name}").alias(f"author_{name}") for name in ("name", "avatar", "about")]
    scalars = ["main_category", "title", "subtitle", "average_rating", "rating_number", "features"]
    rest = ["description", "price", "store", "categories", "details", "bought_together"]
    df.select("parent_asin", *scalars, *author, *rest).write.mode("overwrite").parquet(str(args.output / "items"))
    for array in ("images", "videos"):
        exploded = df.select("parent_asin", F.posexplode(array).alias("position", "element"))
        exploded.select("parent_asin", "position", "element.*").write.mode("overwrite").parquet(
            str(args.output / f"item_{array}")
        )
    spark.stop()


if __name__ == "__main__":
    main()
