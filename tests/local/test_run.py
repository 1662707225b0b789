"""`make run`'s runner: steps resolved from pipelines/ to local paths, run in dependency order, then queries."""

from pathlib import Path

from local import run
from pipelines import PIPELINES, Location


def test_locations_resolve_under_the_lake(tmp_path):
    assert run.resolve(tmp_path, Location("curated", "rentals/")) == str(tmp_path / "curated" / "rentals")
    kpis = PIPELINES["rentals"].step("rentals_kpis")
    assert run.step_argv(tmp_path, kpis) == [
        "--input",
        str(tmp_path / "curated" / "rentals"),
        "--output",
        str(tmp_path / "curated" / "rentals"),
    ]


def test_summary_rows_flag_an_unbalanced_input():
    reports = [
        {
            "job": "a",
            "inputs": {"x": {"read": 5, "written": 3, "quarantined": 1, "filtered": {"r": 1}, "balanced": True}},
        },
        {"job": "b", "inputs": {"y": {"read": 5, "written": 3, "quarantined": 1, "filtered": {}, "balanced": False}}},
    ]
    assert run.summary_rows(reports) == [("a", "x", 5, 3, 1, 1, "yes"), ("b", "y", 5, 3, 1, 0, "NO")]


def test_a_small_rentals_run_end_to_end(spark, tmp_path, capsys):
    assert run.main(["--lake", str(tmp_path), "--pipelines", "rentals", "--scale", "0.05"]) == 0
    out = capsys.readouterr().out
    # The KPI step ran after the transform, and the rentals queries answered from the curated tables.
    assert out.index("rentals_transform done") < out.index("rentals_kpis ...")
    assert "== revenue_per_location (rentals)" in out
    assert "FAILED" not in out
    assert (Path(tmp_path) / "curated" / "rentals" / "_run" / "rentals_kpis.json").is_file()
    summary = out[out.index("== summary") :]
    assert "rentals_kpis" in summary
    assert "| NO" not in summary
