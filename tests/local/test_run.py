"""`make run`'s runner: steps resolved from pipelines/ to local paths, run in dependency order, then queries."""

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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


def run_cli(*argv: str, cwd=None):
    """`python -m local.run ...` as a user types it (these cases stop before Spark starts)."""
    return subprocess.run(
        [sys.executable, "-m", "local.run", *argv], cwd=cwd or run.ROOT, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--pipelines", "kindel"], "argument --pipelines: invalid choice: 'kindel'"),
        (["--scale"], "argument --scale: expected one argument"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--scale", "0"], "--scale 0: must be greater than 0"),
        (["--raw-from", "kindle"], "expected PIPELINE=DIR"),
        (["--raw-from", "kindle=/no/such/folder"], "/no/such/folder is not a folder"),
        (["--raw-from", f"kindle={run.ROOT / 'LICENSE'}"], "LICENSE is a file: give the folder that holds it"),
        (["--raw-from", "kindle=/", "--pipelines", "rentals"], "kindle is not among --pipelines rentals"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(argv, message):
    done = run_cli(*argv)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("python -m local.run: error: ")
    assert message in done.stderr
    assert done.stdout == ""


def test_an_unwritable_lake_stops_before_any_work(tmp_path):
    (tmp_path / "a-file").write_text("")
    done = run_cli("--lake", str(tmp_path / "a-file" / "lake"), "--pipelines", "rentals")
    assert done.returncode == 2
    assert done.stderr == (
        f"python -m local.run: error: --lake {tmp_path / 'a-file' / 'lake'}: cannot write there (Not a directory); "
        "choose another folder\n"
    )


def test_no_generate_on_an_empty_lake_names_the_missing_input(tmp_path):
    done = run_cli("--lake", str(tmp_path), "--no-generate", "--pipelines", "sparkify")
    assert done.returncode == 2
    assert f"sparkify: no input at {tmp_path / 'raw' / 'sparkify' / 'song_data'} (sparkify --song-data)" in done.stderr
    assert done.stderr.count("\n") == 1


def test_raw_from_a_folder_without_the_layout_says_what_it_needs(tmp_path):
    (tmp_path / "mine" / "song_data").mkdir(parents=True)
    done = run_cli("--lake", str(tmp_path / "lake"), "--raw-from", f"sparkify={tmp_path / 'mine'}")
    assert done.returncode == 2
    assert "so DIR needs log_data/ and song_data/" in done.stderr


def test_generation_never_deletes_a_users_file(tmp_path):
    users = tmp_path / "raw" / "rentals" / "my_rentals.csv"
    users.parent.mkdir(parents=True)
    users.write_text("rental_id\n1\n")
    done = run_cli("--lake", str(tmp_path), "--pipelines", "rentals")
    assert done.returncode == 2
    assert "holds files the sample generator did not write or that changed since" in done.stderr
    assert f"({users})" in done.stderr
    assert "--no-generate" in done.stderr
    assert users.read_text() == "rental_id\n1\n"


def test_raw_paths_resolve_into_the_users_folder(tmp_path):
    mine = tmp_path / "mine"
    sparkify = PIPELINES["sparkify"].step("sparkify")
    argv = run.step_argv(tmp_path / "lake", sparkify, {"sparkify": mine})
    assert argv[argv.index("--song-data") + 1] == str(mine / "song_data")
    assert argv[argv.index("--log-data") + 1] == str(mine / "log_data")
    assert argv[argv.index("--output") + 1] == str(tmp_path / "lake" / "curated" / "sparkify")


def files_and_digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*")}


def test_rentals_on_the_users_own_files_then_rerun_without_generating(spark, tmp_path, capsys):
    from local.samples import rentals

    mine = tmp_path / "mine"
    # Large enough that each CSV's quarantined rows stay within the gate's 10%.
    rentals.write_sample(mine, size=150, seed=3)
    before = files_and_digests(mine)
    lake = tmp_path / "lake"
    assert (
        run.main(["--lake", str(lake), "--pipelines", "rentals", "--raw-from", f"rentals={mine}", "--no-queries"]) == 0
    )
    out = capsys.readouterr().out
    assert f"[rentals] reading your files in {mine} (nothing generated)" in out
    assert files_and_digests(mine) == before, "make run changed the user's folder"
    assert not (lake / "raw").exists(), "nothing may be generated when the pipeline reads the user's folder"
    assert (lake / "curated" / "rentals" / "_run" / "rentals_kpis.json").is_file()

    # The same files placed in the lake itself: --no-generate runs on them and leaves them as they were.
    (lake / "raw").mkdir()
    shutil.copytree(mine, lake / "raw" / "rentals")
    assert run.main(["--lake", str(lake), "--pipelines", "rentals", "--no-generate", "--no-queries"]) == 0
    assert "[rentals] reading your files in" in capsys.readouterr().out
    assert files_and_digests(lake / "raw" / "rentals") == before


def test_every_raw_input_lies_under_its_pipelines_raw_folder():
    # --raw-from replaces a pipeline's raw folder as a whole: an input outside it would silently keep reading the lake.
    for pipeline in PIPELINES.values():
        for step in pipeline.steps:
            for flag, location in step.args:
                if location.zone == "raw":
                    assert location.prefix.startswith(pipeline.raw.prefix), (pipeline.name, step.name, flag)
