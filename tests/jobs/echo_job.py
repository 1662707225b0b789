"""A job named "echo" for the tests of what every job shares (_job, _publish): tables declared inline, the body
given by each test, counts set by hand."""

from __future__ import annotations

from _job import JobRun, run_job

from pipelines.model import Check, Column, Partition, Table

INPUTS = {"--input": "the input"}
COLUMNS = (Column("id", "bigint"), Column("day", "int"))


def table(name: str, refresh: str, partitioned: bool = False, **declared) -> Table:
    """A test table of `id bigint, day int` (key id), partitioned by day when asked."""
    declared = {"columns": COLUMNS, "key": ("id",), "partitioning": (Partition("day"),) if partitioned else ()} | (
        declared
    )
    return Table("test", name, "echo", "a test table", refresh=refresh, **declared)


def rows(run: JobRun, *ids: int, day: int = 1):
    return run.spark.createDataFrame([(i, day) for i in ids], "id bigint, day int")


def counted(run: JobRun, read: int, written: int, quarantined: int = 0) -> None:
    run.report.add_input("x", "in", read=read, written=written, quarantined=quarantined)


def echo(run, args) -> None:
    counted(run, 30, 29, 1)


def main(body, output, *extra: str) -> dict:
    return run_job("echo", ["--input", "in", "--output", str(output), *extra], body, inputs=INPUTS, output="")


__all__ = ["Check", "counted", "echo", "main", "rows", "table"]
