"""GlueCatalog under mocks: declared tables, crawlers and their role, and the Glue road (its landing prefix, the one
trigger that starts its job, the starter Lambda, the crawl after each run), by stack and by `glue` override."""

import fnmatch
import json

import pytest

from components.glue_etl import GLUE_VERSION
from pipelines import GLUE_JOBS, PIPELINES, all_tables
from tests.infra import run_program, stack_config

TRIGGER = "aws:glue/trigger:Trigger"
FUNCTION = "aws:lambda/function:Function"


@pytest.fixture(params=["dev", "prod"])
def run(request, stack_run):
    return stack_run(request.param)


def raw(run, prefix: str) -> str:
    return f"s3://datalake-{run.stack}-raw-0a1b2c3/{prefix}"


def job_of(run) -> dict:
    (job,) = run.of_type("aws:glue/job:Job")
    return job.inputs


def starters_of_the_job(run) -> list[dict]:
    job = job_of(run)["name"]
    return [t.inputs for t in run.of_type(TRIGGER) if any(a.get("jobName") == job for a in t.inputs["actions"])]


def notification_targets(run) -> dict[str, dict]:
    (notification,) = run.of_type("aws:s3/bucketNotification:BucketNotification")
    return {t["id"]: t for t in notification.inputs["lambdaFunctions"]}


def role_policy(run, suffix: str) -> dict[str, dict]:
    (policy,) = [p for p in run.of_type("aws:iam/rolePolicy:RolePolicy") if p.name.endswith(suffix)]
    return {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}


# The catalogue ------------------------------------------------------------------------------------------------------


def test_glue_tables_are_the_declared_schemas(run):
    tables = {t.inputs["name"]: t.inputs for t in run.of_type("aws:glue/catalogTable:CatalogTable")}
    assert sorted(tables) == sorted(t.glue_name for t in all_tables())
    for table in all_tables():
        declared = tables[table.glue_name]
        descriptor = declared["storageDescriptor"]
        assert [(c["name"], c["type"]) for c in descriptor["columns"]] == [(c.name, c.type) for c in table.columns]
        assert [(c["name"], c["type"]) for c in declared.get("partitionKeys", [])] == [
            (c.name, c.type) for c in table.partition_keys
        ]
        assert descriptor["location"] == f"s3://datalake-{run.stack}-curated-0a1b2c3/{table.location.prefix}"
        assert descriptor["serDeInfo"]["serializationLibrary"].endswith("ParquetHiveSerDe")
        assert declared["databaseName"] == f"datalake_{run.stack}"


def test_crawlers_cover_their_pipeline_tables_with_explicit_policies(run):
    crawlers = {c.inputs["name"]: c.inputs for c in run.of_type("aws:glue/crawler:Crawler")}
    # One crawler per pipeline and no other: each is started by its state machine, the ingest Lambda or the
    # Glue job's conditional trigger (a crawler nothing starts is what left the old raw crawler's trigger idle).
    assert sorted(crawlers) == sorted(f"datalake-{run.stack}-{name}" for name in PIPELINES)
    for name, pipeline in PIPELINES.items():
        crawler = crawlers[f"datalake-{run.stack}-{name}"]
        assert crawler["tablePrefix"] == f"{name}_"
        assert sorted(t["path"] for t in crawler["s3Targets"]) == sorted(
            f"s3://datalake-{run.stack}-curated-0a1b2c3/{t.location.prefix}" for t in pipeline.tables
        )
        assert crawler["schemaChangePolicy"] == {"updateBehavior": "LOG", "deleteBehavior": "LOG"}
        assert crawler["recrawlPolicy"] == {"recrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"}
        assert crawler["securityConfiguration"] == f"datalake-{run.stack}-glue"


def test_the_crawler_role_locates_lists_and_reads_the_curated_prefixes_only(run):
    statements = role_policy(run, "-catalog-crawler-policy")
    curated = run.named(f"datalake-{run.stack}-curated").state["arn"]
    # AWSGlueServiceRole grants s3:GetBucketLocation; a crawler calls it before listing ("Step 3: Configure
    # security settings", AWS Glue Developer Guide: the role needs permissions similar to AWSGlueServiceRole).
    assert statements["LocateCuratedBucket"]["Action"] == ["s3:GetBucketLocation"]
    assert statements["LocateCuratedBucket"]["Resource"] == [curated]
    assert statements["ListCrawledPrefixes"]["Resource"] == [curated]
    assert all(r.startswith(f"{curated}/") for r in statements["ReadCrawledPrefixes"]["Resource"])
    raw = run.named(f"datalake-{run.stack}-raw").state["arn"]
    assert raw not in json.dumps(statements), "the crawlers have no business in the raw bucket"


def test_glue_security_configuration_uses_the_lake_key_everywhere(run):
    key = run.named(f"datalake-{run.stack}-key").state["arn"]
    config = run.of_type("aws:glue/securityConfiguration:SecurityConfiguration")[0].inputs["encryptionConfiguration"]
    assert config["cloudwatchEncryption"] == {"cloudwatchEncryptionMode": "SSE-KMS", "kmsKeyArn": key}
    assert config["jobBookmarksEncryption"] == {"jobBookmarksEncryptionMode": "CSE-KMS", "kmsKeyArn": key}
    assert config["s3Encryption"] == {"s3EncryptionMode": "SSE-KMS", "kmsKeyArn": key}


# The Glue road ------------------------------------------------------------------------------------------------------


def test_the_glue_job_reads_its_own_landing_prefix_not_the_emr_input(run):
    job = job_of(run)
    assert job["glueVersion"] == GLUE_VERSION == "5.0"
    assert job["command"]["scriptLocation"].startswith(f"s3://datalake-{run.stack}-scripts-0a1b2c3/jobs/orders-")
    assert job["defaultArguments"]["--input"] == raw(run, "orders/glue/exports/")
    emr_input = dict(PIPELINES["orders"].steps[0].args)["--input"].prefix
    assert job["defaultArguments"]["--input"] != raw(run, emr_input)
    assert job["defaultArguments"]["--output"] == f"s3://datalake-{run.stack}-curated-0a1b2c3/orders/"
    assert run.outputs["glue_etl_landing"] == [raw(run, "orders/glue/exports/")]


def test_glue_5_job_arguments_are_only_ones_that_do_something(run):
    arguments = job_of(run)["defaultArguments"]
    # Glue 5.0 logs in real time without it ("Logging for AWS Glue jobs"), and no GlueContext publishes metrics.
    assert "--enable-continuous-cloudwatch-log" not in arguments
    assert "--enable-metrics" not in arguments
    assert set(arguments) == {"--input", "--output", "--job-language", "--extra-py-files", "--TempDir"}


def test_runs_are_one_at_a_time_and_a_start_during_a_run_waits_for_it(run):
    job = job_of(run)
    assert job["executionProperty"] == {"maxConcurrentRuns": 1}
    # Without queuing a start during a run fails ("AWS Glue job run statuses"), and the file that landed is lost.
    assert job["jobRunQueuingEnabled"] is True
    assert job["maxRetries"] == 0


def test_exactly_one_trigger_starts_the_job_and_it_is_active(run):
    (start,) = starters_of_the_job(run)
    if run.stack == "dev":  # etl_schedule null: every upload starts it
        assert (start["type"], start.get("schedule")) == ("ON_DEMAND", None)
    else:
        assert (start["type"], start["schedule"]) == ("SCHEDULED", "cron(0 3 * * ? *)")
    assert run.outputs["glue_etl_start"] == {"dev": "upload", "prod": "cron(0 3 * * ? *)"}[run.stack]
    # The provider starts SCHEDULED and CONDITIONAL triggers on creation unless `enabled` is false.
    assert all(t.inputs.get("enabled", True) is not False for t in run.of_type(TRIGGER))


def test_each_successful_run_crawls_the_pipeline_tables(run):
    conditional = [t.inputs for t in run.of_type(TRIGGER) if t.inputs["type"] == "CONDITIONAL"]
    (crawl,) = conditional
    assert crawl["predicate"]["conditions"] == [
        {"jobName": job_of(run)["name"], "state": "SUCCEEDED", "logicalOperator": "EQUALS"}
    ]
    assert crawl["actions"] == [{"crawlerName": f"datalake-{run.stack}-orders"}]
    # Nothing waits on a crawler: a crawl_state condition on a crawler nothing starts never fires.
    assert not [c for t in conditional for c in t["predicate"]["conditions"] if "crawlerName" in c]


def test_on_upload_a_starter_lambda_fires_the_on_demand_trigger(stack_run):
    run = stack_run("dev")
    (trigger,) = starters_of_the_job(run)
    starter = next(f for f in run.of_type(FUNCTION) if f.inputs["name"] == "datalake-dev-start-orders").inputs
    assert starter["environment"]["variables"] == {"JOB_NAME": job_of(run)["name"], "TRIGGER_NAME": trigger["name"]}
    assert "reservedConcurrentExecutions" not in starter
    statements = role_policy(run, "-glue-starter-policy")
    assert statements["FireItsTrigger"] == {
        "Sid": "FireItsTrigger",
        "Effect": "Allow",
        "Action": ["glue:StartTrigger"],
        "Resource": [f"arn:aws:glue:eu-west-1:123456789012:trigger/{trigger['name']}"],
    }
    assert statements["SeeQueuedRuns"]["Resource"] == [f"arn:aws:glue:eu-west-1:123456789012:job/{job_of(run)['name']}"]
    assert run.outputs["glue_etl_dead_letter_queue"].endswith("/datalake-dev-start-orders-failures")
    target = notification_targets(run)["glue-etl-0"]
    assert target["filterPrefix"] == "orders/glue/exports/"
    assert target["lambdaFunctionArn"].endswith(":function:datalake-dev-start-orders")


def test_on_a_schedule_uploads_start_nothing(stack_run):
    run = stack_run("prod")
    assert [f for f in run.of_type(FUNCTION) if "-start-" in f.inputs["name"]] == []
    assert sorted(notification_targets(run)) == ["orders-ingest"]
    assert run.outputs.get("glue_etl_dead_letter_queue") is None


def test_the_sparkify_road_lands_and_starts_on_each_of_its_inputs():
    run = run_program("dev", overrides={"glue": {"etl_job": "sparkify"}})
    assert run.error is None, run.error
    arguments = job_of(run)["defaultArguments"]
    assert arguments["--song-data"] == raw(run, "sparkify/glue/song_data/")
    assert arguments["--log-data"] == raw(run, "sparkify/glue/log_data/")
    targets = notification_targets(run)
    assert sorted(t["filterPrefix"] for i, t in targets.items() if i.startswith("glue-etl")) == [
        "sparkify/glue/log_data/",
        "sparkify/glue/song_data/",
    ]
    (crawl,) = [t.inputs for t in run.of_type(TRIGGER) if t.inputs["type"] == "CONDITIONAL"]
    assert crawl["actions"] == [{"crawlerName": "datalake-dev-sparkify"}]


def test_only_steps_with_a_glue_road_can_be_the_glue_job():
    assert GLUE_JOBS == ("sparkify", "orders")
    run = run_program("dev", overrides={"glue": {"etl_job": "rentals_kpis"}})
    assert "datalake:settings.glue.etl_job: 'rentals_kpis' is not allowed; allowed: 'sparkify' or 'orders'" in str(
        run.error
    )
    assert run.resources == []


def test_glue_writes_its_logs_to_groups_with_retention_and_the_lake_key(run):
    # Glue creates the log groups of a secured crawler or job itself, with no retention: they are made first, under
    # the names Glue composes from the security configuration and the role (JobRun.LogGroupName, AWS Glue API).
    key = run.named(f"datalake-{run.stack}-key").state["arn"]
    config = run.of_type("aws:glue/securityConfiguration:SecurityConfiguration")[0].inputs["name"]
    crawler_role = run.named(f"datalake-{run.stack}-catalog-crawler").state["name"]
    etl_role = run.named(f"datalake-{run.stack}-glue-etl-role").state["name"]
    groups = {
        g.inputs["name"]: g for g in run.of_type("aws:cloudwatch/logGroup:LogGroup") if "aws-glue" in g.inputs["name"]
    }
    assert set(groups) == {
        f"/aws-glue/crawlers-role/{crawler_role}-{config}",
        f"/aws-glue/jobs/{config}-role/{etl_role}/error",
        f"/aws-glue/jobs/{config}-role/{etl_role}/output",
    }
    retention = stack_config(run.stack)["datalake:settings"]["log_retention_days"]
    for group in groups.values():
        assert group.inputs["kmsKeyId"] == key
        assert group.inputs["retentionInDays"] == retention
    # Each group exists before anything can write to it, and the role that writes may use it.
    for kind, role, policy_suffix in (
        ("aws:glue/crawler:Crawler", "crawlers-role", "-catalog-crawler-policy"),
        ("aws:glue/job:Job", "jobs/", "-glue-etl-role-policy"),
    ):
        mine = [g.urn for name, g in groups.items() if name.startswith(f"/aws-glue/{role}")]
        for resource in run.of_type(kind):
            assert set(mine) <= set(resource.dependencies), resource.name
        logs = role_policy(run, policy_suffix)["GlueLogs"]
        for name, group in groups.items():
            if name.startswith(f"/aws-glue/{role}"):
                arn = group.state["arn"]
                assert any(fnmatch.fnmatchcase(arn, pattern) for pattern in logs["Resource"]), arn
                assert {"logs:AssociateKmsKey", "logs:CreateLogStream", "logs:PutLogEvents"} <= set(logs["Action"])
