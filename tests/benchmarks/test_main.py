"""`make bench`'s harness: it deletes what the benchmarks generated and exits non-zero when a target is missed."""

from __future__ import annotations

import json

import pytest

import benchmarks.__main__ as bench


def fake(targets_met: bool | None = True, error: Exception | None = None):
    def run(work_dir):
        (work_dir / "inputs").mkdir(parents=True)
        (work_dir / "inputs" / "big.jsonl").write_bytes(b"x" * 1000)
        if error:
            raise error
        return {"targets_met": targets_met}

    return run


@pytest.fixture
def harness(monkeypatch, tmp_path):
    def use(**benchmarks):
        monkeypatch.setattr(bench, "BENCHMARKS", list(benchmarks))
        monkeypatch.setattr(bench, "_run", lambda name, scratch, sizes, args: benchmarks[name](scratch))
        return tmp_path / "scratch"

    return use


@pytest.fixture(autouse=True)
def results(monkeypatch, tmp_path):
    """Where the results files go in these tests (never the repository's benchmarks/results/)."""
    folder = tmp_path / "results"
    monkeypatch.setattr(bench, "DEFAULT_RESULTS", folder)
    return folder


def test_targets_met_exits_0_and_leaves_nothing_behind_but_the_results(harness, results):
    work_dir = harness(a=fake(), b=fake())
    assert bench.main(["--work-dir", str(work_dir)]) == 0
    assert not work_dir.exists()
    assert json.loads((results / "results.json").read_text())["benchmarks"] == {
        "a": {"targets_met": True},
        "b": {"targets_met": True},
    }


def test_a_missed_target_exits_1_and_names_it(harness, capsys):
    work_dir = harness(a=fake(), b=fake(targets_met=False))
    assert bench.main(["--work-dir", str(work_dir)]) == 1
    assert capsys.readouterr().err == "python -m benchmarks: error: targets missed: b (see each benchmark's table)\n"
    assert not work_dir.exists()


def test_a_failing_benchmark_is_one_line_and_the_others_still_run(harness, capsys):
    work_dir = harness(a=fake(error=RuntimeError("variants disagree\non the row count")), b=fake())
    assert bench.main(["--work-dir", str(work_dir)]) == 1
    captured = capsys.readouterr()
    assert "=== benchmark: b" in captured.out
    assert captured.err == "python -m benchmarks: error: failed: a (RuntimeError: variants disagree)\n"
    assert not work_dir.exists()


def test_keep_keeps_the_inputs(harness):
    work_dir = harness(a=fake())
    assert bench.main(["--work-dir", str(work_dir), "--keep"]) == 0
    assert (work_dir / "a" / "inputs" / "big.jsonl").is_file()


def test_a_work_dir_the_user_had_is_kept_with_its_files(harness):
    work_dir = harness(a=fake())
    work_dir.mkdir()
    (work_dir / "notes.txt").write_text("mine")
    assert bench.main(["--work-dir", str(work_dir)]) == 0
    assert sorted(p.name for p in work_dir.iterdir()) == ["notes.txt"]


def test_an_unknown_benchmark_is_one_line(harness, capsys):
    harness(a=fake())
    with pytest.raises(SystemExit) as caught:
        bench.main(["--only", "nope"])
    assert caught.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("nope=1,2", "no benchmark 'nope'"),
        ("kindle=300000", "give at least two positive sizes"),
        ("kindle=0,10", "give at least two positive sizes"),
    ],
)
def test_bad_sizes_are_one_line(capsys, option, message):
    with pytest.raises(SystemExit) as caught:
        bench.main(["--sizes", option])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert message in err


def test_sizes_are_sorted_and_deduplicated():
    assert bench._sizes("orders=400,200,400") == ("orders", [200, 400])
