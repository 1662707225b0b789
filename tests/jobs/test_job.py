"""jobs/_job.py: the frame every job runs in: its flags, its checks before any work, its counts and one-line errors."""

from __future__ import annotations

import json

import _files
import _job
import pytest
from _errors import JobInputError
from _quarantine import REASON, quarantine_rows
from _read import FILTERED, with_position
from pyspark.sql import Row
from pyspark.sql import functions as F

from tests.jobs.echo_job import INPUTS, counted, echo, main, rows, table

pytestmark = pytest.mark.spark


def test_glue_system_arguments_are_ignored_under_glue(spark, tmp_path):
    glue = ["--JOB_ID", "j_1", "--JOB_RUN_ID", "jr_1", "--TempDir", "s3://scripts/glue-temp/"]
    report = main(echo, tmp_path, *glue, "--job-bookmark-option", "job-bookmark-disable")
    assert report["inputs"]["x"] | {"files": None} == {
        "path": "in",
        "record": "record",
        "read": 30,
        "written": 29,
        "written_to": "",
        "quarantined": 1,
        "quarantine": "",
        "filtered": {},
        "balanced": True,
        "snapshot_id": None,
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


@pytest.mark.parametrize("where", ["the same folder", "below it", "as a file: URI"])
def test_an_output_inside_an_input_folder_is_refused_before_anything_is_read(spark, tmp_path, capsys, where):
    # Its tables' data and metadata files would be the next run's input records.
    data = tmp_path / "exports"
    data.mkdir()
    (data / "a.json").write_text("[]")
    output = data if where == "the same folder" else data / "curated"
    given = f"file://{data}/" if where == "as a file: URI" else str(data)

    def body(run, args):
        run.open_input("x", given, label="--input")
        raise AssertionError("the input was opened")

    with pytest.raises(SystemExit) as exit_:
        main(body, output)
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (
        f"echo: error: --output {output} is inside --input {given}: the next run would read this run's tables as "
        "input; give an --output outside it; no table was replaced\n"
    )


def test_an_output_beside_an_input_of_a_similar_name_is_not_inside_it(spark, tmp_path):
    assert not _files.within(spark, str(tmp_path / "exports-curated"), str(tmp_path / "exports"))
    assert _files.within(spark, f"file://{tmp_path}/exports/x", str(tmp_path / "exports"))


def test_every_input_with_no_valid_record_stops_the_run_naming_its_reasons(spark, tmp_path, capsys):
    t = table("t", "full")

    def good(run, args):
        run.write_table(rows(run, 1, 2), t)
        counted(run, 2, 2)

    main(good, tmp_path)

    def all_bad(run, args):
        run.write_table(rows(run), t)
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
    assert sorted(r["id"] for r in spark.read.format("iceberg").load(str(tmp_path / "t")).collect()) == [1, 2]
    assert not (tmp_path / "_staging").exists()
    saved = json.loads((tmp_path / "_run" / "echo.json").read_text())
    assert saved["status"] == "failed"
    assert saved["error"].startswith("x in: none of its 3 records is valid")


def _classified(spark, tmp_path, rows: list[tuple[str | None, str | None]]):
    """A one-file read whose rows carry the given (REASON, FILTERED)."""
    (tmp_path / "in.txt").write_text("".join(f"line {n}\n" for n in range(len(rows))))
    lines = with_position(spark.read.text(str(tmp_path / "in.txt")))
    marks = spark.createDataFrame(
        [(f"line {n}", *row) for n, row in enumerate(rows)], "value string, r string, f string"
    )
    return lines.join(marks, "value", "left").select("*", F.col("r").alias(REASON), F.col("f").alias(FILTERED))


def test_classified_rows_are_counted_per_reason_and_filter(spark, tmp_path):
    run = _job.JobRun(spark, "echo", str(tmp_path / "out"))
    run.report.add_input("x", "in")
    rows = [(None, None), ("bad", None), ("bad", None), ("worse", None), (None, "blank line"), (None, "other page")]
    stats = run.count_classified("x", _classified(spark, tmp_path, rows), filters=("superseded",))
    count = run.input("x")
    assert (count.read, count.quarantined, count.valid) == (6, 3, 3)
    # A filter the job declares is listed even when no record met it.
    assert count.filtered == {"superseded": 0, "blank line": 1, "other page": 1}
    assert sum(row["rows"] for row in stats) == 6


def test_counts_from_a_pass_over_several_inputs_are_tallied_per_input(spark, tmp_path):
    """A job counting several inputs in one Spark pass (rentals) hands each input its rows; rows without FILTERED."""
    run = _job.JobRun(spark, "echo", str(tmp_path / "out"))
    run.report.add_input("a", "in/a")
    stats = [Row(**{REASON: None, "rows": 4}), Row(**{REASON: "bad", "rows": 2}), Row(**{REASON: "worse", "rows": 1})]
    run.record_counts("a", stats)
    count = run.input("a")
    assert (count.read, count.quarantined, count.valid, count.filtered) == (7, 3, 4, {})
    run.report.add_input("b", "in/b")
    with pytest.raises(JobInputError, match=r"^b in/b: none of its 2 records is valid \(2 bad\)"):
        run.record_counts("b", [Row(**{REASON: "bad", "rows": 2})])


def test_an_input_of_blank_lines_or_rejects_only_stops_when_it_is_counted(spark, tmp_path):
    run = _job.JobRun(spark, "echo", str(tmp_path / "out"))
    run.report.add_input("blank", "in/blank")
    with pytest.raises(JobInputError, match=r"^blank in/blank holds no records, only blank lines$"):
        run.count_classified("blank", _classified(spark, tmp_path, [(None, "blank line")] * 2))
    run.report.add_input("bad", "in/bad")
    rows = [("no id", None), ("not json", None), ("not json", None), (None, "blank line")]
    with pytest.raises(JobInputError, match=r"^bad in/bad: none of its 4 records is valid \(2 not json; 1 no id\)"):
        run.count_classified("bad", _classified(spark, tmp_path, rows))
