"""functions/ingest/table.py: the Lambda's rows have exactly the declared schema, whichever path built them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pyarrow.parquet as pq

from functions.ingest import table
from pipelines import orders as spec

_ARROW = {
    "decimal(18,2)": "decimal128(18, 2)",
    "date": "date32[day]",
    "int": "int32",
    "timestamp": "timestamp[us, tz=UTC]",
}


def test_the_staged_schema_is_the_declared_table_and_flattening_gives_all_but_the_source_time():
    assert [(f.name, str(f.type)) for f in table.STAGED_SCHEMA] == [
        (c.name, _ARROW.get(c.type, c.type)) for c in spec.INGESTED_ITEMS.all_columns
    ]
    assert table.SCHEMA.names == [n for n in table.STAGED_SCHEMA.names if n != "source_modified"]


def test_staged_rows_carry_the_source_versions_time():
    order = {"order_id": ["a"], "order_date": [0], "total_amount": [5]} | {c: [None] for c in _CUSTOMER}
    rows = table.rows(order, _ITEMS, np.zeros(2, np.int32), ("k", "v"))
    modified = datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)
    stamped = table.staged(table.Flattened(rows), ("k", "v"), modified)
    assert stamped.schema == table.STAGED_SCHEMA
    assert stamped.column("source_modified").to_pylist() == [modified, modified]
    assert stamped.select(table.SCHEMA.names).equals(rows)
    assert table.staged(table.Flattened(rows.slice(0, 0)), ("k", "v"), modified).num_rows == 0


def test_an_order_without_product_lines_is_staged_as_one_marker_row():
    order = {"order_id": ["a"], "order_date": [0], "total_amount": [5]} | {c: [None] for c in _CUSTOMER}
    rows = table.rows(order, _ITEMS, np.zeros(2, np.int32), ("k", "v"))
    modified = datetime(2026, 3, 1, tzinfo=UTC)
    stamped = table.staged(table.Flattened(rows, emptied=("b", "c")), ("k", "v"), modified)
    assert stamped.num_rows == 4
    markers = stamped.slice(2).to_pylist()
    assert [m["order_id"] for m in markers] == ["b", "c"]
    assert {(m["source_key"], m["source_version"], m["source_modified"]) for m in markers} == {("k", "v", modified)}
    assert {m["product_id"] for m in markers} == {None}
    only = table.staged(table.Flattened(table.SCHEMA.empty_table(), emptied=("b",)), ("k", "v"), modified)
    assert only.column("order_id").to_pylist() == ["b"]


_CUSTOMER = ("customer_id", "customer_name", "customer_email", "customer_address")
_ITEMS = {
    "product_id": ["p", "q"],
    "product_name": [None, None],
    "product_category": [None, None],
    "price": [5, 250],
    "quantity": [1, 2],
    "line_amount": [5, 500],
}


def test_rows_take_cents_days_and_each_rows_order_index():
    orders = {
        "order_id": ["a", "b"],
        "order_date": [0, 19_732],
        "total_amount": [-1, 10**18 - 1],
        **{c: [None, "x"] for c in ("customer_id", "customer_name", "customer_email", "customer_address")},
    }
    items = {
        "product_id": ["p", "q", "r"],
        "product_name": [None, None, "n"],
        "product_category": [None, None, None],
        "price": [5, 250, 1],
        "quantity": [1, 2, 3],
        "line_amount": [5, 500, 3],
    }
    rows = table.rows(orders, items, np.array([1, 1, 0], dtype=np.int32), ("k", "v"))
    assert rows.schema == table.SCHEMA
    first, _, last = rows.to_pylist()
    assert (first["order_id"], first["order_date"], first["total_amount"]) == (
        "b",
        date(2024, 1, 10),
        Decimal("9999999999999999.99"),
    )
    assert (last["order_id"], last["total_amount"], last["price"], last["line_amount"]) == (
        "a",
        Decimal("-0.01"),
        Decimal("0.01"),
        Decimal("0.03"),
    )
    assert {(r["source_key"], r["source_version"]) for r in rows.to_pylist()} == {("k", "v")}


def test_parquet_reads_back_the_same_table(tmp_path):
    rows = table.rows(
        {
            "order_id": ["a"],
            "order_date": [1],
            "total_amount": [100],
            **{c: [None] for c in ("customer_id", "customer_name", "customer_email", "customer_address")},
        },
        {
            "product_id": ["p"],
            "product_name": ["n"],
            "product_category": [None],
            "price": [100],
            "quantity": [1],
            "line_amount": [100],
        },
        np.array([0], dtype=np.int32),
        ("k", "v"),
    )
    stamped = table.staged(table.Flattened(rows), ("k", "v"), datetime(2026, 1, 2, tzinfo=UTC))
    path = tmp_path / "x.parquet"
    path.write_bytes(table.to_parquet(stamped))
    assert pq.read_table(path).to_pylist() == stamped.to_pylist()
    assert spec.INGESTED_ITEMS.column_names == stamped.column_names
