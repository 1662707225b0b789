"""jobs/_quarantine.py: rejected rows become quarantine rows of one schema, each naming its file and line."""

from __future__ import annotations

import _quarantine
import pytest
from _read import RECORD, split_stats, with_position
from pyspark.sql import functions as F

pytestmark = pytest.mark.spark


def test_quarantine_rows_fill_the_schema_with_nulls_where_a_job_has_no_file_or_position(spark):
    bad = spark.createDataFrame([("no id", 42)], "why string, raw int")
    rows = bad.select(*_quarantine.quarantine_rows("exports", F.col("why"), F.col("raw")))
    assert rows.schema.fieldNames() == _quarantine.QUARANTINE_SCHEMA.fieldNames()
    assert rows.collect() == [("exports", None, None, "no id", "42")]
    placed = bad.select(
        *_quarantine.quarantine_rows("x", F.col("why"), F.col("raw"), file=F.lit("/a.json"), position=F.lit(3))
    )
    assert placed.collect() == [("x", "/a.json", "3", "no id", "42")]


def test_rejected_rows_are_those_with_a_reason_and_keep_their_place(spark):
    classified = spark.createDataFrame(
        [(None, "kept", 1), ("bad", "rejected", 2)], f"{_quarantine.REASON} string, {RECORD} string, other int"
    )
    assert _quarantine.rejected(classified).collect() == [("bad", "rejected")]


def test_positioned_quarantine_names_the_file_and_line_of_each_reject(spark, tmp_path):
    (tmp_path / "a b.jsonl").write_text("good\nbad one\n\ngood\nbad two\n")
    lines = with_position(spark.read.text(str(tmp_path / "a b.jsonl")))
    reason = F.when(F.col("value").startswith("bad"), F.lit("bad line"))
    classified = lines.select("*", reason.alias(_quarantine.REASON), F.col("value").alias(RECORD))
    stats = split_stats(classified)
    rows = _quarantine.positioned_quarantine(spark, classified, stats, "metadata").orderBy("record").collect()
    assert rows == [
        ("metadata", str(tmp_path / "a b.jsonl"), "line 2", "bad line", "bad one"),
        ("metadata", str(tmp_path / "a b.jsonl"), "line 5", "bad line", "bad two"),
    ]
