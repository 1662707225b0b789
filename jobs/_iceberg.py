"""The jobs' Iceberg tables: which catalog holds them, creating and evolving them from pipelines/, writing a run to
the `audit` branch, and publishing it to `main` (a fast-forward, re-applied over a compaction).

Locally a Hadoop catalog whose warehouse is the parent of `--output` holds each table at `<output>/<table>`; in the
cloud (`--catalog`, `--database`) the runtime's catalog does, and the tables are Pulumi's: never created here.
Shipped beside the jobs (in the `--py-files` archive), never run on its own.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from _errors import UserError
from _files import hadoop_path
from py4j.protocol import Py4JError
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
# How much smaller a table's rows are as zstd Parquet than as Spark's (lz4) shuffle blocks: Iceberg's own estimate
# (SparkCompressionUtil: 3 for Parquet with zstd or gzip, 2 for other codecs, with lz4 shuffle compression). A write
# asks adaptive execution for shuffle partitions of target-file-size x this, so each becomes about one target file.
SHUFFLE_TO_PARQUET = {"zstd": 3.0, "gzip": 3.0}
SHUFFLE_TO_PARQUET_DEFAULT = 2.0
# The table property Iceberg reads for that advisory size (when a table sets it, it wins over the estimate).
ADVISORY_PROPERTY = "write.spark.advisory-partition-size-bytes"


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
        """Asked of the Iceberg catalog itself: Spark's catalog.tableExists resolves the name through the analyzer
        first, about a quarter of a second a call, and a run asks several times per table."""
        try:
            return bool(self._catalog().tableExists(self._identifier(table)))
        except Py4JError:  # a catalog that is not Iceberg's: Spark knows
            return bool(self.spark.catalog.tableExists(self.ident(table)))

    def _session(self):
        """The JVM session, made the active one of the calling thread first.

        A job's own threads (the concurrent writes and gate queries) have no active session in the JVM: there the
        catalog manager loads a catalog with an empty fallback SQLConf, which does not hold the catalog's settings
        (CatalogNotFoundException: "spark.sql.catalog.<name> is not defined"). Spark's own queries make their
        session active for their duration; these direct calls to the catalog must do the same.
        """
        jsession = self.spark._jsparkSession
        self.spark.sparkContext._jvm.org.apache.spark.sql.SparkSession.setActiveSession(jsession)
        return jsession

    def _catalog(self):
        """The Iceberg catalog behind the Spark catalog `self.catalog`."""
        return self._session().sessionState().catalogManager().catalog(self.catalog).icebergCatalog()

    def _identifier(self, table: Table):
        """The table's Iceberg TableIdentifier (namespace, name)."""
        jvm = self.spark.sparkContext._jvm
        names = self.spark.sparkContext._gateway.new_array(jvm.java.lang.String, 2)
        names[0], names[1] = self.namespace, self.table_name(table)
        return jvm.org.apache.iceberg.catalog.TableIdentifier.of(names)

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
            return  # created from the declaration: it has every declared column
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
        """Create the table from the declaration in one commit through the Iceberg API: columns (with comments),
        partition spec, sort order and properties together (CREATE TABLE, then ALTER ... WRITE ORDERED BY, then
        SET TBLPROPERTIES again to undo the ALTER's distribution mode, were three commits and three SQL plans)."""
        jvm = self.spark.sparkContext._jvm
        iceberg = jvm.org.apache.iceberg
        columns = ", ".join(
            f"{quote(c.name)} {c.type}" + (f" COMMENT '{_sql_text(c.comment)}'" if c.comment else "")
            for c in table.columns
        )
        schema = iceberg.spark.SparkSchemaUtil.convert(jvm.org.apache.spark.sql.types.StructType.fromDDL(columns))
        spec = iceberg.PartitionSpec.builderFor(schema)
        for partition in table.partitioning:
            sized = partition._sized
            if sized:
                spec = getattr(spec, sized[0])(partition.column, sized[1])
            else:
                spec = getattr(spec, partition.transform)(partition.column)
        order = iceberg.SortOrder.builderFor(schema)
        for column in table.sort_order:
            order = order.asc(column)
        properties = jvm.java.util.HashMap()
        for key, value in {**table.properties, "comment": table.description}.items():
            properties.put(key, value)
        (
            self._catalog()
            .buildTable(self._identifier(table), schema)
            .withPartitionSpec(spec.build())
            .withSortOrder(order.build())
            .withProperties(properties)
            .create()
        )

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

    def reset_audit(self, table: Table) -> int:
        """Start the run's `audit` branch at main's current snapshot (the previous run's audit data goes); returns
        the rows it starts with (main's). One table load and one commit through the Iceberg API, no SQL plan."""
        iceberg = self._iceberg(table)
        refs = iceberg.refs()
        snapshots = iceberg.manageSnapshots()
        main = refs.get(MAIN)
        if main is None:
            # Never published (an earlier run failed its gate): the old branch goes and a new one starts empty, as
            # `CREATE OR REPLACE BRANCH` does on a table without main.
            if refs.containsKey(AUDIT):
                snapshots.removeBranch(AUDIT).commit()
                snapshots = iceberg.manageSnapshots()
            snapshots.createBranch(AUDIT).commit()
            return 0
        if refs.containsKey(AUDIT):
            snapshots.replaceBranch(AUDIT, main.snapshotId())
        else:
            snapshots.createBranch(AUDIT, main.snapshotId())
        snapshots.commit()
        total = iceberg.snapshot(main.snapshotId()).summary().get("total-records")
        return int(total) if total else 0

    def write(self, df: DataFrame, table: Table, refresh: str | None = None) -> None:
        """Write `df` (conformed) to the table's audit branch in one commit, as the table's refresh declares (or
        `refresh`, when the caller knows better: a merge into an empty branch is a plain write), in files of the
        table's target size (see `sized_writes`)."""
        target = self.ident(table, AUDIT)
        refresh = refresh or table.refresh
        with sized_writes(self.spark, table):
            if not table.partitioning and table.distribution_mode == "hash":
                # Iceberg asks Spark for no shuffle before an unpartitioned hash write: the files would be as many
                # as the input's partitions, whatever their size. A rebalance lets adaptive execution cut the rows
                # into partitions of the advisory size instead.
                df = df.hint("rebalance")
            if refresh == "full":
                df.writeTo(target).overwrite(F.lit(True))
            elif refresh == "incremental":
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
            with sized_writes(self.spark, table):
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

    def read_snapshot(self, table: Table, snapshot: int) -> DataFrame:
        """The table's rows as of `snapshot` (Iceberg's `snapshot-id` read option), whatever is committed later."""
        return self.spark.read.option("snapshot-id", int(snapshot)).table(self.ident(table))

    # ---- snapshots -----------------------------------------------------------------------------------------------

    def _iceberg(self, table: Table):
        """The table's Iceberg Java object, freshly loaded: metadata through the API costs no Spark job."""
        jvm = self.spark.sparkContext._jvm
        # Quoted: the name is parsed as SQL, and a local namespace is the --output folder's name (`orders-curated`).
        return jvm.org.apache.iceberg.spark.Spark3Util.loadIcebergTable(self._session(), self.ident(table))

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


def advisory_partition_bytes(table: Table) -> int:
    """The shuffle partition size a write of `table` asks for: its advisory property, else its
    write.target-file-size-bytes times the shuffle-to-Parquet ratio."""
    properties = table.properties
    if ADVISORY_PROPERTY in properties:
        return int(properties[ADVISORY_PROPERTY])
    codec = properties.get("write.parquet.compression-codec", "zstd")
    ratio = SHUFFLE_TO_PARQUET.get(codec, SHUFFLE_TO_PARQUET_DEFAULT)
    return int(int(properties["write.target-file-size-bytes"]) * ratio)


# The session settings a write changes for its own duration, then puts back as they were: on EMR the job shares the
# runtime's settings, and nothing it sets may outlive the write.
#  - Iceberg's advisory size for the shuffle it requests (range, or hash on a partitioned table). Without it
#    Iceberg 1.9 asks for 128 MB x the ratio whatever the table's target (SparkWriteConf.dataAdvisoryPartitionSize
#    uses a fixed expected file size, not write.target-file-size-bytes).
#  - Spark's advisory size, which a rebalance (our unpartitioned writes) coalesces to.
#  - parallelismFirst: with its default (true) adaptive execution ignores every advisory size and cuts the shuffle
#    into at least spark.default.parallelism partitions of at least 1 MB (Spark 3.5 CoalesceShufflePartitions), so
#    a 10 MB table lands as one file per core: 2 here, 40 on a 40-core cluster.
def _write_settings(table: Table) -> dict[str, str]:
    advisory = str(advisory_partition_bytes(table))
    return {
        "spark.sql.iceberg.advisory-partition-size": advisory,
        "spark.sql.adaptive.advisoryPartitionSizeInBytes": advisory,
        "spark.sql.adaptive.coalescePartitions.parallelismFirst": "false",
    }


class _SharedSettings:
    """Session settings held while any write needs them: the first write in sets them, the last one out puts back
    what was there, so writes running at once in several threads (_publish.concurrently) never undo each other's,
    and a write needing other values waits until the others are done."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._active: dict[str, str] | None = None
        self._before: dict[str, str | None] = {}
        self._holders = 0

    @contextmanager
    def holding(self, spark: SparkSession, settings: dict[str, str]) -> Iterator[None]:
        with self._lock:
            self._lock.wait_for(lambda: self._holders == 0 or self._active == settings)
            if self._holders == 0:
                self._before = {key: spark.conf.get(key, None) for key in settings}
                for key, value in settings.items():
                    spark.conf.set(key, value)
                self._active = settings
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0:
                    for key, value in self._before.items():
                        if value is None:
                            spark.conf.unset(key)
                        else:
                            spark.conf.set(key, value)
                    self._active = None
                    self._lock.notify_all()


_WRITE_SETTINGS = _SharedSettings()


def sized_writes(spark: SparkSession, table: Table):
    """A context inside which writes of `table` come out as files of about its write.target-file-size-bytes (see
    _write_settings); afterwards every setting is as it was (unset again when it was unset)."""
    return _WRITE_SETTINGS.holding(spark, _write_settings(table))


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
