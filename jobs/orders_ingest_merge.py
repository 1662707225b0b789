"""orders_ingest_merge: the rows the ingest Lambda staged (one Parquet object per source object version) merged into
the Iceberg table `ingested_items`, each order as its latest source version.

`python jobs/orders_ingest_merge.py --staging PATH --output DIR`. Later follows pipelines/orders.py's
INGEST_LATEST_FIRST (the version's time, then its key, then its version id): a later version of an order replaces
all of its lines, and the same or an earlier version (a redelivered event, a rerun, a late retry) changes nothing,
so merging A then B gives the table merging A and B together gives. The staged objects a published run read are
then deleted; one a Lambda staged meanwhile stays for the next run.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

from _errors import JobInputError, java_chain, local_path
from _files import hadoop_path, list_files
from _job import JobRun, run_job
from _quarantine import quarantine_rows
from _read import FILE, FILTERED, display_file, table_schema
from _report import RunReport, summary
from _session import runs_on_its_own
from py4j.protocol import Py4JJavaError
from pyspark.errors.exceptions.captured import CapturedException
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from pipelines import orders as spec

JOB = "orders_ingest_merge"
INPUT = "staged"
INPUTS = {"--staging": "the ingest Lambda's staged Parquet (a folder of it), merged in and then deleted"}
OUTPUT = "folder for the ingested_items table"
TABLE = spec.INGESTED_ITEMS
ORDER = "order_id"
LATER = spec.INGEST_LATEST_FIRST

# Why a staged row does not reach the table (the run report's `filtered`), by a rule of the data.
SUPERSEDED = "superseded by a later staged version of its order"
ALREADY_MERGED = "its version is already in the table (a redelivery or a rerun)"
OLDER = "older than the version of its order in the table"
# The Lambda's marker row for an order version without product lines (functions/ingest/table.staged): no row of
# the table, but when that version wins, the order's earlier lines are deleted.
EMPTIED = "an order version without product lines: its earlier lines are deleted"
FILTERS = (SUPERSEDED, ALREADY_MERGED, OLDER, EMPTIED)
# Staged rows that cannot be placed (written by something other than the Lambda, or a damaged object).
UNPLACED = f"a staged row without its {', '.join((ORDER, *LATER))}"
REASON = "reason"


def _version() -> Column:
    """A row's source version as one comparable value: Spark orders structs field by field, as LATER reads."""
    return F.struct(*[F.col(c) for c in LATER])


def transform_classify(staged: DataFrame, current: DataFrame) -> DataFrame:
    """Every staged row with REASON (why it is quarantined) and FILTERED (why it is left out), both null for a row
    to merge: a row of the latest staged version of its order, when that version is later than the table's.

    `current` is the table as published (its rows of one order all share their version: it only ever takes an
    order's lines whole)."""
    unplaced = F.lit(False)
    for column in (ORDER, *LATER):
        unplaced = unplaced | F.col(column).isNull()
    rows = staged.select(*TABLE.column_names, FILE).withColumns(
        {"_version": _version(), REASON: F.when(unplaced, F.lit(UNPLACED))}
    )
    good = rows.where(F.col(REASON).isNull())
    latest = good.groupBy(ORDER).agg(F.max("_version").alias("_latest"))
    published = current.groupBy(ORDER).agg(F.max(_version()).alias("_published"))
    classified = rows.join(latest, ORDER, "left").join(published, ORDER, "left")
    version, newest, table = F.col("_version"), F.col("_latest"), F.col("_published")
    filtered = (
        F.when(F.col(REASON).isNotNull(), F.lit(None))
        .when(version < newest, F.lit(SUPERSEDED))
        .when(table.isNotNull() & (version == table), F.lit(ALREADY_MERGED))
        .when(table.isNotNull() & (version < table), F.lit(OLDER))
        .when(F.col("product_id").isNull(), F.lit(EMPTIED))
    )
    return classified.withColumn(FILTERED, filtered).drop("_latest", "_published")


def transform_merge(classified: DataFrame) -> DataFrame:
    """The rows to merge, exactly the table's columns: for each order in them, all lines of its new version."""
    return classified.where(F.col(REASON).isNull() & F.col(FILTERED).isNull()).select(*TABLE.column_names)


def transform_covered(classified: DataFrame) -> DataFrame:
    """The orders the run replaces: those with a new version, with lines or without (an order whose new version has
    no line loses all its lines)."""
    new = F.col(REASON).isNull() & (F.col(FILTERED).isNull() | (F.col(FILTERED) == EMPTIED))
    return classified.where(new).select(ORDER).distinct()


def transform_quarantine(classified: DataFrame) -> DataFrame:
    """Staged rows that cannot be placed, as quarantine rows naming their staged object."""
    record = F.to_json(F.struct(*TABLE.column_names))
    return classified.where(F.col(REASON).isNotNull()).select(
        *quarantine_rows(INPUT, F.col(REASON), record, file=display_file(F.col(FILE)))
    )


def extract(run: JobRun, files: Sequence[str]) -> DataFrame:
    """The staged rows with the table's schema (nothing inferred), each naming its staged object (FILE)."""
    staged = run.spark.read.schema(table_schema(TABLE)).parquet(*files)
    return staged.select(*TABLE.column_names, F.col("_metadata.file_path").alias(FILE))


def published(run: JobRun) -> DataFrame:
    """The table as readers see it (main), the order and version columns only; empty before its first publish."""
    lake = run.lake
    if lake.exists(TABLE) and lake.main_snapshot(TABLE)[0] is not None:
        return run.spark.table(lake.ident(TABLE)).select(ORDER, *LATER)
    return run.spark.createDataFrame([], table_schema(TABLE)).select(ORDER, *LATER)


_NOT_PARQUET = re.compile(r"(\S+) is not a Parquet file")


def _not_parquet(error: BaseException, staging: str) -> str | None:
    """The one line for a staged object that is not Parquet (the Lambda stages nothing else), or None."""
    for _, message in java_chain(error):
        found = _NOT_PARQUET.search(message)
        if found:
            return (
                f"{local_path(found.group(1))} is not a Parquet file; the ingest Lambda stages nothing else under "
                f"--staging {staging}: move it out, then run again"
            )
    return None


def _count(run: JobRun, classified: DataFrame) -> None:
    """read = written + quarantined + filtered (per reason), written being the rows that go into the table."""
    counts = classified.groupBy(REASON, FILTERED).count().collect()
    staged = run.input(INPUT)
    staged.read = sum(row["count"] for row in counts)
    staged.quarantined = sum(row["count"] for row in counts if row[REASON] is not None)
    staged.filtered = dict.fromkeys(FILTERS, 0) | {row[FILTERED]: row["count"] for row in counts if row[FILTERED]}
    staged.written = staged.read - staged.quarantined - sum(staged.filtered.values())
    staged.written_to = f"{TABLE.name} rows"


def run(run: JobRun, args: argparse.Namespace, merged: list[str] | None = None) -> None:
    """Merge the ingest Lambda's staged rows into ingested_items: each order as its latest source version."""
    listing = list_files(run.spark, args.staging)
    if not listing.files:
        # Nothing landed since the last run: a normal day, not an error. No commit, the table stays as it is.
        print(f"{JOB}: nothing staged under --staging {args.staging}; {TABLE.name} is unchanged", file=sys.stderr)
        return
    run.open_input(INPUT, args.staging, label="--staging", record="staged row")
    classified = transform_classify(extract(run, listing.files), published(run)).persist()
    try:
        try:
            _count(run, classified)
        except (Py4JJavaError, CapturedException) as error:
            problem = _not_parquet(error, args.staging)
            if problem is None:
                raise
            raise JobInputError(problem) from None
        run.require_valid(INPUT)
        staged = run.input(INPUT)
        # Only versions the table has already (a redelivery, a rerun) or older ones: no commit at all.
        if staged.written or staged.filtered[EMPTIED]:
            run.write_table(transform_merge(classified), TABLE, covers=transform_covered(classified))
        if run.input(INPUT).quarantined:
            run.write_quarantine(transform_quarantine(classified), INPUT)
    finally:
        classified.unpersist()
    if merged is not None:
        merged.extend(listing.files)


def delete_staged(spark, files: Sequence[str]) -> None:
    """Delete the staged objects a published run read. One the Lambda wrote after the listing is not among them;
    one it rewrote meanwhile holds the same version (its key is its version's), which the table now has."""
    for file in files:
        path, fs = hadoop_path(spark, file)
        fs.delete(path, False)


def _local_folder(path: str) -> Path | None:
    """`path` as a local folder (a plain path or a file: URI), or None for any other file system (s3://)."""
    parsed = urlparse(path)
    if parsed.scheme == "file":
        return Path(parsed.path)
    return Path(path) if not parsed.scheme else None


def _holds_data(folder: Path) -> bool:
    """Whether `folder` holds a file `_files.list_files` would list: non-empty, no hidden or `_`-prefixed part."""
    if folder.is_file():
        return folder.stat().st_size > 0
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
        if any(not f.startswith((".", "_")) and (Path(root) / f).stat().st_size > 0 for f in files):
            return True
    return False


def nothing_staged(argv: Sequence[str]) -> dict | None:
    """The report of a run with nothing to merge, made without starting Spark, or None when Spark must run.

    Only `python jobs/orders_ingest_merge.py --staging DIR --output DIR` on local folders: there the JVM is this
    run's own, and starting it (with Iceberg) would cost several seconds to commit nothing. Under spark-submit, Glue
    or an active session (EMR, `make run`, the tests), with --catalog, an s3:// path, a flag the job would refuse,
    or any file system trouble, the job runs as always and reports what it finds.
    """
    if not runs_on_its_own(argv):
        return None
    # Nothing required and no help: anything this parser cannot settle is the job's own parser's to report, and this
    # one must print nothing (argparse prints a missing required argument even with exit_on_error=False).
    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    parser.add_argument("--staging")
    parser.add_argument("--output")
    try:
        args, unknown = parser.parse_known_args(list(argv))
    except (argparse.ArgumentError, SystemExit):
        return None
    given = not unknown and args.staging is not None and args.output is not None and args.output.strip()
    staging, output = (_local_folder(args.staging), _local_folder(args.output)) if given else (None, None)
    if staging is None or output is None:
        return None
    try:
        if _holds_data(staging) or (output.exists() and not output.is_dir()):
            return None
        report = RunReport(JOB, args.output)
        report.status = "published"
        report = report.save_local()
    except OSError:
        return None
    print(f"{JOB}: nothing staged under --staging {args.staging}; {TABLE.name} is unchanged", file=sys.stderr)
    return report


def main(argv: Sequence[str] | None = None) -> dict:
    # Nothing landed since the last run, the usual day: no Spark session at all where the job would start its own.
    quiet = nothing_staged(sys.argv[1:] if argv is None else argv)
    if quiet is not None:
        if argv is None:
            print(summary(quiet))
        return quiet
    merged: list[str] = []

    @functools.wraps(run)
    def merging(job_run: JobRun, args: argparse.Namespace) -> None:
        run(job_run, args, merged)

    report = run_job(JOB, argv, merging, inputs=INPUTS, output=OUTPUT)
    # Only after the publish: a run that failed or was refused leaves every staged object for the next one.
    if merged:
        from pyspark.sql import SparkSession  # noqa: PLC0415

        delete_staged(SparkSession.getActiveSession(), merged)
    return report


if __name__ == "__main__":
    main()
