"""Car rentals, step 1: the marketplace CSVs read as text, validated, typed and de-duplicated by id.

Usage: rentals_transform.py --input DIR --output DIR (local paths or s3:// URIs); DIR holds vehicles.csv, users.csv,
rental_transactions.csv and locations.csv, each a file or a folder of files.
"""

from __future__ import annotations

import argparse
import csv
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce

from _errors import JobInputError, unreadable
from _files import hadoop_path, join_path
from _job import JobRun, run_job
from _publish import concurrently
from _quarantine import REASON, positioned_quarantine
from _read import CORRUPT, POSITION_COLUMNS, RECORD, split_stats, with_position
from py4j.protocol import Py4JJavaError
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines import rentals as declared
from pipelines.model import Table

JOB = "rentals_transform"
INPUTS = {"--input": "folder holding the four marketplace CSVs (each a file or a folder of files)"}
OUTPUT = "curated folder: one Iceberg table per table (DIR/<table>)"
MALFORMED = "_malformed"


VEHICLE_TYPES = ("high_end", "premium", "basic")
# An extension ("x60554", "ext. 12", "#7") ends a number; its digits are not part of the phone number.
PHONE_EXTENSION = r"(?i)\s*(x|ext\.?|extension|#)\s*\d+\s*$"


def _text(name: str) -> Column:
    """The field trimmed; blank means absent."""
    return F.nullif(F.trim(F.col(name)), F.lit(""))


def _shape(pattern: str) -> str:
    """A regex matching exactly the digit layout of a datetime pattern: `dd-MM-yy` -> `^\\d\\d-\\d\\d-\\d\\d$`."""
    return "^" + re.sub(r"[yMdHms]", r"\\d", pattern) + "$"


def _timestamp(name: str, pattern: str) -> Column:
    # Under the default timeParserPolicy (EXCEPTION) a string the legacy parser accepts but the new one rejects
    # ("2024-3-1") raises even inside try_to_timestamp, failing the job; only strings of the exact shape reach it.
    return F.when(F.col(name).rlike(_shape(pattern)), F.try_to_timestamp(F.col(name), F.lit(pattern)))


def _date(name: str, pattern: str) -> Column:
    return F.to_date(_timestamp(name, pattern))


def _flag(name: str) -> Column:
    lowered = F.lower(F.col(name))
    return F.when(lowered.isin("1", "true"), F.lit(True)).when(lowered.isin("0", "false"), F.lit(False))


def _number(name: str, type_: str) -> Column:
    # try_cast is null on a bad number whether or not spark.sql.ansi.enabled is set (a plain cast throws under ANSI).
    return F.expr(f"try_cast(`{name}` AS {type_})")


def _prepare(raw: DataFrame, header: Sequence[str]) -> DataFrame:
    """Each field trimmed (blank -> null), the raw record for quarantine, whether the CSV line was malformed, and
    the columns placing the row in its file (when `raw` has them)."""
    corrupt = F.col(CORRUPT) if CORRUPT in raw.columns else F.lit(None).cast("string")
    fields = F.to_json(F.struct(*[F.col(c) for c in header]), {"ignoreNullFields": "false"})
    return raw.select(
        *[_text(c).alias(c) for c in header],
        F.coalesce(corrupt, fields).alias(RECORD),
        corrupt.isNotNull().alias(MALFORMED),
        *[c for c in POSITION_COLUMNS if c in raw.columns],
    )


@dataclass(frozen=True)
class Rules:
    """How one source is validated: its id, fields it cannot do without, typed fields and row-level checks."""

    id_column: str
    required: tuple[str, ...] = ()
    # (field, its typed value computed from the trimmed text, the format its quarantine reason names).
    parsed: tuple[tuple[str, Column, str], ...] = ()
    # (reason, condition on the typed row) checks, the first that holds names the row's reason.
    checks: tuple[tuple[str, Column], ...] = ()
    # Among rows sharing an id, the first in this order (then by raw record, so reruns agree) is kept.
    prefer: tuple[Column, ...] = ()


def _first_reason(checks: Sequence[tuple[str, Column]]) -> Column:
    return F.coalesce(*[F.when(condition, F.lit(reason)) for reason, condition in checks])


def _classify(prepared: DataFrame, rules: Rules) -> DataFrame:
    """Typed rows plus RECORD and REASON: null for a clean row, else the first failure among a malformed CSV
    line, a missing id or required field, a non-blank value that does not parse (quarantined, never nulled), a
    failed check, and being a further copy of an id already kept.
    """
    gate = [
        ("malformed CSV line (wrong number of fields)", F.col(MALFORMED)),
        *[(f"missing {c}", F.col(c).isNull()) for c in (rules.id_column, *rules.required)],
        *[
            (f"unparseable {name}: expected {expected}", F.col(name).isNotNull() & value.isNull())
            for name, value, expected in rules.parsed
        ],
    ]
    typed = prepared.withColumn(REASON, _first_reason(gate)).withColumns(
        {name: value for name, value, _ in rules.parsed}
    )
    if rules.checks:
        typed = typed.withColumn(REASON, F.coalesce(F.col(REASON), _first_reason(rules.checks)))
    # Rejected rows sort last, so a bad copy never displaces a good row with the same id.
    order = [F.col(REASON).isNotNull(), *rules.prefer, F.col(RECORD)]
    rank = F.row_number().over(Window.partitionBy(rules.id_column).orderBy(*order))
    duplicate = F.col(REASON).isNull() & F.col(rules.id_column).isNotNull() & (rank > 1)
    return typed.withColumn(REASON, F.when(duplicate, F.lit(f"duplicate {rules.id_column}")).otherwise(F.col(REASON)))


def _finish(classified: DataFrame, table: Table) -> DataFrame:
    positions = [c for c in POSITION_COLUMNS if c in classified.columns]
    return classified.select(*table.column_names, REASON, RECORD, *positions)


def transform_vehicles(raw: DataFrame) -> DataFrame:
    """vehicles.csv (all text) -> the vehicles columns plus REASON/RECORD.

    Clean: fields trimmed; active 0/1 as boolean; dates in their source formats; vehicle_type lower-cased and one of
    high_end/premium/basic; per vehicle_id the most recently updated row wins.
    """
    rules = Rules(
        id_column="vehicle_id",
        parsed=(
            ("active", _flag("active"), "0 or 1"),
            ("expiration_date", _date("expiration_date", "dd-MM-yyyy"), "dd-MM-yyyy"),
            ("certification_date", _date("certification_date", "yyyy-MM-dd"), "yyyy-MM-dd"),
            ("vehicle_year", _number("vehicle_year", "int"), "a year"),
            (
                "last_update_timestamp",
                _timestamp("last_update_timestamp", "dd-MM-yyyy HH:mm:ss"),
                "dd-MM-yyyy HH:mm:ss",
            ),
            ("vehicle_type", F.lower(F.col("vehicle_type")), "high_end, premium or basic"),
        ),
        checks=(
            (
                "unknown vehicle_type: expected high_end, premium or basic",
                F.col("vehicle_type").isNotNull() & ~F.col("vehicle_type").isin(*VEHICLE_TYPES),
            ),
        ),
        prefer=(F.col("last_update_timestamp").desc_nulls_last(),),
    )
    return _finish(_classify(_prepare(raw, declared.VEHICLES_HEADER), rules), declared.VEHICLES)


def transform_users(raw: DataFrame) -> DataFrame:
    """users.csv (all text) -> the users columns plus REASON/RECORD.

    Clean: fields trimmed; email lower-cased; phone_number kept as given, phone_digits its digits without the
    extension; is_active 0/1 as boolean; dates yyyy-MM-dd. Users sharing an email are all kept, flagged email_shared.
    """
    email = F.lower(F.col("email"))
    rules = Rules(
        id_column="user_id",
        parsed=(
            ("driver_license_expiry", _date("driver_license_expiry", "yyyy-MM-dd"), "yyyy-MM-dd"),
            ("creation_date", _date("creation_date", "yyyy-MM-dd"), "yyyy-MM-dd"),
            ("is_active", _flag("is_active"), "0 or 1"),
        ),
    )
    classified = _classify(_prepare(raw, declared.USERS_HEADER).withColumn("email", email), rules)
    clean = F.col(REASON).isNull()
    holders = F.count(F.when(clean, F.lit(1))).over(Window.partitionBy("email"))
    digits = F.regexp_replace(F.regexp_replace(F.col("phone_number"), PHONE_EXTENSION, ""), r"\D", "")
    return _finish(
        classified.withColumns(
            {
                "email_shared": F.when(clean, F.col("email").isNotNull() & (holders > 1)),
                "phone_digits": F.nullif(digits, F.lit("")),
            }
        ),
        declared.USERS,
    )


def transform_rentals(raw: DataFrame) -> DataFrame:
    """rental_transactions.csv (all text) -> the rentals columns plus REASON/RECORD.

    Clean: fields trimmed; start and end `yyyy-MM-dd HH:mm:ss` (wall clock, read as UTC so no DST gap distorts a
    duration), end not before start; total_amount a non-negative decimal(18,2); rental_duration_hours the hours from
    start to end; rental_date the start's date. Rentals of unknown users, vehicles or locations are kept.
    """
    timestamp = "yyyy-MM-dd HH:mm:ss"
    rules = Rules(
        id_column="rental_id",
        required=("rental_start_time", "rental_end_time", "total_amount"),
        parsed=(
            ("rental_start_time", _timestamp("rental_start_time", timestamp), timestamp),
            ("rental_end_time", _timestamp("rental_end_time", timestamp), timestamp),
            ("total_amount", _number("total_amount", declared.MONEY), "a decimal amount"),
        ),
        checks=(
            ("rental_end_time before rental_start_time", F.col("rental_end_time") < F.col("rental_start_time")),
            ("negative total_amount", F.col("total_amount") < 0),
        ),
    )
    classified = _classify(_prepare(raw, declared.RENTALS_HEADER), rules)
    seconds = F.unix_timestamp("rental_end_time") - F.unix_timestamp("rental_start_time")
    return _finish(
        classified.withColumns(
            {"rental_duration_hours": seconds / F.lit(3600.0), "rental_date": F.to_date("rental_start_time")}
        ),
        declared.RENTALS,
    )


def transform_locations(raw: DataFrame) -> DataFrame:
    """locations.csv (all text) -> the locations columns plus REASON/RECORD.

    Clean: fields trimmed (zip_code stays text: leading zeros matter); latitude within ±90 and longitude within ±180.
    """
    rules = Rules(
        id_column="location_id",
        parsed=(
            ("latitude", _number("latitude", "double"), "a number"),
            ("longitude", _number("longitude", "double"), "a number"),
        ),
        # NaN compares greater than every number in Spark, so it fails these ranges too.
        checks=(
            ("latitude out of range", ~F.col("latitude").between(-90, 90)),
            ("longitude out of range", ~F.col("longitude").between(-180, 180)),
        ),
    )
    return _finish(_classify(_prepare(raw, declared.LOCATIONS_HEADER), rules), declared.LOCATIONS)


def transform_accepted(classified: DataFrame, table: Table) -> DataFrame:
    """The clean rows of a classified source, as the declared table's columns."""
    return classified.where(F.col(REASON).isNull()).select(*table.column_names)


@dataclass(frozen=True)
class Source:
    """One input CSV: `<input>/<name>.csv`, quarantined to `_quarantine/<name>/`, cleaned into `table`."""

    name: str
    header: tuple[str, ...]
    table: Table
    transform: Callable[[DataFrame], DataFrame]

    @property
    def file(self) -> str:
        return f"{self.name}.csv"


SOURCES = (
    Source("vehicles", declared.VEHICLES_HEADER, declared.VEHICLES, transform_vehicles),
    Source("users", declared.USERS_HEADER, declared.USERS, transform_users),
    Source("rental_transactions", declared.RENTALS_HEADER, declared.RENTALS, transform_rentals),
    Source("locations", declared.LOCATIONS_HEADER, declared.LOCATIONS, transform_locations),
)


def header_problem(found: Sequence[str], expected: Sequence[str]) -> str | None:
    """Why a CSV header cannot be read as `expected` (any column order is fine), or None when it can."""
    missing = [c for c in expected if c not in found]
    unexpected = [c for c in dict.fromkeys(found) if c not in expected]
    repeated = sorted({c for c in found if found.count(c) > 1})
    problems = [
        f"{label} {names}"
        for label, names in (("missing columns", missing), ("unexpected columns", unexpected), ("repeated", repeated))
        if names
    ]
    return "; ".join(problems) or None


def _first_line(spark: SparkSession, file: str) -> str:
    """The first line of a (possibly compressed) file, read through Hadoop's file system: no Spark job per file."""
    jvm = spark.sparkContext._jvm
    path, fs = hadoop_path(spark, file)
    try:
        stream = fs.open(path)
        codec = jvm.org.apache.hadoop.io.compress.CompressionCodecFactory(fs.getConf()).getCodec(path)
        if codec is not None:
            stream = codec.createInputStream(stream)
        reader = jvm.java.io.BufferedReader(jvm.java.io.InputStreamReader(stream, "UTF-8"))
        try:
            return reader.readLine() or ""
        finally:
            reader.close()
    except Py4JJavaError as error:
        raise JobInputError(unreadable(file, error)) from None


def _header(spark: SparkSession, files: Sequence[str], source: Source, path: str) -> list[str]:
    """The header every file of `source` shares, checked against the expected columns."""
    headers = set()
    for file in files:
        line = _first_line(spark, file).lstrip("\ufeff")
        headers.add(tuple(name.strip() for name in next(csv.reader([line]), [])))
    if len(headers) > 1:
        raise JobInputError(f"{source.file}: the files under {path} have different headers")
    found = list(headers.pop())
    problem = header_problem(found, source.header)
    if problem:
        raise JobInputError(f"{source.file}: header of {path} has {problem}; expected {list(source.header)}")
    return found


def _read_source(run: JobRun, path: str, source: Source) -> DataFrame:
    """One source read as text in its own header's column order, with the columns placing each row."""
    files = run.open_input(source.name, path, label=f"{source.file}:", record="row").files
    columns = _header(run.spark, files, source, path)
    schema = T.StructType([T.StructField(c, T.StringType()) for c in [*columns, CORRUPT]])
    # escape='"': the files follow RFC 4180 (a quote inside a quoted field is doubled), not Spark's backslash default.
    raw = run.spark.read.csv(
        list(files), schema=schema, header=True, escape='"', mode="PERMISSIVE", columnNameOfCorruptRecord=CORRUPT
    )
    return with_position(raw)


def extract(run: JobRun, args: argparse.Namespace, sources: Sequence[Source] = SOURCES) -> dict[str, DataFrame]:
    """Each source (`<input>/<name>.csv`; all four unless `sources` says otherwise) by name; every one is found and
    its header checked before any work, so a missing file leaves the previous output whole."""
    return {source.name: _read_source(run, join_path(args.input, source.file), source) for source in sources}


def count_classified(run: JobRun, classified: dict[str, DataFrame]) -> dict[str, list]:
    """Per source, its `split_stats` by REASON (rows per file split and reason), counted in one Spark job over every
    classified source rather than one per source; `JobRun.record_counts` sets each input's counts and stops the run
    (nothing written) when a source holds no record or no valid one.

    With `classified` cached, this one pass over the CSVs also fills the caches the tables and quarantines are
    written from: each file is read once in the whole run.
    """
    tagged = [
        frame.select(F.lit(name).alias("source"), REASON, *POSITION_COLUMNS) for name, frame in classified.items()
    ]
    stats = split_stats(reduce(DataFrame.unionByName, tagged), "source", REASON)
    found = {name: [row for row in stats if row["source"] == name] for name in classified}
    for name, rows in found.items():
        run.record_counts(name, rows)
    return found


def load(run: JobRun, source: Source, classified: DataFrame, stats: list) -> None:
    """Stage the clean table and the quarantine of one source, both from `classified` (cached by the caller: the
    table and the quarantine each read every classified row, and classifying, parse and window, is the costly
    part). The cached plan keeps its window's shuffle partitions, but the write path sizes the table's files from
    the data (_iceberg.sized_writes), so they do not decide the file count."""
    counts = run.input(source.name)
    counts.written = run.write_table(transform_accepted(classified, source.table), source.table)
    counts.written_to = f"{source.table.name} rows, one per {source.table.key[0]}"
    # The data row in its file (the header and blank lines not counted): Spark's CSV reader skips both.
    quarantine = positioned_quarantine(run.spark, classified, stats, source.name, unit="row")
    run.write_quarantine(quarantine, source.name)


def run(run: JobRun, args: argparse.Namespace) -> None:
    """Clean the car-rental marketplace CSVs into vehicles, users, rentals and locations."""
    extracted = extract(run, args)
    classified = {source.name: source.transform(extracted[source.name]).persist() for source in SOURCES}
    try:
        stats = count_classified(run, classified)
        loads = [
            functools.partial(load, run, source, classified[source.name], stats[source.name]) for source in SOURCES
        ]
        concurrently(run, loads, [source.table for source in SOURCES])
    finally:
        for frame in classified.values():
            frame.unpersist()


def main(argv: Sequence[str] | None = None) -> dict:
    return run_job(JOB, argv, run, inputs=INPUTS, output=OUTPUT)


if __name__ == "__main__":
    main()
