"""The four pipelines by name, each one's plain-data description (steps, output tables, lake locations) in
pipelines/<pipeline>.py; the platform's own locations are in pipelines/lake.py, the analysts' queries in
pipelines/queries.py.

Read by the jobs (output schemas), the local runner (steps), and the components (Glue tables, Step Functions).
"""

from pipelines import kindle, orders, rentals, roads, sparkify
from pipelines.model import Check, Column, IcebergField, Location, Partition, Pipeline, Step, Table

PIPELINES: dict[str, Pipeline] = {
    p.name: p for p in (kindle.PIPELINE, sparkify.PIPELINE, orders.PIPELINE, rentals.PIPELINE)
}


def all_tables() -> list[Table]:
    return [t for p in PIPELINES.values() for t in p.tables]


GLUE_JOBS = tuple(step.job for p in PIPELINES.values() for step in p.steps if step.runs_on_glue)


def raw_roads() -> list[tuple[str, str]]:
    """(road, raw prefix) of every prefix a road of the pipelines lands on or writes to (pipelines/roads.py)."""
    return roads.raw_roads(PIPELINES.values())


# Refused at import, before anything reads a pipeline: an upload must start one thing at most.
roads.check_apart(raw_roads())

__all__ = [
    "GLUE_JOBS",
    "PIPELINES",
    "Check",
    "Column",
    "IcebergField",
    "Location",
    "Partition",
    "Pipeline",
    "Step",
    "Table",
    "all_tables",
    "raw_roads",
]
