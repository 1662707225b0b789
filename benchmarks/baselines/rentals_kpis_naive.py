"""Car rentals step 2, naive: the four KPI tables from rentals_naive's Parquet, one aggregation (and scan) each."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import functions as F

from benchmarks.baselines._args import parse, session


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(__doc__, argv, "--input")
    spark = session("rentals-kpis-naive")
    rentals = spark.read.parquet(f"{args.input}/rentals")
    vehicles = spark.read.parquet(f"{args.input}/vehicles")
    locations = spark.read.parquet(f"{args.input}/locations")
    amount = [F.avg("total_amount").alias("avg_amount"), F.max("total_amount"), F.min("total_amount")]
    hours = [F.avg("rental_duration_hours"), F.max("rental_duration_hours"), F.min("rental_duration_hours")]
    count = F.count(F.lit(1)).alias("transaction_count")
    by_location = rentals.groupBy("pickup_location").agg(
        F.sum("total_amount").alias("total_revenue"), count, *amount, F.countDistinct("vehicle_id")
    )
    names = locations.select(F.col("location_id").alias("pickup_location"), "location_name", "city", "state")
    tables = {
        "location_performance": by_location.join(names, on="pickup_location", how="left"),
        "vehicle_type_performance": rentals.join(
            vehicles.select("vehicle_id", "vehicle_type", "brand"), "vehicle_id", "left"
        )
        .groupBy("vehicle_type", "brand")
        .agg(F.sum("total_amount").alias("total_revenue"), count, *hours),
        "daily_metrics": rentals.groupBy("rental_date").agg(count, F.sum("total_amount"), *amount),
        "user_metrics": rentals.groupBy("user_id").agg(count, F.sum("total_amount"), F.avg("total_amount"), *hours),
    }
    for name, table in tables.items():
        table.write.mode("overwrite").parquet(f"{args.output}/{name}")
    spark.stop()


if __name__ == "__main__":
    main()
