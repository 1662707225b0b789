"""jobs/_job.py: the frame every job runs in: its flags, its checks before any work, its counts and one-line errors."""

from __future__ import annotations

import json

import _job
import pytest
from _quarantine import quarantine_rows
from pyspark.sql import functions as F

from tests.jobs.echo_job import INPUTS, echo, main, table

pytestmark = pytest.mark.spark


def test_glue_system_arguments_are_ignored_under_glue(spark, tmp_path):
    glue = ["--JOB_ID", "j_1", "--JOB_RUN_ID", "jr_1", "--TempDir", "s3://scripts/glue-temp/"]
    report = main(echo, tmp_path, *glue, "--job-bookmark-option", "job-bookmark-disable")
    assert report["inputs"]["x"] | {"files": None} == {
        "path": "in",
        "record": "record",
        "read": 3,
        "written": 2,
        "written_to": "",
        "quarantined": 1,
        "quarantine": "",
        "filtered": {},
        "balanced": True,
        "files": None,
    }
    assert json.loads((tmp_path / "_run" / "echo.json").read_text())["inputs"] == report["inputs"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--input", "in", "--output", "o", "--ouptut", "x"], "unrecognized arguments: --ouptut x"),
        (["--input", "in"], "the following arguments are required: --output"),
    ],
)
def test_flag_mistakes_are_one_line_and_exit_2(spark, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        _job.run_job("echo", argv, echo, inputs=INPUTS, output="")
    assert exit_.value.code == 2
    assert capsys.readouterr().err == f"echo: error: {message} (see echo.py --help)\n"


def test_an_output_under_a_regular_file_stops_the_run_before_the_body(spark, tmp_path, capsys):
    (tmp_path / "file").write_text("x")

    def body(run, args):
        raise AssertionError("the body ran")

    with pytest.raises(SystemExit) as exit_:
        main(body, tmp_path / "file" / "out")
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith(f"echo: error: --output {tmp_path / 'file' / 'out'} cannot be written (")
    assert error.endswith("); choose a folder you can write to\n")


def test_every_input_with_no_valid_record_stops_the_run_naming_its_reasons(spark, tmp_path, capsys):
    t = table("t", "full")
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "before.parquet").write_text("the previous run's table")

    def all_bad(run, args):
        run.write_table(run.spark.range(0), t)
        bad = run.spark.createDataFrame(
            [("not json", "x"), ("not json", "y"), ("no id", "z")], "reason string, r string"
        )
        run.report.add_input("x", "in", read=3)
        run.write_quarantine(bad.select(*quarantine_rows("x", F.col("reason"), F.col("r"))), "x")

    with pytest.raises(SystemExit):
        main(all_bad, tmp_path)
    assert capsys.readouterr().err == (
        "echo: error: x in: none of its 3 records is valid (2 not json; 1 no id); fix the input;"
        " no table was replaced\n"
    )
    assert [p.name for p in (tmp_path / "t").iterdir()] == ["before.parquet"]
    assert not (tmp_path / "_staging").exists()
