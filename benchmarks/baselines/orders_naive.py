"""Orders, naive: every export read as multi-line JSON with schema inference, the latest export of each order kept by
a window over the file name, products exploded into order_items, then orders aggregated back from them (a second
pass over the same rows, nothing cached)."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Window
from pyspark.sql import functions as F

from benchmarks.baselines._args import parse, session


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(__doc__, argv, "--input")
    spark = session("orders-naive")
    exports = spark.read.option("multiLine", "true").json(args.input).withColumn("file", F.input_file_name())
    exports = exports.where(F.col("order_id").isNotNull())
    latest = Window.partitionBy("order_id").orderBy(F.col("file").desc())
    orders = exports.withColumn("n", F.row_number().over(latest)).where(F.col("n") == 1)
    fields = [
        F.col("order_id").cast("string").alias("order_id"),
        F.to_date("order_date").alias("order_date"),
        F.col("total_amount").cast("decimal(12,2)").alias("total_amount"),
        F.col("customer.customer_id").cast("string").alias("customer_id"),
        F.col("customer.name").alias("customer_name"),
        F.col("customer.email").alias("customer_email"),
        F.col("customer.address").alias("customer_address"),
    ]
    items = (
        orders.select(*fields, F.explode("products").alias("p"))
        .select(
            "*",
            F.col("p.product_id").cast("string").alias("product_id"),
            F.col("p.name").alias("product_name"),
            F.col("p.category").alias("product_category"),
            F.col("p.price").cast("decimal(12,2)").alias("price"),
            F.col("p.quantity").cast("int").alias("quantity"),
            (F.col("p.price") * F.col("p.quantity")).cast("decimal(12,2)").alias("line_amount"),
        )
        .drop("p")
    )
    items.write.mode("overwrite").parquet(str(args.output / "order_items"))
    keys = [c for c in items.columns if c.startswith(("order_", "total_", "customer_"))]
    summary = items.groupBy(*keys).agg(
        F.count(F.lit(1)).alias("item_count"),
        F.sum("quantity").alias("unit_count"),
        F.sum("line_amount").alias("lines_total"),
    )
    summary.withColumn("total_matches", F.col("total_amount") == F.col("lines_total")).write.mode("overwrite").parquet(
        str(args.output / "orders")
    )
    spark.stop()


if __name__ == "__main__":
    main()
