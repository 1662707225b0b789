"""guardrails/lakehouse.py: a curated Glue table that is not Iceberg, one Glue would refuse, one without its
optimizers, an optimizer Glue cannot run."""

from __future__ import annotations

import pytest

from tests.guardrails.broken import DELETE, REMOVE, Broken, assert_fires, set_path

ICEBERG = ("openTableFormatInput", "icebergInput")
TABLE_INPUT = (*ICEBERG, "icebergTableInput")
SONGPLAYS = "-catalog-iceberg-sparkify_songplays"


def hive_table(inputs: dict) -> None:
    """The table as it was before issue 12: an external Parquet table."""
    del inputs["openTableFormatInput"]
    inputs["tableType"] = "EXTERNAL_TABLE"
    inputs["storageDescriptor"] = {"location": "s3://bucket/sparkify/songplays/"}


CASES = [
    Broken(
        "glue-tables-iceberg",
        "dev",
        SONGPLAYS,
        hive_table,
        "is not an Iceberg table; declare it with open_table_format_input.iceberg_input",
    ),
    Broken(
        "glue-tables-iceberg",
        "prod",
        SONGPLAYS,
        set_path(*ICEBERG, "version", value="1"),
        "Iceberg format version '1'; set version '2'",
    ),
    Broken(
        "glue-tables-iceberg",
        "dev",
        SONGPLAYS,
        set_path(*TABLE_INPUT, "schema", "fields", 0, "type", value="string"),
        "which is not the JSON value Glue's IcebergStructField.Type takes",
    ),
    Broken(
        "glue-tables-iceberg",
        "dev",
        SONGPLAYS,
        set_path(*TABLE_INPUT, "partitionSpec", "fields", 0, "fieldId", value=1),
        "partition field id 1 is below 1000",
    ),
    Broken(
        "glue-tables-iceberg",
        "dev",
        SONGPLAYS,
        set_path(*TABLE_INPUT, "partitionSpec", "fields", 0, "transform", value="months"),
        "partition transform 'months' is not an Iceberg transform",
    ),
    Broken(
        "glue-tables-iceberg",
        "prod",
        SONGPLAYS,
        set_path(*TABLE_INPUT, "schema", "fields", 0, "name", value="Song_ID"),
        "is not lower case",
    ),
    Broken(
        "glue-tables-maintained",
        "prod",
        "-catalog-optimizer-sparkify_songplays-orphan-file-deletion",
        REMOVE,
        "has no orphan_file_deletion optimizer",
        bucket=SONGPLAYS,
    ),
    Broken(
        "glue-table-optimizers-valid",
        "dev",
        "-catalog-optimizer-sparkify_songplays-compaction",
        set_path("configuration", "compactionConfiguration", "icebergConfiguration", "strategy", value="sort"),
        "Glue's managed compaction runs binpack only",
    ),
    Broken(
        "glue-table-optimizers-valid",
        "dev",
        "-catalog-optimizer-sparkify_songplays-retention",
        set_path("configuration", "roleArn", value=DELETE),
        "names no role_arn",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_broken_resource_makes_its_policy_fire_and_say_what_to_change(stack_run, case):
    assert_fires(case, stack_run(case.stack).resources)
