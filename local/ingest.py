"""The ingest Lambda's road on one machine: each export flattened and staged exactly as the Lambda stages a landed
file (one Parquet object per source version under INGEST_STAGING), for the orders pipeline's merge step to commit.

A file's version is its content's MD5, what S3 gives an unversioned object as its ETag, and its time its mtime: so a
rerun over the same files stages the same objects, and an edited file is a later version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from functions.ingest.flatten import flatten
from functions.ingest.keys import output_key
from functions.ingest.records import FileRejected
from functions.ingest.table import staged, to_parquet
from pipelines.orders import INGEST_LANDING, INGESTED_ITEMS


def stage_file(source: Path, staging: Path) -> tuple[Path | None, dict]:
    """Stage one export as if it had landed under INGEST_LANDING; returns the staged file (None: no rows) and its
    counts. FileRejected when the Lambda would quarantine the file whole."""
    data = source.read_bytes()
    key = f"{INGEST_LANDING.prefix}{source.name}"
    version = hashlib.md5(data, usedforsecurity=False).hexdigest()
    modified = datetime.fromtimestamp(source.stat().st_mtime, UTC)
    flat = flatten(data, source=str(source), source_key=key, source_version=version)
    counts = {"read": flat.records, "written": flat.orders, "quarantined": len(flat.rejects)}
    counts["superseded"] = flat.superseded
    if not flat.table.num_rows and not flat.emptied:
        return None, counts
    target = Path(output_key(f"{staging}/", key, version))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(to_parquet(staged(flat, (key, version), modified)))
    # A reader (the merge step) never sees half a file: the rename is atomic on one file system.
    partial.replace(target)
    return target, counts


def stage_exports(sources: list[Path], staging: Path, log: Callable[[str], None]) -> dict:
    """Every export staged; returns the run report of this road (read = written + quarantined + superseded)."""
    counts = {"path": str(staging), "read": 0, "written": 0, "quarantined": 0, "filtered": {}}
    superseded = 0
    for source in sources:
        try:
            _, found = stage_file(source, staging)
        except FileRejected as rejected:  # the Lambda copies such a file to quarantine, whole
            log(f"  orders: ingest would quarantine {source.name}: {rejected}")
            counts["read"] += 1
            counts["quarantined"] += 1
            continue
        for name in ("read", "written", "quarantined"):
            counts[name] += found[name]
        superseded += found["superseded"]
    counts["filtered"] = {"superseded within its file": superseded}
    counts["balanced"] = counts["read"] == counts["written"] + counts["quarantined"] + superseded
    log(f"  orders: ingest Lambda staged {counts['written']} orders for {INGESTED_ITEMS.glue_name} in {staging}")
    return {"job": "orders_ingest (local)", "inputs": {"files": counts}}
