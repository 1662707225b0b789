"""pipelines/model.py: the plain-data vocabulary (columns, locations, tables, steps, pipelines) and its checks."""

import json
import re

import pytest

from pipelines import PIPELINES, Check, Column, Location, Partition, Pipeline, Step, Table


def test_a_location_inside_another_is_named_relative_to_it():
    orders = Location("raw", "orders/")
    assert Location("raw", "orders/glue/exports/").relative_to(orders) == "glue/exports/"
    assert orders.relative_to(orders) == ""
    for outside in (Location("raw", "ordersx/"), Location("curated", "orders/exports/")):
        with pytest.raises(ValueError, match="is not inside raw:orders/"):
            outside.relative_to(orders)


def test_the_glue_road_replaces_exactly_the_raw_inputs():
    (step,) = PIPELINES["sparkify"].steps
    assert dict(step.glue_args()) == {
        "--song-data": Location("raw", "sparkify/glue/song_data/"),
        "--log-data": Location("raw", "sparkify/glue/log_data/"),
        "--output": Location("curated", "sparkify/"),
    }
    args = (("--input", Location("raw", "x/")), ("--output", Location("curated", "x/")))
    for glue_inputs in ((("--other", Location("raw", "g/")),), (("--input", Location("curated", "g/")),)):
        with pytest.raises(ValueError, match=r"glue_inputs must give a raw location for each of \['--input'\]"):
            Step(name="x", job="x", args=args, glue_inputs=glue_inputs)
    assert not Step(name="x", job="x", args=args).runs_on_glue


def test_names_types_and_keys_are_checked_when_declared():
    with pytest.raises(ValueError, match="lower snake_case"):
        Column("OrderId", "string")
    with pytest.raises(ValueError, match="unsupported column type 'varchar'"):
        Column("x", "varchar")
    assert Column("tags", "map<string,array<decimal(18,2)>>").type == "map<string,array<decimal(18,2)>>"
    with pytest.raises(ValueError, match="key column 'y' is not a column"):
        Table(
            pipeline="p",
            name="t",
            writer="w",
            description="",
            columns=(Column("x", "int"),),
            refresh="full",
            key=("y",),
        )
    with pytest.raises(ValueError, match="must be relative and end with '/'"):
        Location("raw", "/x")


def test_steps_run_in_waves_and_a_cycle_is_refused():
    kpis = PIPELINES["rentals"].waves()
    assert [[s.name for s in wave] for wave in kpis] == [["rentals_transform"], ["rentals_kpis"]]
    args = (("--output", Location("curated", "p/")),)
    a, b = Step("a", "a", args, after=("b",)), Step("b", "b", args, after=("a",))
    with pytest.raises(ValueError, match=r"steps \['a', 'b'\] form a cycle"):
        Pipeline("p", "", Location("raw", "p/"), (a, b), (), check_query="q")


def _table(**overrides) -> Table:
    declared = {
        "pipeline": "p",
        "name": "t",
        "writer": "w",
        "description": "",
        "columns": (Column("id", "string"), Column("at", "timestamp"), Column("day", "date"), Column("n", "int")),
        "refresh": "full",
        "key": ("id",),
    }
    return Table(**(declared | overrides))


def test_partition_fields_are_named_and_written_as_spark_names_them():
    cases = {
        ("at", "identity"): ("at", "`at`"),
        ("at", "year"): ("at_year", "years(`at`)"),
        ("at", "month"): ("at_month", "months(`at`)"),
        ("at", "day"): ("at_day", "days(`at`)"),
        ("at", "hour"): ("at_hour", "hours(`at`)"),
        ("id", "bucket[16]"): ("id_bucket", "bucket(16, `id`)"),
        ("id", "truncate[4]"): ("id_trunc", "truncate(4, `id`)"),
    }
    for (column, transform), (name, sql) in cases.items():
        partition = Partition(column, transform)
        assert (partition.name, partition.spark_sql()) == (name, sql)
    for bad in ("months", "bucket[0]", "bucket", "truncate[x]"):
        with pytest.raises(ValueError, match=re.escape(f"transform {bad!r} is not one of")):
            Partition("at", bad)


def test_a_partition_spec_sort_order_and_checks_name_declared_columns_of_fitting_types():
    assert _table(partitioning=(Partition("at", "hour"), Partition("day", "month"))).partitioning[0].name == "at_hour"
    with pytest.raises(ValueError, match="table t: ") as error:
        _table(
            partitioning=(Partition("nope", "day"), Partition("day", "hour"), Partition("n", "month")),
            sort_order=("zz",),
            checks=(Check("yy", minimum=0),),
        )
    message = str(error.value)
    for expected in (
        "partition column 'nope' is not a column",
        "partition hour(day) needs a timestamp column, not date",
        "partition month(n) needs a date or timestamp column, not int",
        "sort column 'zz' is not a column",
        "check column 'yy' is not a column",
    ):
        assert expected in message
    with pytest.raises(ValueError, match="an incremental table needs a partition spec"):
        _table(refresh="incremental")
    with pytest.raises(ValueError, match="'range' needs a sort_order"):
        _table(distribution_mode="range")
    with pytest.raises(ValueError, match=r"max_row_drop 1\.5 is not a share"):
        _table(max_row_drop=1.5)
    with pytest.raises(ValueError, match="a merge table needs a key"):
        _table(refresh="merge", key=())
    assert _table(refresh="merge").merge_keys == ("id",)
    assert _table(refresh="merge", merge_key=("day",)).merge_keys == ("day",)


def test_checks_are_either_accepted_values_or_a_range():
    assert Check("level", accepted=("free", "paid")).rule == "accepted_values(level)"
    assert Check("hour", minimum=0, maximum=23).rule == "range(hour)"
    with pytest.raises(ValueError, match="give accepted values, a minimum or a maximum"):
        Check("x")
    with pytest.raises(ValueError, match="are two checks"):
        Check("x", accepted=("a",), maximum=1)


def test_iceberg_fields_number_columns_in_declaration_order_nested_ids_right_after_their_column():
    table = _table(
        columns=(
            Column("id", "bigint", "The id"),
            Column("tags", "array<string>"),
            Column("details", "map<string,string>"),
            Column("at", "timestamp"),
            Column("price", "decimal(18,2)"),
        )
    )
    fields = table.iceberg_fields()
    assert [(f.id, f.name, f.required, f.doc) for f in fields] == [
        (1, "id", False, "The id"),
        (2, "tags", False, ""),
        (4, "details", False, ""),
        (7, "at", False, ""),
        (8, "price", False, ""),
    ]
    assert fields[0].type == "long"
    assert json.loads(fields[1].type) == {
        "type": "list",
        "element-id": 3,
        "element": "string",
        "element-required": False,
    }
    assert json.loads(fields[2].type) == {
        "type": "map",
        "key-id": 5,
        "key": "string",
        "value-id": 6,
        "value": "string",
        "value-required": False,
    }
    assert (fields[3].type, fields[4].type) == ("timestamptz", "decimal(18,2)")
    # A column declared later takes the next id; no earlier id changes.
    grown = _table(columns=(*table.columns, Column("note", "string")))
    assert grown.iceberg_fields()[:-1] == fields
    assert grown.iceberg_fields()[-1].id == 9


def test_every_declared_table_is_iceberg_v2_in_its_own_cloud_location():
    for pipeline in PIPELINES.values():
        for table in pipeline.tables:
            assert table.location == Location("curated", f"iceberg/{pipeline.name}/{table.name}/")
            assert table.glue_name == f"{pipeline.name}_{table.name}"
            assert pipeline.table_dir(table.name) == Location("curated", f"{pipeline.name}/{table.name}/")
            properties = table.properties
            assert properties["format-version"] == "2"
            assert properties["write.target-file-size-bytes"] == str(table.target_file_size_bytes)
            assert properties["write.distribution-mode"] == table.distribution_mode
            assert all(isinstance(v, str) for v in properties.values())
            assert [f.id for f in table.iceberg_fields()][:1] == [1]
    # The Iceberg roots never overlap the Hive-era table folders, which an orphan-file optimizer would delete.
    hive_era = {f"{t.pipeline}/{t.name}/" for p in PIPELINES.values() for t in p.tables}
    assert not any(t.location.prefix.startswith(old) for old in hive_era for p in PIPELINES.values() for t in p.tables)


def test_the_gate_defaults_and_per_input_quarantine_limits():
    assert _table().max_row_drop == 0.9
    step = Step(
        name="x", job="x", args=(("--output", Location("curated", "x/")),), max_quarantined_share=(("events", 0.2),)
    )
    assert (step.quarantine_limit("events"), step.quarantine_limit("songs")) == (0.2, 0.1)
    with pytest.raises(ValueError, match=r"max_quarantined_share \['events=2'\] must be shares"):
        Step(name="x", job="x", args=(), max_quarantined_share=(("events", 2),))
