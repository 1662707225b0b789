"""rentals_kpis: exact KPIs on inline tables, a run after the transform on the generated sample, the public facts."""

from __future__ import annotations

import csv
import shutil
from datetime import date, datetime
from decimal import Decimal

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from local.samples import rentals as sample
from pipelines import rentals as declared
from tests.jobs.published import fields, same_tables

pytestmark = pytest.mark.spark

KPI_TABLES = (
    declared.LOCATION_PERFORMANCE,
    declared.VEHICLE_TYPE_PERFORMANCE,
    declared.DAILY_METRICS,
    declared.USER_METRICS,
)


def _frame(spark, table, rows) -> DataFrame:
    from _read import table_schema

    return spark.createDataFrame(rows, table_schema(table))


def _rental(short: tuple) -> tuple:
    """A rentals row from (id, user, vehicle, start, hours, pickup, amount); the end is irrelevant to the KPIs."""
    rental_id, user, vehicle, start, hours, pickup, amount = short
    begin = datetime.fromisoformat(start)
    return (rental_id, user, vehicle, begin, None, pickup, "D1", Decimal(amount), hours, begin.date())


@pytest.fixture(scope="module")
def inline(spark):
    rentals = _frame(
        spark,
        declared.RENTALS,
        [
            _rental(("r1", "u1", "v1", "2024-03-01 10:00:00", 2.0, "L1", "20.00")),
            _rental(("r2", "u1", "v2", "2024-03-01 18:00:00", 10.0, "L1", "300.00")),
            _rental(("r3", "u2", "v1", "2024-03-02 09:00:00", 1.5, "L1", "15.00")),
            _rental(("r4", "u2", "ghost", "2024-03-02 12:00:00", 72.0, "L404", "720.00")),
            _rental(("r5", "u3", "v3", "2024-03-02 23:59:00", 4.0, "L2", "40.01")),
        ],
    )
    vehicles = _frame(
        spark,
        declared.VEHICLES,
        [
            ("v1", True, None, None, None, None, None, None, 2020, None, None, None, "Toyota", "basic"),
            ("v2", True, None, None, None, None, None, None, 2021, None, None, None, "Porsche", "high_end"),
            ("v3", False, None, None, None, None, None, None, 2019, None, None, None, "Kia", "basic"),
            ("v9", True, None, None, None, None, None, None, 2018, None, None, None, "Audi", "premium"),
        ],
    )
    locations = _frame(
        spark,
        declared.LOCATIONS,
        [
            ("L1", "Jackson, Velazquez and Gonzales", "3140 Heath Radial", "Modesto", "CA", "04540", 1.0, 2.0),
            ("L2", "Bean LLC", "51144 Patrick Isle", "Fontana", "CA", "92188", None, None),
            ("L3", "Unused", "1 Main St", "Fresno", "CA", "93701", None, None),
        ],
    )
    return rentals, vehicles, locations


def _rows(df: DataFrame, *order: str) -> list[tuple]:
    return [tuple(row) for row in df.orderBy(*order).collect()]


def test_location_performance_keeps_rentals_at_unknown_locations(inline):
    import rentals_kpis as job

    rentals, _, locations = inline
    assert _rows(job.transform_location_performance(rentals, locations), "pickup_location") == [
        ("L1", "Jackson, Velazquez and Gonzales", "Modesto", "CA", Decimal("335.00"), 3, 111.666667, Decimal("300.00"),
         Decimal("15.00"), 2),
        ("L2", "Bean LLC", "Fontana", "CA", Decimal("40.01"), 1, 40.01, Decimal("40.01"), Decimal("40.01"), 1),
        ("L404", None, None, None, Decimal("720.00"), 1, 720.0, Decimal("720.00"), Decimal("720.00"), 1),
    ]  # fmt: skip


def test_vehicle_type_performance_counts_unknown_vehicles_under_null(inline):
    import rentals_kpis as job

    rentals, vehicles, _ = inline
    assert _rows(job.transform_vehicle_type_performance(rentals, vehicles), "vehicle_type", "brand") == [
        (None, None, Decimal("720.00"), 1, 72.0, 72.0, 72.0),
        ("basic", "Kia", Decimal("40.01"), 1, 4.0, 4.0, 4.0),
        ("basic", "Toyota", Decimal("35.00"), 2, 1.75, 2.0, 1.5),
        ("high_end", "Porsche", Decimal("300.00"), 1, 10.0, 10.0, 10.0),
    ]


def test_daily_metrics_group_by_start_date(inline):
    import rentals_kpis as job

    rentals, _, _ = inline
    assert _rows(job.transform_daily_metrics(rentals), "rental_date") == [
        (date(2024, 3, 1), 2, Decimal("320.00"), 160.0, Decimal("300.00"), Decimal("20.00")),
        (date(2024, 3, 2), 3, Decimal("775.01"), 258.336667, Decimal("720.00"), Decimal("15.00")),
    ]


def test_user_metrics_spend_and_durations(inline):
    import rentals_kpis as job

    rentals, _, _ = inline
    assert _rows(job.transform_user_metrics(rentals), "user_id") == [
        ("u1", 2, Decimal("320.00"), 160.0, 6.0, 10.0, 2.0),
        ("u2", 2, Decimal("735.00"), 367.5, 36.75, 72.0, 1.5),
        ("u3", 1, Decimal("40.01"), 40.01, 4.0, 4.0, 4.0),
    ]


# --- the job end to end, after the transform, on the generated sample ---------------------------------------------


@pytest.fixture(scope="module")
def generated(spark, tmp_path_factory):
    """The sample cleaned once into a folder, then the KPI job run twice into that same folder (as the pipeline)."""
    import rentals_kpis as job
    import rentals_transform

    root = tmp_path_factory.mktemp("rentals_kpis")
    counts = sample.write_sample(root / "raw", size=300, seed=5)
    curated = str(root / "curated")
    transform = rentals_transform.main(["--input", str(root / "raw"), "--output", curated])
    first = job.main(["--input", curated, "--output", curated])
    second = job.main(["--input", curated, "--output", curated])
    return {"counts": counts, "curated": curated, "transform": transform, "first": first, "second": second}


def _table(spark, output: str, table) -> DataFrame:

    return spark.read.format("iceberg").load(f"{output}/{table.name}")


def test_report_counts_every_cleaned_rental_as_aggregated(generated):
    rentals = generated["transform"]["tables"]["rentals"]["rows"]
    assert rentals == generated["counts"]["rentals"] - generated["counts"]["rentals_malformed"]
    for report in (generated["first"], generated["second"]):
        assert report["inputs"]["rentals"]["read"] == rentals
        assert report["inputs"]["rentals"]["written"] == rentals
        assert report["inputs"]["rentals"]["balanced"]
        # The cleaned rentals it read: the snapshot the transform published, named in the report.
        assert report["inputs"]["rentals"]["snapshot_id"] == generated["transform"]["tables"]["rentals"]["snapshot_id"]
    assert same_tables(generated["second"], generated["first"])


def test_kpi_tables_have_the_declared_schema_and_unique_keys_after_a_rerun(spark, generated):
    from _read import table_schema

    for table in KPI_TABLES:
        written = spark.read.format("iceberg").load(f"{generated['curated']}/{table.name}")
        assert fields(written.schema) == fields(table_schema(table)), table.name
        assert written.count() == generated["first"]["tables"][table.name]["rows"], table.name
        assert written.select(*table.key).distinct().count() == written.count(), table.name


def test_every_kpi_table_accounts_for_every_rental_and_all_revenue(spark, generated):
    curated = generated["curated"]
    revenue = _table(spark, curated, declared.RENTALS).agg(F.sum("total_amount")).first()[0]
    count = generated["transform"]["tables"]["rentals"]["rows"]
    for table in KPI_TABLES:
        money = "total_spend" if table is declared.USER_METRICS else "total_revenue"
        totals = _table(spark, curated, table).agg(F.sum("transaction_count"), F.sum(money)).first()
        assert tuple(totals) == (count, revenue), table.name


def test_unknown_vehicles_and_locations_still_count(spark, generated):
    curated, counts = generated["curated"], generated["counts"]
    unknown_kind = _table(spark, curated, declared.VEHICLE_TYPE_PERFORMANCE).where(F.col("vehicle_type").isNull())
    assert [(r["brand"], r["transaction_count"]) for r in unknown_kind.collect()] == [
        (None, counts["rentals_unknown_vehicle"])
    ]
    unknown_place = _table(spark, curated, declared.LOCATION_PERFORMANCE).where(F.col("location_name").isNull())
    assert [(r["pickup_location"], r["transaction_count"]) for r in unknown_place.collect()] == [
        ("0000", counts["rentals_unknown_location"])
    ]


def test_the_transform_tables_survive_the_kpi_run(spark, generated):
    tables = generated["transform"]["tables"]
    for table in (declared.VEHICLES, declared.USERS, declared.RENTALS, declared.LOCATIONS):
        assert _table(spark, generated["curated"], table).count() == tables[table.name]["rows"], table.name


def test_kpis_before_the_transform_exit_2_naming_it(spark, tmp_path, capsys):
    import rentals_kpis as job

    (tmp_path / "curated").mkdir()
    with pytest.raises(SystemExit) as exit_:
        job.main(["--input", str(tmp_path / "curated"), "--output", str(tmp_path / "curated")])
    assert exit_.value.code == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("rentals_kpis: error: rentals table (written by rentals_transform, which must run first):")
    assert error.endswith(
        f"{tmp_path / 'curated' / 'rentals'} does not exist or was never published; no table was replaced"
    )
    assert "\n" not in error


def test_a_kpi_table_counting_rentals_twice_stops_the_job():
    import rentals_kpis as job

    job.refuse_double_counting(5, {"daily_metrics": 5, "user_metrics": 4})  # too few: the report shows it unbalanced
    with pytest.raises(
        RuntimeError, match=r"5 rentals read but KPI tables aggregate more: \{'location_performance': 9\}"
    ):
        job.refuse_double_counting(5, {"daily_metrics": 5, "location_performance": 9})


# --- the public sample (skipped when ../shared/datasets is absent) ----------------------------------------------


@pytest.fixture(scope="module")
def shared_kpis(spark, shared_datasets, tmp_path_factory):
    """The public rentals and locations (plus a generated vehicles.csv) cleaned, then their KPIs, once.

    users.csv is left out: the KPIs do not read it, and test_rentals_transform covers it.
    """
    import argparse

    import rentals_kpis as job
    import rentals_transform
    from _job import JobRun

    raw = tmp_path_factory.mktemp("rentals_kpis_shared") / "raw"
    raw.mkdir()
    for name in ("rental_transactions.csv", "locations.csv"):
        shutil.copy(shared_datasets / "car_rental" / name, raw / name)
    with (raw / "rental_transactions.csv").open(encoding="utf-8") as handle:
        vehicle_ids = {row["vehicle_id"] for row in csv.DictReader(handle)}
    sample.write_vehicles(raw / "vehicles.csv", vehicle_ids, seed=7)
    curated = str(raw.parent / "curated")
    run = JobRun(spark, rentals_transform.JOB, curated)
    sources = [source for source in rentals_transform.SOURCES if source.name != "users"]
    extracted = rentals_transform.extract(run, argparse.Namespace(input=str(raw)), sources)
    classified = {source.name: source.transform(extracted[source.name]) for source in sources}
    stats = rentals_transform.count_classified(run, classified)
    for source in sources:
        rentals_transform.load(run, source, classified[source.name], stats[source.name])
    # Published as the job's last step does, without its counts (this run skips the transform's users input).
    for table in run.tables:
        run.lake.publish(table, run.lake.publish_plan(table))
    run.staging.publish()
    run.staging.discard()
    return {"report": job.main(["--input", curated, "--output", curated]), "curated": curated}


@pytest.mark.shared_data
def test_public_daily_and_location_kpis_add_up_to_the_sample(spark, shared_kpis):
    curated = shared_kpis["curated"]
    assert shared_kpis["report"]["inputs"]["rentals"]["read"] == 20_080
    assert shared_kpis["report"]["inputs"]["rentals"]["written"] == 20_080
    expected = {
        declared.DAILY_METRICS.name: (152, 20_080, Decimal("16200620.00"), 0),
        declared.LOCATION_PERFORMANCE.name: (300, 20_080, Decimal("16200620.00"), 0),
        # The generated fleet's 3 types x 14 brands (every combination is rented at least once).
        declared.VEHICLE_TYPE_PERFORMANCE.name: (14, 20_080, Decimal("16200620.00"), 0),
    }
    unknown = {
        declared.DAILY_METRICS.name: F.lit(False),
        declared.LOCATION_PERFORMANCE.name: F.col("location_name").isNull(),
        declared.VEHICLE_TYPE_PERFORMANCE.name: F.col("vehicle_type").isNull(),
    }
    for table in (declared.DAILY_METRICS, declared.LOCATION_PERFORMANCE, declared.VEHICLE_TYPE_PERFORMANCE):
        facts = (
            _table(spark, curated, table)
            .agg(
                F.count(F.lit(1)),
                F.sum("transaction_count"),
                F.sum("total_revenue"),
                F.count(F.when(unknown[table.name], 1)),
            )
            .first()
        )
        assert tuple(facts) == expected[table.name], table.name


@pytest.mark.shared_data
def test_public_user_metrics_cover_every_renter(spark, shared_kpis):
    users = _table(spark, shared_kpis["curated"], declared.USER_METRICS)
    facts = users.agg(F.count(F.lit(1)), F.sum("transaction_count"), F.sum("total_spend")).first()
    assert tuple(facts) == (10_000, 20_080, Decimal("16200620.00"))
