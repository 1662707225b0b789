"""jobs/_publish.py: the write path. Staged tables are published whole or not at all, each as it declares."""

from __future__ import annotations

import json

import _publish
import pytest
from pyspark.sql import functions as F

from pipelines.model import Column, Table
from tests.jobs.echo_job import counted, main, table

pytestmark = pytest.mark.spark


def test_conform_selects_the_declared_columns_in_order_and_types_or_names_what_is_missing(spark):
    declared = Table("test", "t", "echo", "a test table", (Column("id", "bigint"), Column("name", "string")), "full")
    df = spark.createDataFrame([("a", 1, "extra")], "name string, id int, other string")
    conformed = _publish.conform(df, declared)
    assert conformed.dtypes == [("id", "bigint"), ("name", "string")]
    assert conformed.collect() == [(1, "a")]
    with pytest.raises(ValueError, match=r"^t: transform did not produce columns \['name'\]$"):
        _publish.conform(df.drop("name"), declared)


def test_an_unbalanced_report_publishes_nothing_and_keeps_its_counts_aside(spark, tmp_path):
    t = table("t", "full")

    def lossy(run, args):
        run.write_table(run.spark.range(3), t)
        counted(run, read=3, written=1, quarantined=1)

    with pytest.raises(RuntimeError, match=r"read != written \+ quarantined \+ filtered for inputs \['x'\]"):
        main(lossy, tmp_path)
    assert json.loads((tmp_path / "_run" / "echo.failed.json").read_text())["inputs"]["x"]["balanced"] is False
    assert not (tmp_path / "t").exists()
    assert not (tmp_path / "_run" / "echo.json").exists()


def _ids(spark, path) -> list[int]:
    return sorted(r["id"] for r in spark.read.parquet(str(path)).collect())


def test_a_failure_while_writing_the_third_table_leaves_every_table_as_it_was(spark, tmp_path):
    tables = [table(name, "full") for name in ("a", "b", "c")]

    def good(run, args):
        for t in tables:
            run.write_table(run.spark.range(2), t)
        counted(run, 2, 2)

    def fails_on_the_third(run, args):
        for t in tables[:2]:
            run.write_table(run.spark.range(5), t)
        # A task of the third write fails after others have written their part.
        broken = F.when(F.col("id") < 3, F.col("id")).otherwise(F.raise_error(F.lit("disk on fire")))
        run.write_table(run.spark.range(5).select(broken.alias("id")), tables[2])

    main(good, tmp_path)
    with pytest.raises(Exception, match="disk on fire"):
        main(fails_on_the_third, tmp_path)
    for t in tables:
        assert _ids(spark, tmp_path / t.name) == [0, 1], t.name
    assert not (tmp_path / "_staging").exists()


def test_a_full_refresh_drops_stale_partitions_and_an_incremental_one_keeps_them(spark, tmp_path):
    full, incremental = table("full", "full", partitioned=True), table("inc", "incremental", partitioned=True)

    def days(*values):
        def body(run, args):
            rows = run.spark.createDataFrame([(v * 10, v) for v in values], "id bigint, day int")
            for t in (full, incremental):
                run.write_table(rows, t)
            counted(run, len(values), len(values))

        return body

    main(days(1, 2, 3), tmp_path)
    again = main(days(3, 4), tmp_path)
    assert _ids(spark, tmp_path / "full") == [30, 40]
    assert _ids(spark, tmp_path / "inc") == [10, 20, 30, 40]
    assert again["tables"]["full"] == {"rows": 2, "path": str(tmp_path / "full"), "refresh": "full"}
    assert again["tables"]["inc"]["refresh"] == "incremental"


def test_a_failed_swap_puts_back_the_tables_already_swapped(spark, tmp_path, monkeypatch):
    tables = [table(name, "full") for name in ("a", "b")]

    def write(n):
        def body(run, args):
            for t in tables:
                run.write_table(run.spark.range(n), t)
            counted(run, n, n)

        return body

    main(write(2), tmp_path)
    real_swap = _publish.Staging._swap

    def swap_once(self, staged, live, previous):
        if live.endswith("/b"):
            raise OSError("disk full")
        return real_swap(self, staged, live, previous)

    monkeypatch.setattr(_publish.Staging, "_swap", swap_once)
    with pytest.raises(OSError, match="disk full"):
        main(write(4), tmp_path)
    assert _ids(spark, tmp_path / "a") == [0, 1]
    assert _ids(spark, tmp_path / "b") == [0, 1]
