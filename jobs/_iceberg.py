"""The jobs' Iceberg tables: which catalog holds them, creating and evolving them from pipelines/, writing a run to
the `audit` branch, and publishing it to `main` (a fast-forward, re-applied over a compaction).

Locally a Hadoop catalog whose warehouse is the parent of `--output` holds each table at `<output>/<table>`; in the
cloud (`--catalog`, `--database`) the runtime's catalog does, and the tables are Pulumi's: never created here.
Shipped beside the jobs (in the `--py-files` archive), never run on its own.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from _errors import UserError
from _files import hadoop_path
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

if TYPE_CHECKING:
    from pipelines.model import Table

# The branch every run writes to and audits; `main` is what readers see.
AUDIT = "audit"
MAIN = "main"
# Snapshots that change no rows (compaction: rewrite_data_files, rewrite_manifests). The only commits another
# writer may add to main while a run audits: re-applying the run over them loses no data.
NO_ROW_CHANGE = {"replace"}
ICEBERG_CATALOG = "org.apache.iceberg.spark.SparkCatalog"
ICEBERG_EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"


class PublishConflict(Exception):
    """Another writer changed rows of a table on main while this run audited it: nothing is published."""


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


@dataclass(frozen=True)
class Lake:
    """Where a job's tables live: catalog, namespace (database), and whether the job may create them."""

    spark: SparkSession
    catalog: str
    namespace: str
    # Locally the job creates a missing table; in the cloud Pulumi owns every table.
    local: bool
    warehouse: str = ""
    # Locally: --output as given, the report's tables are under it.
    output: str = ""

    @classmethod
    def local_for(cls, spark: SparkSession, output: str) -> Lake:
        """A Hadoop catalog whose warehouse is `output`'s parent: table `t` lives at `<output>/t`."""
        hpath, fs = hadoop_path(spark, output.rstrip("/"))
        qualified = fs.makeQualified(hpath)
        parent = qualified.getParent()
        if parent is None:
            raise UserError(f"--output {output}: give a folder below the root, e.g. {output.rstrip('/')}/curated")
        warehouse = parent.toString()
        # One catalog per warehouse: Spark keeps a catalog's settings from its first use for the whole session.
        catalog = "local_" + hashlib.sha256(warehouse.encode()).hexdigest()[:12]
        settings = {"": ICEBERG_CATALOG, ".type": "hadoop", ".warehouse": warehouse, ".cache-enabled": "false"}
        for key, value in settings.items():
            spark.conf.set(f"spark.sql.catalog.{catalog}{key}", value)
        return cls(spark, catalog, qualified.getName(), local=True, warehouse=warehouse, output=output.rstrip("/"))

    @classmethod
    def cloud(cls, spark: SparkSession, catalog: str, database: str) -> Lake:
        """The runtime's catalog (EMR `iceberg-defaults`, Glue `--datalake-formats iceberg`), set up by the caller."""
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", catalog):
            raise UserError(f"--catalog {catalog!r}: a Spark catalog name is letters, digits and _")
        if spark.conf.get(f"spark.sql.catalog.{catalog}", None) is None:
            raise UserError(
                f"--catalog {catalog}: this Spark has no catalog of that name (spark.sql.catalog.{catalog} is not "
                "set); the runtime's Spark configuration must declare it"
            )
        return cls(spark, catalog, database, local=False)

    # ---- names ---------------------------------------------------------------------------------------------------

    def table_name(self, table: Table) -> str:
        """The table's name in the catalog: its own name locally, its Glue name in the cloud."""
        return table.name if self.local else table.glue_name

    def ident(self, table: Table, branch: str | None = None) -> str:
        """`catalog.namespace.table` (or its `branch_<name>`), quoted for Spark SQL."""
        name = self.table_name(table) + (f".branch_{branch}" if branch else "")
        return ".".join(quote(part) for part in (self.catalog, self.namespace, *name.split(".")))

    def procedure_arg(self, table: Table) -> str:
        """The table as a procedure argument: `namespace.table`, quoted."""
        return f"{quote(self.namespace)}.{quote(self.table_name(table))}"

    def path(self, table: Table) -> str:
        """Where the table is, for the run report: its folder locally, its catalog name in the cloud."""
        if self.local:
            return f"{self.output}/{table.name}"
        return f"{self.catalog}.{self.namespace}.{table.glue_name}"

    # ---- creating and evolving -----------------------------------------------------------------------------------

    def exists(self, table: Table) -> bool:
        return bool(self.spark.catalog.tableExists(f"{self.catalog}.{self.namespace}.{self.table_name(table)}"))

    def prepare(self, table: Table) -> None:
        """Make the table ready for this run: created when missing (locally), each newly declared column added."""
        if not self.exists(table):
            if not self.local:
                raise UserError(
                    f"table {self.catalog}.{self.namespace}.{table.glue_name} does not exist; it is created by the "
                    "stack (pulumi up), never by a job"
                )
            self._refuse_foreign_folder(table)
            self.create(table)
        self.add_new_columns(table)

    def _refuse_foreign_folder(self, table: Table) -> None:
        """A UserError when the table's folder holds files but no Iceberg table (e.g. an earlier release's
        Parquet): creating the table there would leave them unread, never deleted, beside it."""
        folder = self.path(table)
        hpath, fs = hadoop_path(self.spark, folder)
        if fs.exists(hpath) and fs.getFileStatus(hpath).isDirectory() and fs.listStatus(hpath):
            raise UserError(
                f"{folder} holds files but no Iceberg table (a Parquet table of an earlier release?); move it "
                "away or delete it, and run again"
            )
        if fs.exists(hpath) and not fs.getFileStatus(hpath).isDirectory():
            raise UserError(f"{folder} is a file, not a table folder; move it away and run again")

    def create(self, table: Table) -> None:
        """CREATE TABLE from the declaration: columns, partition spec, properties, then the sort order."""
        columns = ", ".join(
            f"{quote(c.name)} {c.type}" + (f" COMMENT '{_sql_text(c.comment)}'" if c.comment else "")
            for c in table.columns
        )
        partitioned = f" PARTITIONED BY ({', '.join(p.spark_sql() for p in table.partitioning)})"
        self.spark.sql(
            f"CREATE TABLE IF NOT EXISTS {self.ident(table)} ({columns}) USING iceberg"
            f"{partitioned if table.partitioning else ''} COMMENT '{_sql_text(table.description)}'"
            f" TBLPROPERTIES ({_properties(table)})"
        )
        if table.sort_order:
            # LOCALLY: the sort order alone; the declared write.distribution-mode is set again just below.
            order = ", ".join(quote(c) for c in table.sort_order)
            self.spark.sql(f"ALTER TABLE {self.ident(table)} WRITE LOCALLY ORDERED BY {order}")
            self.spark.sql(f"ALTER TABLE {self.ident(table)} SET TBLPROPERTIES ({_properties(table)})")

    def add_new_columns(self, table: Table) -> list[str]:
        """ALTER TABLE ADD COLUMN for each declared column the table lacks (the engine owns the schema once the
        table exists: Pulumi never updates it). Columns the table has beyond the declaration are left alone."""
        present = {field.name for field in self.spark.table(self.ident(table)).schema.fields}
        added = [c for c in table.columns if c.name not in present]
        for column in added:
            comment = f" COMMENT '{_sql_text(column.comment)}'" if column.comment else ""
            self.spark.sql(f"ALTER TABLE {self.ident(table)} ADD COLUMN {quote(column.name)} {column.type}{comment}")
        return [c.name for c in added]

    # ---- the audit branch ----------------------------------------------------------------------------------------

    def reset_audit(self, table: Table) -> None:
        """Start the run's `audit` branch at main's current snapshot (the previous run's audit data goes)."""
        if MAIN not in self.refs(table):
            # Never published (an earlier run failed its gate): Iceberg replaces a branch only from a snapshot of
            # main, so the old branch goes and a new one starts empty.
            self.spark.sql(f"ALTER TABLE {self.ident(table)} DROP BRANCH IF EXISTS {AUDIT}")
        self.spark.sql(f"ALTER TABLE {self.ident(table)} CREATE OR REPLACE BRANCH {AUDIT}")

    def write(self, df: DataFrame, table: Table) -> None:
        """Write `df` (conformed) to the table's audit branch in one commit, as the table's refresh declares."""
        target = self.ident(table, AUDIT)
        if table.refresh == "full":
            df.writeTo(target).overwrite(F.lit(True))
        elif table.refresh == "incremental":
            df.writeTo(target).overwritePartitions()
        else:
            self.merge(df, table, df.select(*table.merge_keys).distinct())

    def merge(self, df: DataFrame, table: Table, touched: DataFrame) -> None:
        """MERGE INTO per `merge_keys`: for each merge key in `touched`, the rows of `df` replace every existing row
        of that key (a row the input no longer has is deleted); other keys' rows stay."""
        keys, row_key = table.merge_keys, table.key
        existing = self.spark.read.option("branch", AUDIT).table(self.ident(table))
        target = self.ident(table, AUDIT)
        # Rows of the touched merge keys that the input no longer has: deleted by the merge.
        gone = (
            existing.join(touched, on=list(keys), how="left_semi")
            .join(df.select(*row_key), on=list(row_key), how="left_anti")
            .select(*[F.col(c.name) for c in table.columns])
            .withColumn("_delete", F.lit(True))
        )
        source = df.withColumn("_delete", F.lit(False)).unionByName(gone)
        view = f"_merge_source_{table.name}"
        source.createOrReplaceTempView(view)
        on = " AND ".join(f"t.{quote(k)} <=> s.{quote(k)}" for k in row_key)
        assignments = ", ".join(f"t.{quote(c.name)} = s.{quote(c.name)}" for c in table.columns)
        names = ", ".join(quote(c.name) for c in table.columns)
        values = ", ".join(f"s.{quote(c.name)}" for c in table.columns)
        try:
            self.spark.sql(
                f"MERGE INTO {target} t USING {view} s ON {on} "
                "WHEN MATCHED AND s._delete THEN DELETE "
                f"WHEN MATCHED THEN UPDATE SET {assignments} "
                f"WHEN NOT MATCHED AND NOT s._delete THEN INSERT ({names}) VALUES ({values})"
            )
        finally:
            self.spark.catalog.dropTempView(view)

    def read_audit(self, table: Table) -> DataFrame:
        return self.spark.read.option("branch", AUDIT).table(self.ident(table))

    # ---- snapshots -----------------------------------------------------------------------------------------------

    def _iceberg(self, table: Table):
        """The table's Iceberg Java object, freshly loaded: metadata through the API costs no Spark job."""
        jvm = self.spark.sparkContext._jvm
        name = f"{self.catalog}.{self.namespace}.{self.table_name(table)}"
        return jvm.org.apache.iceberg.spark.Spark3Util.loadIcebergTable(self.spark._jsparkSession, name)

    def snapshots(self, table: Table) -> dict[int, tuple[int | None, str, int]]:
        """snapshot id -> (parent id, operation, total records) of every snapshot the table keeps."""
        found = {}
        for snapshot in self._iceberg(table).snapshots():
            summary = snapshot.summary()
            parent = snapshot.parentId()
            total = summary.get("total-records")
            found[snapshot.snapshotId()] = (parent, snapshot.operation(), int(total) if total else 0)
        return found

    def refs(self, table: Table) -> dict[str, int]:
        """Branch and tag name -> its snapshot id."""
        refs = self._iceberg(table).refs()
        return {name: refs.get(name).snapshotId() for name in refs.keySet()}

    def added_rows(self, table: Table) -> int:
        """The rows the audit branch's last commit added (what this run's write of the table wrote)."""
        iceberg = self._iceberg(table)
        added = iceberg.snapshot(iceberg.refs().get(AUDIT).snapshotId()).summary().get("added-records")
        return int(added) if added else 0

    def publish_plan(self, table: Table) -> tuple[str, int]:
        """How main reaches the audited snapshot: ("done" | "fast_forward" | "reapply", audited snapshot id).

        "reapply" when main gained only compactions (snapshots that change no rows) since the audit began: main is
        then set to the audited snapshot, the same rows, uncompacted. Any other change on main since then is another
        writer's: PublishConflict, before any table is published.
        """
        refs = self.refs(table)
        audited, current = refs[AUDIT], refs.get(MAIN)
        if current == audited:
            return "done", audited  # already published (a rerun of the publish step converges)
        snapshots = self.snapshots(table)
        lineage = _ancestors(snapshots, audited)
        if current is None or current in lineage:
            return "fast_forward", audited
        since_base = []
        for snapshot in _ancestors(snapshots, current):
            if snapshot in lineage:
                break
            since_base.append(snapshot)
        changed = [s for s in since_base if snapshots.get(s, (None, "unknown", 0))[1] not in NO_ROW_CHANGE]
        if changed or not since_base:
            operations = sorted({snapshots.get(s, (None, "unknown", 0))[1] for s in changed})
            raise PublishConflict(
                f"{self.path(table)}: another writer committed {', '.join(operations) or 'an unrelated history'} "
                f"snapshots to main ({', '.join(str(s) for s in changed)}) while this run audited; nothing "
                "was published; run the job again"
            )
        return "reapply", audited

    def publish(self, table: Table, plan: tuple[str, int]) -> int:
        """Move main to the audited snapshot as `plan` (publish_plan) says; returns the snapshot id."""
        action, audited = plan
        procedures = f"{quote(self.catalog)}.system"
        if action == "fast_forward":
            self.spark.sql(f"CALL {procedures}.fast_forward('{self.procedure_arg(table)}', '{MAIN}', '{AUDIT}')")
        elif action == "reapply":
            self.spark.sql(f"CALL {procedures}.set_current_snapshot('{self.procedure_arg(table)}', {audited})")
        return audited

    def main_snapshot(self, table: Table) -> tuple[int | None, int]:
        """(id, total records) of main's current snapshot; (None, 0) before the first publish."""
        current = self.refs(table).get(MAIN)
        if current is None:
            return None, 0
        return current, self.snapshots(table)[current][2]

    def rollback(self, table: Table, snapshot: int) -> None:
        """Set main to `snapshot` (any snapshot the table keeps, earlier or later than the current one)."""
        self.spark.sql(
            f"CALL {quote(self.catalog)}.system.set_current_snapshot('{self.procedure_arg(table)}', {int(snapshot)})"
        )


def _ancestors(snapshots: dict[int, tuple[int | None, str, int]], snapshot: int | None) -> list[int]:
    """`snapshot` and its parents, newest first, as far as the table keeps them."""
    chain = []
    while snapshot is not None and snapshot not in chain:
        chain.append(snapshot)
        snapshot = snapshots.get(snapshot, (None, "", 0))[0]
    return chain


def _sql_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def _properties(table: Table) -> str:
    return ", ".join(f"'{key}'='{_sql_text(value)}'" for key, value in table.properties.items())
