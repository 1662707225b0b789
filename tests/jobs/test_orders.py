"""jobs/orders.py: splitting files into records, validation, latest occurrence wins, both tables, end to end."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import orders as job
import pytest
from _job import JobRun
from _read import table_schema
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from local.samples import orders as samples
from pipelines import orders as spec
from tests.jobs.published import fields

pytestmark = pytest.mark.spark

D = Decimal

# An inline corpus: four files, each record chosen for one rule. Expected values are written out by hand.
FILE_A = """[
  {"order_id": 1, "order_date": "2024-01-10", "total_amount": 95.00,
   "customer": {"customer_id": 101, "name": "Zoë Ærø", "email": null, "address": "1 Main St"},
   "products": [{"product_id": "P1", "name": "Mouse", "category": "Electronics", "price": 25.00, "quantity": 2},
                {"product_id": "P2", "name": "Keyboard", "category": "Electronics", "price": 45, "quantity": 1}]},
  {"order_id": "0042", "order_date": "2024-01-11", "total_amount": "10.00", "customer": null, "products": []},
  {"order_id": 7, "order_date": "2024-01-12", "total_amount": 1, "customer": {"customer_id": "C7"},
   "products": [{"product_id": "X", "price": 1, "quantity": 1}]},
  42
]
"""
FILE_B_LINES = [
    '{"order_id": 7, "order_date": "2024-01-13", "total_amount": 19.999, "customer": {"customer_id": "C7",'
    ' "name": "山田太郎"}, "products": [{"product_id": "X", "name": "Cable", "category": null, "price": "9.995",'
    ' "quantity": "2"}]}',
    "",
    '{"order_id": "8", "order_date": "2024-02-30", "total_amount": 0, "products": []}\r',
    '{"order_date": "2024-01-10", "total_amount": 1, "products": []}',
    '{"order_id": 9, "order_date": "2024-01-10", "total_amount": 1, "products": [{"product_id": "A", "price": -1,'
    ' "quantity": 1}, {"price": 1, "quantity": 1.5}]}',
    '{"order_id": 10, "order_date": "2024-01-10", "total_amount": "abc", "customer": "Bob",'
    ' "products": {"product_id": "A"}}',
    '{"order_id": 11, "order_date": "2024-01-10", "total_amount": 1, "products": [',
    "[1, 2]",
    '{"order_id": 12, "order_date": "2024-01-10", "total_amount": 2, "products": [{"product_id": "A", "price": 1,'
    ' "quantity": 1}, {"product_id": "A", "price": 1, "quantity": 1}, "oops"]}',
    '{"order_id": 13, "order_date": "2024-01-10", "total_amount": 1e17, "products": [{"product_id": "A",'
    ' "price": "9999999999999999.999", "quantity": 3000000000}]}',
    '{"order_id": 14, "order_date": "2024-01-10", "total_amount": 1, "products": []} trailing',
    '{"order_id": "0042", "order_date": "10/01/2024", "total_amount": 5, "products": []}',
    # Trailing text that closes one of the Spark job's wrappers (see jobs/_read.py one_json_value) is still not JSON.
    '{"order_id": 15, "order_date": "2024-01-10", "total_amount": 0, "products": []}] [{"order_id": 16}',
    '{"order_id": 17, "order_date": "2024-01-10", "total_amount": 0, "products": []}}] [{"v": {"order_id": 18}',
    '{"order_id": 19, "order_date": "2024-01-10", "total_amount": 0, "products": []}, {"order_id": 20}',
    "{'order_id': 21, 'order_date': '2024-01-10', 'total_amount': 0, 'products': []}",  # Spark's parser would take it
    # Past both parsers' limits: Python's int from 4,300 digits and its stack, Jackson's 1,000 digits and levels.
    '{"order_id": 22, "order_date": "2024-01-10", "total_amount": 0, "products": [], "note": ' + "9" * 5000 + "}",
    '{"order_id": 23, "order_date": "2024-01-10", "total_amount": 0, "products": [], "note": '
    + "[" * 2000
    + "]" * 2000
    + "}",
]
FILE_B = "\n".join(FILE_B_LINES) + "\n"
# (line number, reason) of every rejected line of FILE_B: shared with the ingest Lambda's tests.
FILE_B_REJECTS = [
    (3, spec.BAD_ORDER_DATE),
    (4, spec.MISSING_ORDER_ID),
    (5, "; ".join([spec.MISSING_PRODUCT_ID, spec.NEGATIVE_PRICE, spec.BAD_QUANTITY])),
    (6, "; ".join([spec.BAD_TOTAL, spec.CUSTOMER_NOT_OBJECT, spec.PRODUCTS_NOT_ARRAY])),
    (7, spec.NOT_JSON),
    (8, spec.NOT_AN_OBJECT),
    (9, "; ".join([spec.PRODUCT_NOT_OBJECT, spec.DUPLICATE_PRODUCT_ID])),
    (10, "; ".join([spec.AMOUNT_OUT_OF_RANGE, spec.QUANTITY_OUT_OF_RANGE])),
    (11, spec.NOT_JSON),
    (12, spec.BAD_ORDER_DATE),
    (13, spec.NOT_JSON),
    (14, spec.NOT_JSON),
    (15, spec.NOT_JSON),
    (16, spec.NOT_JSON),
    (17, spec.NOT_JSON),
    (18, spec.NOT_JSON),
]
FILE_C = '[{"order_id": 1, "order_date": "2024-01-20", '
FILE_D = """[{"order_id": 1, "order_date": "2024-01-14", "total_amount": 50, "customer": null,
  "products": [{"product_id": "P1", "price": 50, "quantity": 1}]},
 {"order_id": 1, "order_date": "2024-01-15", "total_amount": 60.5,
  "customer": {"customer_id": 101, "name": "Zoë Ærø", "email": "zoe@example.com", "address": "1 Main St"},
  "products": [{"product_id": "P1", "name": "Mouse", "category": "Electronics", "price": 30.25, "quantity": 2}]}]
"""
# D has B's modification time: the greater path wins the tie.
CORPUS = [
    (FILE_A, "mem:/a.json", datetime(2024, 1, 1)),
    (FILE_B, "mem:/b.jsonl", datetime(2024, 1, 2)),
    (FILE_C, "mem:/c.json", datetime(2024, 1, 3)),
    (FILE_D, "mem:/d.json", datetime(2024, 1, 2)),
]
CUSTOMER_1 = ("101", "Zoë Ærø", "zoe@example.com", "1 Main St")
CUSTOMER_7 = ("C7", "山田太郎", None, None)


@pytest.fixture(scope="module")
def corpus(spark):
    files = spark.createDataFrame(CORPUS, "value string, file_path string, file_modification_time timestamp")
    records = job.transform_records(files)
    validated = job.transform_validate(records).persist()
    latest = job.transform_latest(validated)
    result = {
        "records": sorted((r.file_path, r.position, r.is_json) for r in records.collect()),
        "quarantine": sorted(tuple(r) for r in job.transform_quarantine(validated).collect()),
        "order_items": sorted(tuple(r) for r in job.transform_order_items(latest).collect()),
        "orders": sorted(tuple(r) for r in job.transform_orders(latest).collect()),
        "valid": validated.where("reason is null").count(),
    }
    validated.unpersist()
    return result


def test_records_split_arrays_and_lines(corpus):
    """Array elements are numbered from 1, lines by line number (blank ones skipped), a broken array is one record."""
    assert corpus["records"] == [
        *[("mem:/a.json", n, True) for n in (1, 2, 3, 4)],
        *[("mem:/b.jsonl", n, None) for n in (1, *range(3, 19))],
        ("mem:/c.json", 0, False),
        ("mem:/d.json", 1, True),
        ("mem:/d.json", 2, True),
    ]


# Shapes a well-formed order can take, beside the corpus: numbers written every way, nested values inside fields,
# duplicate keys, empty and null parts' fields, unicode, a part's fields absent.
WELL_FORMED_LINES = [
    '{"order_id": 1, "customer": {}, "products": []}',
    '{"order_id": 1.50, "total_amount": 1E+2, "customer": {"customer_id": -0, "name": {"first": "A"}},'
    ' "products": [{"price": 12345678901234567890.125, "quantity": [1, 2]}, null, {}]}',
    '{"products": [{"product_id": "P", "product_id": 2}], "customer": {"name": "x", "name": null}, "x": {"y": [1]}}',
    '{"order_id": "\u00e9\n", "customer": {"email": ""}, "products": [{"name": "\ud83d\ude00"}]}',
    '{"order_id": 2, "customer": null, "products": []}',
    '{"order_id": 3, "customer": {"name": "x"}, "products": "later", "products": [{"price": 1}]}',
    '{"order_id": 4, "customer": {"name": "x"}, "products": [{"price": 1}], "products": "later"}',
]


def test_the_one_pass_parse_gives_what_the_per_part_parse_gives(spark, tmp_path):
    """transform_validate parses a well-formed order once, with its parts' shapes in the schema; every other record
    a part at a time. For every record both must give the same struct: the rules see no difference."""
    lines = [(text, f"mem:/{i}.json", datetime(2024, 1, 1)) for i, text in enumerate(WELL_FORMED_LINES)]
    samples.write_sample(tmp_path, size=40, seed=5)
    exports = sorted((tmp_path / "exports").iterdir())
    generated = [(f.read_text(), f"mem:/{f.name}", datetime(2024, 1, 2)) for f in exports]
    files = spark.createDataFrame(
        [*CORPUS, *lines, *generated], "value string, file_path string, file_modification_time timestamp"
    )
    record = F.col("record")
    documents = job.transform_records(files).select(record, "is_json", job._document(record).alias("d"))
    both = documents.select(
        job._nested(record).alias("once"),
        job._nested_per_part(record, F.col("d.is_json")).alias("per_part"),
        job._parsed_once(F.col("d")).alias("parsed_once"),
    ).collect()
    assert [r.once for r in both] == [r.per_part for r in both]
    shaped = sum(r.parsed_once for r in both)
    assert len(lines) + 3 < shaped < len(both), "both paths are taken"


def test_quarantine_names_the_file_and_the_line_or_element_of_every_invalid_record(corpus):
    reasons = [(file, position, reason) for _, file, position, reason, _ in corpus["quarantine"]]
    assert reasons == sorted(
        [("mem:/a.json", "element 4", spec.NOT_AN_OBJECT), ("mem:/c.json", None, spec.NOT_JSON)]
        + [("mem:/b.jsonl", f"line {line}", reason) for line, reason in FILE_B_REJECTS]
    )
    assert {source for source, *_ in corpus["quarantine"]} == {job.INPUT}
    records = {(file, position): record for _, file, position, _, record in corpus["quarantine"]}
    assert records[("mem:/a.json", "element 4")] == "42"
    assert records[("mem:/b.jsonl", "line 3")] == FILE_B_LINES[2]
    assert records[("mem:/c.json", None)] == FILE_C


def test_order_items_latest_occurrence_typed_and_rounded(corpus):
    """Order 1: the second element of d.json (same time as b.jsonl, greater path, last position); order 7: b.jsonl
    over the older a.json; "0042" keeps its valid version (the later one is invalid) and has no lines. Money is
    rounded half-up to cents from the number's text: 9.995 -> 10.00, 19.999 -> 20.00."""
    assert corpus["order_items"] == [
        ("1", date(2024, 1, 15), D("60.50"), *CUSTOMER_1, "P1", "Mouse", "Electronics", D("30.25"), 2, D("60.50")),
        ("7", date(2024, 1, 13), D("20.00"), *CUSTOMER_7, "X", "Cable", None, D("10.00"), 2, D("20.00")),
    ]


def test_orders_summarise_lines_and_keep_orders_without_products(corpus):
    assert corpus["orders"] == [
        ("0042", date(2024, 1, 11), D("10.00"), None, None, None, None, 0, 0, D("0.00"), False),
        ("1", date(2024, 1, 15), D("60.50"), *CUSTOMER_1, 1, 2, D("60.50"), True),
        ("7", date(2024, 1, 13), D("20.00"), *CUSTOMER_7, 1, 2, D("20.00"), True),
    ]


@pytest.mark.parametrize(
    "text",
    [
        '[{"order_id": 1, "order_date": "2024-01-10", "total_amount": 0, "products": []}]] junk',
        '[{"order_id": 1, "order_date": "2024-01-10", "total_amount": 0, "products": []}]] [[{"order_id": 2}]',
        "[{'order_id': 1, 'order_date': '2024-01-10', 'total_amount': 0, 'products': []}]",
    ],
)
def test_an_array_file_with_more_after_it_or_single_quotes_is_one_broken_record(spark, text):
    # As the ingest Lambda's json.loads rejects the file (tests/functions/ingest/test_flatten.py).
    files = spark.createDataFrame(
        [(text, "mem:/x.json", None)], "value string, file_path string, file_modification_time timestamp"
    )
    validated = job.transform_validate(job.transform_records(files))
    assert [(r.position, r.is_json, r.reason) for r in validated.collect()] == [(0, False, spec.NOT_JSON)]


def test_every_record_is_written_quarantined_or_superseded(corpus):
    read = len(corpus["records"])
    assert (read, corpus["valid"], len(corpus["quarantine"])) == (24, 6, 18)
    assert read == len(corpus["orders"]) + len(corpus["quarantine"]) + (corpus["valid"] - len(corpus["orders"]))


# ---- end to end on generated exports ------------------------------------------------------------------------------


def _read(output: Path, table, snapshot: str | None = None) -> list:
    """The rows a job published (the Iceberg table's main, or its `previous` snapshot): tuples in the declared
    column order."""
    reader = SparkSession.getActiveSession().read.format("iceberg")
    if snapshot == "previous":
        report = json.loads((output / "_run" / "orders.json").read_text())
        reader = reader.option("snapshot-id", str(report["tables"][table.name]["previous_snapshot_id"]))
    rows = reader.load(str(output / table.name)).collect()
    return [tuple(r[c] for c in table.column_names) for r in rows]


def _rows(report: dict) -> dict[str, int]:
    return {name: table["rows"] for name, table in report["tables"].items()}


def _quarantine(output: Path) -> list[dict]:
    files = sorted((output / "_quarantine" / job.INPUT).glob("part-*.json"))
    return [json.loads(line) for f in files for line in f.read_text().splitlines()]


@pytest.fixture(scope="module")
def generated(spark, tmp_path_factory):
    raw = tmp_path_factory.mktemp("orders") / "raw" / "orders"
    counts = samples.write_sample(raw, size=30, seed=11)
    output = raw.parent.parent / "curated" / "orders"
    argv = ["--input", str(raw / "exports"), "--output", str(output)]
    first = job.main(argv)
    first_rows = {t.name: _read(output, t) for t in (spec.ORDER_ITEMS, spec.ORDERS)}
    second = job.main(argv)
    return {"counts": counts, "output": output, "first": first, "first_rows": first_rows, "second": second}


def test_run_report_balances_and_matches_what_the_generator_wrote(generated):
    counts, report = generated["counts"], generated["first"]
    exports = report["inputs"][job.INPUT]
    assert exports["balanced"]
    assert exports["read"] == counts["records"]
    assert exports["written"] == counts["orders"]
    assert exports["quarantined"] == counts["malformed"]
    assert exports["filtered"] == {spec.SUPERSEDED: counts["superseded"]}
    assert _rows(report) == {"order_items": counts["order_items"], "orders": counts["orders"]}
    # The orders (the input's records) and the order-item rows are told apart.
    assert exports["written_to"] == "orders rows, one per order"
    assert exports["record"] == "order record"
    saved = json.loads((generated["output"] / "_run" / "orders.json").read_text())
    assert saved["inputs"] == report["inputs"]


def test_written_tables_have_the_declared_schemas(spark, generated):
    for table in (spec.ORDER_ITEMS, spec.ORDERS):
        written = spark.read.format("iceberg").load(str(generated["output"] / table.name)).schema
        # Iceberg keeps each column's comment in the field's metadata: compared by name, type and nullability.
        assert fields(written) == fields(table_schema(table))


def test_quarantine_holds_the_malformed_records(generated):
    rows = _quarantine(generated["output"])
    assert len(rows) == generated["counts"]["malformed"]
    exports = generated["output"].parent.parent / "raw" / "orders" / "exports"
    assert all(r["source"] == job.INPUT and r["file"].startswith(str(exports)) and r["record"] for r in rows)
    # A JSON Lines record by its line, an array element by its place in the array.
    for row in rows:
        if row["position"] and row["position"].startswith("line "):
            lines = Path(row["file"]).read_text(encoding="utf-8").split("\n")
            assert lines[int(row["position"].removeprefix("line ")) - 1] == row["record"], row
    assert all(re.fullmatch(r"(line|element) [1-9][0-9]*", r["position"]) for r in rows if r["position"])
    assert {r["reason"] for r in rows} == {
        spec.NOT_JSON,
        spec.NOT_AN_OBJECT,
        spec.MISSING_ORDER_ID,
        spec.BAD_ORDER_DATE,
        spec.NEGATIVE_PRICE,
        spec.BAD_QUANTITY,
        spec.MISSING_PRODUCT_ID,
    }


def test_rerun_replaces_instead_of_appending(generated):
    assert generated["second"]["inputs"] == generated["first"]["inputs"]
    for table in (spec.ORDER_ITEMS, spec.ORDERS):
        rows = _read(generated["output"], table)
        assert sorted(rows, key=repr) == sorted(generated["first_rows"][table.name], key=repr)
        key = [table.column_names.index(k) for k in table.key]
        assert len({tuple(r[i] for i in key) for r in rows}) == len(rows)


def test_export_a_then_export_b_gives_the_tables_of_one_run_over_a_and_b(tmp_path):
    """Merged per order: B's version of an order replaces all of A's lines of it; orders only A has stay."""
    # Large enough that B's share of the generator's malformed records stays within the gate's 10%.
    samples.write_sample(tmp_path / "raw", size=200, seed=5)
    files = sorted((tmp_path / "raw" / "exports").iterdir(), key=lambda f: (f.stat().st_mtime, f.name))
    parts = {"a": files[:1], "b": files[1:], "ab": files}
    for name, chosen in parts.items():
        (tmp_path / name).mkdir()
        for f in chosen:
            shutil.copy2(f, tmp_path / name / f.name)  # keeps the modification time "later" is judged by
    job.main(["--input", str(tmp_path / "a"), "--output", str(tmp_path / "a_then_b")])
    job.main(["--input", str(tmp_path / "b"), "--output", str(tmp_path / "a_then_b")])
    job.main(["--input", str(tmp_path / "ab"), "--output", str(tmp_path / "once")])
    for table in (spec.ORDER_ITEMS, spec.ORDERS):
        a_then_b = sorted(_read(tmp_path / "a_then_b", table), key=repr)
        assert a_then_b == sorted(_read(tmp_path / "once", table), key=repr), table.name
        assert len(a_then_b) > len(_read(tmp_path / "a_then_b", table, snapshot="previous")), table.name


def test_a_later_version_of_an_order_replaces_all_of_its_lines(spark, tmp_path):
    def export(name: str, orders: list[dict], mtime: int) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        path = folder / "export.json"
        path.write_text(json.dumps(orders))
        os.utime(path, (mtime, mtime))
        return folder

    def order(order_id, *products):
        lines = [{"product_id": p, "price": "1.50", "quantity": q} for p, q in products]
        return {"order_id": order_id, "order_date": "2024-03-01", "total_amount": "3.00", "products": lines}

    first = export("first", [order("o1", ("p1", 1), ("p2", 1)), order("o2", ("p1", 2))], 1_700_000_000)
    later = export("later", [order("o1", ("p2", 5)), order("o3", ("p9", 1))], 1_700_000_100)
    out = tmp_path / "out"
    job.main(["--input", str(first), "--output", str(out)])
    job.main(["--input", str(later), "--output", str(out)])
    items = sorted((r[0], r[_column(spec.ORDER_ITEMS, "product_id")], r[_column(spec.ORDER_ITEMS, "quantity")])
                   for r in _read(out, spec.ORDER_ITEMS))  # fmt: skip
    # o1's p1 line, gone from the later version, is gone; o2 (not in the later export) stays.
    assert items == [("o1", "p2", 5), ("o2", "p1", 2), ("o3", "p9", 1)]
    counts = {r[0]: r[_column(spec.ORDERS, "item_count")] for r in _read(out, spec.ORDERS)}
    assert counts == {"o1": 1, "o2": 1, "o3": 1}


def _column(table, name: str) -> int:
    return table.column_names.index(name)


def test_ids_that_look_like_numbers_stay_text(generated):
    ids = {r[0] for r in generated["first_rows"]["orders"]}
    assert any(i.startswith("0") for i in ids)
    assert any(i.isdigit() and not i.startswith("0") for i in ids)


@pytest.mark.parametrize("kind", ["missing", "empty"])
def test_missing_or_empty_input_exits_2_with_one_line(tmp_path, capsys, kind):
    source = tmp_path / "exports"
    if kind == "empty":
        source.mkdir()
        (source / "empty.json").write_text("")
    with pytest.raises(SystemExit) as exit_info:
        job.main(["--input", str(source), "--output", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith(f"orders: error: --input {source} ")
    assert ("does not exist" if kind == "missing" else "holds no data file (left out: 1 empty file)") in message
    assert message.endswith("; no table was replaced")
    assert "\n" not in message


def test_an_input_of_which_no_record_is_valid_replaces_nothing(spark, generated, tmp_path, capsys):
    garbage = tmp_path / "garbage.json"
    garbage.write_text("not json\n[1, 2\n")
    with pytest.raises(SystemExit) as exit_info:
        job.main(["--input", str(garbage), "--output", str(generated["output"])])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        f"orders: error: --input {garbage}: none of its 2 order records is valid (2 {spec.NOT_JSON}); fix the input;"
        " no table was replaced\n"
    )
    assert _read(generated["output"], spec.ORDERS) == generated["first_rows"]["orders"]


# ---- the shared samples -------------------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_shared_samples_each_file(spark, shared_datasets, tmp_path):
    folder = shared_datasets / "orders"
    run = JobRun(spark, job.JOB, str(tmp_path / "out"))
    validated = job.transform_validate(job.transform_records(job.extract(run, argparse.Namespace(input=str(folder)))))
    per_file = {
        Path(r.file_path).name: (r.orders, r.rows, r.invalid)
        for r in validated.groupBy("file_path")
        .agg(F.count("*").alias("orders"), F.sum("item_count").alias("rows"), F.count("reason").alias("invalid"))
        .collect()
    }
    assert per_file == {
        "orders_etl.json": (12, 23, 0),
        "updated_orders_etl.json": (17, 30, 0),
        "final_orders_etl.json": (37, 71, 0),
        "orders_etl_b.json": (12, 14, 0),
    }
    b = {r.order_id: r for r in validated.where("order_id in ('1001', '1003')").collect()}
    # 150.00 x 2 + 50.75 = 350.75 (matches); 20.00 x 2 = 40.00 against 45.50.
    assert (b["1001"].total_amount, b["1001"].lines_total) == (D("350.75"), D("350.75"))
    assert (b["1003"].total_amount, b["1003"].lines_total) == (D("45.50"), D("40.00"))


@pytest.mark.shared_data
def test_shared_cumulative_exports_together_count_each_order_once(spark, shared_datasets, tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    for i, name in enumerate(["orders_etl.json", "updated_orders_etl.json", "final_orders_etl.json"]):
        shutil.copyfile(shared_datasets / "orders" / name, exports / name)
        os.utime(exports / name, (1_700_000_000 + i, 1_700_000_000 + i))
    output = tmp_path / "out"
    report = job.main(["--input", str(exports), "--output", str(output)])
    assert report["inputs"][job.INPUT] == {
        "path": str(exports),
        "record": "order record",
        "read": 12 + 17 + 37,
        "written": 37,
        "written_to": "orders rows, one per order",
        "quarantined": 0,
        "quarantine": str(output / "_quarantine" / job.INPUT),
        "filtered": {spec.SUPERSEDED: 12 + 17},
        "balanced": True,
        "snapshot_id": None,
        "files": {"read": 3, "skipped": {}, "skipped_examples": []},
    }
    assert _rows(report) == {"order_items": 71, "orders": 37}
    orders = {r[0]: dict(zip(spec.ORDERS.column_names, r, strict=True)) for r in _read(output, spec.ORDERS)}
    # Worked by hand from final_orders_etl.json: 25.00 x 2 + 45.00 = 95.00 against 200.50; 60.00 x 2 = 120.00.
    assert (orders["1"]["total_amount"], orders["1"]["lines_total"], orders["1"]["total_matches"]) == (
        D("200.50"),
        D("95.00"),
        False,
    )
    assert (orders["3"]["lines_total"], orders["3"]["total_matches"]) == (D("120.00"), True)
    assert sum(r["total_matches"] for r in orders.values()) == 26
