"""Plain-data descriptions of the four pipelines: steps, output tables and their schemas.

Read by the jobs (output schemas), the local runner (steps), and the components (Glue tables, Step Functions).
"""

from pipelines import kindle, orders, rentals, sparkify
from pipelines.model import Column, Location, Pipeline, Step, Table

PIPELINES: dict[str, Pipeline] = {
    p.name: p for p in (kindle.PIPELINE, sparkify.PIPELINE, orders.PIPELINE, rentals.PIPELINE)
}


def all_tables() -> list[Table]:
    return [t for p in PIPELINES.values() for t in p.tables]


GLUE_JOBS = tuple(step.job for p in PIPELINES.values() for step in p.steps if step.runs_on_glue)


def raw_roads() -> list[tuple[str, str]]:
    """(road, raw prefix) of every prefix a road lands on or writes to in the raw bucket, in README order."""
    roads = []
    for pipeline in PIPELINES.values():
        for step in pipeline.steps:
            roads += [(f"emr:{pipeline.name}", loc.prefix) for _, loc in step.args if loc.zone == "raw"]
            roads += [(f"glue:{step.job}", loc.prefix) for _, loc in step.glue_inputs]
    roads.append(("lambda:orders_ingest", orders.INGEST_LANDING.prefix))
    roads.append(("quarantine", orders.INGEST_QUARANTINE.prefix))
    return roads


def _roads_apart() -> None:
    """An upload starts one thing: no prefix of one road may contain another road's (S3 notifications and the
    jobs' recursive listings both match by prefix)."""
    roads = raw_roads()
    for road, prefix in roads:
        for other, other_prefix in roads:
            if road != other and other_prefix.startswith(prefix):
                raise ValueError(f"raw prefix {other_prefix!r} of {other} lies under {prefix!r} of {road}")


_roads_apart()

__all__ = [
    "GLUE_JOBS",
    "PIPELINES",
    "Column",
    "Location",
    "Pipeline",
    "Step",
    "Table",
    "all_tables",
    "raw_roads",
]
