"""jobs/_publish.py (with _iceberg, _gate): write, audit, publish. Every table of a run goes to its `audit` branch,
the gate checks the run, and only then each table's main moves; readers of main never see a failed run's rows."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import _iceberg
import _publish
import pytest
from pyspark.sql import functions as F

from pipelines.model import Check, Column, Table
from tests.jobs.echo_job import counted, main, rows, table

pytestmark = pytest.mark.spark
ROOT = Path(__file__).resolve().parents[2]


def ids(spark, folder: Path, **options) -> list[int]:
    """The ids of the Iceberg table at `folder`: main, or the branch / snapshot the options name."""
    reader = spark.read.format("iceberg")
    for key, value in options.items():
        reader = reader.option(key, str(value))
    return sorted(r["id"] for r in reader.load(str(folder)).collect())


def writes(*tables: Table, ids_: tuple[int, ...] = (0, 1), day: int = 1, also=None):
    """A job body writing `ids_` to every table, balanced; `also(run)` runs after the writes, before the gate."""

    def body(run, args):
        for t in tables:
            run.write_table(rows(run, *ids_, day=day), t)
        counted(run, len(ids_), len(ids_))
        if also:
            also(run)

    return body


def test_conform_selects_the_declared_columns_in_order_and_types_or_names_what_is_missing(spark):
    declared = Table("test", "t", "echo", "a test table", (Column("id", "bigint"), Column("name", "string")), "full")
    df = spark.createDataFrame([("a", 1, "extra")], "name string, id int, other string")
    conformed = _publish.conform(df, declared)
    assert conformed.dtypes == [("id", "bigint"), ("name", "string")]
    assert conformed.collect() == [(1, "a")]
    with pytest.raises(ValueError, match=r"^t: transform did not produce columns \['name'\]$"):
        _publish.conform(df.drop("name"), declared)


def test_a_published_run_is_an_iceberg_table_under_output_with_its_snapshot_in_the_report(spark, tmp_path):
    out = tmp_path / "out"
    t = table("t", "full", partitioned=True)
    report = main(writes(t, ids_=(1, 2, 3)), out)
    assert sorted(p.name for p in (out / "t" / "metadata").glob("*.metadata.json"))
    assert ids(spark, out / "t") == [1, 2, 3]
    metadata = json.loads(sorted((out / "t" / "metadata").glob("v*.metadata.json"))[-1].read_text())
    assert metadata["format-version"] == 2
    assert metadata["properties"]["write.target-file-size-bytes"] == str(t.target_file_size_bytes)
    assert [f["name"] for f in metadata["partition-specs"][-1]["fields"]] == ["day"]
    saved = json.loads((out / "_run" / "echo.json").read_text())
    assert saved["status"] == "published"
    assert saved["error"] is None
    entry = saved["tables"]["t"]
    assert entry["snapshot_id"] == metadata["current-snapshot-id"]
    assert entry["previous_snapshot_id"] is None
    assert (entry["rows"], entry["path"], entry["refresh"]) == (3, str(out / "t"), "full")
    rules = {(r["table"], r["rule"]): r for r in saved["gate"]}
    assert rules["t", "unique(id)"] == {"table": "t", "rule": "unique(id)", "count": 0, "passed": True}
    assert rules["x", "input_balance"]["passed"]
    # A first publish has no previous snapshot to compare a row count with.
    assert not [r for r in saved["gate"] if r["rule"].startswith("row_drop")]
    assert report == saved


def test_tables_written_in_threads_into_an_output_whose_name_needs_quoting(spark, tmp_path):
    # A local namespace is the --output folder's name, and a job's writes run in threads of their own
    # (_publish.concurrently), where the JVM has no active session. Both broke the catalog calls: the table loaded by
    # an unquoted name (a parse error on `-`), the catalog looked up without its settings.
    out = tmp_path / "orders-curated v2.1"
    tables = [table("a", "full"), table("b", "full", partitioned=True)]

    def body(run, args):
        steps = [functools.partial(run.write_table, rows(run, 1, 2), t) for t in tables]
        _publish.concurrently(run, steps, tables)
        counted(run, 2, 2)

    report = main(body, out)
    assert report["status"] == "published"
    assert [report["tables"][t.name]["rows"] for t in tables] == [2, 2]
    assert ids(spark, out / "a") == ids(spark, out / "b") == [1, 2]


def test_the_iceberg_catalog_is_reached_from_a_thread_of_the_jobs_own(spark, tmp_path):
    # Without the session made active in the thread, a catalog not yet loaded is "not defined" there.
    lake = _iceberg.Lake.local_for(spark, str(tmp_path / "out"))
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(lambda: lake._catalog().name()).result() == lake.catalog


def test_a_run_failing_a_rule_exits_3_names_rule_table_count_and_publishes_nothing(spark, tmp_path, capsys):
    out = tmp_path / "out"
    a, b = table("a", "full"), table("b", "full", checks=(Check("id", maximum=10),))
    main(writes(a, b, ids_=(1, 2)), out)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(writes(a, b, ids_=(5, 11, 12)), out)
    assert exited.value.code == 3
    err = capsys.readouterr().err
    assert err == (
        "echo: error: the gate refused the run: rule range(id) failed on table b: 2 offending; nothing was published\n"
    )
    # Neither table moved, though a passed its own rules; the audited rows stay inspectable on the branch.
    assert ids(spark, out / "a") == ids(spark, out / "b") == [1, 2]
    assert ids(spark, out / "b", branch="audit") == [5, 11, 12]
    saved = json.loads((out / "_run" / "echo.json").read_text())
    assert saved["status"] == "gate_failed"
    assert "rule range(id) failed on table b: 2 offending" in saved["error"]
    assert {"table": "b", "rule": "range(id)", "count": 2, "passed": False} in saved["gate"]
    assert saved["tables"]["b"]["snapshot_id"] is None


def test_the_key_is_checked_not_null_and_unique(spark, tmp_path, capsys):
    t = table("t", "full")

    def body(run, args):
        run.write_table(run.spark.createDataFrame([(1, 1), (1, 2), (None, 3)], "id bigint, day int"), t)
        counted(run, 3, 3)

    with pytest.raises(SystemExit, match="3"):
        main(body, tmp_path / "out")
    gate = json.loads((tmp_path / "out" / "_run" / "echo.json").read_text())["gate"]
    assert {"table": "t", "rule": "not_null(id)", "count": 1, "passed": False} in gate
    assert {"table": "t", "rule": "unique(id)", "count": 1, "passed": False} in gate


def test_a_drop_of_more_than_the_declared_share_fails_and_a_smaller_one_publishes(spark, tmp_path, capsys):
    out = tmp_path / "out"
    t = table("t", "full")
    main(writes(t, ids_=tuple(range(20))), out)
    main(writes(t, ids_=tuple(range(3))), out)  # 85% fewer: within the default 90%
    assert ids(spark, out / "t") == [0, 1, 2]
    strict = table("t", "full", max_row_drop=0.5)
    with pytest.raises(SystemExit, match="3"):
        main(writes(strict, ids_=(0,)), out)
    assert "rule row_drop <= 50% failed on table t: 2 offending" in capsys.readouterr().err
    assert ids(spark, out / "t") == [0, 1, 2]


def test_an_input_quarantining_more_than_its_share_fails_the_gate(spark, tmp_path, capsys):
    t = table("t", "full")

    def body(run, args):
        run.write_table(rows(run, 1, 2), t)
        counted(run, read=10, written=8, quarantined=2)

    with pytest.raises(SystemExit, match="3"):
        main(body, tmp_path / "out")
    assert "rule input_quarantined_share <= 10% failed on input x: 2 offending" in capsys.readouterr().err
    assert not (tmp_path / "out" / "_run" / "echo.json").read_text().count('"published"')


def test_an_unbalanced_input_fails_the_gate(spark, tmp_path, capsys):
    t = table("t", "full")

    def lossy(run, args):
        run.write_table(run.spark.range(3).withColumn("day", F.lit(1)), t)
        counted(run, read=3, written=1, quarantined=1)

    with pytest.raises(SystemExit, match="3"):
        main(lossy, tmp_path)
    assert "rule input_balance failed on input x: 1 offending" in capsys.readouterr().err
    assert json.loads((tmp_path / "_run" / "echo.json").read_text())["inputs"]["x"]["balanced"] is False


def test_a_failure_while_writing_the_third_table_leaves_every_table_as_it_was(spark, tmp_path):
    out = tmp_path / "out"
    tables = [table(name, "full") for name in ("a", "b", "c")]
    main(writes(*tables), out)

    def fails_on_the_third(run, args):
        for t in tables[:2]:
            run.write_table(rows(run, 5, 6, 7), t)
        # A task of the third write fails after others have written their part.
        broken = F.when(F.col("id") < 3, F.col("id")).otherwise(F.raise_error(F.lit("disk on fire")))
        run.write_table(run.spark.range(5).select(broken.alias("id"), F.lit(1).alias("day")), tables[2])

    with pytest.raises(Exception, match="disk on fire"):
        main(fails_on_the_third, out)
    for t in tables:
        assert ids(spark, out / t.name) == [0, 1], t.name
    assert json.loads((out / "_run" / "echo.json").read_text())["status"] == "failed"
    assert not (out / "_staging").exists()


def test_a_run_killed_before_its_publish_step_changes_nothing_visible(spark, tmp_path):
    """A whole process, killed (SIGKILL) once every table is written and audited: main is the last run's."""
    out = tmp_path / "out"
    tables = [table(name, "full") for name in ("a", "b")]
    main(writes(*tables), out)
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / "jobs")!r}]
        from local.spark import local_session
        local_session("killed", driver_memory="1g")
        import _iceberg
        from tests.jobs.echo_job import counted, main, rows, table

        def body(run, args):
            for name in ("a", "b"):
                run.write_table(rows(run, 7, 8, 9), table(name, "full"))
            counted(run, 3, 3)

        def killed(self, table):
            os.kill(os.getpid(), signal.SIGKILL)

        _iceberg.Lake.publish_plan = killed
        main(body, {str(out)!r})
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == -9, done.stderr
    for t in tables:
        assert ids(spark, out / t.name) == [0, 1]
        assert ids(spark, out / t.name, branch="audit") == [7, 8, 9]
    # The next run converges.
    main(writes(*tables, ids_=(3,)), out)
    assert [ids(spark, out / t.name) for t in tables] == [[3], [3]]


def test_a_failure_inside_the_publish_step_leaves_each_table_old_or_new_and_a_rerun_converges(
    spark, tmp_path, monkeypatch
):
    out = tmp_path / "out"
    tables = [table(name, "full") for name in ("a", "b")]
    main(writes(*tables), out)
    real = _iceberg.Lake.publish

    def dies_on_b(self, t, plan):
        if t.name == "b":
            raise KeyboardInterrupt
        return real(self, t, plan)

    monkeypatch.setattr(_iceberg.Lake, "publish", dies_on_b)
    with pytest.raises(KeyboardInterrupt):
        main(writes(*tables, ids_=(5,)), out)
    assert (ids(spark, out / "a"), ids(spark, out / "b")) == ([5], [0, 1])
    monkeypatch.setattr(_iceberg.Lake, "publish", real)
    main(writes(*tables, ids_=(5,)), out)
    assert (ids(spark, out / "a"), ids(spark, out / "b")) == ([5], [5])


def test_a_rerun_leaves_the_previous_snapshot_readable(spark, tmp_path):
    out = tmp_path / "out"
    t = table("t", "full")
    first = main(writes(t, ids_=(1, 2)), out)
    second = main(writes(t, ids_=(3,)), out)
    assert second["tables"]["t"]["previous_snapshot_id"] == first["tables"]["t"]["snapshot_id"]
    assert ids(spark, out / "t") == [3]
    assert ids(spark, out / "t", **{"snapshot-id": first["tables"]["t"]["snapshot_id"]}) == [1, 2]
    # What JobRun.open_table reads another job's table with: the snapshot it counted, not main's newest.
    pinned = _iceberg.Lake.local_for(spark, str(out)).read_snapshot(t, first["tables"]["t"]["snapshot_id"])
    assert sorted(r["id"] for r in pinned.collect()) == [1, 2]
    gate = {r["rule"]: r for r in second["gate"]}
    assert gate["row_drop <= 90%"] == {"table": "t", "rule": "row_drop <= 90%", "count": 1, "passed": True}


def test_a_full_refresh_replaces_every_row_an_incremental_one_only_the_partitions_written(spark, tmp_path):
    out = tmp_path / "out"
    full, incremental = table("full", "full", partitioned=True), table("inc", "incremental", partitioned=True)

    def days(*values):
        def body(run, args):
            df = run.spark.createDataFrame([(v * 10, v) for v in values], "id bigint, day int")
            for t in (full, incremental):
                run.write_table(df, t)
            counted(run, len(values), len(values))

        return body

    main(days(1, 2, 3), out)
    again = main(days(3, 4), out)
    assert ids(spark, out / "full") == [30, 40]
    assert ids(spark, out / "inc") == [10, 20, 30, 40]
    assert again["tables"]["full"]["rows"] == 2
    assert again["tables"]["inc"]["refresh"] == "incremental"


def test_a_newly_declared_column_reaches_the_existing_table_through_the_job(spark, tmp_path):
    out = tmp_path / "out"
    main(writes(table("t", "full"), ids_=(1,)), out)
    grown = table("t", "full", columns=(Column("id", "bigint"), Column("day", "int"), Column("note", "string")))

    def body(run, args):
        run.write_table(run.spark.createDataFrame([(2, 1, "new")], "id bigint, day int, note string"), grown)
        counted(run, 1, 1)

    first = main(body, out)
    published = spark.read.format("iceberg").load(str(out / "t"))
    assert published.columns == ["id", "day", "note"]
    assert [tuple(r) for r in published.collect()] == [(2, 1, "new")]
    # The earlier snapshot still reads, without the column's values.
    earlier = spark.read.format("iceberg").option("snapshot-id", str(first["tables"]["t"]["previous_snapshot_id"]))
    assert [r["id"] for r in earlier.load(str(out / "t")).collect()] == [1]


def test_a_compaction_on_main_meanwhile_is_published_over(spark, tmp_path):
    out = tmp_path / "out"
    t = table("t", "full")
    main(writes(t, ids_=(1, 2)), out)
    main(writes(t, ids_=(3, 4)), out)

    def compact(run):
        # What the Glue table optimizer commits on main while the run audits: a `replace` snapshot.
        run.spark.sql(
            f"CALL {run.lake.catalog}.system.rewrite_data_files(table => '{run.lake.procedure_arg(t)}', "
            "options => map('rewrite-all', 'true'))"
        )

    report = main(writes(t, ids_=(5, 6, 7), also=compact), out)
    assert ids(spark, out / "t") == [5, 6, 7]
    assert report["status"] == "published"


def test_another_writer_on_main_meanwhile_stops_the_publish_before_any_table_moves(spark, tmp_path, capsys):
    out = tmp_path / "out"
    a, b = table("a", "full"), table("b", "full")
    main(writes(a, b, ids_=(1,)), out)

    def concurrent(run):
        run.spark.createDataFrame([(99, 1)], "id bigint, day int").writeTo(run.lake.ident(b)).append()

    with pytest.raises(SystemExit) as exited:
        main(writes(a, b, ids_=(2,), also=concurrent), out)
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "another writer committed append snapshots to main" in err
    assert (ids(spark, out / "a"), ids(spark, out / "b")) == ([1], [1, 99])


def test_a_folder_of_files_where_a_table_goes_is_refused_not_deleted(spark, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "t").mkdir(parents=True)
    (out / "t" / "part-0.parquet").write_text("an earlier release's Parquet")
    with pytest.raises(SystemExit) as exited:
        main(writes(table("t", "full")), out)
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        f"echo: error: {out / 't'} holds files but no Iceberg table (a Parquet table of an earlier release?); "
        "move it away or delete it, and run again\n"
    )
    assert [p.name for p in (out / "t").iterdir()] == ["part-0.parquet"]


def test_with_a_catalog_the_job_writes_the_glue_named_table_and_never_creates_one(spark, tmp_path, capsys):
    """--catalog/--database as the cloud passes them: here a catalog configured as the runtime would (a Hadoop one
    standing in for Glue), the table created beforehand as Pulumi would."""
    warehouse = tmp_path / "glue"
    for key, value in {"": _iceberg.ICEBERG_CATALOG, ".type": "hadoop", ".warehouse": str(warehouse)}.items():
        spark.conf.set(f"spark.sql.catalog.glue_test{key}", value)
    t = table("t", "full")
    cloud = ["--catalog", "glue_test", "--database", "lake_db"]
    with pytest.raises(SystemExit) as exited:
        main(writes(t), tmp_path / "out", *cloud)
    assert exited.value.code == 2
    assert capsys.readouterr().err == (
        "echo: error: table glue_test.lake_db.test_t does not exist; it is created by the stack (pulumi up), never "
        "by a job\n"
    )
    assert not warehouse.exists()
    spark.sql("CREATE TABLE glue_test.lake_db.test_t (id bigint, day int) USING iceberg")
    report = main(writes(t, ids_=(4, 5)), tmp_path / "out", *cloud)
    assert report["tables"]["t"]["path"] == "glue_test.lake_db.test_t"
    assert sorted(r["id"] for r in spark.table("glue_test.lake_db.test_t").collect()) == [4, 5]
    assert json.loads((tmp_path / "out" / "_run" / "echo.json").read_text())["status"] == "published"
    assert not (tmp_path / "out" / "t").exists()
    for argv, message in (
        (["--catalog", "nowhere", "--database", "d"], "--catalog nowhere: this Spark has no catalog of that name"),
        (["--catalog", "glue_test"], "--catalog and --database go together"),
    ):
        with pytest.raises(SystemExit):
            main(writes(t), tmp_path / "out", *argv)
        assert message in capsys.readouterr().err


def test_files_follow_the_tables_target_size_not_the_inputs_partitions_and_the_write_settings_go_back(spark, tmp_path):
    out = tmp_path / "out"
    flat = table("flat", "merge", sort_order=("id",))
    daily = table("daily", "full", partitioned=True)
    before = {key: spark.conf.get(key, None) for key in _iceberg._write_settings(flat)}
    seen = {}

    def body(run, args):
        # Six input partitions of a few rows each: written as they come they would be six files per table.
        scattered = run.spark.range(60).selectExpr("id", "int(id % 3) AS day").repartition(6)
        for t in (flat, daily):
            run.write_table(scattered, t)
        seen.update({key: run.spark.conf.get(key, None) for key in _iceberg._write_settings(flat)})
        counted(run, 60, 60)

    main(body, out)
    assert sorted(len(list(d.glob("*.parquet"))) for d in (out / "daily" / "data").iterdir()) == [1, 1, 1]
    assert len(list((out / "flat" / "data").rglob("*.parquet"))) == 1
    # Created in one commit: the first metadata file holds the sort order and the declared properties already.
    first = json.loads((out / "flat" / "metadata" / "v1.metadata.json").read_text())
    assert [f["source-id"] for f in first["sort-orders"][-1]["fields"]] == [1]
    assert first["properties"]["write.distribution-mode"] == "hash"
    assert first["properties"]["comment"] == flat.description
    # Nothing the writes set outlives them.
    assert seen == before


def test_the_advisory_partition_size_is_the_target_file_size_times_the_shuffle_ratio_unless_declared():
    t = table("t", "full", target_file_size_bytes=64 * 1024 * 1024)
    assert _iceberg.advisory_partition_bytes(t) == 3 * 64 * 1024 * 1024


def test_steps_run_concurrently_leave_the_tables_in_declared_order_and_raise_the_first_error():
    import threading
    import types

    declared = [table(name, "full") for name in ("a", "b", "c")]
    run = types.SimpleNamespace(tables=[], report=types.SimpleNamespace(tables={}))
    all_started = threading.Barrier(3, timeout=10)

    def write(t):
        def step():
            all_started.wait()  # all three at once, or the barrier breaks the test
            run.tables.append(t)
            run.report.tables[t.name] = t.name

        return step

    _publish.concurrently(run, [write(t) for t in reversed(declared)], declared)
    assert [t.name for t in run.tables] == list(run.report.tables) == ["a", "b", "c"]

    def fails(message):
        def step():
            raise RuntimeError(message)

        return step

    with pytest.raises(RuntimeError, match=r"^first$"):
        _publish.concurrently(run, [lambda: None, fails("first"), fails("second")], declared)
