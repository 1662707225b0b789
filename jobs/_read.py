"""How the jobs read: each row placed in its file (so quarantine can name a file and a line), JSON Lines parsed with
an explicit schema keeping every line that does not fit, and a declared table's Spark schema to read it back.

Shipped beside the jobs (in the `--py-files` archive), never run on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

if TYPE_CHECKING:
    from pipelines.model import Table

# Columns a line-based read carries so a record can be traced to its file and line (see `with_position`).
FILE, SPLIT, ROW = "_file", "_split", "_row"
POSITION_COLUMNS = (FILE, SPLIT, ROW)
# The source record exactly as read (a line of text), kept beside the parsed fields for the quarantine.
RECORD = "record"
# Why a record is left out by a documented rule (counted as filtered in the run report, never quarantined).
FILTERED = "filter_reason"
# The filter reason of a line holding nothing but white space: read, but not a record.
BLANK = "blank line"
# Spark's column for a record that does not fit the schema (PERMISSIVE mode).
CORRUPT = "_corrupt_record"


def table_schema(table: Table) -> T.StructType:
    """The Spark schema of a declared table (used to read it back, and by tests)."""
    # pyspark 3.5 has no public DDL parser (StructType.fromDDL arrived in 4.0); this one needs a SparkContext.
    return T._parse_datatype_string(table.ddl())


def display_file(file: Column) -> Column:
    """A file URI as people read it: `file:/tmp/a%20b.json` -> `/tmp/a b.json`; s3:// URIs stay as they are."""
    return F.when(file.startswith("file:"), F.url_decode(F.regexp_replace(file, "^file:(//)?", ""))).otherwise(file)


# Spark's JSON parser takes 'single-quoted' names and texts by default; JSON (and json.loads, the ingest Lambda's)
# does not. Given to every parse of raw records.
JSON_OPTIONS = {"allowSingleQuotes": "false"}


def in_array(text: Column) -> Column:
    """`[text]`: inside one more array, most text after a value (`{...} junk`, a second object) is a parse error,
    where from_json on its own stops after the first value and ignores the rest (see one_json_value)."""
    return F.concat(F.lit("["), text, F.lit("]"))


def _one_element(wrapped: Column, schema: str) -> Column:
    """Whether `wrapped` parses as an array of exactly one element (false, never null, when it does not parse: an
    ANSI session's size(null) is null)."""
    return F.coalesce(F.size(F.from_json(wrapped, schema, JSON_OPTIONS)), F.lit(-1)) == 1


def in_object_once(text: Column) -> Column:
    """Whether `text`, as the value of a key (`[{"v": text}]`), parses with nothing after it. The value is skipped,
    not built (the schema has no field `v`): a tokenizing pass, cheaper than a parse."""
    return _one_element(F.concat(F.lit('[{"v":'), text, F.lit("}]")), "array<struct<w:int>>")


def one_json_value(text: Column) -> Column:
    """Whether `text` is exactly one JSON value, as Python's json.loads (the ingest Lambda's) decides.

    Spark's JSON parser reads the first value and ignores whatever follows it (`{..} junk`, `{..}{..}`: two
    records whose line break was lost). Inside a wrapper, text after the value is an error, unless that text
    closes the wrapper first: `{..}] [{..}` is one element of `[...]`, `{..}}] [{"v":{..}` one of `[{"v": ...}]`.
    Nothing after a value closes both (one needs a `]`, the other a `}`, each an error inside the other), so the
    text must be one element in each. False when `text` is null. Where Spark's parser still differs from
    json.loads: it also reads INF, +INF, -INF and +Infinity as numbers, and refuses a number of over 1,000 digits.
    """
    return _one_element(in_array(text), "array<string>") & in_object_once(text)


def _may_hold_more(line: Column) -> Column:
    """Whether a line of one JSON object needs the full one_json_value check: it does not end with `}` (JSON's white
    space aside), or holds `}{`, as two records whose line break was lost do. Cheap (no parse: one byte search of the
    line). one_json_value parses a line twice more (+16% of the Kindle job's time when run on every line); every
    other line gets in_object_once alone, one tokenizing pass (measured within noise on the Kindle job at 300k
    items, whole processes): it catches ` {..}`, `, {..}`, `] [{..}` or `}` after the object. Missed: text after the
    object that closes that check's wrapper and opens another (`{..}}] [{"v": {..}`), read as its first object."""
    ends_with_brace = F.when(line.endswith("}"), F.lit(True)).otherwise(line.rlike(r"\}[ \t\r]*\z"))
    return ~ends_with_brace | (F.instr(line, "}{") > 0)


def _holds_more(line: Column) -> Column:
    """Whether a line holds more than one JSON value (see _may_hold_more for the one case missed)."""
    return F.when(_may_hold_more(line), ~one_json_value(line)).otherwise(~in_object_once(line))


def parse_json_lines(lines: DataFrame, fields: T.StructType) -> DataFrame:
    """Text lines (`value`) parsed as JSON objects with `fields`: RECORD (the line as read), the fields, CORRUPT and
    FILTERED (BLANK for a line of nothing but white space, which holds no record; else null).

    CORRUPT is set when the line is not one JSON object of these types (truncated text, an array, a string where a
    number belongs, anything after the object: see one_json_value). Any other column of `lines` (its position in the
    input) is carried through.
    """
    schema = T.StructType([*fields.fields, T.StructField(CORRUPT, T.StringType())])
    options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT, **JSON_OPTIONS}
    # Java's \s: space, tab, line breaks, vertical tab and form feed; nothing else is a blank line. A regex turns
    # the whole line into a Java string first (a tenth of a job's time when run on every line), so a line that
    # starts a JSON object, which no blank line does, is settled by its first byte.
    value = F.col("value")
    blank = F.when(value.startswith("{"), F.lit(False)).otherwise(value.rlike(r"^\s*$"))
    # A line holding more than its one object is corrupt as a whole: read as its first object, the rest would be lost.
    more_than_one = F.struct(*[F.lit(None).cast(f.dataType).alias(f.name) for f in fields.fields], value.alias(CORRUPT))
    parsed = (
        F.when(blank, F.lit(None))
        .when(_holds_more(value), more_than_one)
        .otherwise(F.from_json("value", schema, options))
    )
    carried = [c for c in lines.columns if c != "value"]
    return lines.select(
        F.col("value").alias(RECORD),
        parsed.alias("parsed"),
        F.when(blank, F.lit(BLANK)).alias(FILTERED),
        *carried,
    ).select(RECORD, "parsed.*", FILTERED, *carried)


# ------------------------------------------------------------------------------------------ line positions


def with_position(scan: DataFrame) -> DataFrame:
    """A file scan plus FILE, SPLIT and ROW: the file, where its split starts, and an id rising line by line.

    Applied directly to `spark.read...`: monotonically_increasing_id is the partition and the row's index in it,
    and a split's rows are contiguous and in order within a partition, so a split's first line has its smallest
    ROW. Being non-deterministic, it also keeps Spark from pushing a filter below it and renumbering.
    """
    return scan.select(
        "*",
        F.col("_metadata.file_path").alias(FILE),
        F.col("_metadata.file_block_start").alias(SPLIT),
        F.monotonically_increasing_id().alias(ROW),
    )


def split_stats(df: DataFrame, *keys: str) -> list:
    """Per (FILE, SPLIT, *keys): its rows and first ROW, in one pass; also yields counts per key for a report."""
    return df.groupBy(FILE, SPLIT, *keys).agg(F.min(ROW).alias("first_row"), F.count(F.lit(1)).alias("rows")).collect()


Origin = Callable[[str], tuple[str, int]]


def _as_is(file: str) -> tuple[str, int]:
    return file, 0


def number_rows(
    spark: SparkSession, rows: DataFrame, stats: Iterable, *, unit: str = "line", origin: Origin = _as_is
) -> DataFrame:
    """`rows` (from a `with_position` read) with FILE named for people and `position` ("line 12") added.

    `stats` are `split_stats` over every row of the same read (lines filtered later included). `origin` maps a
    file read to (the file to name, its order there): the parts a 7z archive was unpacked into are numbered as
    one file, the archive.
    """
    splits: dict[tuple[str, int], list[int]] = {}
    for stat in stats:
        first_row, count = splits.get((stat[FILE], stat[SPLIT]), (None, 0))
        lowest = stat["first_row"] if first_row is None else min(first_row, stat["first_row"])
        splits[(stat[FILE], stat[SPLIT])] = [lowest, count + stat["rows"]]
    next_line: dict[str, int] = {}
    starts = []
    for (file, split), (first_row, count) in sorted(splits.items(), key=lambda s: (*origin(s[0][0]), s[0][1])):
        named = origin(file)[0]
        first_line = next_line.get(named, 1)
        starts.append((file, split, first_row, first_line, named))
        next_line[named] = first_line + count
    schema = f"{FILE} string, {SPLIT} bigint, _first_row bigint, _first_line bigint, _named string"
    table = F.broadcast(spark.createDataFrame(starts, schema))
    number = F.col("_first_line") + F.col(ROW) - F.col("_first_row")
    return (
        rows.join(table, [FILE, SPLIT], "left")
        .withColumn(FILE, display_file(F.coalesce(F.col("_named"), F.col(FILE))))
        .withColumn("position", F.concat(F.lit(f"{unit} "), number.cast("string")))
        .drop("_first_row", "_first_line", "_named", SPLIT, ROW)
    )
