"""The plain-data vocabulary every runner shares: table schemas, lake locations and pipeline steps.

No Pulumi, no Spark: the jobs, the Glue tables, the Step Functions builder and the local runner all read these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

# The lake's buckets: the data zones the pipelines read and write, then the platform's own (pipelines/lake.py).
Zone = Literal["raw", "curated", "scripts", "athena-results", "logs"]
# How a run replaces a table: "full" rebuilds it whole from the run's input (nothing of earlier runs survives);
# "incremental" replaces exactly the partitions the run's input covers and keeps every other partition.
Refresh = Literal["full", "incremental"]
REFRESH_MODES: tuple[Refresh, ...] = ("full", "incremental")

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
    """One curated output: a Parquet directory `name` under its job's `--output`, catalogued as `glue_name`."""

    pipeline: str
    name: str
    # The job (jobs/<writer>.py) or Lambda (functions/<writer>.py) that writes the table.
    writer: str
    description: str
    columns: tuple[Column, ...]
    # Declared, never defaulted: whoever adds a table decides what a rerun over less input leaves in it.
    refresh: Refresh
    partition_keys: tuple[Column, ...] = ()
    # The primary key the job guarantees unique; tests and the orders ingest rely on it.
    key: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.refresh not in REFRESH_MODES:
            raise ValueError(f"table {self.name}: refresh {self.refresh!r} is not one of {REFRESH_MODES}")
        names = [c.name for c in self.all_columns]
        if len(names) != len(set(names)):
            raise ValueError(f"table {self.name}: duplicate column names in {names}")
        missing = [k for k in self.key if k not in names]
        if missing:
            raise ValueError(f"table {self.name}: key columns {missing} are not columns")

    @property
    def glue_name(self) -> str:
        return f"{self.pipeline}_{self.name}"

    @property
    def all_columns(self) -> tuple[Column, ...]:
        """Columns in the order the job's final select writes them: data columns, then partition keys."""
        return self.columns + self.partition_keys

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.all_columns]

    @property
    def location(self) -> Location:
        return Location("curated", f"{self.pipeline}/{self.name}/")

    def ddl(self) -> str:
        """Spark DDL of every column, e.g. `order_id string, price decimal(18,2)`."""
        return ", ".join(f"`{c.name}` {c.type}" for c in self.all_columns)


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

    def __post_init__(self) -> None:
        raw_flags = sorted(flag for flag, location in self.args if location.zone == "raw")
        glue_flags = sorted(flag for flag, _ in self.glue_inputs)
        if self.glue_inputs and (glue_flags != raw_flags or any(loc.zone != "raw" for _, loc in self.glue_inputs)):
            raise ValueError(f"step {self.name}: glue_inputs must give a raw location for each of {raw_flags}")

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
