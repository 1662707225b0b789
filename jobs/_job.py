"""The frame every job runs in: its command line, its session, its run (inputs, staged outputs, report), and the
one line a user gets for any error they can fix.

Every job's `main(argv)` is `run_job(JOB, argv, run, inputs=INPUTS, output=OUTPUT)`: it parses the flags, gets the
session, checks every path before any work, calls the job's `run(run, args)` against a `JobRun` (which writes each
table to its Iceberg `audit` branch), and publishes (_publish.publish) only when the whole run succeeded and passed
the gate. Exit codes: 0 published, 2 an error the user can fix, 3 the gate refused the run; the run report
(`<output>/_run/<job>.json`) says which, with the error and the gate's rules. Shipped beside the jobs (in the
`--py-files` archive with `pipelines/`), never run on its own.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

try:
    import pipelines  # noqa: F401  (on EMR it comes from the --py-files archive)
except ImportError:  # `python jobs/<job>.py` from a checkout: the repository root holds pipelines/
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _errors import JobInputError, UserError, damaged, decompression_failure, read_failure
from _files import Listing, check_file_system, check_writable, first_damaged, remove_if_empty, require_files, within
from _gate import GateFailed
from _iceberg import Lake, PublishConflict
from _publish import Staging, publish, write_table
from _quarantine import REASON
from _read import BLANK, FILTERED, split_stats
from _report import InputCount, RunReport, summary
from _session import GLUE_RUN_ARGUMENT, ICEBERG_EXTENSIONS, has_iceberg, iceberg_jar, job_session
from py4j.protocol import Py4JJavaError
from pyspark.errors.exceptions.captured import CapturedException
from pyspark.sql import DataFrame, SparkSession

from pipelines import PIPELINES
from pipelines.model import DEFAULT_MAX_QUARANTINED_SHARE, Table

# How many quarantine reasons a "no valid record" error names.
REASONS_SHOWN = 3
# The end of every error about the input: whatever went wrong, the published tables are the previous run's.
UNTOUCHED = "no table was replaced"
# Exit codes: a user error (flags, paths, input), and a run the gate refused.
USER_ERROR = 2
GATE_FAILED = 3


class JobRun:
    """One run of a job: its session, its inputs' counts, and its outputs, staged until `run_job` publishes them."""

    def __init__(self, spark: SparkSession, job: str, output: str, lake: Lake | None = None) -> None:
        self.spark = spark
        self.report = RunReport(job, output)
        self.staging = Staging(spark, output, job)
        self.lake = lake or Lake.local_for(spark, output)
        # The tables this run wrote to their audit branch, in order: the ones it publishes.
        self.tables: list[Table] = []
        self._labels: dict[str, str] = {}
        self._listings: list[Listing] = []
        steps = [step for p in PIPELINES.values() for step in p.steps if step.job == job]
        self._step = steps[0] if steps else None

    def quarantine_limit(self, name: str) -> float:
        """The largest share of input `name`'s records the gate lets this run quarantine (pipelines/, per step)."""
        return self._step.quarantine_limit(name) if self._step else DEFAULT_MAX_QUARANTINED_SHARE

    def open_input(self, name: str, path: str, *, label: str, record: str = "record", counted: bool = True) -> Listing:
        """The data files of input `name` at `path` (a JobInputError if none); in the report from now on, unless
        it is not `counted` (a lookup whose rows are nobody's records).

        `label` names the input in errors (its flag, or its file name); `record` is what one record is called.
        """
        if self.lake.local and within(self.spark, self.lake.output, path):
            # Its tables' data and metadata files would be the next run's input records.
            raise JobInputError(
                f"--output {self.lake.output} is inside {label} {path}: the next run would read this run's tables "
                "as input; give an --output outside it"
            )
        listing = require_files(self.spark, path, label)
        self._listings.append(listing)
        if counted:
            self._labels[name] = label
            self.report.add_input(name, path, listing, record=record, quarantine=self.staging.quarantine_path(name))
        return listing

    def open_table(self, table: Table, path: str, *, label: str, counted: bool = True) -> DataFrame:
        """The published rows (main) of another job's `table`: at `path/<table>` locally (`path` being that job's
        --output), in this run's catalog in the cloud; a JobInputError when it does not exist or was never published.
        In the report as an input named after the table (its rows are its records), unless not `counted`."""
        lake = self.lake if not self.lake.local else Lake.local_for(self.spark, path)
        snapshot = lake.main_snapshot(table)[0] if lake.exists(table) else None
        if snapshot is None:
            raise JobInputError(f"{label} {lake.path(table)} does not exist or was never published")
        if counted:
            self._labels[table.name] = label
            self.report.add_input(table.name, lake.path(table), record="row", snapshot_id=snapshot)
        # The snapshot counted and named in the report, even if the other job publishes again meanwhile.
        return lake.read_snapshot(table, snapshot)

    def input(self, name: str) -> InputCount:
        return self.report.inputs[name]

    def count_classified(self, name: str, classified: DataFrame, *, filters: Iterable[str] = ()) -> list:
        """Count input `name` from its classified rows (`with_position` columns, REASON and FILTERED) in one Spark
        pass, then `record_counts`. Returns the `split_stats` that number the quarantined lines."""
        stats = split_stats(classified, REASON, FILTERED)
        self.record_counts(name, stats, filters=filters)
        return stats

    def record_counts(self, name: str, stats: Iterable, *, filters: Iterable[str] = ()) -> None:
        """Set input `name`'s read, quarantined and filtered-per-reason counts (`filters` listed even when none
        applied) from its `split_stats` rows by REASON (and FILTERED, when the rows have it); then stop the run if
        none is valid, before anything is written. For a job that counts several inputs in one pass."""
        quarantined, filtered = Counter(), Counter(dict.fromkeys(filters, 0))
        read = 0
        for row in stats:
            fields = row.asDict()
            read += fields["rows"]
            if fields[REASON] is not None:
                quarantined[fields[REASON]] += fields["rows"]
            elif fields.get(FILTERED) is not None:
                filtered[fields[FILTERED]] += fields["rows"]
        count = self.input(name)
        count.read = read
        count.quarantined = sum(quarantined.values())
        count.filtered = dict(filtered)
        self.require_valid(name, quarantined)

    def write_table(self, df: DataFrame, table: Table, *, covers: DataFrame | None = None) -> int:
        """Write `df` to `table`'s audit branch (published at the end of a run that passed the gate); returns its
        rows. A merge table's `covers`: the merge keys the run replaces (default: those in `df`), so that a key
        whose new version has no rows loses its old ones."""
        if any(t.name == table.name for t in self.tables):
            raise ValueError(f"{table.name}: written twice in one run")
        previous = self.lake.main_snapshot(table) if self.lake.exists(table) else (None, 0)
        rows = write_table(self.lake, df, table, covers)
        self.tables.append(table)
        return self.report.add_table(table, rows, self.lake.path(table), previous)

    def write_quarantine(self, df: DataFrame, name: str) -> int:
        """Stage the rejected records of input `name` (QUARANTINE_SCHEMA); returns and counts them."""
        self.input(name).quarantined = self.staging.write_quarantine(df, name)
        return self.input(name).quarantined

    def require_valid(self, name: str, reasons: Mapping[str, int] | None = None) -> None:
        """A JobInputError when input `name` holds no record, or no valid one: then no table is replaced.

        `reasons` (quarantine reason -> records) is named in the message; without it the staged quarantine is read.
        """
        count = self.input(name)
        subject = f"{self._labels.get(name, name)} {count.path}"
        if count.read == count.filtered.get(BLANK, 0):
            raise JobInputError(f"{subject} holds no records{', only blank lines' if count.read else ''}")
        if count.valid > count.filtered.get(BLANK, 0):
            return
        if reasons is None and count.quarantined:
            reasons = self.staging.quarantine_reasons(name)
        top = sorted((reasons or {}).items(), key=lambda item: (-item[1], item[0]))[:REASONS_SHOWN]
        why = "; ".join(f"{n:,} {reason}" for reason, n in top)
        raise JobInputError(f"{subject}: none of its {count.read:,} {count.record}s is valid ({why}); fix the input")

    def explain(self, error: BaseException) -> str | None:
        """The one line for a Spark failure the input caused (a file that cannot be read), or None for a bug."""
        problem = read_failure(error)
        detail = None if problem else decompression_failure(error)
        if detail:
            found = first_damaged(self.spark, [file for listing in self._listings for file in listing.files])
            problem = damaged(*found) if found else None
        return problem


class _Parser(argparse.ArgumentParser):
    """argparse whose mistakes (unknown or missing flags) are one line, like every other error of a job."""

    def error(self, message: str):
        raise UserError(f"{message} (see {self.prog} --help)")


def _parse(job: str, argv: list[str], doc: str | None, inputs: Mapping[str, str], output: str) -> argparse.Namespace:
    parser = _Parser(prog=f"{job}.py", description=doc)
    for flag, text in inputs.items():
        parser.add_argument(flag, required=True, metavar="PATH", help=text)
    parser.add_argument("--output", required=True, metavar="DIR", help=output)
    parser.add_argument(
        "--catalog",
        metavar="NAME",
        help="in the cloud: the Spark catalog holding the tables (the runtime configures it, e.g. glue_catalog); "
        "without it each table is a local Iceberg table at DIR/<table>",
    )
    parser.add_argument("--database", metavar="NAME", help="with --catalog: the Glue database of the tables")
    args, unknown = parser.parse_known_args(argv)
    if bool(args.catalog) != bool(args.database):
        parser.error("--catalog and --database go together")
    # AWS Glue adds its own arguments (--JOB_ID, --TempDir, --job-bookmark-option, ...) to every job it runs;
    # anywhere else an unknown argument is a mistake.
    if unknown and GLUE_RUN_ARGUMENT not in argv:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def run_job(
    job: str,
    argv: Sequence[str] | None,
    run: Callable[[JobRun, argparse.Namespace], None],
    *,
    inputs: Mapping[str, str],
    output: str,
) -> dict:
    """A job's `main`: the flags `inputs` (flag -> help, each a path), `--output` (and in the cloud `--catalog`,
    `--database`), then `run`; returns the report.

    Every error the user can fix (a flag, a path, Java, the input) is one line on stderr and exit code 2; a run the
    gate refuses is one line naming the rule, the table and the offending count, and exit code 3. Either way no
    table is replaced, and the run report says why. Run from the command line (`argv` None), a summary of what was
    done is printed.
    """
    by_hand = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    job_run = None
    try:
        args = _parse(job, argv, (run.__doc__ or "").strip() or None, inputs, output)
        spark = job_session(job, argv)
        # Every path is checked before any work: a typo in --output must not cost the whole run.
        for flag in inputs:
            check_file_system(spark, flag, getattr(args, _dest(flag)))
        check_file_system(spark, "--output", args.output)
        lake = _lake(spark, args)
        created = check_writable(spark, "--output", args.output)
        job_run = JobRun(spark, job, args.output, lake)
        try:
            run(job_run, args)
            report = publish(job_run)
        finally:
            job_run.staging.discard()
            if created:
                remove_if_empty(spark, args.output)
    except GateFailed as error:
        _fail(job, str(error), job_run, "gate_failed", GATE_FAILED)
    except JobInputError as error:
        _fail(job, f"{error}; {UNTOUCHED}", job_run)
    except UserError as error:
        _fail(job, str(error), job_run)
    except PublishConflict as error:
        _fail(job, str(error), job_run, code=1)
    except (Py4JJavaError, CapturedException) as error:
        problem = job_run.explain(error) if job_run else None
        if problem is None:
            _record(job_run, "failed", f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
            raise
        _fail(job, f"{problem}; {UNTOUCHED}", job_run)
    except Exception as error:
        _record(job_run, "failed", f"{type(error).__name__}: {error}".splitlines()[0])
        raise
    if by_hand:
        print(summary(report))
    return report


def _lake(spark: SparkSession, args: argparse.Namespace) -> Lake:
    """The cloud catalog the caller names, else the local one: a Hadoop catalog around --output."""
    if args.catalog:
        return Lake.cloud(spark, args.catalog, args.database)
    if not has_iceberg(spark):
        raise UserError(
            "this Spark session was started without Apache Iceberg; start it with local.spark.local_session, or "
            f"spark-submit --jars {iceberg_jar() or 'iceberg-spark-runtime-3.5_2.12.jar'} "
            f"--conf spark.sql.extensions={ICEBERG_EXTENSIONS}"
        )
    return Lake.local_for(spark, args.output)


def _record(job_run: JobRun | None, status: str, error: str) -> None:
    """Save the report of a run that published nothing, with its status and error, when the run got that far."""
    if job_run is None:
        return
    job_run.report.status, job_run.report.error = status, error
    try:
        job_run.report.save(job_run.spark)
    except Exception as failure:  # the output itself may be what failed: the error line still reaches the user
        print(f"{job_run.report.job}: warning: run report not saved ({type(failure).__name__})", file=sys.stderr)


def _fail(job: str, message: str, job_run: JobRun | None = None, status: str = "failed", code: int = USER_ERROR):
    _record(job_run, status, message)
    print(f"{job}: error: {message}", file=sys.stderr)
    raise SystemExit(code) from None
