"""The shared job helpers: argument handling under Glue and elsewhere, input checks, the run report."""

import argparse

import _common
import pytest


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)


def echo(spark, args):
    report = _common.RunReport("echo", args.output)
    report.add_input("x", args.input, read=3, written=2, quarantined=1)
    return report


def test_glue_system_arguments_are_ignored_under_glue(spark, tmp_path):
    argv = [
        "--JOB_ID",
        "j_1",
        "--input",
        "in",
        "--output",
        str(tmp_path),
        "--JOB_RUN_ID",
        "jr_1",
        "--TempDir",
        "s3://scripts/glue-temp/",
        "--job-bookmark-option",
        "job-bookmark-disable",
    ]
    report = _common.run_main("echo", argv, configure, echo)
    assert report["inputs"]["x"] == {
        "path": "in",
        "read": 3,
        "written": 2,
        "quarantined": 1,
        "filtered": {},
        "balanced": True,
    }
    assert (tmp_path / "_run" / "echo.json").is_file()


def test_unknown_arguments_are_refused_outside_glue(spark, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        _common.run_main("echo", ["--input", "in", "--output", str(tmp_path), "--ouptut", "x"], configure, echo)
    assert exit_.value.code == 2
    assert "unrecognized arguments: --ouptut x" in capsys.readouterr().err


def test_an_unbalanced_report_fails_the_job_after_saving_it(spark, tmp_path):
    def lossy(spark, args):
        report = _common.RunReport("lossy", args.output)
        report.add_input("x", args.input, read=3, written=1, quarantined=1)
        return report

    with pytest.raises(RuntimeError, match=r"rows read != written \+ quarantined \+ filtered for inputs \['x'\]"):
        _common.run_main("lossy", ["--input", "in", "--output", str(tmp_path)], configure, lossy)
    assert (tmp_path / "_run" / "lossy.json").is_file()


def test_missing_and_empty_inputs_are_named(spark, tmp_path):
    with pytest.raises(_common.JobInputError, match=r"orders: input path .*/nowhere does not exist"):
        _common.require_input(spark, str(tmp_path / "nowhere"), "orders")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "_SUCCESS").write_text("")
    (tmp_path / "empty" / "zero.json").write_text("")
    with pytest.raises(_common.JobInputError, match=r"orders: input path .*/empty holds no non-empty data files"):
        _common.require_input(spark, str(tmp_path / "empty"), "orders")


def test_listing_an_absolute_folder_whose_name_ends_like_a_hidden_part(spark, tmp_path):
    data = tmp_path / "song_data" / "A"
    data.mkdir(parents=True)
    (data / "TRA.json").write_text("{}\n")
    (data / ".DS_Store").write_text("junk")
    (tmp_path / "song_data" / "_SUCCESS").write_text("")
    assert [p.rsplit("/", 2)[-2:] for p in _common.list_files(spark, str(tmp_path / "song_data"))] == [
        ["A", "TRA.json"]
    ]
