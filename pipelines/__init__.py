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


__all__ = ["PIPELINES", "Column", "Location", "Pipeline", "Step", "Table", "all_tables"]
