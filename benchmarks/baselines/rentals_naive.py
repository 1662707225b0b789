"""Car rentals step 1, naive: each CSV read with header and schema inference, duplicates dropped, timestamps parsed,
the four cleaned tables written as Parquet (no quarantine, nothing cached)."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import functions as F

from benchmarks.baselines._args import parse, session

STAMP = "yyyy-MM-dd HH:mm:ss"


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(__doc__, argv, "--input")
    spark = session("rentals-naive")

    def read(name: str):
        return spark.read.option("header", "true").option("inferSchema", "true").csv(f"{args.input}/{name}.csv")

    out = args.output
    vehicles = read("vehicles").dropDuplicates(["vehicle_id"])
    vehicles.write.mode("overwrite").parquet(str(out / "vehicles"))
    users = read("users").dropDuplicates(["user_id"]).withColumn("email", F.lower(F.trim("email")))
    users.write.mode("overwrite").parquet(str(out / "users"))
    rentals = (
        read("rental_transactions")
        .dropDuplicates(["rental_id"])
        .withColumn("rental_start_time", F.to_timestamp(F.col("rental_start_time").cast("string"), STAMP))
        .withColumn("rental_end_time", F.to_timestamp(F.col("rental_end_time").cast("string"), STAMP))
        .where(F.col("rental_start_time").isNotNull() & (F.col("rental_end_time") >= F.col("rental_start_time")))
        .withColumn(
            "rental_duration_hours",
            (F.unix_timestamp("rental_end_time") - F.unix_timestamp("rental_start_time")) / 3600,
        )
        .withColumn("rental_date", F.to_date("rental_start_time"))
    )
    rentals.write.mode("overwrite").parquet(str(out / "rentals"))
    read("locations").dropDuplicates(["location_id"]).write.mode("overwrite").parquet(str(out / "locations"))
    spark.stop()


if __name__ == "__main__":
    main()
