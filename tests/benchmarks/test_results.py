"""benchmarks/_results.py: the results files and the chart are written from a summary."""

from __future__ import annotations

import csv
import json

from benchmarks import _results


def summary(name: str) -> dict:
    def variant(seconds: float, ratio: float) -> dict:
        table = {"files": 4, "bytes": 4000, "mean_bytes": 1000, "partitions": 1, "max_files_per_partition": 4}
        return {"seconds": seconds, "seconds_range": [seconds, seconds], "peak_rss_mb": 900, "rounds": 3,
                "job_ratio": ratio, "tables": {"items": table}}  # fmt: skip

    def row(size: int) -> dict:
        variants = {"job": variant(size / 1000, 1.0), "naive": variant(size / 500, 0.5)}
        return {"size": size, "input_mb": size / 100, "us_per_unit": 1.0, "variants": variants}

    return {
        "benchmark": name,
        "unit": "items",
        "job": "job",
        "implementations": {"job": "the job", "naive": "the naive one"},
        "sizes": [
            {
                "size": size,
                "input_mb": size / 100,
                "us_per_unit": 1.0,
                "variants": {"job": variant(size / 1000, 1.0), "naive": variant(size / 500, 0.5)},
            }
            for size in (1000, 2000, 4000)
        ],
        "targets": [{"target": "job / naive", "value": 0.5, "limit": 0.8, "met": True}],
        "targets_met": True,
    }


def test_json_csv_and_a_png_chart_land_in_the_results_folder(tmp_path):
    results = {"kindle": summary("kindle"), "orders": summary("orders"), "ingest": {"speedup": 4.0}}
    written = _results.write(results, tmp_path / "results", {"cpus": 2})
    assert [p.name for p in written] == ["results.json", "results.csv", "chart.png"]
    assert json.loads(written[0].read_text())["benchmarks"]["ingest"] == {"speedup": 4.0}
    rows = list(csv.DictReader(written[1].open()))
    assert len(rows) == 2 * 3 * 2  # benchmarks x sizes x implementations, one table each
    assert rows[0] | {} == rows[0]
    assert rows[1]["implementation"] == "naive"
    assert rows[1]["job_ratio"] == "0.5"
    assert written[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert written[2].stat().st_size > 10_000


def test_no_process_benchmark_means_no_chart(tmp_path):
    written = _results.write({"ingest": {"speedup": 4.0}}, tmp_path, {})
    assert [p.name for p in written] == ["results.json", "results.csv"]


def test_the_terminal_table_has_a_line_per_size_and_implementation_and_the_verdicts():
    lines: list[str] = []
    _results.print_summary(summary("kindle"), lines.append)
    assert sum(" naive " in line and "items 4x" in line for line in lines) == 3
    assert "items 4x0.0MB" in lines[-3]
    assert lines[-2] == "  job / naive: 0.5 (target <= 0.8) met"
    assert lines[-1] == "kindle: targets met: True"
