"""GlueEtl alone, with Args built here: the Glue job reads its own landing prefixes, exactly one trigger starts it
(a starter Lambda on upload, or a schedule), each successful run crawls the pipeline's tables, and Glue logs with
retention; then in the stacks: dev starts on upload, prod on its schedule, and the raw bucket tells the starter."""

import fnmatch
import json

import pytest

from components.glue_etl import GLUE_VERSION, GlueEtl, GlueEtlArgs
from pipelines import GLUE_JOBS, PIPELINES
from tests.infra import LAKE_ARNS, LAKE_BUCKETS, LAKE_KEY, run_component, run_program

TRIGGER = "aws:glue/trigger:Trigger"
FUNCTION = "aws:lambda/function:Function"
SCRIPT = f"s3://{LAKE_BUCKETS['scripts']}/jobs/orders-0123456789abcdef.py"
PY_FILES = f"s3://{LAKE_BUCKETS['scripts']}/jobs/deps-0123456789abcdef.zip"
NIGHTLY = "cron(0 3 * * ? *)"


def etl_args(**overrides) -> GlueEtlArgs:
    values = {
        "project": "datalake",
        "environment": "test",
        "job": "orders",
        "script_uri": SCRIPT,
        "py_files_uri": PY_FILES,
        "schedule": None,
        "worker_type": "G.1X",
        "number_of_workers": 2,
        "timeout_minutes": 60,
        "bucket_names": LAKE_BUCKETS,
        "bucket_arns": LAKE_ARNS,
        "key_arn": LAKE_KEY,
        "log_retention_days": 30,
        "security_configuration": "datalake-test-glue",
        "glue_database": "datalake_test",
    }
    return GlueEtlArgs(**{**values, **overrides})


def glue(**overrides):
    run = run_component(lambda: GlueEtl("glue", etl_args(**overrides)))
    assert run.error is None, run.error
    return run


@pytest.fixture(scope="module")
def on_upload():
    return glue()


@pytest.fixture(scope="module")
def scheduled():
    return glue(schedule=NIGHTLY)


@pytest.fixture(params=["on_upload", "scheduled"])
def run(request, on_upload, scheduled):
    return {"on_upload": on_upload, "scheduled": scheduled}[request.param]


def raw(prefix: str) -> str:
    return f"s3://{LAKE_BUCKETS['raw']}/{prefix}"


def job_of(run) -> dict:
    (job,) = run.of_type("aws:glue/job:Job")
    return job.inputs


def starters_of_the_job(run) -> list[dict]:
    job = job_of(run)["name"]
    return [t.inputs for t in run.of_type(TRIGGER) if any(a.get("jobName") == job for a in t.inputs["actions"])]


def role_policy(run, suffix: str) -> dict[str, dict]:
    (policy,) = [p for p in run.of_type("aws:iam/rolePolicy:RolePolicy") if p.name.endswith(suffix)]
    return {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}


def test_the_glue_job_runs_the_shipped_script_on_its_own_landing_prefix(run):
    job = job_of(run)
    assert job["name"] == "datalake-test-orders"
    assert job["glueVersion"] == GLUE_VERSION == "5.1"
    assert job["command"] == {"name": "glueetl", "scriptLocation": SCRIPT, "pythonVersion": "3"}
    assert job["defaultArguments"]["--input"] == raw("orders/glue/exports/")
    emr_input = dict(PIPELINES["orders"].steps[0].args)["--input"].prefix
    assert job["defaultArguments"]["--input"] != raw(emr_input)
    assert job["defaultArguments"]["--output"] == f"s3://{LAKE_BUCKETS['curated']}/orders/"
    assert job["defaultArguments"]["--extra-py-files"] == PY_FILES
    assert job["defaultArguments"]["--TempDir"] == f"s3://{LAKE_BUCKETS['scripts']}/glue-temp/"
    assert job["securityConfiguration"] == "datalake-test-glue"
    assert (job["workerType"], job["numberOfWorkers"], job["timeout"]) == ("G.1X", 2, 60)
    assert run.component.landing_prefixes == ("orders/glue/exports/",)


def test_glue_5_1_job_arguments_are_only_ones_that_do_something(run):
    job = job_of(run)
    # Glue 5.1: Spark 3.5.6 and Iceberg 1.10.0, as EMR 7.12 ("Migrating AWS Glue for Spark jobs to AWS Glue version
    # 5.1", AWS Glue Developer Guide).
    assert job["glueVersion"] == "5.1"
    arguments = job["defaultArguments"]
    # Glue 5 logs in real time without it ("Logging for AWS Glue jobs"), and no GlueContext publishes metrics.
    assert "--enable-continuous-cloudwatch-log" not in arguments
    assert "--enable-metrics" not in arguments
    assert set(arguments) == {
        "--input",
        "--output",
        "--job-language",
        "--extra-py-files",
        "--TempDir",
        "--datalake-formats",
        "--conf",
        "--catalog",
        "--database",
    }


def test_the_glue_job_commits_through_the_glue_iceberg_catalog(run):
    arguments = job_of(run)["defaultArguments"]
    # "Using the Iceberg framework in AWS Glue" (AWS Glue Developer Guide): --datalake-formats iceberg, and the
    # catalog in the one --conf argument, the others chained inside its value.
    assert arguments["--datalake-formats"] == "iceberg"
    conf = dict(pair.split("=", 1) for pair in arguments["--conf"].split(" --conf "))
    assert conf == {
        "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        "spark.sql.catalog.glue_catalog": "org.apache.iceberg.spark.SparkCatalog",
        "spark.sql.catalog.glue_catalog.catalog-impl": "org.apache.iceberg.aws.glue.GlueCatalog",
        "spark.sql.catalog.glue_catalog.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        "spark.sql.catalog.glue_catalog.warehouse": f"s3://{LAKE_BUCKETS['curated']}/iceberg/",
    }
    # Glue 5.1 reads S3 through S3A, not EMRFS: s3:// URIs work on both, and no EMRFS-only option is set.
    assert not [k for k in conf if k.startswith(("spark.hadoop.fs.s3.", "fs.s3."))]
    assert all(v.startswith("s3://") for k, v in arguments.items() if k in ("--input", "--output", "--TempDir"))
    assert (arguments["--catalog"], arguments["--database"]) == ("glue_catalog", "datalake_test")
    statements = role_policy(run, "-etl-role-policy")
    assert statements["CommitIcebergTables"]["Action"] == [
        "glue:GetDatabase",
        "glue:GetTable",
        "glue:GetTables",
        "glue:UpdateTable",
    ]


def test_runs_are_one_at_a_time_and_a_start_during_a_run_waits_for_it(run):
    job = job_of(run)
    assert job["executionProperty"] == {"maxConcurrentRuns": 1}
    # Without queuing a start during a run fails ("AWS Glue job run statuses"), and the file that landed is lost.
    assert job["jobRunQueuingEnabled"] is True
    assert job["maxRetries"] == 0


def test_exactly_one_trigger_starts_the_job_and_it_is_active(on_upload, scheduled):
    (start,) = starters_of_the_job(on_upload)
    assert (start["name"], start["type"], start.get("schedule")) == (
        "datalake-test-orders-on-upload",
        "ON_DEMAND",
        None,
    )
    (start,) = starters_of_the_job(scheduled)
    assert (start["name"], start["type"], start["schedule"]) == ("datalake-test-orders-schedule", "SCHEDULED", NIGHTLY)
    # The provider starts SCHEDULED and CONDITIONAL triggers on creation unless `enabled` is false.
    for run in (on_upload, scheduled):
        assert all(t.inputs.get("enabled", True) is not False for t in run.of_type(TRIGGER))


def test_no_run_is_followed_by_a_crawl(run):
    # The job commits its Iceberg tables' metadata itself: no conditional trigger, no crawler.
    assert [t for t in run.of_type(TRIGGER) if t.inputs["type"] == "CONDITIONAL"] == []
    assert run.of_type("aws:glue/crawler:Crawler") == []


def test_on_upload_a_starter_lambda_fires_the_on_demand_trigger(on_upload):
    run = on_upload
    (trigger,) = starters_of_the_job(run)
    starter = next(f for f in run.of_type(FUNCTION) if f.inputs["name"] == "datalake-test-start-orders").inputs
    assert starter["environment"]["variables"] == {"JOB_NAME": job_of(run)["name"], "TRIGGER_NAME": trigger["name"]}
    assert starter["description"] == "Starts the Glue job orders when a file lands under orders/glue/exports/"
    assert "reservedConcurrentExecutions" not in starter
    statements = role_policy(run, "-starter-policy")
    assert statements["FireItsTrigger"] == {
        "Sid": "FireItsTrigger",
        "Effect": "Allow",
        "Action": ["glue:StartTrigger"],
        "Resource": [f"arn:aws:glue:eu-west-1:123456789012:trigger/{trigger['name']}"],
    }
    assert statements["SeeQueuedRuns"]["Resource"] == [f"arn:aws:glue:eu-west-1:123456789012:job/{job_of(run)['name']}"]
    assert run.resolve(run.component.starter.failures.url).endswith("/datalake-test-start-orders-failures")


def test_the_starter_reserves_the_concurrency_it_is_given():
    run = glue(starter_reserved_concurrency=1)
    (starter,) = run.of_type(FUNCTION)
    assert starter.inputs["reservedConcurrentExecutions"] == 1


def test_on_a_schedule_uploads_start_nothing(scheduled):
    assert scheduled.of_type(FUNCTION) == []
    assert scheduled.component.starter is None


def test_the_sparkify_road_lands_and_starts_on_each_of_its_inputs():
    run = glue(job="sparkify")
    arguments = job_of(run)["defaultArguments"]
    assert arguments["--song-data"] == raw("sparkify/glue/song_data/")
    assert arguments["--log-data"] == raw("sparkify/glue/log_data/")
    assert run.component.landing_prefixes == ("sparkify/glue/song_data/", "sparkify/glue/log_data/")


def test_only_a_step_with_a_glue_road_can_be_the_job():
    run = run_component(lambda: GlueEtl("glue", etl_args(job="rentals_kpis")))
    assert "GlueEtlArgs.job 'rentals_kpis': no pipeline step declares a Glue road for it" in str(run.error)


def test_glue_writes_the_jobs_logs_to_groups_with_retention_and_the_lake_key(run):
    # Glue creates the log groups of a secured job itself, with no retention: they are made first, under the names
    # Glue composes from the security configuration and the role (JobRun.LogGroupName, AWS Glue API Reference).
    role = run.named("glue-etl-role").state["name"]
    groups = {
        g.inputs["name"]: g for g in run.of_type("aws:cloudwatch/logGroup:LogGroup") if "aws-glue" in g.inputs["name"]
    }
    assert set(groups) == {
        f"/aws-glue/jobs/datalake-test-glue-role/{role}/error",
        f"/aws-glue/jobs/datalake-test-glue-role/{role}/output",
    }
    (job,) = run.of_type("aws:glue/job:Job")
    logs = role_policy(run, "-etl-role-policy")["GlueLogs"]
    for group in groups.values():
        assert (group.inputs["kmsKeyId"], group.inputs["retentionInDays"]) == (LAKE_KEY, 30)
        assert group.urn in job.dependencies
        assert any(fnmatch.fnmatchcase(group.state["arn"], pattern) for pattern in logs["Resource"])
    assert {"logs:AssociateKmsKey", "logs:CreateLogStream", "logs:PutLogEvents"} <= set(logs["Action"])


def test_the_job_role_reaches_the_lake_data_its_code_and_its_temporary_files(run):
    statements = role_policy(run, "-etl-role-policy")
    assert statements["ReadRawAndCode"]["Resource"] == [f"{LAKE_ARNS['raw']}/*", f"{LAKE_ARNS['scripts']}/jobs/*"]
    assert statements["WriteJobLogs"]["Resource"] == [f"{LAKE_ARNS['scripts']}/glue-temp/*"]
    assert job_of(run)["roleArn"] == run.named("glue-etl-role").state["arn"]


# In the stacks ------------------------------------------------------------------------------------------------------


def notification_targets(run) -> dict[str, dict]:
    (notification,) = run.of_type("aws:s3/bucketNotification:BucketNotification")
    return {t["id"]: t for t in notification.inputs["lambdaFunctions"]}


def test_dev_starts_the_job_on_upload_and_the_raw_bucket_tells_its_starter(stack_run):
    run = stack_run("dev")
    assert run.outputs["glue_etl_start"] == "upload"
    assert run.outputs["glue_etl_landing"] == ["s3://datalake-dev-raw-0a1b2c3/orders/glue/exports/"]
    assert run.outputs["glue_etl_dead_letter_queue"].endswith("/datalake-dev-start-orders-failures")
    target = notification_targets(run)["glue-etl-0"]
    assert target["filterPrefix"] == "orders/glue/exports/"
    assert target["lambdaFunctionArn"].endswith(":function:datalake-dev-start-orders")
    (job,) = run.of_type("aws:glue/job:Job")
    assert job.inputs["command"]["scriptLocation"].startswith("s3://datalake-dev-scripts-0a1b2c3/jobs/orders-")
    assert [t for t in run.of_type(TRIGGER) if t.inputs["type"] == "CONDITIONAL"] == []


def test_prod_starts_it_on_a_schedule_and_uploads_start_nothing(stack_run):
    run = stack_run("prod")
    assert run.outputs["glue_etl_start"] == NIGHTLY
    assert [f for f in run.of_type(FUNCTION) if "-start-" in f.inputs["name"]] == []
    assert sorted(notification_targets(run)) == ["orders-ingest"]
    assert run.outputs.get("glue_etl_dead_letter_queue") is None


def test_the_sparkify_road_gets_a_notification_per_landing_prefix():
    run = run_program("dev", overrides={"glue": {"etl_job": "sparkify"}})
    assert run.error is None, run.error
    assert sorted(t["filterPrefix"] for i, t in notification_targets(run).items() if i.startswith("glue-etl")) == [
        "sparkify/glue/log_data/",
        "sparkify/glue/song_data/",
    ]


def test_only_steps_with_a_glue_road_can_be_the_glue_job_and_the_settings_say_so():
    assert GLUE_JOBS == ("sparkify", "orders")
    run = run_program("dev", overrides={"glue": {"etl_job": "rentals_kpis"}})
    assert "datalake:settings.glue.etl_job: 'rentals_kpis' is not allowed; allowed: 'sparkify' or 'orders'" in str(
        run.error
    )
    assert run.resources == []
