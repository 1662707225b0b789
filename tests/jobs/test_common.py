"""The shared job helpers: arguments, input listing, staged publishing, line positions and the run report."""

from __future__ import annotations

import json

import _common
import _files
import _publish
import _report
import pytest
from pyspark.sql import functions as F

from pipelines.model import Column, Table

pytestmark = pytest.mark.spark

INPUTS = {"--input": "the input"}


def _table(name: str, refresh: str, partitioned: bool = False) -> Table:
    keys = (Column("day", "int"),) if partitioned else ()
    return Table("test", name, "echo", "a test table", (Column("id", "bigint"),), refresh, partition_keys=keys)


def _counted(run: _common.JobRun, read: int, written: int, quarantined: int = 0) -> None:
    run.report.add_input("x", "in", read=read, written=written, quarantined=quarantined)


def _echo(run, args) -> None:
    _counted(run, 3, 2, 1)


def _main(body, output, *extra: str) -> dict:
    return _common.run_main("echo", ["--input", "in", "--output", str(output), *extra], body, inputs=INPUTS, output="")


def test_glue_system_arguments_are_ignored_under_glue(spark, tmp_path):
    glue = ["--JOB_ID", "j_1", "--JOB_RUN_ID", "jr_1", "--TempDir", "s3://scripts/glue-temp/"]
    report = _main(_echo, tmp_path, *glue, "--job-bookmark-option", "job-bookmark-disable")
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
        _common.run_main("echo", argv, _echo, inputs=INPUTS, output="")
    assert exit_.value.code == 2
    assert capsys.readouterr().err == f"echo: error: {message} (see echo.py --help)\n"


def test_an_output_under_a_regular_file_stops_the_run_before_the_body(spark, tmp_path, capsys):
    (tmp_path / "file").write_text("x")

    def body(run, args):
        raise AssertionError("the body ran")

    with pytest.raises(SystemExit) as exit_:
        _main(body, tmp_path / "file" / "out")
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert error.startswith(f"echo: error: --output {tmp_path / 'file' / 'out'} cannot be written (")
    assert error.endswith("); choose a folder you can write to\n")


def test_an_unbalanced_report_publishes_nothing_and_keeps_its_counts_aside(spark, tmp_path):
    table = _table("t", "full")

    def lossy(run, args):
        run.write_table(run.spark.range(3), table)
        _counted(run, read=3, written=1, quarantined=1)

    with pytest.raises(RuntimeError, match=r"read != written \+ quarantined \+ filtered for inputs \['x'\]"):
        _main(lossy, tmp_path)
    assert json.loads((tmp_path / "_run" / "echo.failed.json").read_text())["inputs"]["x"]["balanced"] is False
    assert not (tmp_path / "t").exists()
    assert not (tmp_path / "_run" / "echo.json").exists()


def test_missing_and_empty_inputs_are_named(spark, tmp_path):
    with pytest.raises(_common.JobInputError, match=r"^--input .*/nowhere does not exist$"):
        _files.require_files(spark, str(tmp_path / "nowhere"), "--input")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "_SUCCESS").write_text("")
    (tmp_path / "empty" / "zero.json").write_text("")
    with pytest.raises(
        _common.JobInputError,
        match=r"^--input .*/empty holds no data file \(left out: 1 hidden or _-prefixed name, 1 empty file\)$",
    ):
        _files.require_files(spark, str(tmp_path / "empty"), "--input")
    with pytest.raises(_common.JobInputError, match=r"^--input .*/zero\.json is an empty file$"):
        _files.require_files(spark, str(tmp_path / "empty" / "zero.json"), "--input")


def test_listing_counts_what_it_leaves_out_even_below_a_folder_named_like_a_hidden_part(spark, tmp_path):
    data = tmp_path / "song_data" / "A"
    data.mkdir(parents=True)
    (data / "TRA.json").write_text("{}\n")
    (data / ".DS_Store").write_text("junk")
    (data / "empty.json").write_text("")
    (tmp_path / "song_data" / "_SUCCESS").write_text("")
    listing = _common.list_files(spark, str(tmp_path / "song_data"))
    assert [p.rsplit("/", 2)[-2:] for p in listing.files] == [["A", "TRA.json"]]
    assert listing.skipped_counts() == {_files.HIDDEN: 2, _files.EMPTY: 1}
    assert listing.skipped_examples() == ["A/.DS_Store", "_SUCCESS", "A/empty.json"]


def test_every_input_with_no_valid_record_stops_the_run_naming_its_reasons(spark, tmp_path, capsys):
    table = _table("t", "full")
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "before.parquet").write_text("the previous run's table")

    def all_bad(run, args):
        run.write_table(run.spark.range(0), table)
        bad = run.spark.createDataFrame(
            [("not json", "x"), ("not json", "y"), ("no id", "z")], "reason string, r string"
        )
        run.report.add_input("x", "in", read=3)
        run.write_quarantine(bad.select(*_common.quarantine_rows("x", F.col("reason"), F.col("r"))), "x")

    with pytest.raises(SystemExit):
        _main(all_bad, tmp_path)
    assert capsys.readouterr().err == (
        "echo: error: x in: none of its 3 records is valid (2 not json; 1 no id); fix the input;"
        " no table was replaced\n"
    )
    assert [p.name for p in (tmp_path / "t").iterdir()] == ["before.parquet"]
    assert not (tmp_path / "_staging").exists()


def _ids(spark, path) -> list[int]:
    return sorted(r["id"] for r in spark.read.parquet(str(path)).collect())


def test_a_failure_while_writing_the_third_table_leaves_every_table_as_it_was(spark, tmp_path):
    tables = [_table(name, "full") for name in ("a", "b", "c")]

    def good(run, args):
        for table in tables:
            run.write_table(run.spark.range(2), table)
        _counted(run, 2, 2)

    def fails_on_the_third(run, args):
        for table in tables[:2]:
            run.write_table(run.spark.range(5), table)
        # A task of the third write fails after others have written their part.
        broken = F.when(F.col("id") < 3, F.col("id")).otherwise(F.raise_error(F.lit("disk on fire")))
        run.write_table(run.spark.range(5).select(broken.alias("id")), tables[2])

    _main(good, tmp_path)
    with pytest.raises(Exception, match="disk on fire"):
        _main(fails_on_the_third, tmp_path)
    for table in tables:
        assert _ids(spark, tmp_path / table.name) == [0, 1], table.name
    assert not (tmp_path / "_staging").exists()


def test_a_full_refresh_drops_stale_partitions_and_an_incremental_one_keeps_them(spark, tmp_path):
    full, incremental = _table("full", "full", partitioned=True), _table("inc", "incremental", partitioned=True)

    def days(*values):
        def body(run, args):
            rows = run.spark.createDataFrame([(v * 10, v) for v in values], "id bigint, day int")
            for table in (full, incremental):
                run.write_table(rows, table)
            _counted(run, len(values), len(values))

        return body

    _main(days(1, 2, 3), tmp_path)
    again = _main(days(3, 4), tmp_path)
    assert _ids(spark, tmp_path / "full") == [30, 40]
    assert _ids(spark, tmp_path / "inc") == [10, 20, 30, 40]
    assert again["tables"]["full"] == {"rows": 2, "path": str(tmp_path / "full"), "refresh": "full"}
    assert again["tables"]["inc"]["refresh"] == "incremental"


def test_a_failed_swap_puts_back_the_tables_already_swapped(spark, tmp_path, monkeypatch):
    tables = [_table(name, "full") for name in ("a", "b")]

    def write(n):
        def body(run, args):
            for table in tables:
                run.write_table(run.spark.range(n), table)
            _counted(run, n, n)

        return body

    _main(write(2), tmp_path)
    real_swap = _publish.Staging._swap

    def swap_once(self, staged, live, previous):
        if live.endswith("/b"):
            raise OSError("disk full")
        return real_swap(self, staged, live, previous)

    monkeypatch.setattr(_publish.Staging, "_swap", swap_once)
    with pytest.raises(OSError, match="disk full"):
        _main(write(4), tmp_path)
    assert _ids(spark, tmp_path / "a") == [0, 1]
    assert _ids(spark, tmp_path / "b") == [0, 1]


def test_lines_are_numbered_in_their_file_across_splits_and_packed_small_files(spark, tmp_path):
    (tmp_path / "big.txt").write_text("".join(f"big {n} {'x' * 60}\n" for n in range(1, 3001)))
    for i in range(3):
        (tmp_path / f"small{i}.txt").write_text("".join(f"small{i} {n}\n" for n in range(1, 4)))
    files = sorted(str(p) for p in tmp_path.iterdir())
    previous = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", "32k")  # the big file is read in several splits
    try:
        lines = _common.with_position(spark.read.text(files)).persist()
        assert lines.select(_common.POSITION_COLUMNS[1]).distinct().count() > 3
        stats = _common.split_stats(lines)
        numbered = _files.number_rows(spark, lines, stats).collect()
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", previous)
        lines.unpersist()
    assert len(numbered) == 3009
    for row in numbered:
        assert row["value"].split(" ")[1] == row["position"].removeprefix("line "), row
        assert row[_files.FILE].startswith(str(tmp_path)), row


def test_the_summary_names_records_tables_quarantine_and_report(tmp_path):
    report = _report.RunReport("orders", str(tmp_path))
    exports = report.add_input(
        "exports", "/raw/orders", record="order record", read=500, written=481, quarantined=12, quarantine="/q"
    )
    exports.written_to, exports.filtered, exports.files_read = "orders rows, one per order", {"superseded": 7}, 3
    exports.files_skipped = {_files.HIDDEN: 1}
    report.add_table(_table("order_items", "full"), 1186, "/out/order_items")
    text = _report.summary(report.to_dict())
    assert text.splitlines()[1:] == [
        "  input exports (/raw/orders): 500 order records read from 3 files (1 hidden or _-prefixed name left out)",
        "    481 written (as orders rows, one per order); 12 quarantined; 7 filtered (superseded)",
        "  table order_items         1,186 rows  full         /out/order_items",
        "  quarantine: /q",
        f"  run report: {tmp_path}/_run/orders.json",
    ]
