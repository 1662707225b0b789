"""functions/orders_ingest.py: the job's rules in Python, both flattening paths, and the handler on moto's S3/Glue."""

from __future__ import annotations

import io
import json
import logging
import math
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote_plus

import boto3
import orders as job
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from functions import orders_ingest as ingest
from local.samples import orders as samples
from pipelines import orders as spec
from tests.jobs.test_orders import FILE_B, FILE_B_LINES, FILE_B_REJECTS

RAW, CURATED = "raw-bucket", "curated-bucket"
WATCHED, OUT, QUARANTINE = "orders/incoming/", "orders/ingested_items/", "orders/quarantine/"
D = Decimal


def _days(text: str) -> int:
    return (date.fromisoformat(text) - date(1970, 1, 1)).days


def _order(**changes) -> dict:
    order = {
        "order_id": 1,
        "order_date": "2024-01-10",
        "total_amount": 95.0,
        "customer": {"customer_id": 101, "name": "Zoë", "email": None, "address": "1 Main St"},
        "products": [
            {"product_id": "P1", "name": "Mouse", "category": "Electronics", "price": 25.0, "quantity": 2},
            {"product_id": "P2", "name": "Keyboard", "category": None, "price": 45, "quantity": 1},
        ],
    }
    order.update(changes)
    return order


def _product(**changes) -> dict:
    return {"product_id": "P1", "price": 1.0, "quantity": 1} | changes


# ---- the rules ----------------------------------------------------------------------------------------------------


def test_validate_a_plain_order_in_cents_and_days():
    reason, order = ingest.validate(_order())
    assert reason is None
    assert order == ingest.Order(
        "1",
        _days("2024-01-10"),
        9500,
        ("101", "Zoë", None, "1 Main St"),
        [("P1", "Mouse", "Electronics", 2500, 2, 5000), ("P2", "Keyboard", None, 4500, 1, 4500)],
    )


@pytest.mark.parametrize(
    ("price", "cents"),
    [
        (2.675, 268),  # Spark casts the double's shortest text "2.675", half-up: not the binary 2.67499...
        ("9.995", 1000),
        (19.999, 2000),
        ("12.50", 1250),
        (7, 700),
        ("-0.001", 0),
        ("1e2", 10000),
    ],
)
def test_amounts_round_half_up_from_their_text(price, cents):
    _, order = ingest.validate(_order(products=[_product(price=price)]))
    assert order.items[0][3] == cents


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"order_id": None}, spec.MISSING_ORDER_ID),
        ({"order_id": "  "}, spec.MISSING_ORDER_ID),
        ({"order_date": "2024-02-30"}, spec.BAD_ORDER_DATE),
        ({"order_date": "2024-1-5"}, spec.BAD_ORDER_DATE),
        ({"order_date": "1899-12-31"}, spec.BAD_ORDER_DATE),
        ({"total_amount": "12,50"}, spec.BAD_TOTAL),
        ({"total_amount": math.nan}, spec.BAD_TOTAL),
        ({"total_amount": math.inf}, spec.BAD_TOTAL),
        ({"total_amount": True}, spec.BAD_TOTAL),
        ({"total_amount": 1e16}, spec.AMOUNT_OUT_OF_RANGE),
        ({"customer": "Bob"}, spec.CUSTOMER_NOT_OBJECT),
        ({"products": None}, spec.PRODUCTS_NOT_ARRAY),
        ({"products": {"product_id": "P1"}}, spec.PRODUCTS_NOT_ARRAY),
        ({"products": [_product(), None]}, spec.PRODUCT_NOT_OBJECT),
        ({"products": [_product(product_id="")]}, spec.MISSING_PRODUCT_ID),
        ({"products": [_product(), _product(price=2.0)]}, spec.DUPLICATE_PRODUCT_ID),
        ({"products": [_product(price="free")]}, spec.BAD_PRICE),
        ({"products": [_product(price=-0.01)]}, spec.NEGATIVE_PRICE),
        ({"products": [_product(quantity=1.5)]}, spec.BAD_QUANTITY),
        ({"products": [_product(quantity="two")]}, spec.BAD_QUANTITY),
        ({"products": [_product(quantity=-1)]}, spec.NEGATIVE_QUANTITY),
        ({"products": [_product(quantity=2**31)]}, spec.QUANTITY_OUT_OF_RANGE),
        ({"products": [_product(price=1e15, quantity=10)]}, spec.AMOUNT_OUT_OF_RANGE),
        (
            {"products": [_product(product_id="A", quantity=2**30), _product(product_id="B", quantity=2**30)]},
            spec.QUANTITY_OUT_OF_RANGE,
        ),
    ],
)
def test_each_rule_gives_its_reason(changes, reason):
    assert ingest.validate(_order(**changes)) == (reason, None)


def test_several_problems_are_listed_in_the_shared_order():
    reason, _ = ingest.validate(_order(order_id=None, total_amount="x", products=[_product(quantity=-2), 5]))
    assert reason == "; ".join([spec.MISSING_ORDER_ID, spec.BAD_TOTAL, spec.PRODUCT_NOT_OBJECT, spec.NEGATIVE_QUANTITY])


def test_not_an_object():
    assert ingest.validate([1, 2]) == (spec.NOT_AN_OBJECT, None)


def test_empty_products_is_a_valid_order_without_rows():
    reason, order = ingest.validate(_order(products=[], total_amount=0))
    assert reason is None
    assert order.items == []


# ---- flattening ----------------------------------------------------------------------------------------------------


def _flatten(text: str) -> ingest.Flattened:
    return ingest.flatten_text(text, source="s3://raw/b.jsonl", source_key="b.jsonl", source_version="v1")


def test_schema_is_the_declared_table():
    assert [(f.name, str(f.type)) for f in ingest.SCHEMA] == [
        (c.name, {"decimal(18,2)": "decimal128(18, 2)", "date": "date32[day]", "int": "int32"}.get(c.type, c.type))
        for c in spec.INGESTED_ITEMS.all_columns
    ]


def test_file_b_rejects_the_lines_the_job_rejects_and_keeps_the_rest():
    flat = _flatten(FILE_B)
    assert [(r["source"], r["reason"]) for r in flat.rejects] == [
        (f"s3://raw/b.jsonl#{line}", reason) for line, reason in FILE_B_REJECTS
    ]
    assert flat.rejects[0]["record"] == FILE_B_LINES[2]
    assert (flat.records, flat.orders, flat.superseded) == (11, 1, 0)
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
    first = _order(order_id=5, products=[_product(price=1.0, quantity=1)])
    second = _order(order_id="5", products=[_product(price=2.0, quantity=3)])
    flat = _flatten(json.dumps([first, _order(order_id=6), second]))
    assert (flat.records, flat.orders, flat.superseded) == (3, 2, 1)
    rows = {(r["order_id"], r["product_id"]): (r["price"], r["quantity"]) for r in flat.table.to_pylist()}
    assert rows[("5", "P1")] == (D("2.00"), 3)
    assert len(rows) == 3


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[{]", spec.NOT_JSON),
        ('[{"order_id": 1}] junk', spec.NOT_JSON),
        ("order_id,total\n1,2\n", spec.NOT_JSON),
        ('{"hello": "world"}', f"no valid order in its 1 records; first: {spec.MISSING_ORDER_ID}"),
    ],
)
def test_files_that_are_not_order_data_are_rejected_whole(text, reason):
    with pytest.raises(ingest.FileRejected) as rejected:
        _flatten(text)
    assert str(rejected.value).startswith(reason)


def test_not_utf8_is_rejected_whole():
    with pytest.raises(ingest.FileRejected, match="not UTF-8"):
        ingest.decode(b'[{"order_id": "\xff"}]')


def test_empty_array_and_blank_file_have_no_rows():
    for text in ("[ ]", "\n\n"):
        flat = _flatten(text)
        assert (flat.table.num_rows, flat.records, flat.rejects) == (0, 0, [])


def _regular(tmp_path: Path, orders: int, seed: int) -> bytes:
    path = tmp_path / f"regular-{seed}.json"
    samples.write_orders_file(path, orders=orders, seed=seed)
    return path.read_bytes()


def _sorted_rows(flat: ingest.Flattened) -> list:
    return sorted(tuple(r.values()) for r in flat.table.to_pylist())


def _both_paths(data: bytes) -> tuple[ingest.Flattened | None, ingest.Flattened]:
    fast = ingest._flatten_arrow(data, "k", "v")
    reference = ingest.flatten_text(ingest.decode(data), source="s", source_key="k", source_version="v")
    if fast is not None:
        assert _sorted_rows(fast) == _sorted_rows(reference)
        assert (fast.records, fast.orders, fast.superseded, fast.rejects) == (
            reference.records,
            reference.orders,
            reference.superseded,
            [],
        )
        assert fast.table.schema == ingest.SCHEMA
    return fast, reference


def test_vectorized_path_takes_regular_exports_and_agrees(tmp_path):
    data = _regular(tmp_path, 300, seed=3)
    repeated = data.rstrip().removesuffix(b"]") + b",\n" + json.dumps(json.loads(data)[0], indent=2).encode() + b"\n]"
    crlf = data.replace(b"\n", b"\r\n")
    jsonl = "\n".join(json.dumps(o, ensure_ascii=False) for o in json.loads(data)).encode()
    for variant in (data, repeated, crlf, b"\xef\xbb\xbf" + data, jsonl):
        fast, _ = _both_paths(variant)
        assert fast is not None
    fast, _ = _both_paths(repeated)
    assert fast.superseded == 1


@pytest.mark.parametrize(
    "spoil",
    [
        lambda orders: orders[3].update(order_id="0042"),  # ids of two JSON types
        lambda orders: orders[3].update(order_date="2024-1-5"),
        lambda orders: orders[3]["products"][0].update(price=2.675),  # more than two decimals
        lambda orders: orders[3]["products"][0].update(quantity=-1),
        lambda orders: orders[3]["products"].append(dict(orders[3]["products"][0])),  # a duplicate product id
        lambda orders: orders[3].update(customer="Bob"),
        lambda orders: orders[3].pop("products"),
        lambda orders: orders[3]["products"].append(None),
        lambda orders: orders.append(42),
    ],
)
def test_vectorized_path_leaves_anything_irregular_to_the_reference(tmp_path, spoil):
    orders = json.loads(_regular(tmp_path, 50, seed=4))
    spoil(orders)
    data = json.dumps(orders, indent=2, ensure_ascii=False).encode()
    fast, _ = _both_paths(data)
    assert fast is None


def test_vectorized_path_refuses_trailing_data_and_compact_arrays(tmp_path):
    data = _regular(tmp_path, 50, seed=5)
    for variant in (data + b" junk", json.dumps(json.loads(data)).encode()):
        assert ingest._flatten_arrow(variant, "k", "v") is None


def test_generated_exports_agree_on_both_paths(tmp_path):
    samples.write_sample(tmp_path, size=40, seed=9)
    for path in sorted((tmp_path / "exports").iterdir()):
        data = path.read_bytes()
        try:
            _both_paths(data)
        except ingest.FileRejected:
            assert ingest._flatten_arrow(data, "k", "v") is None


@pytest.mark.shared_data
def test_shared_samples_take_the_vectorized_path(shared_datasets):
    rows = {}
    for path in sorted((shared_datasets / "orders").glob("*.json")):
        fast, reference = _both_paths(path.read_bytes())
        assert fast is not None
        rows[path.name] = (reference.orders, reference.table.num_rows)
    assert rows == {
        "final_orders_etl.json": (37, 71),
        "orders_etl.json": (12, 23),
        "orders_etl_b.json": (12, 14),
        "updated_orders_etl.json": (17, 30),
    }


# ---- names ---------------------------------------------------------------------------------------------------------


def test_output_key_is_flat_url_safe_and_per_version():
    key = ingest.output_key(OUT, "orders/incoming/daily export+v2 é.json", "3HL4kq.tJl_c-x")
    assert (
        key == "orders/ingested_items/orders%2Fincoming%2Fdaily%20export%2Bv2%20%C3%A9.json--3HL4kq.tJl_c%2Dx.parquet"
    )
    assert ingest.flat_name(".hidden_file") == "%2Ehidden_file"
    assert ingest.flat_name("a--b") != ingest.flat_name("a-%2Db")


def test_long_keys_are_shortened_with_a_hash():
    first = ingest.output_key(OUT, "orders/incoming/" + "é" * 400 + "a.json", "v")
    second = ingest.output_key(OUT, "orders/incoming/" + "é" * 400 + "b.json", "v")
    assert len(first.encode()) <= 1024
    assert first != second


def test_metadata_text_is_short_ascii():
    text = ingest._metadata_text("problème\n" * 500)
    assert text.isascii()
    assert len(text) <= 1024
    assert "\n" not in text


# ---- the handler on moto -------------------------------------------------------------------------------------------


@pytest.fixture
def s3(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "CURATED_BUCKET": CURATED,
        "CURATED_PREFIX": OUT,
        "QUARANTINE_PREFIX": QUARANTINE,
        "WATCHED_PREFIX": WATCHED,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CRAWLER_NAME", raising=False)
    ingest._client.cache_clear()
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=RAW)
        client.create_bucket(Bucket=CURATED)
        yield client
    ingest._client.cache_clear()


def _event(key: str, version_id: str | None = None, bucket: str = RAW) -> dict:
    obj = {"key": quote_plus(key), "size": 1, "eTag": "0" * 32}
    if version_id:
        obj["versionId"] = version_id
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": bucket}, "object": obj},
            }
        ]
    }


def _keys(s3, bucket: str, prefix: str = "") -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []))


def _parquet(s3, key: str) -> pa.Table:
    return pq.read_table(io.BytesIO(s3.get_object(Bucket=CURATED, Key=key)["Body"].read()))


def test_a_valid_file_becomes_one_parquet_object(s3, tmp_path):
    samples.write_sample(tmp_path, size=20, seed=2)
    body = (tmp_path / "exports" / "orders-0002.json").read_bytes()
    key = f"{WATCHED}orders-0002.json"
    etag = s3.put_object(Bucket=RAW, Key=key, Body=body)["ETag"].strip('"')
    summary = ingest.handler(_event(key), None)
    expected = ingest.flatten(body, source=f"s3://{RAW}/{key}", source_key=key, source_version=etag)
    assert summary["output_keys"] == [ingest.output_key(OUT, key, etag)]
    assert _keys(s3, CURATED) == summary["output_keys"]
    table = _parquet(s3, summary["output_keys"][0])
    assert table.schema.remove_metadata() == ingest.SCHEMA
    assert (summary["rows_written"], table.num_rows) == (expected.table.num_rows, expected.table.num_rows)
    assert set(table.column("source_key").to_pylist()) == {key}
    assert set(table.column("source_version").to_pylist()) == {etag}
    assert (summary["records"], summary["orders_read"], summary["files_quarantined"]) == (1, 30, 0)
    assert summary["quarantine_keys"] == []


def test_malformed_json_is_copied_to_quarantine_and_the_invocation_succeeds(s3):
    key = f"{WATCHED}broken.json"
    s3.put_object(Bucket=RAW, Key=key, Body=samples.BROKEN_ARRAY.encode(), ContentType="application/json")
    summary = ingest.handler(_event(key), None)
    copy = f"{QUARANTINE}{key}"
    assert summary["files_quarantined"] == 1
    assert summary["quarantine_keys"] == [copy, f"{copy}.reason.json"]
    assert _keys(s3, CURATED) == []
    head = s3.head_object(Bucket=RAW, Key=copy)
    assert head["Metadata"]["quarantine-reason"].startswith(spec.NOT_JSON)
    assert s3.get_object(Bucket=RAW, Key=copy)["Body"].read() == samples.BROKEN_ARRAY.encode()
    sidecar = json.loads(s3.get_object(Bucket=RAW, Key=f"{copy}.reason.json")["Body"].read())
    assert sidecar["reason"].startswith(spec.NOT_JSON)
    assert (sidecar["source_bucket"], sidecar["source_key"]) == (RAW, key)


def test_a_file_that_is_not_order_shaped_is_quarantined(s3):
    key = f"{WATCHED}config.json"
    s3.put_object(Bucket=RAW, Key=key, Body=b'{"settings": {"theme": "dark"}}')
    summary = ingest.handler(_event(key), None)
    reason = s3.head_object(Bucket=RAW, Key=f"{QUARANTINE}{key}")["Metadata"]["quarantine-reason"]
    assert reason.startswith("no valid order in its 1 records; first: order_id is missing")
    assert (summary["files_quarantined"], summary["output_keys"]) == (1, [])


def test_an_empty_array_writes_nothing(s3):
    key = f"{WATCHED}empty.json"
    s3.put_object(Bucket=RAW, Key=key, Body=b"[]\n")
    summary = ingest.handler(_event(key), None)
    assert (summary["rows_written"], summary["output_keys"], summary["quarantine_keys"]) == (0, [], [])
    assert _keys(s3, CURATED) == []
    assert _keys(s3, RAW, QUARANTINE) == []


def test_url_encoded_keys_with_spaces_and_plus(s3):
    key = f"{WATCHED}daily export+v2 é.json"
    etag = s3.put_object(Bucket=RAW, Key=key, Body=json.dumps([_order()]).encode())["ETag"].strip('"')
    summary = ingest.handler(_event(key), None)
    assert summary["output_keys"] == [ingest.output_key(OUT, key, etag)]
    assert "%20export%2Bv2%20%C3%A9.json--" in summary["output_keys"][0]
    assert _parquet(s3, summary["output_keys"][0]).num_rows == 2


def test_a_redelivered_event_overwrites_the_same_object(s3):
    key = f"{WATCHED}twice.json"
    s3.put_object(Bucket=RAW, Key=key, Body=json.dumps([_order(), _order(order_id=2)]).encode())
    first = ingest.handler(_event(key), None)
    second = ingest.handler(_event(key), None)
    assert first["output_keys"] == second["output_keys"]
    assert _keys(s3, CURATED) == first["output_keys"]
    assert _parquet(s3, first["output_keys"][0]).num_rows == 4


def test_versioned_bucket_reads_the_event_version_and_names_the_output_after_it(s3):
    s3.put_bucket_versioning(Bucket=RAW, VersioningConfiguration={"Status": "Enabled"})
    key = f"{WATCHED}versioned.json"
    first = s3.put_object(Bucket=RAW, Key=key, Body=json.dumps([_order(order_id="old")]).encode())["VersionId"]
    s3.put_object(Bucket=RAW, Key=key, Body=json.dumps([_order(order_id="new")]).encode())
    summary = ingest.handler(_event(key, version_id=first), None)
    assert summary["output_keys"] == [ingest.output_key(OUT, key, first)]
    table = _parquet(s3, summary["output_keys"][0])
    assert set(table.column("order_id").to_pylist()) == {"old"}
    assert set(table.column("source_version").to_pylist()) == {first}


def test_bad_orders_go_to_a_rejects_object_and_good_ones_are_written(s3):
    key = f"{WATCHED}b.json"
    s3.put_object(Bucket=RAW, Key=key, Body=FILE_B.encode())
    summary = ingest.handler(_event(key), None)
    assert (summary["orders_read"], summary["orders_written"], summary["rows_written"]) == (11, 1, 1)
    assert summary["orders_quarantined"] == len(FILE_B_REJECTS)
    (rejects_key,) = summary["quarantine_keys"]
    assert rejects_key.startswith(f"{QUARANTINE}{key}--")
    assert rejects_key.endswith(".rejects.jsonl")
    lines = s3.get_object(Bucket=RAW, Key=rejects_key)["Body"].read().decode().splitlines()
    assert [(json.loads(x)["source"], json.loads(x)["reason"]) for x in lines] == [
        (f"s3://{RAW}/{key}#{line}", reason) for line, reason in FILE_B_REJECTS
    ]


def test_one_json_log_line_per_object(s3, caplog):
    key = f"{WATCHED}logged.json"
    s3.put_object(Bucket=RAW, Key=key, Body=json.dumps([_order()]).encode())
    with caplog.at_level(logging.INFO, logger="orders_ingest"):
        ingest.handler(_event(key), None)
    entries = [json.loads(r.getMessage()) for r in caplog.records if r.name == "orders_ingest"]
    assert len(entries) == 1
    assert (entries[0]["key"], entries[0]["status"], entries[0]["rows_written"]) == (key, "written", 2)


def test_crawler_started_after_a_write_and_already_running_is_fine(s3, monkeypatch):
    glue = boto3.client("glue")
    glue.create_database(DatabaseInput={"Name": "lake"})
    glue.create_crawler(
        Name="ingested",
        Role="arn:aws:iam::123456789012:role/crawler",
        DatabaseName="lake",
        Targets={"S3Targets": [{"Path": f"s3://{CURATED}/{OUT}"}]},
    )
    monkeypatch.setenv("CRAWLER_NAME", "ingested")
    for name in ("one.json", "two.json"):
        s3.put_object(Bucket=RAW, Key=f"{WATCHED}{name}", Body=json.dumps([_order()]).encode())
    assert ingest.handler(_event(f"{WATCHED}one.json"), None)["crawler"] == "started"
    assert glue.get_crawler(Name="ingested")["Crawler"]["State"] == "RUNNING"
    assert ingest.handler(_event(f"{WATCHED}two.json"), None)["crawler"] == "already running"


def test_refuses_to_write_under_the_watched_prefix(s3, monkeypatch):
    key = f"{WATCHED}x.json"
    s3.put_object(Bucket=RAW, Key=key, Body=json.dumps([_order()]).encode())
    monkeypatch.setenv("CURATED_BUCKET", RAW)
    monkeypatch.setenv("CURATED_PREFIX", f"{WATCHED}parquet/")
    with pytest.raises(ingest.ConfigError, match="watched prefix"):
        ingest.handler(_event(key), None)
    monkeypatch.setenv("CURATED_BUCKET", CURATED)
    monkeypatch.setenv("QUARANTINE_PREFIX", "")
    with pytest.raises(ingest.ConfigError, match="watched prefix"):
        ingest.handler(_event(key), None)
    assert _keys(s3, CURATED) == []


def test_missing_environment_is_a_clear_error(s3, monkeypatch):
    monkeypatch.delenv("QUARANTINE_PREFIX")
    with pytest.raises(ingest.ConfigError, match="QUARANTINE_PREFIX"):
        ingest.handler(_event(f"{WATCHED}x.json"), None)


def test_other_failures_raise_for_retries_and_the_dead_letter_queue(s3):
    with pytest.raises(ClientError):
        ingest.handler(_event(f"{WATCHED}gone.json"), None)


def test_the_file_limit_follows_the_memory_setting():
    assert spec.ingest_max_file_bytes(1024) < spec.ingest_max_file_bytes(2048) < spec.ingest_max_file_bytes(10240)
    # The default 2048 MB reads a 100 MB export (the benchmark's reference path peaks near 7x the file).
    assert spec.ingest_max_file_bytes(2048) > 100 * 1024 * 1024
    assert spec.ingest_max_file_bytes(10240) * spec.INGEST_MEMORY_PER_FILE_BYTE <= (10240 - 150) * 1024 * 1024
    assert (
        ingest.Config.from_env({"CURATED_BUCKET": "c", "CURATED_PREFIX": "", "QUARANTINE_PREFIX": ""}).max_file_bytes
        is None
    )


@pytest.fixture
def small_lambda(monkeypatch):
    """A 1024 MB function whose limit is 100 bytes, so the test needs no 80 MB object."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
    limit = 100
    monkeypatch.setattr(spec, "ingest_max_file_bytes", lambda memory_mb: limit if memory_mb == 1024 else None)
    return limit


def test_a_file_too_large_for_the_memory_is_quarantined_unread_with_the_road_that_takes_it(
    s3, small_lambda, monkeypatch
):
    key = f"{WATCHED}big.json"
    body = json.dumps([_order(), _order(order_id=2)]).encode()
    assert len(body) > small_lambda
    s3.put_object(Bucket=RAW, Key=key, Body=body, ContentType="application/json")
    read = []
    original = ingest._read

    def spying(source, config):
        obj = original(source, config)
        read.append(obj.data)
        return obj

    monkeypatch.setattr(ingest, "_read", spying)
    summary = ingest.handler(_event(key), None)
    assert read == [None], "the body was read although the file is above the limit"
    copy = f"{QUARANTINE}{key}"
    assert (summary["files_quarantined"], summary["output_keys"]) == (1, [])
    assert summary["quarantine_keys"] == [copy, f"{copy}.reason.json"]
    reason = json.loads(s3.get_object(Bucket=RAW, Key=f"{copy}.reason.json")["Body"].read())["reason"]
    assert reason == (
        f"{ingest.FILE_TOO_LARGE}: {len(body)} bytes, above the 100 bytes this function reads with 1024 MB of memory; "
        "the orders Spark job takes it (upload it under orders/exports/ and start the orders state machine, or under "
        "orders/glue/exports/ for the Glue job)"
    )
    assert s3.head_object(Bucket=RAW, Key=copy)["Metadata"]["quarantine-reason"].startswith(ingest.FILE_TOO_LARGE)
    assert s3.get_object(Bucket=RAW, Key=copy)["Body"].read() == body


def test_a_file_at_the_limit_is_read(s3, small_lambda):
    key = f"{WATCHED}small.json"
    body = json.dumps([{"order_id": 1}]).encode().ljust(small_lambda)
    s3.put_object(Bucket=RAW, Key=key, Body=body)
    summary = ingest.handler(_event(key), None)
    reason = json.loads(s3.get_object(Bucket=RAW, Key=f"{QUARANTINE}{key}.reason.json")["Body"].read())["reason"]
    assert not reason.startswith(ingest.FILE_TOO_LARGE)  # read, then refused for what it holds
    assert summary["files_quarantined"] == 1


def test_quarantine_copies_above_copy_objects_5_gb_go_part_by_part(s3, monkeypatch):
    """CopyObject stops at 5 GB; the managed copy switches to UploadPartCopy above its threshold, keeping the
    metadata (the threshold is lowered to S3's 5 MiB minimum part so the test needs no 5 GB object)."""
    monkeypatch.setattr(
        ingest, "_COPY", ingest.TransferConfig(multipart_threshold=5 * 2**20, multipart_chunksize=5 * 2**20)
    )
    key = f"{WATCHED}huge.json"
    body = b"[" + b" " * (11 * 2**20) + b"x]"
    s3.put_object(Bucket=RAW, Key=key, Body=body, ContentType="application/json")
    summary = ingest.handler(_event(key), None)
    copy = f"{QUARANTINE}{key}"
    assert summary["quarantine_keys"][0] == copy
    head = s3.head_object(Bucket=RAW, Key=copy)
    assert head["ETag"].strip('"').endswith("-3"), "a multipart copy (three parts) was expected"
    assert head["Metadata"]["quarantine-reason"].startswith(spec.NOT_JSON)
    assert head["ContentType"] == "application/json"
    assert s3.get_object(Bucket=RAW, Key=copy)["Body"].read() == body


def test_events_that_are_not_object_creations_are_skipped(s3):
    event = _event(f"{WATCHED}x.json")
    event["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    assert ingest.handler(event, None)["records"] == 0
    assert ingest.handler({"Event": "s3:TestEvent"}, None)["records"] == 0


# ---- the same rows as the Spark job -------------------------------------------------------------------------------


def _job_rows(path: Path, tmp_path: Path) -> tuple[list, list]:
    """order_items rows and (position, reason) of the quarantine written by the Spark job run on the one file."""
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / path.name).write_bytes(path.read_bytes())
    output = tmp_path / "out"
    job.main(["--input", str(exports), "--output", str(output)])
    columns = spec.ORDER_ITEMS.column_names
    rows = sorted(tuple(r[c] for c in columns) for r in pq.read_table(output / "order_items").to_pylist())
    parts = sorted((output / "_quarantine" / job.INPUT).glob("part-*.json"))
    quarantine = [json.loads(line) for part in parts for line in part.read_text().splitlines()]
    # The job names a record's place as "line 3" (or "element 3"), the Lambda as "<source>#3".
    return rows, sorted((r["position"].rsplit(" ", 1)[-1], r["reason"]) for r in quarantine)


def _lambda_rows(path: Path) -> tuple[list, list]:
    flat = ingest.flatten(path.read_bytes(), source="s3://raw/x", source_key="x", source_version="v")
    columns = spec.ORDER_ITEMS.column_names
    rows = sorted(tuple(r[c] for c in columns) for r in flat.table.to_pylist())
    return rows, sorted((r["source"].rsplit("#", 1)[-1], r["reason"]) for r in flat.rejects)


@pytest.mark.spark
def test_same_rows_and_rejects_as_the_spark_job_on_an_awkward_export(spark, tmp_path):
    samples.write_sample(tmp_path / "raw", size=20, seed=5)
    path = tmp_path / "raw" / "exports" / "orders-0003.jsonl"
    job_rows, job_rejects = _job_rows(path, tmp_path)
    lambda_rows, lambda_rejects = _lambda_rows(path)
    assert lambda_rows == job_rows
    assert len(lambda_rows) > 10
    assert lambda_rejects == job_rejects
    assert len(lambda_rejects) == len(samples.MALFORMED_LINES)


@pytest.mark.spark
@pytest.mark.shared_data
def test_same_rows_as_the_spark_job_on_a_shared_sample(spark, shared_datasets, tmp_path):
    path = shared_datasets / "orders" / "final_orders_etl.json"
    job_rows, _ = _job_rows(path, tmp_path)
    lambda_rows, _ = _lambda_rows(path)
    assert lambda_rows == job_rows
    assert len(lambda_rows) == 71
