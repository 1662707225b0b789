"""The names of what the ingest Lambda writes: one flat, URL-safe Parquet key per source object version, the
rejects' key beside the quarantine copy, and text made fit for S3 metadata."""

from __future__ import annotations

import hashlib
import json

# User-defined S3 metadata is ASCII and at most 2 KB in all; the reason gets half of it.
_METADATA_REASON_LIMIT = 1024
_MAX_KEY_BYTES = 1024
_KEEP = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")


def flat_name(text: str) -> str:
    """`text` as one URL-safe file name: letters, digits and `-` kept, `.` and `_` kept except first (Athena skips
    files starting with them), every other byte %XX. Injective, so two source keys never share an output."""
    out = []
    for i, byte in enumerate(text.encode("utf-8")):
        char = chr(byte)
        out.append(char if char in _KEEP or (char in "._" and i > 0) else f"%{byte:02X}")
    return "".join(out)


def output_key(prefix: str, source_key: str, version: str) -> str:
    """`<prefix><flat source key>--<flat version>.parquet`: one object per source version, so a redelivered event
    overwrites it. `-` is escaped in the version, so the last `--` separates the two."""
    name = f"{flat_name(source_key)}--{flat_name(version).replace('-', '%2D')}"
    key = f"{prefix}{name}.parquet"
    if len(key.encode()) > _MAX_KEY_BYTES:
        # S3 keys stop at 1024 bytes: keep a readable start and make it unique with a hash of the full name.
        digest = hashlib.sha256(name.encode()).hexdigest()[:32]
        key = f"{prefix}{name[: _MAX_KEY_BYTES - len(prefix.encode()) - 64]}~{digest}.parquet"
    return key


def rejects_key(prefix: str, source_key: str, version: str) -> str:
    """Where a file's rejected orders go, one JSON line each: beside the file's own quarantine copy."""
    return f"{prefix}{source_key}--{flat_name(version)}.rejects.jsonl"


def metadata_text(text: str) -> str:
    """`text` as S3 user metadata: ASCII (JSON escapes), cut to fit."""
    escaped = json.dumps(text)[1:-1]
    return escaped if len(escaped) <= _METADATA_REASON_LIMIT else escaped[: _METADATA_REASON_LIMIT - 3] + "..."
