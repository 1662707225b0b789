"""GlueCatalog alone, with Args built here: the declared tables, one crawler per pipeline over them, the crawlers'
role and log group, and the security configuration; then in the stacks: the crawlers follow the stack's settings."""

import fnmatch
import json

import pytest

from components.glue_catalog import GlueCatalog, GlueCatalogArgs
from pipelines import PIPELINES, all_tables
from tests.infra import LAKE_ARNS, LAKE_BUCKETS, LAKE_KEY, run_component

CRAWLER = "aws:glue/crawler:Crawler"
CURATED = LAKE_BUCKETS["curated"]


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


def test_glue_tables_are_the_declared_schemas(run):
    (database,) = run.of_type("aws:glue/catalogDatabase:CatalogDatabase")
    assert database.inputs["name"] == "datalake_test"
    tables = {t.inputs["name"]: t for t in run.of_type("aws:glue/catalogTable:CatalogTable")}
    assert sorted(tables) == sorted(t.glue_name for t in all_tables())
    for table in all_tables():
        declared = tables[table.glue_name].inputs
        descriptor = declared["storageDescriptor"]
        assert [(c["name"], c["type"]) for c in descriptor["columns"]] == [(c.name, c.type) for c in table.columns]
        # Hidden partitioning: the partition sources are ordinary columns, no Hive partition keys.
        assert declared.get("partitionKeys", []) == []
        assert descriptor["location"] == f"s3://{CURATED}/{table.location.prefix}"
        assert descriptor["serDeInfo"]["serializationLibrary"].endswith("ParquetHiveSerDe")
        assert declared["databaseName"] == "datalake_test"
        assert (declared["tableType"], declared["parameters"]["classification"]) == ("EXTERNAL_TABLE", "parquet")


def test_crawlers_cover_their_pipeline_tables_and_nothing_else(run):
    crawlers = {c.inputs["name"]: c for c in run.of_type(CRAWLER)}
    # One crawler per pipeline and no other: each is started by its state machine, the ingest Lambda or the
    # Glue job's conditional trigger (a crawler nothing starts is what left the old raw crawler's trigger idle).
    assert sorted(crawlers) == sorted(f"datalake-test-{name}" for name in PIPELINES)
    tables = {t.urn for t in run.of_type("aws:glue/catalogTable:CatalogTable")}
    for name, pipeline in PIPELINES.items():
        crawler = crawlers[f"datalake-test-{name}"]
        assert crawler.inputs["tablePrefix"] == f"{name}_"
        assert sorted(t["path"] for t in crawler.inputs["s3Targets"]) == sorted(
            f"s3://{CURATED}/{t.location.prefix}" for t in pipeline.tables
        )
        assert all(t["exclusions"] == ["**/_SUCCESS", "**/_temporary/**", "**/.*"] for t in crawler.inputs["s3Targets"])
        assert crawler.inputs["schemaChangePolicy"] == {"updateBehavior": "LOG", "deleteBehavior": "LOG"}
        assert crawler.inputs["recrawlPolicy"] == {"recrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"}
        assert crawler.inputs["securityConfiguration"] == "datalake-test-glue"
        # It adds partitions to the declared tables, which must exist first.
        assert tables <= set(crawler.dependencies)
        assert json.loads(crawler.inputs["configuration"])["CrawlerOutput"]["Partitions"] == {
            "AddOrUpdateBehavior": "InheritFromTable"
        }
    assert run.component.crawler_names.keys() == PIPELINES.keys()


def test_the_schema_policies_are_the_ones_given():
    run = run_component(
        lambda: GlueCatalog(
            "catalog", catalog_args(schema_update_behavior="UPDATE_IN_DATABASE", recrawl_behavior="CRAWL_EVERYTHING")
        )
    )
    for crawler in run.of_type(CRAWLER):
        assert crawler.inputs["schemaChangePolicy"]["updateBehavior"] == "UPDATE_IN_DATABASE"
        assert crawler.inputs["recrawlPolicy"] == {"recrawlBehavior": "CRAWL_EVERYTHING"}


def test_the_crawler_role_locates_lists_and_reads_the_curated_prefixes_only(run):
    statements = role_policy(run, "-crawler-policy")
    curated = LAKE_ARNS["curated"]
    # AWSGlueServiceRole grants s3:GetBucketLocation; a crawler calls it before listing ("Step 3: Configure
    # security settings", AWS Glue Developer Guide: the role needs permissions similar to AWSGlueServiceRole).
    assert statements["LocateCuratedBucket"]["Action"] == ["s3:GetBucketLocation"]
    assert statements["LocateCuratedBucket"]["Resource"] == [curated]
    assert statements["ListCrawledPrefixes"]["Resource"] == [curated]
    assert all(r.startswith(f"{curated}/") for r in statements["ReadCrawledPrefixes"]["Resource"])
    assert LAKE_ARNS["raw"] not in json.dumps(statements), "the crawlers have no business in the raw bucket"
    (role,) = run.of_type("aws:iam/role:Role")
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "glue.amazonaws.com"}


def test_glue_security_configuration_uses_the_lake_key_everywhere(run):
    (config,) = run.of_type("aws:glue/securityConfiguration:SecurityConfiguration")
    encryption = config.inputs["encryptionConfiguration"]
    assert encryption["cloudwatchEncryption"] == {"cloudwatchEncryptionMode": "SSE-KMS", "kmsKeyArn": LAKE_KEY}
    assert encryption["jobBookmarksEncryption"] == {"jobBookmarksEncryptionMode": "CSE-KMS", "kmsKeyArn": LAKE_KEY}
    assert encryption["s3Encryption"] == {"s3EncryptionMode": "SSE-KMS", "kmsKeyArn": LAKE_KEY}
    assert run.resolve(run.component.security_configuration.name) == "datalake-test-glue"


def test_the_crawlers_log_to_a_group_with_retention_and_the_lake_key(run):
    # Glue creates the log group of a secured crawler itself, with no retention: it is made first, under the name
    # Glue composes from the role and the security configuration (GetCrawler's LastCrawl.LogGroup).
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
    assert {"logs:AssociateKmsKey", "logs:CreateLogStream", "logs:PutLogEvents"} <= set(logs["Action"])


# In the stacks ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_stack_catalogues_into_its_own_database(stack_run, stack):
    run = stack_run(stack)
    assert {t.inputs["databaseName"] for t in run.of_type("aws:glue/catalogTable:CatalogTable")} == {
        f"datalake_{stack}"
    }
    for crawler in run.of_type(CRAWLER):
        assert crawler.inputs["schemaChangePolicy"] == {"updateBehavior": "LOG", "deleteBehavior": "LOG"}
        assert crawler.inputs["s3Targets"][0]["path"].startswith(f"s3://datalake-{stack}-curated-0a1b2c3/")
