"""The platform's places in the lake: where they are (deployed stacks and the README rely on it), each in a bucket the
lake has, none inside another, none in a zone the pipelines' data travels through."""

import itertools
from typing import get_args

from components.data_lake import LOGS, ZONES
from pipelines import PIPELINES, lake
from pipelines.model import Zone


def test_the_platform_places_are_where_deployed_stacks_keep_them():
    assert {(location.zone, location.prefix) for location in lake.PLATFORM} == {
        ("scripts", "jobs/"),
        ("scripts", "functions/"),
        ("scripts", "glue-temp/"),
        ("logs", "emr/"),
        ("logs", "s3-access/"),
        ("athena-results", "athena/"),
    }
    assert lake.EMR_LOGS.child("kindle").prefix == "emr/kindle/"
    assert lake.ACCESS_LOGS.child("raw").prefix == "s3-access/raw/"


def test_every_zone_is_a_bucket_of_the_lake():
    assert set(get_args(Zone)) == {*ZONES, LOGS}


def data_locations():
    for pipeline in PIPELINES.values():
        yield pipeline.raw
        yield pipeline.output
        for step in pipeline.steps:
            yield from (location for _, location in (*step.args, *step.glue_inputs))
        yield from (table.location for table in pipeline.tables)


def test_platform_places_keep_out_of_the_data_zones():
    # An upload to raw starts a run and the curated prefixes are tables: the platform's files go elsewhere.
    data_zones = {location.zone for location in data_locations()}
    assert data_zones == {"raw", "curated"}
    assert not data_zones & {location.zone for location in lake.PLATFORM}


def test_no_platform_place_lies_inside_another_in_the_same_bucket():
    for first, second in itertools.permutations(lake.PLATFORM, 2):
        if first.zone == second.zone:
            assert not second.prefix.startswith(first.prefix), (first, second)
