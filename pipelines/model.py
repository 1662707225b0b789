"""The plain-data vocabulary every runner shares: table schemas, lake locations and pipeline steps.

No Pulumi, no Spark: the jobs, the Glue tables, the Step Functions builder and the local runner all read these.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Literal

# The lake's buckets: the data zones the pipelines read and write, then the platform's own (pipelines/lake.py).
Zone = Literal["raw", "curated", "scripts", "athena-results", "logs"]
# How a run replaces a table, in one Iceberg commit: "full" rebuilds it whole from the run's input (nothing of
# earlier runs survives); "incremental" replaces exactly the partitions the run's input covers and keeps every other
# partition; "merge" replaces, per value of the table's `merge_key`, all rows of that value the input holds (MERGE
# INTO: rows of a key the input has no longer are deleted) and keeps every other key's rows.
Refresh = Literal["full", "incremental", "merge"]
REFRESH_MODES: tuple[Refresh, ...] = ("full", "incremental", "merge")
# How Spark spreads rows over writer tasks before an Iceberg write (`write.distribution-mode`): "hash" clusters
# each partition's rows into one task (few, large files per partition), "range" also sorts by `sort_order`.
DistributionMode = Literal["none", "hash", "range"]
DISTRIBUTION_MODES: tuple[DistributionMode, ...] = ("none", "hash", "range")
# Iceberg's own default target (write.target-file-size-bytes): large enough for S3 and Athena, one file per task.
DEFAULT_TARGET_FILE_SIZE_BYTES = 128 * 1024 * 1024
# The gate's defaults (issue 12): a drop of more than 90% of a table's rows against its previous snapshot fails, and
# so does an input of which more than 10% of the records were quarantined. Tighter per table or input where the data
# allows.
DEFAULT_MAX_ROW_DROP = 0.9
DEFAULT_MAX_QUARANTINED_SHARE = 0.1

# Hive/Glue type names; Spark parses the same DDL strings, so one spelling serves Glue, Athena and the jobs.
_SCALAR_TYPES = {"string", "boolean", "int", "bigint", "double", "date", "timestamp"}
_DECIMAL = re.compile(r"^decimal\((\d+),(\d+)\)$")
_ARRAY = re.compile(r"^array<(.+)>$")
_MAP = re.compile(r"^map<string,(.+)>$")


def check_type(type_: str) -> str:
    """Return `type_` if it is a type this project declares (a scalar, a decimal, an array or a string map)."""
    if type_ in _SCALAR_TYPES or _DECIMAL.match(type_):
        return type_
    for pattern in (_ARRAY, _MAP):
        found = pattern.match(type_)
        if found:
            check_type(found.group(1))
            return type_
    raise ValueError(f"unsupported column type {type_!r}")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    comment: str = ""

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.name):
            raise ValueError(f"column name {self.name!r} must be lower snake_case (Glue lower-cases names)")
        check_type(self.type)


# Iceberg partition transforms (https://iceberg.apache.org/spec/#partition-transforms) this project declares.
_TRANSFORMS = {"identity", "year", "month", "day", "hour"}
_SIZED_TRANSFORM = re.compile(r"^(bucket|truncate)\[([1-9][0-9]*)\]$")
# Spark's Iceberg DDL for each (https://iceberg.apache.org/docs/latest/spark-ddl/#partitioned-by).
_SPARK_TRANSFORMS = {"year": "years", "month": "months", "day": "days", "hour": "hours"}
# The source types each time transform takes.
_TIME_TYPES = {"year": {"date", "timestamp"}, "month": {"date", "timestamp"}, "day": {"date", "timestamp"}}
_TIME_TYPES["hour"] = {"timestamp"}


@dataclass(frozen=True)
class Partition:
    """One field of a table's Iceberg partition spec: `transform` of the ordinary column `column` (hidden
    partitioning: readers filter on the column, Iceberg prunes by the transform)."""

    column: str
    transform: str = "identity"

    def __post_init__(self) -> None:
        if self.transform not in _TRANSFORMS and not _SIZED_TRANSFORM.match(self.transform):
            raise ValueError(
                f"partition of {self.column}: transform {self.transform!r} is not one of "
                f"{sorted(_TRANSFORMS)}, bucket[N] or truncate[N]"
            )

    @property
    def _sized(self) -> tuple[str, int] | None:
        found = _SIZED_TRANSFORM.match(self.transform)
        return (found.group(1), int(found.group(2))) if found else None

    @property
    def name(self) -> str:
        """The partition field's name, as Spark's Iceberg names it: `start_time_month`, `id_bucket`, `name_trunc`."""
        if self.transform == "identity":
            return self.column
        sized = self._sized
        if sized:
            return f"{self.column}_{'bucket' if sized[0] == 'bucket' else 'trunc'}"
        return f"{self.column}_{self.transform}"

    def spark_sql(self) -> str:
        """The transform in Spark's `PARTITIONED BY` / `ADD PARTITION FIELD`: `months(start_time)`, `bucket(16, id)`."""
        column = f"`{self.column}`"
        if self.transform == "identity":
            return column
        sized = self._sized
        if sized:
            return f"{sized[0]}({sized[1]}, {column})"
        return f"{_SPARK_TRANSFORMS[self.transform]}({column})"


@dataclass(frozen=True)
class Check:
    """A gate rule on one column, checked on a run's output before it is published; null values always pass.

    `accepted`: the only values the column may hold. `minimum` / `maximum`: inclusive bounds (numbers, or ISO
    dates / timestamps as text for date columns).
    """

    column: str
    accepted: tuple[str, ...] = ()
    minimum: float | int | str | None = None
    maximum: float | int | str | None = None

    def __post_init__(self) -> None:
        if not self.accepted and self.minimum is None and self.maximum is None:
            raise ValueError(f"check on {self.column}: give accepted values, a minimum or a maximum")
        if self.accepted and (self.minimum is not None or self.maximum is not None):
            raise ValueError(f"check on {self.column}: accepted values and a range are two checks; declare both")

    @property
    def rule(self) -> str:
        """The rule's name in the run report, e.g. `accepted_values(level)`, `range(hour)`."""
        return f"{'accepted_values' if self.accepted else 'range'}({self.column})"


@dataclass(frozen=True)
class IcebergField:
    """One top-level field of a table's Iceberg schema (https://iceberg.apache.org/spec/#schemas): `type` is a
    primitive's name or, for a list or map, the JSON of the Iceberg type."""

    id: int
    name: str
    type: str
    required: bool
    doc: str


def _iceberg_type(type_: str, next_id: list[int]) -> str | dict:
    """The Iceberg type of a declared type; nested ids are taken from `next_id` right after their column's own."""
    if type_ == "bigint":
        return "long"
    if type_ == "timestamp":
        # Spark's timestamp is an instant (shown in the session time zone): Iceberg's timestamptz.
        return "timestamptz"
    array = _ARRAY.match(type_)
    if array:
        element_id = next_id[0]
        next_id[0] += 1
        element = _iceberg_type(array.group(1), next_id)
        return {"type": "list", "element-id": element_id, "element": element, "element-required": False}
    found = _MAP.match(type_)
    if found:
        key_id, value_id = next_id[0], next_id[0] + 1
        next_id[0] += 2
        value = _iceberg_type(found.group(1), next_id)
        return {
            "type": "map",
            "key-id": key_id,
            "key": "string",
            "value-id": value_id,
            "value": value,
            "value-required": False,
        }
    return type_.replace(" ", "")


@dataclass(frozen=True)
class Location:
    """A prefix in one zone of the lake: `.lake/<zone>/<prefix>` locally, `s3://<zone bucket>/<prefix>` in AWS."""

    zone: Zone
    prefix: str

    def __post_init__(self) -> None:
        if self.prefix.startswith("/") or not self.prefix.endswith("/"):
            raise ValueError(f"prefix {self.prefix!r} must be relative and end with '/'")

    def child(self, name: str) -> Location:
        return Location(self.zone, f"{self.prefix}{name}/")

    def relative_to(self, root: Location) -> str:
        """This prefix inside `root`'s, e.g. `exports/` for `orders/exports/` in `orders/` (`""` for `root` itself)."""
        if self.zone != root.zone or not self.prefix.startswith(root.prefix):
            raise ValueError(f"{self.zone}:{self.prefix} is not inside {root.zone}:{root.prefix}")
        return self.prefix[len(root.prefix) :]


@dataclass(frozen=True)
class Table:
    """One curated output: an Iceberg table (format v2) named `name` under its job's `--output` locally, catalogued
    as `glue_name` in the cloud, where it lives under `location`."""

    pipeline: str
    name: str
    # The job (jobs/<writer>.py) or Lambda (functions/<writer>.py) that writes the table.
    writer: str
    description: str
    columns: tuple[Column, ...]
    # Declared, never defaulted: whoever adds a table decides what a rerun over less input leaves in it.
    refresh: Refresh
    # The primary key the job guarantees unique; the gate checks it (not null, unique) before every publish.
    key: tuple[str, ...] = ()
    # Key columns where null is a value of its own (a group of unknowns): unique still, but null allowed.
    nullable_key: tuple[str, ...] = ()
    # Hidden partitioning: transforms of ordinary columns. Partition only where each partition still fills files of
    # a useful size: a partition per artist or per day of a small table is a tiny file each.
    partitioning: tuple[Partition, ...] = ()
    # The order rows are written in within each file (ascending, nulls first): what readers filter on most.
    sort_order: tuple[str, ...] = ()
    target_file_size_bytes: int = DEFAULT_TARGET_FILE_SIZE_BYTES
    distribution_mode: DistributionMode = "hash"
    # Gate rules beyond the key's: accepted values and ranges.
    checks: tuple[Check, ...] = ()
    # The largest share of its rows the table may lose against its previous snapshot (0.9: a drop of more than 90%
    # fails); not checked on a table's first publish.
    max_row_drop: float = DEFAULT_MAX_ROW_DROP
    # refresh="merge" only: the columns whose values the input replaces whole (default: the key).
    merge_key: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.refresh not in REFRESH_MODES:
            raise ValueError(f"table {self.name}: refresh {self.refresh!r} is not one of {REFRESH_MODES}")
        names = [c.name for c in self.columns]
        if len(names) != len(set(names)):
            raise ValueError(f"table {self.name}: duplicate column names in {names}")
        problems = self._column_problems(names) + self._write_problems()
        if problems:
            raise ValueError(f"table {self.name}: {'; '.join(problems)}")

    def _column_problems(self, names: list[str]) -> list[str]:
        """Every declared name that is not a column, and partition transforms of columns of the wrong type."""
        types = {c.name: c.type for c in self.columns}
        problems = [f"key column {k!r} is not a column" for k in self.key if k not in names]
        for partition in self.partitioning:
            allowed = _TIME_TYPES.get(partition.transform)
            if partition.column not in types:
                problems.append(f"partition column {partition.column!r} is not a column")
            elif allowed and types[partition.column] not in allowed:
                problems.append(
                    f"partition {partition.transform}({partition.column}) needs a {' or '.join(sorted(allowed))} "
                    f"column, not {types[partition.column]}"
                )
        if len({p.name for p in self.partitioning}) != len(self.partitioning):
            problems.append("two partition fields have the same name")
        problems += [f"sort column {c!r} is not a column" for c in self.sort_order if c not in names]
        problems += [f"check column {c.column!r} is not a column" for c in self.checks if c.column not in names]
        problems += [f"merge key column {c!r} is not a column" for c in self.merge_key if c not in names]
        problems += [f"nullable key column {c!r} is not a key column" for c in self.nullable_key if c not in self.key]
        return problems

    def _write_problems(self) -> list[str]:
        """Settings of how the table is written that cannot work together."""
        problems = []
        if self.refresh == "incremental" and not self.partitioning:
            problems.append("an incremental table needs a partition spec: it replaces the partitions a run covers")
        if self.refresh == "merge" and not self.merge_keys:
            problems.append("a merge table needs a key (or merge_key) to merge on")
        if self.distribution_mode not in DISTRIBUTION_MODES:
            problems.append(f"distribution_mode {self.distribution_mode!r} is not one of {DISTRIBUTION_MODES}")
        if self.distribution_mode == "range" and not self.sort_order:
            problems.append("distribution_mode 'range' needs a sort_order to range over")
        if not 0 <= self.max_row_drop <= 1:
            problems.append(f"max_row_drop {self.max_row_drop} is not a share between 0 and 1")
        if self.target_file_size_bytes < 1024 * 1024:
            problems.append(f"target_file_size_bytes {self.target_file_size_bytes} is below 1 MiB")
        return problems

    @property
    def glue_name(self) -> str:
        return f"{self.pipeline}_{self.name}"

    @property
    def all_columns(self) -> tuple[Column, ...]:
        """Every column, in the order the job's final select writes them (partition sources are ordinary columns)."""
        return self.columns

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def merge_keys(self) -> tuple[str, ...]:
        return self.merge_key or self.key

    @property
    def location(self) -> Location:
        """The table's root in the cloud: apart from the Hive-era `<pipeline>/<name>/` Parquet, so that no Iceberg
        maintenance (orphan-file deletion) ever reaches the old data."""
        return Location("curated", f"iceberg/{self.pipeline}/{self.name}/")

    @property
    def properties(self) -> dict[str, str]:
        """The Iceberg table properties every writer and Pulumi set (https://iceberg.apache.org/docs/latest/configuration/)."""
        return {
            "format-version": "2",
            "write.format.default": "parquet",
            "write.parquet.compression-codec": "zstd",
            "write.target-file-size-bytes": str(self.target_file_size_bytes),
            "write.distribution-mode": self.distribution_mode,
            # Copy-on-write everywhere: readers (Athena, DuckDB) see plain data files, no delete files to apply.
            "write.delete.mode": "copy-on-write",
            "write.update.mode": "copy-on-write",
            "write.merge.mode": "copy-on-write",
            # A Hadoop or Glue table keeps one metadata file per commit: keep the last 100, delete older ones.
            "write.metadata.delete-after-commit.enabled": "true",
            "write.metadata.previous-versions-max": "100",
        }

    def iceberg_fields(self) -> list[IcebergField]:
        """The Iceberg schema's fields: ids in declaration order, a nested type's ids right after its column's, so a
        column appended later takes the next id and no id ever changes."""
        next_id = [1]
        fields = []
        for column in self.columns:
            field_id = next_id[0]
            next_id[0] += 1
            type_ = _iceberg_type(column.type, next_id)
            text = type_ if isinstance(type_, str) else json.dumps(type_, separators=(",", ":"))
            fields.append(IcebergField(field_id, column.name, text, False, column.comment))
        return fields

    def ddl(self) -> str:
        """Spark DDL of every column, e.g. `order_id string, price decimal(18,2)`."""
        return ", ".join(f"`{c.name}` {c.type}" for c in self.columns)


@dataclass(frozen=True)
class Step:
    """One job run: `jobs/<job>.py` with `args` (flag -> location), after the steps named in `after`.

    `args`' raw locations are the EMR road's inputs (upload, then start the state machine). `glue_inputs`, when set,
    declare the step's Glue road: the same job as a Glue job, reading these raw prefixes instead, where an upload
    starts it. Each road has its own landing prefix, so one upload never starts two runtimes.
    """

    name: str
    job: str
    args: tuple[tuple[str, Location], ...]
    after: tuple[str, ...] = ()
    glue_inputs: tuple[tuple[str, Location], ...] = ()
    # The gate: the largest share of an input's records that may be quarantined, per input name (as in the run
    # report) where the data needs other than DEFAULT_MAX_QUARANTINED_SHARE.
    max_quarantined_share: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        bad = [f"{name}={share}" for name, share in self.max_quarantined_share if not 0 <= share <= 1]
        if bad:
            raise ValueError(f"step {self.name}: max_quarantined_share {bad} must be shares between 0 and 1")
        raw_flags = sorted(flag for flag, location in self.args if location.zone == "raw")
        glue_flags = sorted(flag for flag, _ in self.glue_inputs)
        if self.glue_inputs and (glue_flags != raw_flags or any(loc.zone != "raw" for _, loc in self.glue_inputs)):
            raise ValueError(f"step {self.name}: glue_inputs must give a raw location for each of {raw_flags}")

    def quarantine_limit(self, input_name: str) -> float:
        """The largest quarantined share the gate lets input `input_name` publish with."""
        return dict(self.max_quarantined_share).get(input_name, DEFAULT_MAX_QUARANTINED_SHARE)

    @property
    def runs_on_glue(self) -> bool:
        return bool(self.glue_inputs)

    def glue_args(self) -> tuple[tuple[str, Location], ...]:
        """The step's arguments on the Glue road: its raw inputs replaced by `glue_inputs`."""
        glue = dict(self.glue_inputs)
        return tuple((flag, glue.get(flag, location)) for flag, location in self.args)


@dataclass(frozen=True)
class Pipeline:
    name: str
    description: str
    raw: Location
    steps: tuple[Step, ...]
    tables: tuple[Table, ...]
    # The queries/*.sql file (no required parameters) that proves a run produced data.
    check_query: str
    output: Location = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "output", Location("curated", f"{self.name}/"))
        names = [s.name for s in self.steps]
        if len(names) != len(set(names)):
            raise ValueError(f"pipeline {self.name}: duplicate step names {names}")
        for step in self.steps:
            unknown = [a for a in step.after if a not in names]
            if unknown:
                raise ValueError(f"pipeline {self.name}: step {step.name} runs after unknown steps {unknown}")
        self.waves()  # rejects cycles at import time

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)

    def table_dir(self, name: str) -> Location:
        """Where `make run` keeps table `name`: `<output>/<name>`, the job's local Iceberg table (a Hadoop catalog
        whose warehouse is the parent of the step's `--output`)."""
        return self.output.child(name)

    def waves(self) -> list[list[Step]]:
        """Steps grouped into waves: every step of a wave depends only on earlier waves (a topological order)."""
        done: set[str] = set()
        waves: list[list[Step]] = []
        pending = list(self.steps)
        while pending:
            ready = [s for s in pending if set(s.after) <= done]
            if not ready:
                raise ValueError(f"pipeline {self.name}: steps {[s.name for s in pending]} form a cycle")
            waves.append(ready)
            done.update(s.name for s in ready)
            pending = [s for s in pending if s.name not in done]
        return waves
