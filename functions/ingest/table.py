"""The ingest Lambda's output: rows of `orders_ingested_items` as Arrow tables of the declared types, flattened
from one file (SCHEMA), then stamped with the source version's time as the merge step reads them (STAGED_SCHEMA).

Both flattening paths hand over plain columns (money in whole cents, dates in days since 1970-01-01) and each
product row's order index; the types come from the table's declaration in pipelines/orders.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines import orders as spec

TABLE = spec.INGESTED_ITEMS


def arrow_type(type_: str) -> pa.DataType:
    found = re.fullmatch(r"decimal\((\d+),(\d+)\)", type_)
    if found:
        return pa.decimal128(int(found.group(1)), int(found.group(2)))
    # Spark reads a Parquet timestamp adjusted to UTC as its `timestamp` (an instant), Iceberg's `timestamptz`.
    timestamp = pa.timestamp("us", tz="UTC")
    return {
        "string": pa.string(),
        "date": pa.date32(),
        "int": pa.int32(),
        "bigint": pa.int64(),
        "timestamp": timestamp,
    }[type_]


# What the handler knows of the source version and the flattening does not: when it was written.
_STAMPED = ("source_modified",)
STAGED_SCHEMA = pa.schema([pa.field(c.name, arrow_type(c.type)) for c in TABLE.all_columns])
SCHEMA = pa.schema([f for f in STAGED_SCHEMA if f.name not in _STAMPED])


@dataclass
class Flattened:
    """One file flattened: the rows (exactly SCHEMA), the rejected orders, and the counts of the run report."""

    table: pa.Table
    rejects: list[dict] = field(default_factory=list)
    records: int = 0
    orders: int = 0
    superseded: int = 0
    # The ids of valid orders with no product line (an empty products array): no row of the table, yet a later
    # version of an order, which replaces all its earlier lines with none.
    emptied: tuple[str, ...] = ()


def _decimals(cents: np.ndarray, type_: pa.Decimal128Type) -> pa.Array:
    """decimal128 from whole minor units without a Python Decimal per value: the unscaled 128-bit integers are the
    units themselves, sign-extended (little-endian: low word, then high word)."""
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = words[:, 0] >> 63
    return pa.Array.from_buffers(type_, len(cents), [None, pa.py_buffer(words)])


def _column(values: Any, type_: pa.DataType) -> pa.Array:
    """A column of the declared type from a list or array of its plain values."""
    if pa.types.is_decimal(type_):
        return _decimals(np.asarray(values, dtype=np.int64), type_)
    if pa.types.is_date32(type_):
        return pa.array(np.asarray(values, dtype=np.int32)).view(type_)
    if pa.types.is_integer(type_):
        return pa.array(np.asarray(values, dtype=f"int{type_.bit_width}"))
    return pa.array(values, type_)


def rows(orders: Mapping[str, Any], items: Mapping[str, Any], parents: np.ndarray, source: Sequence[str]) -> pa.Table:
    """The output table from order-level and product-level columns (by output column name) and `parents`, each
    product row's order index; `source` is the (source_key, source_version) of every row."""
    take = pa.array(parents, pa.int32())
    first = pa.array(np.zeros(len(parents), dtype=np.int32))
    columns = {name: _column(values, SCHEMA.field(name).type).take(take) for name, values in orders.items()}
    columns |= {name: _column(values, SCHEMA.field(name).type) for name, values in items.items()}
    columns |= {name: pa.array([value], pa.string()).take(first) for name, value in zip(_SOURCE, source, strict=True)}
    return pa.Table.from_arrays([columns[f.name] for f in SCHEMA], schema=SCHEMA)


_SOURCE = ("source_key", "source_version")


def staged(flat: Flattened, source: Sequence[str], modified: datetime) -> pa.Table:
    """A file's rows (SCHEMA) as the merge step reads them (STAGED_SCHEMA): each stamped with `modified`, the
    source version's time (its S3 LastModified), which decides with the key and version which version is later.

    Each order without a product line adds one marker row (its order_id, the source columns, nothing else): the
    merge step deletes that order's earlier lines when this version is the later one, and inserts no row for it."""
    (column,) = _STAMPED
    markers = len(flat.emptied)
    lines = flat.table
    if markers:
        marked = {"order_id": pa.array(flat.emptied, pa.string())}
        marked |= {name: pa.array([value] * markers, pa.string()) for name, value in zip(_SOURCE, source, strict=True)}
        empty = [marked.get(f.name, pa.nulls(markers, f.type)) for f in SCHEMA]
        lines = pa.concat_tables([lines, pa.Table.from_arrays(empty, schema=SCHEMA)])
    stamp = pa.array([modified], STAGED_SCHEMA.field(column).type).take(pa.array(np.zeros(lines.num_rows, np.int32)))
    return lines.append_column(STAGED_SCHEMA.field(column), stamp).select(STAGED_SCHEMA.names)


def to_parquet(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue().to_pybytes()
