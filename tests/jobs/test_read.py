"""jobs/_read.py: JSON Lines parsed without losing a line, and every row placed in its file and line."""

from __future__ import annotations

import json

import _read
import pytest
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines.model import Column, Table

pytestmark = pytest.mark.spark

FIELDS = T.StructType(
    [T.StructField("id", T.StringType()), T.StructField("ts", T.LongType()), T.StructField("n", T.IntegerType())]
)


def _lines(spark, *lines: str):
    return spark.createDataFrame([(line,) for line in lines], "value string")


def test_parse_json_lines_keeps_each_line_and_flags_what_does_not_fit_the_schema(spark):
    good = json.dumps({"id": 39, "ts": 1542837407796, "n": 1})
    lines = [good, good[:20], json.dumps({"id": "15", "ts": "1542837407796"}), "[1, 2]", "", "   "]
    parsed = _read.parse_json_lines(_lines(spark, *lines), FIELDS)

    got = sorted((r[_read.RECORD], r[_read.CORRUPT] is not None, r["id"], r["ts"]) for r in parsed.collect())

    # A bare number id is read as its text.
    assert got == sorted(
        [
            (good, False, "39", 1542837407796),
            (good[:20], True, None, None),
            (lines[2], True, "15", None),
            ("[1, 2]", True, None, None),
            ("", False, None, None),
            ("   ", False, None, None),
        ]
    )
    # Blank lines hold no record: they are filtered, never quarantined.
    blank = [r[_read.RECORD] for r in parsed.collect() if r[_read.FILTERED] == _read.BLANK]
    assert sorted(blank) == ["", "   "]


def test_a_line_holding_more_than_its_object_is_corrupt_as_a_whole(spark):
    # Spark's parser reads the first object of a line and ignores the rest: two records whose line break was lost
    # would lose the second one without a trace.
    good = json.dumps({"id": "a}{b", "ts": 1, "n": 1})  # `}{` inside a string is no second record
    plain = json.dumps({"id": "c", "ts": 2, "n": 2})
    more = [good + good, good + " trailing", good + ",", good[:-1] + '}}{"v": 1}', plain + plain, plain + "\x0b"]
    # More text ending in `}` without a `}{`: not sent to the full check, caught by the tokenizing one.
    joined = [plain + ", " + plain, plain + "] [" + plain, plain + " " + plain, plain + " }", plain + "}"]
    nested = json.dumps({"id": "d", "ts": 3, "n": 3, "x": {"y": [{"z": 1}, {"z": 2}]}})  # `}, {` and `}}` inside
    escaped = plain + '}] [{"v": ' + plain  # closes that check's wrapper and opens another
    lines = [good, good + " \t ", good + "\r", nested, *more, *joined, escaped]
    parsed = _read.parse_json_lines(_lines(spark, *lines), FIELDS)
    got = {r[_read.RECORD]: (r[_read.CORRUPT], r["id"]) for r in parsed.collect()}
    assert [got[line] for line in lines[:3]] == [(None, "a}{b")] * 3
    assert got[nested] == (None, "d")
    assert [got[line] for line in [*more, *joined]] == [(line, None) for line in [*more, *joined]]
    # The one shape left as Spark reads it, as _read._may_hold_more says.
    assert got[escaped] == (None, "c")


def test_one_json_value_is_what_json_loads_accepts(spark):
    texts = ['{"a": 1}', "  [1, 2] ", "42", '"x"', "null", '{"a": 1} x', '{"a": 1}{"a": 2}', '{"a": 1}] [{"a": 2}',
             '{"a": 1}}] [{"v": {"a": 2}', '{"a": 1}, {"a": 2}', '{"a": 1', "", "x", "{'a': 1}", "'x'",
             '{"a": 1}\x0b', "1, \"w\": 2", '1}, {"v": 2']  # fmt: skip

    def decided() -> dict[str, bool]:
        one = _read.one_json_value(F.col("value")).alias("one")
        return {r["value"]: r["one"] for r in _lines(spark, *texts).select("value", one).collect()}

    def loads(text: str) -> bool:
        try:
            json.loads(text)
        except ValueError:
            return False
        return True

    expected = {text: loads(text) for text in texts}
    assert decided() == expected
    # The same under ANSI (as on a runtime that sets it), where size(null) is null, not -1.
    spark.conf.set("spark.sql.ansi.enabled", "true")
    try:
        assert decided() == expected
    finally:
        spark.conf.unset("spark.sql.ansi.enabled")


def test_a_line_of_tabs_and_spaces_is_blank_and_other_columns_are_carried(spark):
    lines = spark.createDataFrame([(" \t ", 7), ("\t", 8), ('{"n": 2}', 9)], "value string, place int")
    parsed = _read.parse_json_lines(lines, FIELDS)
    assert parsed.columns == [_read.RECORD, "id", "ts", "n", _read.CORRUPT, _read.FILTERED, "place"]
    assert sorted((r["place"], r[_read.FILTERED], r["n"]) for r in parsed.collect()) == [
        (7, _read.BLANK, None),
        (8, _read.BLANK, None),
        (9, None, 2),
    ]


def test_blank_is_decided_by_the_regex_for_lines_not_starting_an_object(spark):
    # Lines starting with "{" skip the regex; every other line still meets it, white space before "{" included.
    lines = ["\x0b\f\r", ' {"n": 1}', "{", "{}", "\u00a0"]
    parsed = _read.parse_json_lines(spark.createDataFrame([(x,) for x in lines], "value string"), FIELDS)
    filtered = {r[_read.RECORD]: r[_read.FILTERED] for r in parsed.collect()}
    # U+00A0 (no-break space) is not Java's \s: a record, quarantined as malformed, never silently dropped.
    assert filtered == {"\x0b\f\r": _read.BLANK, ' {"n": 1}': None, "{": None, "{}": None, "\u00a0": None}


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


def test_a_declared_table_reads_back_with_its_declared_types(spark):
    table = Table(
        "test", "t", "echo", "a test table",
        (Column("id", "bigint"), Column("tags", "array<string>"), Column("day", "int")), "full",
    )  # fmt: skip
    assert _read.table_schema(table) == T.StructType(
        [
            T.StructField("id", T.LongType()),
            T.StructField("tags", T.ArrayType(T.StringType())),
            T.StructField("day", T.IntegerType()),
        ]
    )
