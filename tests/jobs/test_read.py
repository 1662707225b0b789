"""jobs/_read.py: every row placed in its file and line, files named as people type them, tables read back."""

from __future__ import annotations

import _read
import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines.model import Column, Table

pytestmark = pytest.mark.spark


def test_lines_are_numbered_in_their_file_across_splits_and_packed_small_files(spark, tmp_path):
    (tmp_path / "big.txt").write_text("".join(f"big {n} {'x' * 60}\n" for n in range(1, 3001)))
    for i in range(3):
        (tmp_path / f"small{i}.txt").write_text("".join(f"small{i} {n}\n" for n in range(1, 4)))
    files = sorted(str(p) for p in tmp_path.iterdir())
    previous = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "32k")  # the big file is read in several splits
    try:
        lines = _read.with_position(spark.read.text(files)).persist()
        assert lines.select(_read.SPLIT).distinct().count() > 3
        stats = _read.split_stats(lines)
        numbered = _read.number_rows(spark, lines, stats).collect()
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", previous)
        lines.unpersist()
    assert len(numbered) == 3009
    for row in numbered:
        assert row["value"].split(" ")[1] == row["position"].removeprefix("line "), row
        assert row[_read.FILE].startswith(str(tmp_path)), row


def test_files_are_named_as_people_type_them(spark):
    files = spark.createDataFrame([("file:/tmp/a%20b.json",), ("file:///tmp/c.json",), ("s3://raw/a%20b",)], "f string")
    assert [r[0] for r in files.select(_read.display_file(F.col("f"))).collect()] == [
        "/tmp/a b.json",
        "/tmp/c.json",
        "s3://raw/a%20b",
    ]


def test_a_declared_table_reads_back_with_its_declared_types_partition_keys_last(spark):
    table = Table(
        "test", "t", "echo", "a test table", (Column("id", "bigint"), Column("tags", "array<string>")), "full",
        partition_keys=(Column("day", "int"),),
    )  # fmt: skip
    assert _read.table_schema(table) == T.StructType(
        [
            T.StructField("id", T.LongType()),
            T.StructField("tags", T.ArrayType(T.StringType())),
            T.StructField("day", T.IntegerType()),
        ]
    )
