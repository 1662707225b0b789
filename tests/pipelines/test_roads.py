"""pipelines/roads.py: the roads into the raw bucket, declared in pipelines/: each has its own prefixes, so one
upload starts one thing."""

import dataclasses
from pathlib import Path

import pytest

import pipelines
from pipelines import PIPELINES, Location, raw_roads, roads


def test_each_road_lands_on_prefixes_of_its_own():
    found = raw_roads()
    assert {road for road, _ in found} == {
        "emr:kindle",
        "emr:sparkify",
        "emr:orders",
        "emr:rentals",
        "glue:sparkify",
        "glue:orders",
        "lambda:orders_ingest",
        "quarantine",
    }
    for road, prefix in found:
        others = [(r, p) for r, p in found if r != road]
        assert not [(r, p) for r, p in others if p.startswith(prefix) or prefix.startswith(p)], (road, prefix)


def test_a_road_inside_another_is_refused_when_pipelines_load(monkeypatch):
    orders = PIPELINES["orders"]
    step, merge = orders.steps
    overlapping = dataclasses.replace(step, glue_inputs=(("--input", Location("raw", "orders/exports/again/")),))
    monkeypatch.setitem(PIPELINES, "orders", dataclasses.replace(orders, steps=(overlapping, merge)))
    with pytest.raises(ValueError, match="'orders/exports/again/' of glue:orders lies under 'orders/exports/'"):
        roads.check_apart(pipelines.raw_roads())


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
