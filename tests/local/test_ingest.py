"""local/ingest.py: make run stages each export as the Lambda stages a landed file, one object per version."""

from __future__ import annotations

import hashlib
import json
import os

import pyarrow.parquet as pq

from functions.ingest.keys import output_key
from functions.ingest.table import STAGED_SCHEMA
from local.ingest import stage_exports, stage_file
from pipelines import orders as spec
from tests.functions.ingest import documents as doc


def test_an_export_is_staged_under_its_version_and_a_rerun_stages_the_same_object(tmp_path):
    source = tmp_path / "a.json"
    source.write_text(json.dumps([doc.order(), doc.order(order_id=2, products=[])]))
    os.utime(source, (1_700_000_000, 1_700_000_000))
    staging = tmp_path / "staging"
    staged, counts = stage_file(source, staging)
    version = hashlib.md5(source.read_bytes(), usedforsecurity=False).hexdigest()
    assert staged == staging / output_key("", f"{spec.INGEST_LANDING.prefix}a.json", version)
    table = pq.read_table(staged)
    assert table.schema.remove_metadata() == STAGED_SCHEMA
    # Two lines of order 1, one marker row for order 2 (no product lines).
    assert table.column("product_id").to_pylist() == ["P1", "P2", None]
    assert {t.timestamp() for t in table.column("source_modified").to_pylist()} == {1_700_000_000}
    assert counts == {"read": 2, "written": 2, "quarantined": 0, "superseded": 0}
    again, _ = stage_file(source, staging)
    assert again == staged
    assert [p.name for p in staging.iterdir()] == [staged.name]
    source.write_text(json.dumps([doc.order(total_amount=1)]))
    edited, _ = stage_file(source, staging)
    assert edited != staged
    assert len(list(staging.iterdir())) == 2


def test_a_file_the_lambda_would_quarantine_is_counted_and_not_staged(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    lines = []
    report = stage_exports([tmp_path / "bad.json"], tmp_path / "staging", lines.append)
    counts = report["inputs"]["files"]
    assert (counts["read"], counts["quarantined"], counts["balanced"]) == (1, 1, True)
    assert not (tmp_path / "staging").exists()
    assert "ingest would quarantine bad.json" in lines[0]
