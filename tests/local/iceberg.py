"""Declared tables as local Iceberg tables, exactly as the jobs leave them (jobs/_iceberg.Lake: a Hadoop catalog
whose warehouse is the curated root, table `<curated>/<pipeline>/<name>/`), with rows given inline."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from _iceberg import Lake

from pipelines.model import Table

# What Spark writes for each declared type, so the rows read back with exactly the declared schema.
_ARROW_SCALARS = {
    "string": pa.string(),
    "boolean": pa.bool_(),
    "int": pa.int32(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}


def arrow_type(type_: str) -> pa.DataType:
    if type_ in _ARROW_SCALARS:
        return _ARROW_SCALARS[type_]
    if type_.startswith("decimal("):
        precision, scale = type_[len("decimal(") : -1].split(",")
        return pa.decimal128(int(precision), int(scale))
    if type_.startswith("array<"):
        return pa.list_(arrow_type(type_[len("array<") : -1]))
    return pa.map_(pa.string(), arrow_type(type_[len("map<string,") : -1]))


def lake(spark, curated: Path, table: Table) -> Lake:
    """The jobs' catalog for `table` when its job's --output is `<curated>/<pipeline>`."""
    return Lake.local_for(spark, str(curated / table.pipeline))


def identifier(spark, curated: Path, table: Table, branch: str | None = None) -> str:
    return lake(spark, curated, table).ident(table, branch)


def create(spark, curated: Path, table: Table) -> str:
    """The declared table, empty (no snapshot), as a job creates it; returns its identifier."""
    (curated / table.pipeline).mkdir(parents=True, exist_ok=True)
    lake(spark, curated, table).create(table)
    return identifier(spark, curated, table)


def append(spark, curated: Path, table: Table, rows: list[dict], *, branch: str | None = None) -> None:
    """Commit `rows` (dicts of declared column names; missing ones null) to the table's main, or to `branch`."""
    unknown = {k for row in rows for k in row} - set(table.column_names)
    assert not unknown, f"{table.glue_name}: no columns {unknown}"
    schema = pa.schema([pa.field(c.name, arrow_type(c.type)) for c in table.columns])
    data = {c.name: [r.get(c.name) for r in rows] for c in table.columns}
    scratch = curated.parent / f"rows-{table.glue_name}-{hashlib.sha256(repr(rows).encode()).hexdigest()[:8]}"
    scratch.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(data, schema=schema), scratch / "rows.parquet")
    frame = spark.read.schema(table.ddl()).parquet(str(scratch))
    frame.writeTo(identifier(spark, curated, table, branch)).append()


def write(spark, curated: Path, table: Table, rows: list[dict]) -> None:
    """The table created and, when there are rows, one commit of them."""
    create(spark, curated, table)
    if rows:
        append(spark, curated, table, rows)
