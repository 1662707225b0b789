"""GlueCatalog alone, with Args built here: an Iceberg table per declared table with what Glue's CreateTable needs,
its three optimizers under a role limited to the tables, the raw-zone crawler (and no curated one), the security
configuration; then in the stacks: prod protects its tables, both maintain them."""

import fnmatch
import json
import re

import pytest

from components import glue_catalog as gc
from components.glue_catalog import GlueCatalog, GlueCatalogArgs, TableMaintenance
from pipelines import PIPELINES, all_tables
from tests.infra import LAKE_ARNS, LAKE_BUCKETS, LAKE_KEY, run_component

CRAWLER = "aws:glue/crawler:Crawler"
TABLE = "aws:glue/catalogTable:CatalogTable"
OPTIMIZER = "aws:glue/catalogTableOptimizer:CatalogTableOptimizer"
CURATED = LAKE_BUCKETS["curated"]
# The Iceberg spec's primitive type names ("Schemas and Data Types", iceberg.apache.org/spec/#primitive-types).
ICEBERG_PRIMITIVE = re.compile(
    r'^"(boolean|int|long|float|double|date|time|timestamp|timestamptz|string|uuid|binary|decimal\(\d+,\d+\))"$'
)
# Iceberg's partition transforms ("Partition Transforms", iceberg.apache.org/spec/#partition-transforms).
ICEBERG_TRANSFORM = re.compile(r"^(identity|year|month|day|hour|void|bucket\[\d+\]|truncate\[\d+\])$")


def catalog_args(**overrides) -> GlueCatalogArgs:
    values = {
        "project": "datalake",
        "environment": "test",
        "bucket_names": LAKE_BUCKETS,
        "bucket_arns": LAKE_ARNS,
        "key_arn": LAKE_KEY,
        "log_retention_days": 30,
        "schema_update_behavior": "LOG",
        "schema_delete_behavior": "LOG",
        "recrawl_behavior": "CRAWL_NEW_FOLDERS_ONLY",
    }
    return GlueCatalogArgs(**{**values, **overrides})


@pytest.fixture(scope="module")
def run():
    run = run_component(lambda: GlueCatalog("catalog", catalog_args()))
    assert run.error is None, run.error
    return run


def role_policy(run, suffix: str) -> dict[str, dict]:
    (policy,) = [p for p in run.of_type("aws:iam/rolePolicy:RolePolicy") if p.name.endswith(suffix)]
    return {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}


def iceberg_inputs(run) -> dict[str, dict]:
    return {t.inputs["name"]: t.inputs["openTableFormatInput"]["icebergInput"] for t in run.of_type(TABLE)}


def test_every_declared_table_is_an_iceberg_v2_table_under_its_own_location(run):
    (database,) = [d for d in run.of_type("aws:glue/catalogDatabase:CatalogDatabase") if d.name == "catalog-database"]
    assert database.inputs["name"] == "datalake_test"
    inputs = iceberg_inputs(run)
    assert sorted(inputs) == sorted(t.glue_name for t in all_tables())
    for table in all_tables():
        iceberg = inputs[table.glue_name]
        # CreateTable's IcebergInput: MetadataOperation is CREATE, the only value ("IcebergInput", AWS Glue API
        # Reference); format version 2.
        assert (iceberg["metadataOperation"], iceberg["version"]) == ("CREATE", "2")
        spec = iceberg["icebergTableInput"]
        # Apart from the Hive-era Parquet under <pipeline>/<table>/: orphan-file deletion never reaches it.
        assert spec["location"] == f"s3://{CURATED}/iceberg/{table.pipeline}/{table.name}/"
        assert not spec["location"].startswith(f"s3://{CURATED}/{table.pipeline}/")
        assert spec["properties"] == table.properties
        assert spec["properties"]["format-version"] == "2"
    for recorded in run.of_type(TABLE):
        # Nothing Hive: no storage descriptor, partition keys or table type beside the open-table input.
        assert set(recorded.inputs) == {"name", "databaseName", "openTableFormatInput"}, recorded.name


def test_the_schema_carries_field_ids_and_json_types_glue_accepts(run):
    inputs = iceberg_inputs(run)
    for table in all_tables():
        schema = inputs[table.glue_name]["icebergTableInput"]["schema"]
        assert (schema["schemaId"], schema["type"]) == (0, "struct")  # IcebergSchema.Type: struct only
        fields = schema["fields"]
        assert [f["name"] for f in fields] == table.column_names
        assert [f["id"] for f in fields] == [f.id for f in table.iceberg_fields()]
        assert len({f["id"] for f in fields}) == len(fields)
        for field in fields:
            # IcebergStructField.Type is a JSON value ("IcebergStructField", AWS Glue API Reference): a primitive is a
            # JSON string, a nested type its JSON object with ids of its own.
            parsed = json.loads(field["type"])
            if isinstance(parsed, str):
                assert ICEBERG_PRIMITIVE.match(field["type"]), (table.glue_name, field)
            else:
                assert parsed["type"] in ("list", "map", "struct"), (table.glue_name, field)
            # Glue: a field name is lower case for Hive compatibility; Doc at most 255 characters.
            assert field["name"] == field["name"].lower()
            assert len(field.get("doc") or "") <= 255, (table.glue_name, field["name"])


def test_partition_specs_and_sort_orders_are_the_declared_ones(run):
    inputs = iceberg_inputs(run)
    partitioned = 0
    for table in all_tables():
        spec = inputs[table.glue_name]["icebergTableInput"]
        ids = {f.name: f.id for f in table.iceberg_fields()}
        fields = spec.get("partitionSpec", {}).get("fields", [])
        assert [(f["sourceId"], f["transform"], f["name"]) for f in fields] == [
            (ids[p.column], p.transform, p.name) for p in table.partitioning
        ]
        # Partition field ids start at 1000 (Iceberg spec, "Partition Specs"), apart from the schema's.
        assert [f["fieldId"] for f in fields] == list(range(1000, 1000 + len(fields)))
        assert all(ICEBERG_TRANSFORM.match(f["transform"]) for f in fields)
        partitioned += bool(fields)
        order = spec.get("sortOrder")
        if table.sort_order:
            assert order["orderId"] == 1  # 0 is the unsorted order
            assert [f["sourceId"] for f in order["fields"]] == [ids[c] for c in table.sort_order]
            assert {(f["direction"], f["nullOrder"], f["transform"]) for f in order["fields"]} == {
                ("asc", "nulls-first", "identity")
            }
        else:
            assert order is None
    assert partitioned, "no declared table is partitioned: the spec path is untested"


def test_after_creation_the_engine_owns_the_table_and_prod_protects_it(monkeypatch):
    # Once created, any update through the table API breaks or replaces an Iceberg table (pulumi/pulumi-aws#4618,
    # hashicorp/terraform-provider-aws#36641): Pulumi ignores what the engine writes, so a column declared later
    # reaches the table through the job, never through Pulumi. The mocks do not record options: catch them here.
    seen = []
    original = gc.aws.glue.CatalogTable

    class Recording(original):
        def __init__(self, resource_name, *args, opts=None, **kwargs):
            seen.append(opts)
            super().__init__(resource_name, *args, opts=opts, **kwargs)

    monkeypatch.setattr(gc.aws.glue, "CatalogTable", Recording)
    run = run_component(lambda: GlueCatalog("catalog", catalog_args(protect_tables=True)))
    assert run.error is None, run.error
    assert len(seen) == len(all_tables())
    for opts in seen:
        assert {"openTableFormatInput", "parameters", "storageDescriptor", "partitionKeys", "tableType"} <= set(
            opts.ignore_changes
        )
        assert opts.protect is True
    assert all(t.protect for t in run.of_type(TABLE))


def test_every_table_gets_the_three_optimizers_under_one_role(run):
    optimizers = run.of_type(OPTIMIZER)
    role = run.named("catalog-optimizer")
    found = {(o.inputs["tableName"], o.inputs["type"]) for o in optimizers}
    assert found == {(t.glue_name, kind) for t in all_tables() for kind in gc.OPTIMIZER_TYPES}
    policy = run.named("catalog-optimizer-policy")
    for optimizer in optimizers:
        config = optimizer.inputs["configuration"]
        assert config["enabled"] is True
        assert config["roleArn"] == role.state["arn"]
        assert optimizer.inputs["catalogId"] == "123456789012"
        assert optimizer.inputs["databaseName"] == "datalake_test"
        # The role's policy is in place before Glue first assumes it.
        assert policy.urn in optimizer.dependencies
    by_kind = {o.inputs["type"]: o.inputs["configuration"] for o in optimizers}
    # Glue's managed compaction bin-packs only ("Considerations and limitations", AWS Glue Developer Guide).
    assert by_kind["compaction"]["compactionConfiguration"]["icebergConfiguration"] == {
        "strategy": "binpack",
        "minInputFiles": 100,
    }
    assert by_kind["retention"]["retentionConfiguration"]["icebergConfiguration"] == {
        "snapshotRetentionPeriodInDays": 7,
        "numberOfSnapshotsToRetain": 10,
        "cleanExpiredFiles": True,
    }
    assert by_kind["orphan_file_deletion"]["orphanFileDeletionConfiguration"]["icebergConfiguration"] == {
        "orphanFileRetentionPeriodInDays": 3
    }
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "glue.amazonaws.com"}


def test_the_maintenance_settings_reach_the_optimizers():
    maintenance = TableMaintenance(
        enabled=False,
        snapshot_retention_days=30,
        snapshots_to_retain=3,
        orphan_file_retention_days=5,
        compaction_min_input_files=10,
    )
    run = run_component(lambda: GlueCatalog("catalog", catalog_args(maintenance=maintenance)))
    configs = {o.inputs["type"]: o.inputs["configuration"] for o in run.of_type(OPTIMIZER)}
    assert {c["enabled"] for c in configs.values()} == {False}
    assert configs["retention"]["retentionConfiguration"]["icebergConfiguration"]["snapshotRetentionPeriodInDays"] == 30
    assert configs["retention"]["retentionConfiguration"]["icebergConfiguration"]["numberOfSnapshotsToRetain"] == 3
    orphan = configs["orphan_file_deletion"]["orphanFileDeletionConfiguration"]["icebergConfiguration"]
    assert orphan == {"orphanFileRetentionPeriodInDays": 5}
    assert configs["compaction"]["compactionConfiguration"]["icebergConfiguration"]["minInputFiles"] == 10


def test_the_optimizer_role_reaches_the_iceberg_tables_and_nothing_else(run):
    statements = role_policy(run, "-optimizer-policy")
    curated = LAKE_ARNS["curated"]
    prefixes = sorted(t.location.prefix for t in all_tables())
    # "Table optimization prerequisites", AWS Glue Developer Guide: S3 read/write/delete on the data, ListBucket,
    # glue:GetTable and glue:UpdateTable on the table, its database and the catalog, CloudWatch Logs, the KMS key.
    assert statements["RewriteIcebergFiles"]["Action"] == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    assert statements["RewriteIcebergFiles"]["Resource"] == [f"{curated}/{p}*" for p in prefixes]
    assert statements["ListIcebergPrefixes"]["Condition"] == {"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}}
    assert statements["CommitIcebergTables"]["Action"] == ["glue:GetTable", "glue:UpdateTable"]
    tables = [r for r in statements["CommitIcebergTables"]["Resource"] if ":table/" in r]
    assert sorted(r.rsplit("/", 1)[1] for r in tables) == sorted(t.glue_name for t in all_tables())
    assert statements["UseLakeKey"]["Resource"] == [LAKE_KEY]
    logs = statements["OptimizerLogs"]["Resource"]
    for group in ("iceberg-compaction", "iceberg-retention", "iceberg-orphan-file-deletion"):
        arn = f"arn:aws:logs:eu-west-1:123456789012:log-group:/aws-glue/{group}/logs:log-stream:x"
        assert any(fnmatch.fnmatchcase(arn, pattern) for pattern in logs), group
    text = json.dumps(statements)
    assert LAKE_ARNS["raw"] not in text
    assert not [r for st in statements.values() for r in st["Resource"] if r == "*" or r.endswith(":::*")]
    # No Hive-era prefix (<pipeline>/<table>/) is in reach of the orphan-file deletion.
    assert all(p.startswith("iceberg/") for p in prefixes)


def test_no_crawler_targets_the_curated_zone_and_the_raw_crawler_starts_on_demand(run):
    (crawler,) = run.of_type(CRAWLER)
    assert crawler.inputs["name"] == "datalake-test-raw"
    assert all(t["path"].startswith(f"s3://{LAKE_BUCKETS['raw']}/") for t in crawler.inputs["s3Targets"])
    assert sorted(t["path"] for t in crawler.inputs["s3Targets"]) == sorted(
        f"s3://{LAKE_BUCKETS['raw']}/{p.raw.prefix}" for p in PIPELINES.values()
    )
    # Into a database of its own: the lake's tables are Pulumi's, a crawler never touches them.
    assert crawler.inputs["databaseName"] == "datalake_test_raw"
    assert "schedule" not in crawler.inputs
    assert crawler.inputs["securityConfiguration"] == "datalake-test-glue"
    assert not run.of_type("aws:glue/trigger:Trigger")
    statements = role_policy(run, "-crawler-policy")
    assert LAKE_ARNS["curated"] not in json.dumps(statements)
    assert all(
        ":table/datalake_test_raw/" in r or ":table/" not in r
        for r in statements["CatalogExplorationTables"]["Resource"]
    )


def test_the_schema_policies_are_the_ones_given():
    run = run_component(
        lambda: GlueCatalog(
            "catalog", catalog_args(schema_update_behavior="UPDATE_IN_DATABASE", recrawl_behavior="CRAWL_EVERYTHING")
        )
    )
    for crawler in run.of_type(CRAWLER):
        assert crawler.inputs["schemaChangePolicy"]["updateBehavior"] == "UPDATE_IN_DATABASE"
        assert crawler.inputs["recrawlPolicy"] == {"recrawlBehavior": "CRAWL_EVERYTHING"}


def test_glue_security_configuration_uses_the_lake_key_everywhere(run):
    (config,) = run.of_type("aws:glue/securityConfiguration:SecurityConfiguration")
    encryption = config.inputs["encryptionConfiguration"]
    assert encryption["cloudwatchEncryption"] == {"cloudwatchEncryptionMode": "SSE-KMS", "kmsKeyArn": LAKE_KEY}
    assert encryption["jobBookmarksEncryption"] == {"jobBookmarksEncryptionMode": "CSE-KMS", "kmsKeyArn": LAKE_KEY}
    assert encryption["s3Encryption"] == {"s3EncryptionMode": "SSE-KMS", "kmsKeyArn": LAKE_KEY}
    assert run.resolve(run.component.security_configuration.name) == "datalake-test-glue"


def test_the_crawler_logs_to_a_group_with_retention_and_the_lake_key(run):
    role = run.named("catalog-crawler").state["name"]
    (group,) = run.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs == {
        "name": f"/aws-glue/crawlers-role/{role}-datalake-test-glue",
        "retentionInDays": 30,
        "kmsKeyId": LAKE_KEY,
    }
    for crawler in run.of_type(CRAWLER):
        assert group.urn in crawler.dependencies, crawler.name
    logs = role_policy(run, "-crawler-policy")["GlueLogs"]
    assert any(fnmatch.fnmatchcase(group.state["arn"], pattern) for pattern in logs["Resource"])


# In the stacks ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_stack_declares_iceberg_tables_with_their_optimizers_and_no_curated_crawler(stack_run, stack):
    run = stack_run(stack)
    tables = run.of_type(TABLE)
    assert {t.inputs["databaseName"] for t in tables} == {f"datalake_{stack}"}
    assert sorted(t.inputs["name"] for t in tables) == sorted(t.glue_name for t in all_tables())
    assert all(t.inputs["openTableFormatInput"]["icebergInput"]["version"] == "2" for t in tables)
    kinds = {(o.inputs["tableName"], o.inputs["type"]) for o in run.of_type(OPTIMIZER)}
    assert kinds == {(t.glue_name, k) for t in all_tables() for k in gc.OPTIMIZER_TYPES}
    assert all(o.inputs["configuration"]["enabled"] for o in run.of_type(OPTIMIZER))
    curated = f"s3://datalake-{stack}-curated-0a1b2c3/"
    for crawler in run.of_type(CRAWLER):
        assert not [t for t in crawler.inputs["s3Targets"] if t["path"].startswith(curated)], crawler.name
    # Prod's tables (and their database) cannot be deleted by an update or a destroy; dev's can.
    assert {t.protect for t in tables} == {stack == "prod"}
