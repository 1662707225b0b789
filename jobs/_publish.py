"""The write path: how a run's outputs become the lake's tables. Every table and quarantine is staged first
(`Staging`), and `publish` swaps them in only when the whole run succeeded and passed its checks (every input held
a valid record; read = written + quarantined + filtered), so a failed or refused run leaves every table as it was.

A full-refresh table is replaced whole; an incremental one partition by partition (only those the run wrote).
Swapping is a rename per table or partition: atomic on HDFS and local disks, a copy on S3 (until tables move to
Iceberg, whose commits are atomic). Shipped beside the jobs (in the `--py-files` archive), never run on its own.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from _files import hadoop_path, join_path
from _quarantine import QUARANTINE_SCHEMA, REASON
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

if TYPE_CHECKING:
    from _job import JobRun

    from pipelines.model import Table

QUARANTINE = "_quarantine"
STAGING = "_staging"


def conform(df: DataFrame, table: Table) -> DataFrame:
    """The final select: exactly the table's declared columns, in order, cast to the declared types."""
    missing = [c.name for c in table.all_columns if c.name not in df.columns]
    if missing:
        raise ValueError(f"{table.name}: transform did not produce columns {missing}")
    return df.select(*[F.col(c.name).cast(c.type).alias(c.name) for c in table.all_columns])


def _counted(df: DataFrame, name: str) -> tuple[DataFrame, Observation]:
    observation = Observation(name)
    # Observe the node the write runs last: below a shuffle over empty input the metric never arrives and
    # Observation.get waits for ever.
    return df.observe(observation, F.count(F.lit(1)).alias("rows")), observation


@dataclass(frozen=True)
class _Staged:
    staged: str
    live: str
    # Partition folders below the table to replace one by one (incremental), or 0: replace the folder whole.
    depth: int = 0


class Staging:
    """`<output>/_staging/<job>-<run id>/`: this run's tables and quarantine until `publish` swaps them in."""

    def __init__(self, spark: SparkSession, output: str, job: str) -> None:
        self.spark = spark
        self.output = output
        run_id = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{uuid.uuid4().hex[:8]}"
        self.root = join_path(output, STAGING, f"{job}-{run_id}")
        self._staged: list[_Staged] = []

    def scratch(self, name: str) -> str:
        """A folder for the run's own intermediate files (deleted with the staging folder)."""
        return join_path(self.root, "scratch", name)

    def write_table(self, df: DataFrame, table: Table) -> int:
        """Stage `df` (conformed) as the table's Parquet; returns its rows."""
        conformed = conform(df, table)
        keys = [c.name for c in table.partition_keys]
        if table.refresh == "incremental" and not keys:
            raise ValueError(f"{table.name}: an incremental table needs partition keys to replace")
        if keys:
            # One task per partition value keeps the files few and sizeable.
            conformed = conformed.repartition(*keys)
        counted, observation = _counted(conformed, f"rows_{table.name}")
        writer = counted.write.mode("overwrite")
        if keys:
            writer = writer.partitionBy(*keys)
        staged = join_path(self.root, "tables", table.name)
        writer.parquet(staged)
        depth = len(keys) if table.refresh == "incremental" else 0
        self._staged.append(_Staged(staged, self.table_path(table), depth))
        return int(observation.get["rows"])

    def table_path(self, table: Table) -> str:
        return join_path(self.output, table.name)

    def staged_table(self, table: Table) -> str:
        """Where this run staged `table`, to read it back before it is published."""
        return join_path(self.root, "tables", table.name)

    def write_quarantine(self, df: DataFrame, name: str) -> int:
        """Stage rejected rows (QUARANTINE_SCHEMA's columns) as JSON Lines for `<output>/_quarantine/<name>`."""
        # JSON keeps the raw record readable for whoever fixes the source; one file: quarantine is small.
        rows = df.select(*QUARANTINE_SCHEMA.fieldNames()).coalesce(1)
        counted, observation = _counted(rows, f"quarantine_{name}")
        staged = join_path(self.root, QUARANTINE, name)
        # Every key on every line, null or not, so a reader can rely on the five of them.
        counted.write.mode("overwrite").option("ignoreNullFields", "false").json(staged)
        self._staged.append(_Staged(staged, self.quarantine_path(name)))
        return int(observation.get["rows"])

    def quarantine_path(self, name: str) -> str:
        return join_path(self.output, QUARANTINE, name)

    def staged_quarantine(self, name: str) -> str:
        return join_path(self.root, QUARANTINE, name)

    def quarantine_reasons(self, name: str) -> dict[str, int]:
        """Reason -> records of the quarantine this run staged for input `name`."""
        staged = self.spark.read.schema(QUARANTINE_SCHEMA).json(self.staged_quarantine(name))
        return {row[REASON]: row["count"] for row in staged.groupBy(REASON).count().collect()}

    def _leaves(self, staged: _Staged) -> list[str]:
        """The paths (relative to the staged table) of its partition folders `depth` levels down."""
        level = [""]
        for _ in range(staged.depth):
            below = []
            for relative in level:
                hpath, fs = hadoop_path(self.spark, join_path(staged.staged, relative) if relative else staged.staged)
                for status in fs.listStatus(hpath):
                    name = status.getPath().getName()
                    if status.isDirectory() and "=" in name:
                        below.append(f"{relative}/{name}".lstrip("/"))
            level = below
        return level

    def _swaps(self) -> list[tuple[str, str, str]]:
        """(staged, live, previous) folders, the previous one being where the live folder is kept until the end."""
        swaps = []
        for number, staged in enumerate(self._staged):
            previous = join_path(self.root, "previous", str(number))
            if staged.depth == 0:
                swaps.append((staged.staged, staged.live, previous))
                continue
            for leaf in self._leaves(staged):
                swaps.append((join_path(staged.staged, leaf), join_path(staged.live, leaf), join_path(previous, leaf)))
        return swaps

    def publish(self) -> None:
        """Swap every staged output into place; on a failure, put back what was already swapped, then raise."""
        done = []
        try:
            for staged, live, previous in self._swaps():
                done.append(self._swap(staged, live, previous))
        except Exception:
            for live, previous, existed in reversed(done):
                self._restore(live, previous, existed)
            raise

    def _swap(self, staged: str, live: str, previous: str) -> tuple[str, str, bool]:
        staged_path, fs = hadoop_path(self.spark, staged)
        live_path, _ = hadoop_path(self.spark, live)
        previous_path, _ = hadoop_path(self.spark, previous)
        existed = fs.exists(live_path)
        if existed:
            fs.mkdirs(previous_path.getParent())
            if not fs.rename(live_path, previous_path):
                raise OSError(f"could not move {live} aside to {previous}")
        fs.mkdirs(live_path.getParent())
        if not fs.rename(staged_path, live_path):
            if existed:
                fs.rename(previous_path, live_path)
            raise OSError(f"could not move {staged} into place at {live}")
        return live, previous, existed

    def _restore(self, live: str, previous: str, existed: bool) -> None:
        live_path, fs = hadoop_path(self.spark, live)
        fs.delete(live_path, True)
        if existed:
            previous_path, _ = hadoop_path(self.spark, previous)
            fs.rename(previous_path, live_path)

    def discard(self) -> None:
        """Delete the staging folder: the staged outputs of a failed run, or the replaced ones after `publish`."""
        hpath, fs = hadoop_path(self.spark, self.root)
        fs.delete(hpath, True)
        parent, _ = hadoop_path(self.spark, join_path(self.output, STAGING))
        # Leave no empty _staging/ behind, but never remove another run's staging folder.
        if fs.exists(parent) and not fs.listStatus(parent):
            fs.delete(parent, False)


def publish(run: JobRun) -> dict:
    """The end of every successful run: refuse it when an input holds no valid record or the counts do not add up,
    else swap its staged outputs in and save its report (returned)."""
    for name in run.report.inputs:
        run.require_valid(name)
    unbalanced = run.report.unbalanced()
    if unbalanced:
        # A bug, not bad input: keep the counts for whoever investigates, beside (not over) the last good report.
        run.report.save(run.spark, f"{run.report.job}.failed")
        raise RuntimeError(
            f"{run.report.job}: records read != written + quarantined + filtered for inputs {unbalanced}; "
            f"nothing was published (counts in {join_path(run.report.output, '_run', run.report.job + '.failed.json')})"
        )
    run.staging.publish()
    return run.report.save(run.spark)
