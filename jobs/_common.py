"""What every job shares: the Spark session, input checks, conformed Parquet writes, quarantine and run reports.

Shipped beside the jobs (in the `--py-files` archive with `pipelines/`), never run on its own.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

try:
    import pipelines  # noqa: F401  (on EMR it comes from the --py-files archive)
except ImportError:  # `python jobs/<job>.py` from a checkout: the repository root holds pipelines/
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines.model import Table

QUARANTINE_SCHEMA = T.StructType(
    [
        T.StructField("source", T.StringType(), False),
        T.StructField("reason", T.StringType(), False),
        T.StructField("record", T.StringType(), True),
    ]
)


GLUE_RUN_ARGUMENT = "--JOB_RUN_ID"


class JobInputError(Exception):
    """Bad input the user must fix (a missing or empty path): reported as one line, not a stack trace."""


def spark_session(app_name: str) -> SparkSession:
    """The active session (spark-submit, the local runner, tests) or a new one, set up for safe reruns."""
    spark = SparkSession.builder.appName(app_name).getOrCreate()
    # A rerun replaces only the partitions it writes; static mode would wipe the whole table first.
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    return spark


def hadoop_path(spark: SparkSession, path: str):
    """(Hadoop Path, its FileSystem): the I/O that works alike on local paths and s3:// URIs."""
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    return hpath, hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


def _is_data_file(name: str) -> bool:
    return not name.startswith((".", "_"))


def list_files(spark: SparkSession, path: str) -> list[str]:
    """Every data file under `path` (a file or a folder, recursively), skipping hidden and `_`-prefixed names."""
    hpath, fs = hadoop_path(spark, path)
    if not fs.exists(hpath):
        return []
    # Listed paths come back qualified (file:/..., s3://...): compare them with the qualified root.
    hpath = fs.makeQualified(hpath)
    if fs.getFileStatus(hpath).isFile():
        return [hpath.toString()]
    root = hpath.toString().rstrip("/")
    found = []
    files = fs.listFiles(hpath, True)
    while files.hasNext():
        status = files.next()
        file_path = status.getPath().toString()
        relative = file_path[len(root) :]
        if all(_is_data_file(part) for part in relative.split("/") if part) and status.getLen() > 0:
            found.append(file_path)
    return sorted(found)


def require_input(spark: SparkSession, path: str, what: str) -> list[str]:
    """The data files under `path`; a JobInputError naming `what` when it is missing or holds no data."""
    hpath, fs = hadoop_path(spark, path)
    if not fs.exists(hpath):
        raise JobInputError(f"{what}: input path {path} does not exist")
    files = list_files(spark, path)
    if not files:
        raise JobInputError(f"{what}: input path {path} holds no non-empty data files")
    return files


def join_path(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts])


def conform(df: DataFrame, table: Table) -> DataFrame:
    """The final select: exactly the table's declared columns, in order, cast to the declared types."""
    missing = [c.name for c in table.all_columns if c.name not in df.columns]
    if missing:
        raise ValueError(f"{table.name}: transform did not produce columns {missing}")
    return df.select(*[F.col(c.name).cast(c.type).alias(c.name) for c in table.all_columns])


def table_schema(table: Table) -> T.StructType:
    """The Spark schema of a declared table (used to read it back, and by tests)."""
    # pyspark 3.5 has no public DDL parser (StructType.fromDDL arrived in 4.0); this one needs a SparkContext.
    return T._parse_datatype_string(table.ddl())


def write_table(df: DataFrame, output: str, table: Table) -> int:
    """Write `df` (conformed) as `<output>/<table.name>` Parquet, replacing what a previous run wrote; returns rows."""
    conformed = conform(df, table)
    keys = [c.name for c in table.partition_keys]
    if keys:
        # One task per partition value keeps the files few and sizeable.
        conformed = conformed.repartition(*keys)
    observation = Observation(f"rows_{table.name}")
    # Observe the node the write runs last: below a shuffle over empty input the metric never arrives and
    # Observation.get waits for ever.
    writer = conformed.observe(observation, F.count(F.lit(1)).alias("rows")).write.mode("overwrite")
    if keys:
        writer = writer.partitionBy(*keys)
    writer.parquet(join_path(output, table.name))
    return int(observation.get["rows"])


def quarantine_rows(source: str, reason: Column, record: Column) -> list[Column]:
    """The three quarantine columns, for a select over rows that failed a check."""
    return [F.lit(source).alias("source"), reason.cast("string").alias("reason"), record.cast("string").alias("record")]


def write_quarantine(df: DataFrame, output: str, name: str) -> int:
    """Write rejected rows (source, reason, record) to `<output>/_quarantine/<name>` as JSON Lines; returns rows."""
    observation = Observation(f"quarantine_{name}")
    # JSON keeps the raw record readable for whoever fixes the source; one file: quarantine is small.
    rows = df.select("source", "reason", "record").coalesce(1).observe(observation, F.count(F.lit(1)).alias("rows"))
    rows.write.mode("overwrite").json(join_path(output, "_quarantine", name))
    return int(observation.get["rows"])


@dataclass
class InputCount:
    path: str
    read: int = 0
    written: int = 0
    quarantined: int = 0
    # Rows deliberately left out by a documented rule (e.g. non-NextSong events), counted per reason.
    filtered: dict[str, int] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        return self.read == self.written + self.quarantined + sum(self.filtered.values())


@dataclass
class RunReport:
    """`<output>/_run/<job>.json`: rows read per input, rows written per table, rows quarantined per input."""

    job: str
    output: str
    inputs: dict[str, InputCount] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.time)

    def add_input(self, name: str, path: str, **counts) -> InputCount:
        self.inputs[name] = InputCount(path=path, **counts)
        return self.inputs[name]

    def to_dict(self) -> dict:
        return {
            "job": self.job,
            "output": self.output,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "seconds": round(time.time() - self.started, 3),
            "inputs": {
                name: {
                    "path": c.path,
                    "read": c.read,
                    "written": c.written,
                    "quarantined": c.quarantined,
                    "filtered": dict(c.filtered),
                    "balanced": c.balanced,
                }
                for name, c in self.inputs.items()
            },
            "tables": dict(self.tables),
        }

    def save(self, spark: SparkSession) -> dict:
        """Write the report through Hadoop's file system (local paths and s3:// alike); fail if counts disagree."""
        report = self.to_dict()
        hpath, fs = hadoop_path(spark, join_path(self.output, "_run", f"{self.job}.json"))
        stream = fs.create(hpath, True)
        try:
            stream.write(bytearray(json.dumps(report, indent=2, sort_keys=True).encode("utf-8")))
        finally:
            stream.close()
        unbalanced = [n for n, c in self.inputs.items() if not c.balanced]
        if unbalanced:
            raise RuntimeError(f"{self.job}: rows read != written + quarantined + filtered for inputs {unbalanced}")
        return report


def run_main(
    job: str,
    argv: Sequence[str] | None,
    configure: Callable[[argparse.ArgumentParser], None],
    body: Callable[[SparkSession, argparse.Namespace], RunReport],
) -> dict:
    """Parse arguments, run `body` in the session, save its report. Input errors exit 2 with one line."""
    parser = argparse.ArgumentParser(prog=f"{job}.py", description=(body.__doc__ or "").strip() or None)
    configure(parser)
    argv = list(sys.argv[1:] if argv is None else argv)
    args, unknown = parser.parse_known_args(argv)
    # AWS Glue adds its own arguments (--JOB_ID, --TempDir, --job-bookmark-option, ...) to every job it runs;
    # anywhere else an unknown argument is a mistake.
    if unknown and GLUE_RUN_ARGUMENT not in argv:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    spark = spark_session(job)
    try:
        report = body(spark, args)
    except JobInputError as error:
        print(f"{job}: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    return report.save(spark)
