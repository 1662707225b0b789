"""The roads into the raw bucket: the prefixes where an upload starts a runtime (a pipeline's EMR state machine,
its Glue job, the ingest Lambda) or where quarantine keeps files. No road's prefix lies inside another's, so one
upload starts one thing: S3 notifications and the jobs' recursive listings both match by prefix."""

from __future__ import annotations

from collections.abc import Iterable

from pipelines import orders
from pipelines.model import Pipeline


def raw_roads(pipelines: Iterable[Pipeline]) -> list[tuple[str, str]]:
    """(road, raw prefix) of every prefix a road lands on or writes to in the raw bucket, in README order."""
    roads = []
    for pipeline in pipelines:
        for step in pipeline.steps:
            roads += [(f"emr:{pipeline.name}", loc.prefix) for _, loc in step.args if loc.zone == "raw"]
            roads += [(f"glue:{step.job}", loc.prefix) for _, loc in step.glue_inputs]
    roads.append(("lambda:orders_ingest", orders.INGEST_LANDING.prefix))
    roads.append(("quarantine", orders.INGEST_QUARANTINE.prefix))
    return roads


def check_apart(roads: list[tuple[str, str]]) -> None:
    """ValueError when a prefix of one road contains another road's."""
    for road, prefix in roads:
        for other, other_prefix in roads:
            if road != other and other_prefix.startswith(prefix):
                raise ValueError(f"raw prefix {other_prefix!r} of {other} lies under {prefix!r} of {road}")
