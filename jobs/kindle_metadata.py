"""kindle_metadata: Kindle Store item metadata (JSON Lines, plain, .gz or .7z) to items, item_images and item_videos.

Each line is read once as text and parsed with an explicit schema; malformed and duplicate lines are quarantined.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Sequence

from _errors import JobInputError
from _job import JobRun, run_job
from _publish import concurrently
from _quarantine import REASON, positioned_quarantine
from _read import BLANK, CORRUPT, FILTERED, RECORD, parse_json_lines, with_position
from _sevenzip import Staged7z, stage_7z
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines.kindle import ITEM_IMAGES, ITEM_VIDEOS, ITEMS

JOB = "kindle_metadata"
INPUT = "metadata"
INPUTS = {"--input": "a .jsonl, .jsonl.gz or .jsonl.7z file, or a folder of them"}
OUTPUT = "folder for the Iceberg tables items/, item_images/, item_videos/"

MALFORMED = "malformed JSON, or a field of the wrong type"
MISSING_KEY = "missing parent_asin"
DUPLICATE = "duplicate parent_asin: kept the record with the most ratings (ties: the first raw line in sort order)"

_STRING = T.StringType()
_STRINGS = T.ArrayType(_STRING)
IMAGE = T.StructType([T.StructField(name, _STRING) for name in ("thumb", "large", "variant", "hi_res")])
VIDEO = T.StructType([T.StructField(name, _STRING) for name in ("title", "url", "user_id")])
AUTHOR = T.StructType(
    [T.StructField("avatar", _STRING), T.StructField("name", _STRING), T.StructField("about", _STRINGS)]
)
# Read into strings on purpose: a JSON number read as a string keeps its text (12.99), a nested object comes back
# as compact JSON text, and a map keeps keys that differ only by case ("Language" and "language") apart.
SOURCE_SCHEMA = T.StructType(
    [
        T.StructField("main_category", _STRING),
        T.StructField("title", _STRING),
        T.StructField("subtitle", _STRING),
        T.StructField("author", AUTHOR),
        T.StructField("average_rating", T.DoubleType()),
        T.StructField("rating_number", T.LongType()),
        T.StructField("features", _STRINGS),
        T.StructField("description", _STRINGS),
        T.StructField("price", _STRING),
        T.StructField("images", T.ArrayType(IMAGE)),
        T.StructField("videos", T.ArrayType(VIDEO)),
        T.StructField("store", _STRING),
        T.StructField("categories", _STRINGS),
        T.StructField("details", T.MapType(_STRING, _STRING)),
        T.StructField("parent_asin", _STRING),
        T.StructField("bought_together", _STRING),
    ]
)

_NUMBER = r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$"
_MONTH_NAMES = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
                "november", "december"]  # fmt: skip
# Full names, three-letter abbreviations and "sept": the spellings the product pages use.
_MONTHS = {
    **{n[:3]: i for i, n in enumerate(_MONTH_NAMES, 1)},
    **{n: i for i, n in enumerate(_MONTH_NAMES, 1)},
    "sept": 9,
}


# ---------------------------------------------------------------------------------------------------- transforms


def transform_classify(lines: DataFrame, *, partitions: int | None = None) -> DataFrame:
    """Raw lines (`value`) to REASON (why the line is quarantined; null when kept or blank), FILTERED (BLANK for a
    blank line), RECORD (the raw line unless kept) and the source fields; any other column of `lines` (its
    position in the input) is carried through.

    Of the records sharing a parent_asin the one with the most ratings is kept, ties broken by the raw text, so
    the choice does not depend on file order or partitioning. `partitions`, when given, is how many partitions the
    deduplication shuffles into (and so how many the result has), instead of spark.sql.shuffle.partitions.
    """
    carried = [c for c in lines.columns if c != "value"]
    parsed = parse_json_lines(lines, SOURCE_SCHEMA)
    asin = F.col("parent_asin")
    problem = (
        F.when(F.col(FILTERED).isNotNull(), F.col(FILTERED))
        .when(F.col(CORRUPT).isNotNull(), F.lit(MALFORMED))
        .when(asin.isNull() | (F.trim(asin) == ""), F.lit(MISSING_KEY))
    )
    # Rows with a problem get a key of their own (their raw line) so they never compete with a valid record.
    keys = [F.when(problem.isNull(), asin), F.when(problem.isNotNull(), F.col(RECORD))]
    if partitions:
        # Partitioned by the window's own keys: the window reuses this shuffle instead of adding its own.
        parsed = parsed.repartition(partitions, *keys)
    window = Window.partitionBy(*keys).orderBy(F.col("rating_number").desc_nulls_last(), F.col(RECORD))
    duplicate = F.when(problem.isNull() & (F.row_number().over(window) > 1), F.lit(DUPLICATE))
    reason = F.coalesce(F.when(F.col(FILTERED).isNull(), problem), duplicate)
    return parsed.select(
        reason.alias(REASON),
        FILTERED,
        F.when(reason.isNotNull() | F.col(FILTERED).isNotNull(), F.col(RECORD)).alias(RECORD),
        *SOURCE_SCHEMA.fieldNames(),
        *carried,
    )


# Joins the details keys into one text to lower-case them in one call; no key holds it in practice, and a row whose
# keys do hold it is looked up key by key instead (see _detail).
_KEY_SEPARATOR = "\u0000"
# The details keys lower-cased, in map order: computed once per row (a column of its own) for every _detail lookup.
_LOWER_KEYS = "_lower_keys"


def _lower_keys(details: Column) -> Column:
    joined = F.split(F.lower(F.array_join(F.map_keys(details), _KEY_SEPARATOR)), _KEY_SEPARATOR)
    # No keys join to "", which splits to one empty key: an empty map has no lower-cased keys either.
    return F.when(F.size(details) == 0, F.array().cast("array<string>")).otherwise(joined)


def _detail(details: Column, key: str) -> Column:
    """details[key], else the value of the first key equal to it but for case (the scrape spells some keys both
    ways). Needs the row's _LOWER_KEYS column: a position in it is looked up without a lambda (a higher-order
    function is interpreted row by row, several times slower than these generated calls)."""
    lowered = F.col(_LOWER_KEYS)
    position = F.array_position(lowered, key.lower()).cast("int")
    by_position = F.when(position > 0, F.element_at(F.map_values(details), position))
    # A key holding the separator splits in two: the positions no longer match the values, so filter instead.
    same_but_case = F.map_values(F.map_filter(details, lambda k, _: F.lower(k) == key.lower()))
    slow = F.try_element_at(same_but_case, F.lit(1))
    folded = F.when(F.size(lowered) == F.size(details), by_position).otherwise(slow)
    return F.coalesce(F.try_element_at(details, F.lit(key)), folded)


def _month_day_year(text: Column) -> Column:
    """'March 5, 2015' (or 'Sept. 5, 2015') as a date; null when it is not such a date.

    Built from parts rather than to_date so no pattern meets Spark's legacy-parser check and an impossible day
    (February 30) gives null under ANSI mode too.
    """
    pattern = r"^([A-Za-z]+)\.? ([0-9]{1,2}), ([0-9]{4})$"
    months = F.create_map(*[F.lit(x) for pair in _MONTHS.items() for x in pair])
    month = F.try_element_at(months, F.lower(F.regexp_extract(text, pattern, 1)))
    day = F.regexp_extract(text, pattern, 2).cast("int")
    first = F.make_date(F.regexp_extract(text, pattern, 3).cast("int"), month, F.lit(1))
    return F.when(
        text.rlike(pattern) & month.isNotNull() & day.between(1, F.dayofmonth(F.last_day(first))),
        F.date_add(first, day - 1),
    )


def _leading_int(text: Column, unit: str) -> Column:
    """The integer of '320 pages' (unit regex 'pages?'); null for anything else."""
    pattern = rf"^\s*([0-9]{{1,9}})\s*{unit}\s*$"
    return F.when(text.rlike(pattern), F.regexp_extract(text, pattern, 1).cast("int"))


def _kilobytes(text: Column) -> Column:
    """'2345 KB' -> 2345, '1.5 MB' -> 1536; null for anything else."""
    pattern = r"^\s*([0-9]{1,7}(\.[0-9]+)?)\s*([KkMm][Bb])\s*$"
    amount = F.regexp_extract(text, pattern, 1).cast("double")
    factor = F.when(F.upper(F.regexp_extract(text, pattern, 3)) == "MB", 1024).otherwise(1)
    return F.when(text.rlike(pattern), F.round(amount * factor).cast("int"))


def _count(array: Column) -> Column:
    # size(null) is -1 outside ANSI mode; a missing array holds no elements.
    return F.when(array.isNull(), 0).otherwise(F.size(array))


def transform_items(records: DataFrame) -> DataFrame:
    """Kept records (source fields) to the `items` table: structs flattened, price split, known details typed."""
    price = F.col("price")
    numeric = price.rlike(_NUMBER)
    details = F.col("details")
    # In a select of its own: the optimizer keeps a column several expressions use apart rather than repeat it.
    records = records.withColumn(_LOWER_KEYS, _lower_keys(details))
    return records.select(
        "parent_asin",
        "main_category",
        "title",
        "subtitle",
        F.col("author.name").alias("author_name"),
        F.col("author.avatar").alias("author_avatar"),
        F.col("author.about").alias("author_about"),
        "average_rating",
        "rating_number",
        "features",
        "description",
        F.when(numeric, price.cast("double")).alias("price"),
        F.when(~numeric, price).alias("price_text"),
        "store",
        "categories",
        "details",
        _detail(details, "Publisher").alias("publisher"),
        _month_day_year(_detail(details, "Publication date")).alias("publication_date"),
        _detail(details, "Language").alias("language"),
        _leading_int(_detail(details, "Print length"), "pages?").alias("print_length_pages"),
        _kilobytes(_detail(details, "File size")).alias("file_size_kb"),
        _count(F.col("images")).alias("image_count"),
        _count(F.col("videos")).alias("video_count"),
        "bought_together",
    )


def transform_images(records: DataFrame) -> DataFrame:
    """Kept records to `item_images`: one row per image with its 0-based position (no row for an empty array)."""
    exploded = records.select("parent_asin", F.posexplode("images").alias("position", "image"))
    return exploded.select(
        "parent_asin", "position", *[F.col(f"image.{name}").alias(name) for name in IMAGE.fieldNames()]
    )


def transform_videos(records: DataFrame) -> DataFrame:
    """Kept records to `item_videos`: one row per video with its 0-based position (no row for an empty array)."""
    exploded = records.select("parent_asin", F.posexplode("videos").alias("position", "video"))
    return exploded.select(
        "parent_asin", "position", *[F.col(f"video.{name}").alias(name) for name in VIDEO.fieldNames()]
    )


# ---------------------------------------------------------------------------------------------- extract / load


def extract(run: JobRun, args: argparse.Namespace) -> tuple[DataFrame, int, Staged7z]:
    """Every line of `--input` (a file or a folder of .jsonl, .jsonl.gz, .jsonl.7z) as text `value`, with the
    columns that place it in its file; how many partitions they are read in; and the staged 7z parts."""
    spark = run.spark
    files = run.open_input(INPUT, args.input, label="--input", record="line").files
    archives = [f for f in files if f.endswith(".7z")]
    staged = stage_7z(spark, archives, run.staging.scratch("7z"))
    texts = [f for f in files if not f.endswith(".7z")] + staged.parts
    if not texts:
        raise JobInputError(f"--input {args.input}: its .7z archives hold no data")
    lines = with_position(spark.read.text(texts))
    parallelism = spark.sparkContext.defaultParallelism
    # Asked once: DataFrame.rdd plans the whole read (seconds on a busy machine).
    splits = lines.rdd.getNumPartitions()
    if splits < parallelism:
        # A gzip file is one task: spread its lines before the costly JSON parsing.
        lines = lines.repartition(parallelism)
    return lines, max(splits, parallelism), staged


def load(run: JobRun, classified: DataFrame, stats: list, staged: Staged7z) -> None:
    """Stage the three tables and the quarantine from the (cached) classified lines, all four at once."""
    kept = classified.where(F.col(REASON).isNull() & F.col(FILTERED).isNull())
    tables = ((ITEMS, transform_items), (ITEM_IMAGES, transform_images), (ITEM_VIDEOS, transform_videos))
    steps = [functools.partial(run.write_table, transform(kept), table) for table, transform in tables]
    quarantine = positioned_quarantine(run.spark, classified, stats, INPUT, origin=staged.origin)
    steps.append(functools.partial(run.write_quarantine, quarantine, INPUT))
    concurrently(run, steps, [table for table, _ in tables])
    metadata = run.input(INPUT)
    metadata.written, metadata.written_to = run.report.rows(ITEMS), f"{ITEMS.name} rows, one per parent_asin"


def run(run: JobRun, args: argparse.Namespace) -> None:
    """Flatten Kindle Store item metadata (JSON Lines) into items, item_images and item_videos."""
    classified = None
    try:
        # The deduplication shuffles into as many partitions as the read has splits, which Spark sized from the input
        # (128 MB each by default), never into spark.sql.shuffle.partitions (200 on a cluster whatever the input:
        # adaptive execution, with its default parallelismFirst, merges only partitions below 1 MB). The tables'
        # files are sized by the write itself, to each table's write.target-file-size-bytes (_iceberg.sized_writes).
        lines, partitions, staged = extract(run, args)
        # Four outputs read the parsed lines: parse (and shuffle for duplicates) once, not four times. A local
        # checkpoint measured ~12% less CPU, but a lost executor would fail the run where a cache recomputes.
        classified = transform_classify(lines, partitions=partitions).persist(StorageLevel.MEMORY_AND_DISK)
        # Checked before anything is written: a file of garbage must not replace yesterday's tables.
        stats = run.count_classified(INPUT, classified, filters=(BLANK,))
        load(run, classified, stats, staged)
    finally:
        if classified is not None:
            classified.unpersist()


def main(argv: Sequence[str] | None = None) -> dict:
    return run_job(JOB, argv, run, inputs=INPUTS, output=OUTPUT)


if __name__ == "__main__":
    main()
