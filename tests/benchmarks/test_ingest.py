"""benchmarks/ingest.py's arithmetic: medians per variant over fresh-process rounds, ratios of the medians."""

from __future__ import annotations

import pytest

from benchmarks import ingest


def rounds(seconds: list[float], peaks: list[float], rows: int = 10) -> list[dict]:
    fixed = {"rss_before_mb": 100, "rows": rows, "parquet_bytes": 7}
    return [
        {"seconds": s, "process_seconds": s + 1, "peak_rss_mb": p, **fixed} for s, p in zip(seconds, peaks, strict=True)
    ]


def test_ratios_are_taken_between_medians_and_checked_against_the_targets():
    summary = ingest.summarise(
        {
            "ingest": rounds([1.0, 9.0, 1.2, 0.8, 1.1], [240, 250, 900, 245, 248]),
            "ingest-reference": rounds([4.0] * 5, [500] * 5),
            "pandas": rounds([3.6, 3.3, 3.4, 3.5, 30.0], [520, 500, 510, 505, 515]),
        }
    )
    assert summary["variants"]["ingest"] == {
        "seconds": 1.1,
        "process_seconds": 2.1,
        "peak_rss_mb": 248,
        "rss_before_mb": 100,
        "seconds_range": [0.8, 9.0],
        "rounds": 5,
        "parquet_bytes": 7,
    }
    assert (summary["speedup"], summary["memory_ratio"], summary["process_speedup"]) == (3.18, 0.49, 2.14)
    assert summary["targets_met"]


def test_a_missed_target_and_disagreeing_rows_are_reported():
    slow = {"ingest": rounds([2.0], [100]), "ingest-reference": rounds([2.0], [100]), "pandas": rounds([3.0], [400])}
    assert not ingest.summarise(slow)["targets_met"]
    slow["pandas"] = rounds([3.0], [400], rows=11)
    with pytest.raises(RuntimeError, match="variants disagree on the row count"):
        ingest.summarise(slow)
