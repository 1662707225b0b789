"""functions/orders_ingest.py: the handler on moto's S3, and the names of what it stages."""

from __future__ import annotations

import io
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from urllib.parse import quote_plus, unquote_plus

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from functions import orders_ingest as ingest
from functions.ingest import config
from functions.ingest.flatten import flatten
from functions.ingest.keys import output_key
from functions.ingest.table import SCHEMA, STAGED_SCHEMA
from local.samples import orders as samples
from pipelines import orders as spec
from tests.functions import archive
from tests.functions.ingest import documents as doc
from tests.jobs.test_orders import FILE_B, FILE_B_REJECTS

RAW, CURATED = "raw-bucket", "curated-bucket"
WATCHED, OUT, QUARANTINE = spec.INGEST_LANDING.prefix, spec.INGEST_STAGING.prefix, spec.INGEST_QUARANTINE.prefix
D = Decimal


# ---- the handler on moto -------------------------------------------------------------------------------------------


@pytest.fixture
def s3(monkeypatch):
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "CURATED_BUCKET": CURATED,
        "STAGING_PREFIX": OUT,
        "QUARANTINE_PREFIX": QUARANTINE,
        "WATCHED_PREFIX": WATCHED,
    }.items():
        monkeypatch.setenv(name, value)
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


def test_a_valid_file_is_staged_as_one_parquet_object(s3, tmp_path):
    samples.write_sample(tmp_path, size=20, seed=2)
    body = (tmp_path / "exports" / "orders-0002.json").read_bytes()
    key = f"{WATCHED}orders-0002.json"
    etag = s3.put_object(Bucket=RAW, Key=key, Body=body)["ETag"].strip('"')
    modified = s3.head_object(Bucket=RAW, Key=key)["LastModified"]
    summary = ingest.handler(_event(key), None)
    expected = flatten(body, source=f"s3://{RAW}/{key}", source_key=key, source_version=etag)
    assert summary["staged_keys"] == [output_key(OUT, key, etag)]
    # Staged only: nothing lands in a table's location, and no crawler is started (the merge step commits).
    assert _keys(s3, CURATED) == summary["staged_keys"]
    assert "crawler" not in summary
    table = _parquet(s3, summary["staged_keys"][0])
    assert table.schema.remove_metadata() == STAGED_SCHEMA
    assert table.select(SCHEMA.names).equals(expected.table)
    assert set(table.column("source_modified").to_pylist()) == {modified}
    assert (summary["rows_staged"], table.num_rows) == (expected.table.num_rows, expected.table.num_rows)
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
    assert (summary["files_quarantined"], summary["staged_keys"]) == (1, [])


def test_an_empty_array_writes_nothing(s3):
    key = f"{WATCHED}empty.json"
    s3.put_object(Bucket=RAW, Key=key, Body=b"[]\n")
    summary = ingest.handler(_event(key), None)
    assert (summary["rows_staged"], summary["staged_keys"], summary["quarantine_keys"]) == (0, [], [])
    assert _keys(s3, CURATED) == []
    assert _keys(s3, RAW, QUARANTINE) == []


def test_url_encoded_keys_with_spaces_and_plus(s3):
    key = f"{WATCHED}daily export+v2 é.json"
    etag = s3.put_object(Bucket=RAW, Key=key, Body=json.dumps([doc.order()]).encode())["ETag"].strip('"')
    summary = ingest.handler(_event(key), None)
    assert summary["staged_keys"] == [output_key(OUT, key, etag)]
    assert "%20export%2Bv2%20%C3%A9.json--" in summary["staged_keys"][0]
    assert _parquet(s3, summary["staged_keys"][0]).num_rows == 2


def test_a_redelivered_event_overwrites_the_same_object(s3):
    key = f"{WATCHED}twice.json"
    s3.put_object(Bucket=RAW, Key=key, Body=json.dumps([doc.order(), doc.order(order_id=2)]).encode())
    first = ingest.handler(_event(key), None)
    second = ingest.handler(_event(key), None)
    assert first["staged_keys"] == second["staged_keys"]
    assert _keys(s3, CURATED) == first["staged_keys"]
    assert _parquet(s3, first["staged_keys"][0]).num_rows == 4


def test_versioned_bucket_reads_the_event_version_and_names_the_output_after_it(s3):
    s3.put_bucket_versioning(Bucket=RAW, VersioningConfiguration={"Status": "Enabled"})
    key = f"{WATCHED}versioned.json"
    first = s3.put_object(Bucket=RAW, Key=key, Body=json.dumps([doc.order(order_id="old")]).encode())["VersionId"]
    s3.put_object(Bucket=RAW, Key=key, Body=json.dumps([doc.order(order_id="new")]).encode())
    summary = ingest.handler(_event(key, version_id=first), None)
    assert summary["staged_keys"] == [output_key(OUT, key, first)]
    table = _parquet(s3, summary["staged_keys"][0])
    assert set(table.column("order_id").to_pylist()) == {"old"}
    assert set(table.column("source_version").to_pylist()) == {first}


def test_an_order_without_product_lines_is_staged_as_a_marker_row(s3):
    """A later version of an order with an empty products array must still reach the merge: it removes the order's
    earlier lines. One marker row (order_id and source columns, no product) stands for it."""
    key = f"{WATCHED}emptied.json"
    s3.put_object(Bucket=RAW, Key=key, Body=json.dumps([doc.order(order_id="e", products=[])]).encode())
    summary = ingest.handler(_event(key), None)
    (staged,) = summary["staged_keys"]
    assert (summary["rows_staged"], summary["orders_staged"]) == (0, 1)
    (marker,) = _parquet(s3, staged).to_pylist()
    assert (marker["order_id"], marker["product_id"], marker["source_key"]) == ("e", None, key)
    assert marker["source_modified"] is not None


def test_concurrent_landings_each_stage_their_own_object(s3):
    """Landings that run at once (other files, and two versions of one key) never write one key: each version's
    rows stay staged for the merge step, whatever order the invocations finish in."""
    s3.put_bucket_versioning(Bucket=RAW, VersioningConfiguration={"Status": "Enabled"})
    events = []
    for n in range(4):
        key = f"{WATCHED}part-{n}.json"
        body = json.dumps([doc.order(order_id=f"o{n}")]).encode()
        events.append(_event(key, s3.put_object(Bucket=RAW, Key=key, Body=body)["VersionId"]))
    same = f"{WATCHED}part-0.json"
    events.append(
        _event(same, s3.put_object(Bucket=RAW, Key=same, Body=json.dumps([doc.order()]).encode())["VersionId"])
    )
    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        summaries = list(pool.map(lambda event: ingest.handler(event, None), events))
    staged = [key for summary in summaries for key in summary["staged_keys"]]
    assert len(set(staged)) == len(events)
    assert _keys(s3, CURATED) == sorted(staged)
    versions = {(r["source_key"], r["source_version"]) for k in staged for r in _parquet(s3, k).to_pylist()}
    expected = {(e["Records"][0]["s3"]["object"]["key"], e["Records"][0]["s3"]["object"]["versionId"]) for e in events}
    assert versions == {(unquote_plus(k), v) for k, v in expected}


def test_bad_orders_go_to_a_rejects_object_and_good_ones_are_written(s3):
    key = f"{WATCHED}b.json"
    s3.put_object(Bucket=RAW, Key=key, Body=FILE_B.encode())
    summary = ingest.handler(_event(key), None)
    assert (summary["orders_read"], summary["orders_staged"], summary["rows_staged"]) == (17, 1, 1)
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
    s3.put_object(Bucket=RAW, Key=key, Body=json.dumps([doc.order()]).encode())
    with caplog.at_level(logging.INFO, logger="orders_ingest"):
        ingest.handler(_event(key), None)
    entries = [json.loads(r.getMessage()) for r in caplog.records if r.name == "orders_ingest"]
    assert len(entries) == 1
    assert (entries[0]["key"], entries[0]["status"], entries[0]["rows_staged"]) == (key, "staged", 2)


def test_refuses_to_write_under_the_watched_prefix(s3, monkeypatch):
    key = f"{WATCHED}x.json"
    s3.put_object(Bucket=RAW, Key=key, Body=json.dumps([doc.order()]).encode())
    monkeypatch.setenv("CURATED_BUCKET", RAW)
    monkeypatch.setenv("STAGING_PREFIX", f"{WATCHED}parquet/")
    with pytest.raises(config.ConfigError, match="watched prefix"):
        ingest.handler(_event(key), None)
    monkeypatch.setenv("CURATED_BUCKET", CURATED)
    monkeypatch.setenv("QUARANTINE_PREFIX", "")
    with pytest.raises(config.ConfigError, match="watched prefix"):
        ingest.handler(_event(key), None)
    assert _keys(s3, CURATED) == []


def test_missing_environment_is_a_clear_error(s3, monkeypatch):
    monkeypatch.delenv("QUARANTINE_PREFIX")
    with pytest.raises(config.ConfigError, match="QUARANTINE_PREFIX"):
        ingest.handler(_event(f"{WATCHED}x.json"), None)


def test_other_failures_raise_for_retries_and_the_dead_letter_queue(s3):
    with pytest.raises(ClientError):
        ingest.handler(_event(f"{WATCHED}gone.json"), None)


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
    body = json.dumps([doc.order(), doc.order(order_id=2)]).encode()
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
    assert (summary["files_quarantined"], summary["staged_keys"]) == (1, [])
    assert summary["quarantine_keys"] == [copy, f"{copy}.reason.json"]
    reason = json.loads(s3.get_object(Bucket=RAW, Key=f"{copy}.reason.json")["Body"].read())["reason"]
    assert reason == (
        f"{config.FILE_TOO_LARGE}: {len(body)} bytes, above the 100 bytes this function reads with 1024 MB of memory; "
        "the orders Spark job takes it (upload it under orders/exports/ and start the orders state machine, or under "
        "orders/glue/exports/ for the Glue job)"
    )
    assert s3.head_object(Bucket=RAW, Key=copy)["Metadata"]["quarantine-reason"].startswith(config.FILE_TOO_LARGE)
    assert s3.get_object(Bucket=RAW, Key=copy)["Body"].read() == body


def test_a_file_at_the_limit_is_read(s3, small_lambda):
    key = f"{WATCHED}small.json"
    body = json.dumps([{"order_id": 1}]).encode().ljust(small_lambda)
    s3.put_object(Bucket=RAW, Key=key, Body=body)
    summary = ingest.handler(_event(key), None)
    reason = json.loads(s3.get_object(Bucket=RAW, Key=f"{QUARANTINE}{key}.reason.json")["Body"].read())["reason"]
    assert not reason.startswith(config.FILE_TOO_LARGE)  # read, then refused for what it holds
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


# ---- the shipped archive, alone ------------------------------------------------------------------------------------


def test_the_shipped_archive_alone_ingests_a_file(tmp_path):
    """The archive the program uploads holds everything the handler imports: in a fresh interpreter with nothing
    but it (and moto standing in for S3), a landed file becomes its Parquet object."""
    code = archive.unpack("orders_ingest", tmp_path)
    assert sorted(p.name for p in (code / "functions").iterdir() if p.suffix == ".py") == [
        "__init__.py",
        "orders_ingest.py",
    ]
    script = f"""
import json
import boto3
from moto import mock_aws
with mock_aws():
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="raw", CreateBucketConfiguration={{"LocationConstraint": "eu-west-1"}})
    s3.create_bucket(Bucket="curated", CreateBucketConfiguration={{"LocationConstraint": "eu-west-1"}})
    s3.put_object(Bucket="raw", Key="{WATCHED}a.json", Body={json.dumps([doc.order()])!r})
    event = {{"Records": [{{"eventName": "ObjectCreated:Put", "s3": {{"bucket": {{"name": "raw"}},
              "object": {{"key": "{WATCHED}a.json"}}}}}}]}}
    print(json.dumps(handler(event, None)))
"""
    env = {"CURATED_BUCKET": "curated", "STAGING_PREFIX": OUT, "QUARANTINE_PREFIX": QUARANTINE}
    summary = archive.run_alone(
        code, "orders_ingest", script, env | {"WATCHED_PREFIX": WATCHED, "AWS_ACCESS_KEY_ID": "testing"}
    )
    assert (summary["rows_staged"], summary["files_quarantined"]) == (2, 0)
    assert summary["staged_keys"][0].startswith(OUT)
