"""functions/ingest/flatten.py: a file's rows and rejects by the reference path, and the same as the Spark job's."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import orders as orders_job
import pytest
from _job import JobRun

from functions.ingest import flatten
from functions.ingest.records import FileRejected
from functions.ingest.table import Flattened
from local.samples import orders as samples
from pipelines import orders as spec
from tests.functions.ingest import documents as doc
from tests.jobs.test_orders import FILE_B, FILE_B_LINES, FILE_B_REJECTS
from tests.local import iceberg

D = Decimal


def _flatten(text: str) -> Flattened:
    return flatten.flatten_text(text, source="s3://raw/b.jsonl", source_key="b.jsonl", source_version="v1")


def test_file_b_rejects_the_lines_the_job_rejects_and_keeps_the_rest():
    flat = _flatten(FILE_B)
    assert [(r["source"], r["reason"]) for r in flat.rejects] == [
        (f"s3://raw/b.jsonl#{line}", reason) for line, reason in FILE_B_REJECTS
    ]
    assert flat.rejects[0]["record"] == FILE_B_LINES[2]
    assert (flat.records, flat.orders, flat.superseded) == (17, 1, 0)
    assert flat.table.to_pylist() == [
        {
            "order_id": "7",
            "order_date": date(2024, 1, 13),
            "total_amount": D("20.00"),
            "customer_id": "C7",
            "customer_name": "山田太郎",
            "customer_email": None,
            "customer_address": None,
            "product_id": "X",
            "product_name": "Cable",
            "product_category": None,
            "price": D("10.00"),
            "quantity": 2,
            "line_amount": D("20.00"),
            "source_key": "b.jsonl",
            "source_version": "v1",
        }
    ]


def test_latest_occurrence_in_the_file_wins():
    first = doc.order(order_id=5, products=[doc.product(price=1.0, quantity=1)])
    second = doc.order(order_id="5", products=[doc.product(price=2.0, quantity=3)])
    flat = _flatten(json.dumps([first, doc.order(order_id=6), second]))
    assert (flat.records, flat.orders, flat.superseded) == (3, 2, 1)
    rows = {(r["order_id"], r["product_id"]): (r["price"], r["quantity"]) for r in flat.table.to_pylist()}
    assert rows[("5", "P1")] == (D("2.00"), 3)
    assert len(rows) == 3


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[{]", spec.NOT_JSON),
        ('[{"order_id": 1}] junk', spec.NOT_JSON),
        ('[{"order_id": 1}]] [[{"order_id": 2}]', spec.NOT_JSON),
        ("[{'order_id': 1}]", spec.NOT_JSON),
        ('[{"order_id": 1, "note": ' + "[" * 5000 + "]" * 5000 + "}]", spec.NOT_JSON),
        ("order_id,total\n1,2\n", spec.NOT_JSON),
        ('{"hello": "world"}', f"no valid order in its 1 records; first: {spec.MISSING_ORDER_ID}"),
    ],
)
def test_files_that_are_not_order_data_are_rejected_whole(text, reason):
    with pytest.raises(FileRejected) as rejected:
        _flatten(text)
    assert str(rejected.value).startswith(reason)


def test_empty_array_and_blank_file_have_no_rows():
    for text in ("[ ]", "\n\n"):
        flat = _flatten(text)
        assert (flat.table.num_rows, flat.records, flat.rejects) == (0, 0, [])


# ---- the same rows as the Spark job -------------------------------------------------------------------------------


def _job_rows(spark, path: Path, tmp_path: Path) -> tuple[list, list]:
    """order_items rows and (position, reason) of the quarantine written by the Spark job run on the one file."""
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / path.name).write_bytes(path.read_bytes())
    output = tmp_path / "curated" / "orders"
    orders_job.main(["--input", str(exports), "--output", str(output)])
    columns = spec.ORDER_ITEMS.column_names
    table = spark.table(iceberg.identifier(spark, output.parent, spec.ORDER_ITEMS))
    rows = sorted(tuple(r[c] for c in columns) for r in table.collect())
    parts = sorted((output / "_quarantine" / orders_job.INPUT).glob("part-*.json"))
    quarantine = [json.loads(line) for part in parts for line in part.read_text().splitlines()]
    # The job names a record's place as "line 3" (or "element 3"), the Lambda as "<source>#3".
    return rows, sorted((r["position"].rsplit(" ", 1)[-1], r["reason"]) for r in quarantine)


def _lambda_rows(path: Path) -> tuple[list, list]:
    flat = flatten.flatten(path.read_bytes(), source="s3://raw/x", source_key="x", source_version="v")
    columns = spec.ORDER_ITEMS.column_names
    rows = sorted(tuple(r[c] for c in columns) for r in flat.table.to_pylist())
    return rows, sorted((r["source"].rsplit("#", 1)[-1], r["reason"]) for r in flat.rejects)


@pytest.mark.spark
def test_same_rows_and_rejects_as_the_spark_job_on_an_awkward_export(spark, tmp_path, monkeypatch):
    # One malformed record per rule makes a third of this file quarantined: let the job's gate publish it anyway,
    # the rows are what is compared here.
    monkeypatch.setattr(JobRun, "quarantine_limit", lambda _run, _name: 1.0)
    samples.write_sample(tmp_path / "raw", size=20, seed=5)
    path = tmp_path / "raw" / "exports" / "orders-0003.jsonl"
    job_rows, job_rejects = _job_rows(spark, path, tmp_path)
    lambda_rows, lambda_rejects = _lambda_rows(path)
    assert lambda_rows == job_rows
    assert len(lambda_rows) > 10
    assert lambda_rejects == job_rejects
    assert len(lambda_rejects) == len(samples.MALFORMED_LINES)


@pytest.mark.spark
@pytest.mark.shared_data
def test_same_rows_as_the_spark_job_on_a_shared_sample(spark, shared_datasets, tmp_path):
    path = shared_datasets / "orders" / "final_orders_etl.json"
    job_rows, _ = _job_rows(spark, path, tmp_path)
    lambda_rows, _ = _lambda_rows(path)
    assert lambda_rows == job_rows
    assert len(lambda_rows) == 71
