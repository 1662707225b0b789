"""The ingest Lambda's handler: each order file landing in the raw bucket is staged as one Parquet object per
source object version in the curated bucket, for the merge step to put into the Iceberg table orders_ingested_items;
what is not order data goes to quarantine with its reason.

The S3 side only: the configuration, the flattening and the orders rules are in functions/ingest/.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote_plus

import boto3
from boto3.s3.transfer import TransferConfig

from functions.ingest.config import Config
from functions.ingest.flatten import flatten
from functions.ingest.keys import metadata_text, output_key, rejects_key
from functions.ingest.records import FileRejected
from functions.ingest.table import Flattened, staged, to_parquet

log = logging.getLogger("orders_ingest")
log.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

# CopyObject copies at most 5 GB in one request; a larger quarantine copy goes part by part (UploadPartCopy)
# ("Copying, moving, and renaming objects", Amazon S3 User Guide).
_COPY = TransferConfig(multipart_threshold=5 * 1024**3, multipart_chunksize=512 * 1024**2)


@functools.cache
def _client(service: str):
    """One client per service per container (created on first use, so tests can mock AWS first)."""
    return boto3.client(service)


@dataclass(frozen=True)
class Source:
    bucket: str
    key: str
    version_id: str | None

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Source:
        s3 = record["s3"]
        # Keys in S3 events are URL-encoded, with spaces as `+`.
        version = s3["object"].get("versionId")
        return cls(s3["bucket"]["name"], unquote_plus(s3["object"]["key"]), version or None)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass
class _Object:
    data: bytes | None  # None: not read, the file is too large for this function
    version: str
    version_id: str | None
    content_type: str
    size: int
    # When this version was written (S3 LastModified): with the key and version, which version of an order is later.
    modified: datetime


def _read(source: Source, config: Config) -> _Object:
    """The source object. Its version names the output: the version id, or the ETag when the bucket is not
    versioned, of the content actually read, whatever the event said. A file too large for the function's memory
    is not read at all (its size comes with the response, before the body)."""
    extra = {"VersionId": source.version_id} if source.version_id else {}
    response = _client("s3").get_object(Bucket=source.bucket, Key=source.key, **extra)
    version_id = response.get("VersionId")
    version_id = version_id if version_id and version_id != "null" else None
    size = int(response["ContentLength"])
    body = response["Body"]
    if config.too_large(size):
        body.close()
        data = None
    else:
        data = body.read()
    return _Object(
        data=data,
        version=version_id or response["ETag"].strip('"'),
        version_id=version_id,
        content_type=response.get("ContentType") or "application/json",
        size=size,
        modified=response["LastModified"],
    )


def _quarantine_file(config: Config, source: Source, obj: _Object, reason: str) -> list[str]:
    """Copy the object to `<QUARANTINE_PREFIX><key>` with the reason in its metadata, plus a reason sidecar."""
    s3 = _client("s3")
    key = f"{config.quarantine_prefix}{source.key}"
    copy_source = {"Bucket": source.bucket, "Key": source.key}
    if obj.version_id:
        copy_source["VersionId"] = obj.version_id
    s3.copy(
        copy_source,
        source.bucket,
        key,
        ExtraArgs={
            "MetadataDirective": "REPLACE",
            "ContentType": obj.content_type,
            "Metadata": {"quarantine-reason": metadata_text(reason), "source-version": metadata_text(obj.version)},
        },
        Config=_COPY,
    )
    sidecar = {
        "reason": reason,
        "source_bucket": source.bucket,
        "source_key": source.key,
        "source_version": obj.version,
        "quarantined_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    s3.put_object(
        Bucket=source.bucket,
        Key=f"{key}.reason.json",
        Body=json.dumps(sidecar, ensure_ascii=False, indent=2).encode("utf-8"),
        ContentType="application/json",
    )
    return [key, f"{key}.reason.json"]


@dataclass
class Summary:
    """What one invocation did: returned by the handler (and seen in the async invocation's destination)."""

    records: int = 0
    orders_read: int = 0
    orders_staged: int = 0
    rows_staged: int = 0
    orders_quarantined: int = 0
    orders_superseded: int = 0
    files_quarantined: int = 0
    staged_keys: list[str] = field(default_factory=list)
    quarantine_keys: list[str] = field(default_factory=list)


def _write_outputs(config: Config, source: Source, obj: _Object, flat: Flattened) -> tuple[str | None, list[str]]:
    """Stage the rows under a key of the source version alone: a redelivered event overwrites its own object with
    the same rows, and two landings never write one key. No table file is written here: the merge step commits."""
    s3 = _client("s3")
    version = obj.version
    out_key = None
    # An order without product lines is staged too (a marker row): a later version of it removes its lines.
    if flat.table.num_rows or flat.emptied:
        out_key = output_key(config.staging_prefix, source.key, version)
        s3.put_object(
            Bucket=config.curated_bucket,
            Key=out_key,
            Body=to_parquet(staged(flat, (source.key, version), obj.modified)),
            ContentType="application/vnd.apache.parquet",
            Metadata={"source-key": metadata_text(source.key), "source-version": metadata_text(version)},
        )
    quarantined = []
    if flat.rejects:
        reject_key = rejects_key(config.quarantine_prefix, source.key, version)
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in flat.rejects)
        s3.put_object(
            Bucket=source.bucket, Key=reject_key, Body=body.encode("utf-8"), ContentType="application/x-ndjson"
        )
        quarantined.append(reject_key)
    return out_key, quarantined


def ingest_object(config: Config, source: Source, summary: Summary) -> dict:
    """Read, flatten and write one object, adding to `summary`; returns its log entry. A file that is not order
    data is quarantined; any other error propagates (the invocation fails, is retried, then dead-lettered)."""
    started = time.monotonic()
    config.refuse_recursion(source.bucket, source.key)
    obj = _read(source, config)
    entry: dict[str, Any] = {"bucket": source.bucket, "key": source.key, "version": obj.version, "bytes": obj.size}
    try:
        if obj.data is None:
            raise FileRejected(config.too_large(obj.size))
        flat = flatten(obj.data, source=source.uri, source_key=source.key, source_version=obj.version)
    except FileRejected as rejected:
        keys = _quarantine_file(config, source, obj, str(rejected))
        entry.update(status="quarantined", reason=str(rejected), quarantine_keys=keys)
        summary.files_quarantined += 1
    else:
        out_key, keys = _write_outputs(config, source, obj, flat)
        entry.update(
            status="staged" if out_key else "no rows",
            orders_read=flat.records,
            orders_staged=flat.orders,
            rows_staged=flat.table.num_rows,
            orders_quarantined=len(flat.rejects),
            orders_superseded=flat.superseded,
            staged_key=out_key,
            quarantine_keys=keys,
        )
        summary.orders_read += flat.records
        summary.orders_staged += flat.orders
        summary.rows_staged += flat.table.num_rows
        summary.orders_quarantined += len(flat.rejects)
        summary.orders_superseded += flat.superseded
        summary.staged_keys += [out_key] if out_key else []
    summary.quarantine_keys += keys
    entry["seconds"] = round(time.monotonic() - started, 3)
    return entry


def handler(event: Mapping[str, Any], context: Any = None) -> dict:
    """Ingest every object of an S3 notification; returns the invocation's Summary as a dict."""
    config = Config.from_env(os.environ)
    summary = Summary()
    for record in event.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            log.info(json.dumps({"skipped": record.get("eventName"), "reason": "not an object creation"}))
            continue
        summary.records += 1
        entry = ingest_object(config, Source.from_record(record), summary)
        log.info(json.dumps(entry, ensure_ascii=False, default=str))
    return asdict(summary)
