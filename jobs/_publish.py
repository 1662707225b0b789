"""The write path: how a run's outputs become the lake's tables. Write, audit, publish:

1. every table the run produces is written to its Iceberg branch `audit` (main, what readers see, is untouched),
   each in one commit as its refresh declares, and every quarantine is staged;
2. the gate (_gate) checks the run: each input's balance (read = written + quarantined + filtered) and quarantined
   share, each table's key, accepted values, ranges and row-count drop against main;
3. only when every rule passed, one short final step moves each table's main to its audited snapshot and swaps the
   quarantines in. A run that fails or is killed before it leaves every table as readers saw it; a kill inside it
   leaves each table old or new (an Iceberg commit is atomic), and a rerun converges.

The audited data stays on `audit` until the next run. Shipped beside the jobs (in the `--py-files` archive), never
run on its own.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from _files import hadoop_path, join_path
from _gate import GateFailed, Rule, input_rules, table_rules
from _quarantine import QUARANTINE_SCHEMA, REASON
from pyspark.sql import DataFrame, Observation, SparkSession
from pyspark.sql import functions as F

if TYPE_CHECKING:
    from _iceberg import Lake
    from _job import JobRun

    from pipelines.model import Table

QUARANTINE = "_quarantine"
STAGING = "_staging"
# How many tables the gate measures at once, and how many writes `concurrently` runs at once.
GATE_THREADS = 4
WRITE_THREADS = 4


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


def write_table(lake: Lake, df: DataFrame, table: Table, covers: DataFrame | None = None) -> int:
    """Write `df` (conformed) to the table's audit branch, the table created or evolved first; returns its rows.
    `covers`: a merge table's keys the run replaces (default: the keys in `df`)."""
    lake.prepare(table)
    start_rows = lake.reset_audit(table)
    conformed = conform(df, table)
    if table.refresh == "merge" and start_rows:
        # A MERGE reads its source several times (keys, lines gone, rows): computed once, counted from that.
        source = conformed.localCheckpoint()
        lake.merge(source, table, (covers if covers is not None else source).select(*table.merge_keys).distinct())
        return source.count()
    # A merge into an empty branch (a first run, or main emptied) replaces nothing and deletes nothing: every row of
    # the input is inserted, which a plain write does in one pass, without the merge's join and its checkpoint.
    # Counted by the commit itself (an observed count would see the sampling pass a range distribution runs first).
    lake.write(conformed, table, "full" if table.refresh == "merge" else None)
    return lake.added_rows(table)


def concurrently(run: JobRun, steps: Sequence[Callable[[], object]], tables: Sequence[Table]) -> None:
    """Run `steps` (each writing tables of `tables` and their quarantines) at once, in threads, and wait for all.

    A table write is a few small Spark jobs and catalog commits, mostly waiting on planning, scheduling and files:
    several overlap on the same cores (Spark runs jobs from several threads at once). Afterwards the run's tables
    are in the order of `tables` whatever order the steps finished in, so the report and the gate read the same on
    every run. The first step's error (in the order given) is raised once every step is over: nothing is published
    by a run that raised, and every write went to an audit branch only.
    """
    with ThreadPoolExecutor(max_workers=WRITE_THREADS) as pool:
        futures = [pool.submit(step) for step in steps]
        errors = [future.exception() for future in futures]
    for error in errors:
        if error is not None:
            raise error
    order = {table.name: number for number, table in enumerate(tables)}
    run.tables.sort(key=lambda table: order.get(table.name, len(order)))
    written = run.report.tables
    run.report.tables = {name: written[name] for name in sorted(written, key=lambda n: order.get(n, len(order)))}


class Staging:
    """`<output>/_staging/<job>-<run id>/`: this run's quarantines and scratch files until `publish` swaps them in."""

    def __init__(self, spark: SparkSession, output: str, job: str) -> None:
        self.spark = spark
        self.output = output
        run_id = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{uuid.uuid4().hex[:8]}"
        self.root = join_path(output, STAGING, f"{job}-{run_id}")
        self._staged: list[tuple[str, str]] = []

    def scratch(self, name: str) -> str:
        """A folder for the run's own intermediate files (deleted with the staging folder)."""
        return join_path(self.root, "scratch", name)

    def write_quarantine(self, df: DataFrame, name: str) -> int:
        """Stage rejected rows (QUARANTINE_SCHEMA's columns) as JSON Lines for `<output>/_quarantine/<name>`."""
        # JSON keeps the raw record readable for whoever fixes the source; one file: quarantine is small.
        rows = df.select(*QUARANTINE_SCHEMA.fieldNames()).coalesce(1)
        counted, observation = _counted(rows, f"quarantine_{name}")
        staged = join_path(self.root, QUARANTINE, name)
        # Every key on every line, null or not, so a reader can rely on the five of them.
        counted.write.mode("overwrite").option("ignoreNullFields", "false").json(staged)
        self._staged.append((staged, self.quarantine_path(name)))
        return int(observation.get["rows"])

    def quarantine_path(self, name: str) -> str:
        return join_path(self.output, QUARANTINE, name)

    def staged_quarantine(self, name: str) -> str:
        return join_path(self.root, QUARANTINE, name)

    def quarantine_reasons(self, name: str) -> dict[str, int]:
        """Reason -> records of the quarantine this run staged for input `name`."""
        staged = self.spark.read.schema(QUARANTINE_SCHEMA).json(self.staged_quarantine(name))
        return {row[REASON]: row["count"] for row in staged.groupBy(REASON).count().collect()}

    def publish(self) -> None:
        """Swap every staged quarantine into place; on a failure, put back what was already swapped, then raise."""
        done = []
        try:
            for number, (staged, live) in enumerate(self._staged):
                done.append(self._swap(staged, live, join_path(self.root, "previous", str(number))))
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


def audit(run: JobRun) -> list[Rule]:
    """Every gate rule of the run: per input its balance and quarantined share, per table its declared rules."""
    rules = []
    for name, count in run.report.inputs.items():
        rules += input_rules(name, count, run.quarantine_limit(name))

    def measured(table: Table) -> list[Rule]:
        written = run.report.tables[table.name]
        previous = written.previous_rows if written.previous_snapshot_id is not None else None
        return table_rules(run.lake.read_audit(table), table, previous)

    # One small Spark job per table, each mostly planning and scheduling: submitted together, they overlap (Spark
    # runs jobs from several threads at once), and the rules keep the tables' order.
    with ThreadPoolExecutor(max_workers=GATE_THREADS) as pool:
        for table_rules_found in pool.map(measured, run.tables):
            rules += table_rules_found
    return rules


def publish(run: JobRun) -> dict:
    """The end of every successful run: refuse it when an input holds no valid record, else run the gate; when
    every rule passed, publish every table and quarantine and save the report (returned); else GateFailed."""
    for name in run.report.inputs:
        run.require_valid(name)
    run.report.gate = audit(run)
    failed = [rule for rule in run.report.gate if not rule.passed]
    if failed:
        raise GateFailed(failed)
    # Every table is checked before any is moved: a conflict publishes nothing.
    plans = {table.name: run.lake.publish_plan(table) for table in run.tables}
    for table in run.tables:
        run.report.tables[table.name].snapshot_id = run.lake.publish(table, plans[table.name])
    run.staging.publish()
    run.report.status = "published"
    return run.report.save(run.spark)
