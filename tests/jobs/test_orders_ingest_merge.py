"""jobs/orders_ingest_merge.py: which staged rows reach ingested_items (each order as its latest source version),
then the job end to end on the Lambda's own staged objects: redelivery adds nothing, concurrent landings lose
nothing, a later version replaces an order's lines, and A then B equals A and B."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import orders_ingest_merge as job
import pytest
from _read import FILE, FILTERED, table_schema

from pipelines import orders as spec

pytestmark = pytest.mark.spark

D = Decimal
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T1 = datetime(2026, 3, 1, 12, 5, tzinfo=UTC)


def line(order: str, product: str, *, key: str = "orders/incoming/a.json", version: str = "v1", at=T0, price="1.00"):
    """One ingested_items row of `order` x `product` from the source version (key, version, at)."""
    return {
        "order_id": order,
        "order_date": datetime(2024, 1, 10).date(),
        "total_amount": D(price),
        "product_id": product,
        "price": D(price),
        "quantity": 1,
        "line_amount": D(price),
        "source_key": key,
        "source_version": version,
        "source_modified": at,
    }


def frame(spark, rows: list[dict], *, file: str = "staged.parquet"):
    names = spec.INGESTED_ITEMS.column_names
    values = [tuple(row.get(n) for n in names) + (file,) for row in rows]
    schema = table_schema(spec.INGESTED_ITEMS).add(FILE, "string")
    return spark.createDataFrame(values, schema)


def classified(spark, staged: list[dict], current: list[dict]) -> list[tuple]:
    rows = job.transform_classify(frame(spark, staged), frame(spark, current).drop(FILE)).collect()
    found = [(r["order_id"], r["product_id"], r["source_version"], r[job.REASON], r[FILTERED]) for r in rows]
    return sorted(found, key=lambda row: tuple(str(v) for v in row))


def test_the_latest_staged_version_of_each_order_wins_whole(spark):
    staged = [
        line("1", "P1", version="v1", at=T0),
        line("1", "P2", version="v1", at=T0),
        line("1", "P1", version="v2", at=T1),
        line("2", "P9", key="orders/incoming/b.json", version="x", at=T0),
    ]
    assert classified(spark, staged, []) == [
        ("1", "P1", "v1", None, job.SUPERSEDED),
        ("1", "P1", "v2", None, None),
        ("1", "P2", "v1", None, job.SUPERSEDED),
        ("2", "P9", "x", None, None),
    ]


def test_ties_on_time_go_to_the_greater_key_then_the_greater_version(spark):
    staged = [
        line("1", "P1", key="orders/incoming/a.json", version="z", at=T0),
        line("1", "P1", key="orders/incoming/b.json", version="a", at=T0),
        line("2", "P1", version="a", at=T0),
        line("2", "P1", version="b", at=T0),
    ]
    winners = [(o, v) for o, _, v, _, f in classified(spark, staged, []) if f is None]
    assert winners == [("1", "a"), ("2", "b")]


def test_the_same_or_an_older_version_than_the_tables_changes_nothing(spark):
    current = [line("1", "P1", version="v2", at=T1), line("2", "P1", version="v1", at=T0)]
    staged = [line("1", "P1", version="v2", at=T1), line("2", "P1", version="v0", at=T0.replace(hour=11))]
    assert classified(spark, staged, current) == [
        ("1", "P1", "v2", None, job.ALREADY_MERGED),
        ("2", "P1", "v0", None, job.OLDER),
    ]


def test_a_later_version_replaces_the_order_in_the_table(spark):
    current = [line("1", "P1", version="v1", at=T0), line("1", "P2", version="v1", at=T0)]
    staged = [line("1", "P1", version="v2", at=T1, price="2.00")]
    merged = job.transform_merge(job.transform_classify(frame(spark, staged), frame(spark, current).drop(FILE)))
    assert [(r["order_id"], r["product_id"], r["price"]) for r in merged.collect()] == [("1", "P1", D("2.00"))]
    assert merged.columns == spec.INGESTED_ITEMS.column_names


def test_a_row_without_its_order_or_version_is_quarantined(spark):
    staged = [line("1", "P1"), {**line("2", "P1"), "source_modified": None}, {**line("3", "P1"), "order_id": None}]
    got = classified(spark, staged, [])
    assert [(o, r, f) for o, _, _, r, f in got] == [
        ("1", None, None),
        ("2", job.UNPLACED, None),
        (None, job.UNPLACED, None),
    ]
    quarantine = job.transform_quarantine(job.transform_classify(frame(spark, staged), frame(spark, []).drop(FILE)))
    assert {r["reason"] for r in quarantine.collect()} == {job.UNPLACED}
    assert {r["file"] for r in quarantine.collect()} == {"staged.parquet"}
