"""Car rentals, step 2: KPIs per pickup location, vehicle type and brand, day and user from the cleaned tables.

Usage: rentals_kpis.py --input DIR --output DIR, where DIR is rentals_transform's output (usually the same folder).
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Sequence

from _iceberg import Lake
from _job import JobRun, run_job
from _publish import concurrently, conform
from pyspark.sql import Column, DataFrame, Observation
from pyspark.sql import functions as F

from pipelines import rentals as declared
from pipelines.model import Table

JOB = "rentals_kpis"
INPUTS = {"--input": "rentals_transform's output folder"}
OUTPUT = "curated folder: one Iceberg table per KPI table"
SOURCE_TABLES = (declared.RENTALS, declared.VEHICLES, declared.LOCATIONS)
OUTPUTS = (
    declared.LOCATION_PERFORMANCE,
    declared.VEHICLE_TYPE_PERFORMANCE,
    declared.DAILY_METRICS,
    declared.USER_METRICS,
)


def _amount_stats(prefix: str) -> list[Column]:
    # avg of a decimal stays exact (decimal(22,6)) until the declared double.
    return [
        F.avg("total_amount").cast("double").alias(f"avg_{prefix}"),
        F.max("total_amount").alias(f"max_{prefix}"),
        F.min("total_amount").alias(f"min_{prefix}"),
    ]


def _duration_stats() -> list[Column]:
    return [
        F.avg("rental_duration_hours").alias("avg_duration_hours"),
        F.max("rental_duration_hours").alias("max_duration_hours"),
        F.min("rental_duration_hours").alias("min_duration_hours"),
    ]


def _select(df: DataFrame, table: Table) -> DataFrame:
    return df.select(*table.column_names)


def transform_location_performance(rentals: DataFrame, locations: DataFrame) -> DataFrame:
    """Per pickup location; a location missing from `locations` keeps its rentals, with null name, city and state."""
    per_location = rentals.groupBy("pickup_location").agg(
        F.sum("total_amount").alias("total_revenue"),
        F.count(F.lit(1)).alias("transaction_count"),
        *_amount_stats("amount"),
        F.countDistinct("vehicle_id").alias("distinct_vehicles"),
    )
    names = locations.select(F.col("location_id").alias("pickup_location"), "location_name", "city", "state")
    return _select(per_location.join(names, on="pickup_location", how="left"), declared.LOCATION_PERFORMANCE)


def transform_vehicle_type_performance(rentals: DataFrame, vehicles: DataFrame) -> DataFrame:
    """Per vehicle type and brand; rentals of vehicles missing from `vehicles` count under a null type and brand."""
    kinds = vehicles.select("vehicle_id", "vehicle_type", "brand")
    joined = rentals.join(kinds, on="vehicle_id", how="left")
    per_kind = joined.groupBy("vehicle_type", "brand").agg(
        F.sum("total_amount").alias("total_revenue"),
        F.count(F.lit(1)).alias("transaction_count"),
        *_duration_stats(),
    )
    return _select(per_kind, declared.VEHICLE_TYPE_PERFORMANCE)


def transform_daily_metrics(rentals: DataFrame) -> DataFrame:
    """Per rental date (the day the rental started)."""
    per_day = rentals.groupBy("rental_date").agg(
        F.count(F.lit(1)).alias("transaction_count"),
        F.sum("total_amount").alias("total_revenue"),
        *_amount_stats("amount"),
    )
    return _select(per_day, declared.DAILY_METRICS)


def transform_user_metrics(rentals: DataFrame) -> DataFrame:
    """Per user_id of the rentals (users missing from the users table included)."""
    per_user = rentals.groupBy("user_id").agg(
        F.count(F.lit(1)).alias("transaction_count"),
        F.sum("total_amount").alias("total_spend"),
        F.avg("total_amount").cast("double").alias("avg_spend"),
        *_duration_stats(),
    )
    return _select(per_user, declared.USER_METRICS)


def extract(run: JobRun, args: argparse.Namespace) -> dict[str, DataFrame]:
    """The transform's published tables, their declared columns; a JobInputError if any is missing or empty."""
    found = {}
    for table in SOURCE_TABLES:
        label = f"{table.name} table (written by rentals_transform, which must run first):"
        # Only the rentals are aggregated: vehicles and locations are looked up, their rows are no KPI's records.
        read = run.open_table(table, args.input, label=label, counted=table == declared.RENTALS)
        found[table.name] = conform(read, table)
    return found


def _summed(kpi: DataFrame, table: Table) -> tuple[DataFrame, Observation]:
    """`kpi` as written, and the sum of its transaction_count, observed as the write runs (no scan of its own).

    Never empty: a KPI table has a row for every group of the rentals read, and the run stops before any write when
    none was read (an observed node below a shuffle over empty input never reports, and Observation.get waits)."""
    observation = Observation(f"aggregated_{table.name}")
    return kpi.observe(observation, F.sum("transaction_count").alias("rows")), observation


def refuse_double_counting(read: int, aggregated: dict[str, int]) -> None:
    """Fail when a KPI table aggregates more rentals than were read (a join fanned out on a duplicated key)."""
    doubled = {name: rows for name, rows in aggregated.items() if rows > read}
    if doubled:
        raise RuntimeError(f"{JOB}: {read} rentals read but KPI tables aggregate more: {doubled}")


def load(run: JobRun, kpis: dict[str, DataFrame]) -> None:
    """Stage the four KPI tables, then check what they aggregate against the rentals read."""
    observed = {t.name: _summed(kpis[t.name], t) for t in OUTPUTS}
    concurrently(run, [functools.partial(run.write_table, observed[t.name][0], t) for t in OUTPUTS], OUTPUTS)
    # Counted from the rows staged, as each table was written: a table that lost rentals (an inner join) leaves the
    # report unbalanced, one that counts some twice (a join fanning out on a duplicate key) stops the job. Either
    # way nothing is published.
    aggregated = {name: int(observation.get["rows"] or 0) for name, (_, observation) in observed.items()}
    counts = run.input(declared.RENTALS.name)
    counts.written, counts.written_to = min(aggregated.values()), "every KPI table (the sum of its transaction_count)"
    refuse_double_counting(counts.read, aggregated)


def run(run: JobRun, args: argparse.Namespace) -> None:
    """Compute the car-rental KPIs from rentals_transform's output."""
    tables = extract(run, args)
    rentals, vehicles, locations = (tables[t.name] for t in SOURCE_TABLES)
    # Counted by the rentals table's own snapshot summary (the rows main holds, which is what is read): no scan.
    source = run.lake if not run.lake.local else Lake.local_for(run.spark, args.input)
    run.input(declared.RENTALS.name).read = source.main_snapshot(declared.RENTALS)[1]
    run.require_valid(declared.RENTALS.name)
    kpis = {
        declared.LOCATION_PERFORMANCE.name: transform_location_performance(rentals, locations),
        declared.VEHICLE_TYPE_PERFORMANCE.name: transform_vehicle_type_performance(rentals, vehicles),
        declared.DAILY_METRICS.name: transform_daily_metrics(rentals),
        declared.USER_METRICS.name: transform_user_metrics(rentals),
    }
    load(run, kpis)


def main(argv: Sequence[str] | None = None) -> dict:
    return run_job(JOB, argv, run, inputs=INPUTS, output=OUTPUT)


if __name__ == "__main__":
    main()
