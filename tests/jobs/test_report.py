"""jobs/_report.py: what a run says it did, as `_run/<job>.json` and as the summary a person reads."""

from __future__ import annotations

import json

import _files
import _gate
import _report
import pytest

from pipelines.model import Column, Table


def _table(name: str) -> Table:
    return Table("test", name, "echo", "a test table", (Column("id", "bigint"),), "full")


def test_the_summary_names_records_tables_quarantine_and_report(tmp_path):
    report = _report.RunReport("orders", str(tmp_path))
    exports = report.add_input(
        "exports", "/raw/orders", record="order record", read=500, written=481, quarantined=12, quarantine="/q"
    )
    exports.written_to, exports.filtered, exports.files_read = "orders rows, one per order", {"superseded": 7}, 3
    exports.files_skipped = {_files.HIDDEN: 1}
    report.add_table(_table("order_items"), 1186, "/out/order_items")
    report.tables["order_items"].snapshot_id = 42
    report.status = "published"
    report.gate = [_gate.Rule("order_items", "unique(id)", 0, True), _gate.Rule("exports", "input_balance", 0, True)]
    text = _report.summary(report.to_dict())
    assert text.splitlines()[1:] == [
        "  input exports (/raw/orders): 500 order records read from 3 files (1 hidden or _-prefixed name left out)",
        "    481 written (as orders rows, one per order); 12 quarantined; 7 filtered (superseded)",
        "  table order_items         1,186 rows  full         snapshot 42  /out/order_items",
        "  gate: 2 of 2 rules passed; published",
        "  quarantine: /q",
        f"  run report: {tmp_path}/_run/orders.json",
    ]


def test_an_input_that_is_another_jobs_table_is_named_by_the_snapshot_read():
    report = _report.RunReport("rentals_kpis", "/out")
    rentals = report.add_input("rentals", "/lake/rentals", record="row", read=20, written=20, snapshot_id=7)
    rentals.written_to = "kpi rows"
    assert (
        _report.summary(report.to_dict()).splitlines()[1]
        == "  input rentals (/lake/rentals): 20 rows read from snapshot 7"
    )
    assert report.to_dict()["inputs"]["rentals"]["snapshot_id"] == 7


def test_an_input_balances_only_when_read_is_written_plus_quarantined_plus_filtered():
    report = _report.RunReport("echo", "/out")
    report.add_input("ok", "/in/ok", read=10, written=6, quarantined=3, filtered={"blank line": 1})
    report.add_input("lossy", "/in/lossy", read=10, written=6, quarantined=3)
    assert report.unbalanced() == ["lossy"]
    assert report.inputs["ok"].valid == 7
    assert report.to_dict()["inputs"]["ok"]["balanced"] is True


@pytest.mark.spark
def test_the_report_is_saved_as_json_under_run(spark, tmp_path):
    report = _report.RunReport("echo", str(tmp_path))
    report.add_input("x", "/in", read=1, written=1)
    report.add_table(_table("t"), 1, str(tmp_path / "t"))
    saved = report.save(spark)
    assert json.loads((tmp_path / "_run" / "echo.json").read_text()) == saved
    assert saved["tables"] == {
        "t": {
            "rows": 1,
            "path": str(tmp_path / "t"),
            "refresh": "full",
            "previous_snapshot_id": None,
            "snapshot_id": None,
        }
    }
    # Saved before it was published: the status says so until publish sets it.
    assert (saved["status"], saved["error"], saved["gate"]) == ("failed", None, [])
    assert saved["inputs"]["x"]["balanced"] is True
    assert report.path == f"{tmp_path}/_run/echo.json"
