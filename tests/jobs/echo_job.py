"""A job named "echo" for the tests of what every job shares (_job, _publish): tables declared inline, the body
given by each test, counts set by hand."""

from __future__ import annotations

from _job import JobRun, run_job

from pipelines.model import Column, Table

INPUTS = {"--input": "the input"}


def table(name: str, refresh: str, partitioned: bool = False) -> Table:
    keys = (Column("day", "int"),) if partitioned else ()
    return Table("test", name, "echo", "a test table", (Column("id", "bigint"),), refresh, partition_keys=keys)


def counted(run: JobRun, read: int, written: int, quarantined: int = 0) -> None:
    run.report.add_input("x", "in", read=read, written=written, quarantined=quarantined)


def echo(run, args) -> None:
    counted(run, 3, 2, 1)


def main(body, output, *extra: str) -> dict:
    return run_job("echo", ["--input", "in", "--output", str(output), *extra], body, inputs=INPUTS, output="")
