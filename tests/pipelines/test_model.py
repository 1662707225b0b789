"""pipelines/model.py: the plain-data vocabulary (columns, locations, tables, steps, pipelines) and its checks."""

import pytest

from pipelines import PIPELINES, Column, Location, Pipeline, Step, Table


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
    with pytest.raises(ValueError, match=r"key columns \['y'\] are not columns"):
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
