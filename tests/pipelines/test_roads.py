"""The roads into the raw bucket, declared in pipelines/: each has its own prefixes, so one upload starts one thing."""

import dataclasses
from pathlib import Path

import pytest

import pipelines
from pipelines import PIPELINES, Location, Step, raw_roads


def test_each_road_lands_on_prefixes_of_its_own():
    roads = raw_roads()
    assert {road for road, _ in roads} == {
        "emr:kindle",
        "emr:sparkify",
        "emr:orders",
        "emr:rentals",
        "glue:sparkify",
        "glue:orders",
        "lambda:orders_ingest",
        "quarantine",
    }
    for road, prefix in roads:
        others = [(r, p) for r, p in roads if r != road]
        assert not [(r, p) for r, p in others if p.startswith(prefix) or prefix.startswith(p)], (road, prefix)


def test_a_road_inside_another_is_refused_when_pipelines_load(monkeypatch):
    orders = PIPELINES["orders"]
    (step,) = orders.steps
    overlapping = dataclasses.replace(step, glue_inputs=(("--input", Location("raw", "orders/exports/again/")),))
    monkeypatch.setitem(PIPELINES, "orders", dataclasses.replace(orders, steps=(overlapping,)))
    with pytest.raises(ValueError, match="'orders/exports/again/' of glue:orders lies under 'orders/exports/'"):
        pipelines._roads_apart()


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


def test_the_readme_says_what_an_upload_under_each_prefix_starts():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("### Run a pipeline in AWS") :]
    section = section[: section.index("\n## ")]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    for road, prefix in raw_roads():
        if road == "quarantine":
            assert f"`{prefix}`" in section
            continue
        (row,) = [r for r in rows if f"`{prefix}`" in r.split(" | ")[0]]
        assert row.count(" | ") == 2, row  # three cells: the prefix, what it starts, what follows
