"""The state machine role's policy (components/iam/state_machines.py): linted by parliament, scoped to the pipeline's
clusters, application, prefixes and key, and allowing every call the definition makes."""

from __future__ import annotations

import json

import parliament
import pytest

from components import emr_states as emr
from components.iam import state_machines
from components.iam.statements import ATHENA_RESULTS_BUCKET_ACTIONS, ATHENA_RESULTS_OBJECT_ACTIONS
from pipelines import PIPELINES
from pipelines.model import Pipeline
from tests.components.definitions import ACCOUNT, PARTITION, REGION, RUNTIMES, build, tasks

APPLICATION_ARN = f"arn:aws:emr-serverless:{REGION}:{ACCOUNT}:/applications/00fabcdefghij012"
DATA_ACTIONS = {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"}


def policy_for(runtime: str, pipeline: Pipeline = PIPELINES["rentals"]) -> dict:
    roles = {
        "cluster": [f"arn:aws:iam::{ACCOUNT}:role/emr-service", f"arn:aws:iam::{ACCOUNT}:role/emr-instance"],
        "serverless": [f"arn:aws:iam::{ACCOUNT}:role/emr-serverless"],
    }[runtime]
    return state_machines.state_machine_policy(
        partition=PARTITION,
        region=REGION,
        account_id=ACCOUNT,
        pipeline=pipeline,
        runtime=runtime,
        emr_role_arns=roles,
        serverless_application_arn=APPLICATION_ARN if runtime == "serverless" else None,
        workgroup_arn=f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/datalake-dev",
        glue_database="datalake_dev",
        results_bucket_arn="arn:aws:s3:::athena-results-bucket",
        curated_bucket_arn="arn:aws:s3:::curated-bucket",
        kms_key_arn=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0a1b2c3d",
    )


def statements(policy: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in policy["Statement"]}


def findings(policy: dict, *, community: bool = False) -> list:
    return parliament.analyze_policy_string(json.dumps(policy), include_community_auditors=community).findings


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_parliament_finds_nothing_but_the_documented_permission_management(runtime):
    policy = policy_for(runtime)
    assert [(f.issue, f.location) for f in findings(policy)] == []
    (management,) = findings(policy, community=True)
    assert management.issue == "PERMISSIONS_MANAGEMENT_ACTIONS"
    # Passing the jobs' roles, creating EMR's cleanup role, and the log delivery Step Functions sets up.
    expected = {"iam:passrole", "logs:putresourcepolicy"} | (
        {"iam:createservicelinkedrole"} if runtime == "cluster" else set()
    )
    assert set(management.location["actions"]) == expected


def test_parliament_still_reports_what_the_policy_must_not_contain():
    broken = policy_for("cluster")
    broken["Statement"].append({"Sid": "Bad", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["*"]})
    assert [f.issue for f in findings(broken)] == ["RESOURCE_STAR"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_no_wildcard_action_and_star_only_for_unscoped_actions(runtime):
    for statement in policy_for(runtime)["Statement"]:
        assert statement["Effect"] == "Allow"
        assert not [a for a in statement["Action"] if "*" in a], statement["Sid"]
        if "*" in statement["Resource"]:
            assert statement["Resource"] == ["*"]
            assert set(statement["Action"]) <= state_machines.UNSCOPED_ACTIONS, statement["Sid"]
            assert not set(statement["Action"]) & DATA_ACTIONS, statement["Sid"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_data_actions_name_the_pipelines_own_prefixes_and_key(runtime):
    found = statements(policy_for(runtime))
    # Athena reads each Iceberg table's metadata and data under the table's own location.
    prefixes = sorted(t.location.prefix for t in PIPELINES["rentals"].tables)
    assert found["ReadPipelineData"]["Resource"] == [f"arn:aws:s3:::curated-bucket/{p}*" for p in prefixes]
    assert found["ListPipelineData"]["Condition"] == {"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}}
    # A failed step's run report, and nothing else of the pipeline's output.
    assert found["ReadRunReports"]["Resource"] == ["arn:aws:s3:::curated-bucket/rentals/_run/*"]
    assert found["ReadRunReports"]["Action"] == ["s3:GetObject"]
    assert found["WriteQueryResults"]["Resource"] == ["arn:aws:s3:::athena-results-bucket/*"]
    assert found["UseLakeKeyThroughS3AndAthena"]["Resource"] == [f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0a1b2c3d"]
    assert found["UseLakeKeyThroughS3AndAthena"]["Condition"] == {
        "StringEquals": {"kms:ViaService": [f"s3.{REGION}.amazonaws.com", f"athena.{REGION}.amazonaws.com"]}
    }
    glue = f"arn:aws:glue:{REGION}:{ACCOUNT}"
    assert found["ReadPipelineTables"]["Resource"] == [
        f"{glue}:catalog",
        f"{glue}:database/datalake_dev",
        *[f"{glue}:table/datalake_dev/{table.glue_name}" for table in PIPELINES["rentals"].tables],
    ]


def test_the_cluster_role_may_only_touch_clusters_of_its_pipeline():
    found = statements(policy_for("cluster"))
    definition = build(PIPELINES["rentals"], "cluster")
    tags = {t["Key"]: t["Value"] for t in definition["States"][emr.CREATE_CLUSTER]["Parameters"]["Tags"]}
    assert found["CreatePipelineClusters"]["Condition"] == {
        "StringEquals": {"aws:RequestTag/pipeline": tags["pipeline"]}
    }
    assert found["DrivePipelineClusters"]["Resource"] == [f"arn:aws:elasticmapreduce:{REGION}:{ACCOUNT}:cluster/*"]
    assert found["DrivePipelineClusters"]["Condition"] == {"StringEquals": {"aws:ResourceTag/pipeline": "rentals"}}
    assert found["PassClusterRoles"]["Resource"] == [
        f"arn:aws:iam::{ACCOUNT}:role/emr-service",
        f"arn:aws:iam::{ACCOUNT}:role/emr-instance",
    ]
    assert found["PassClusterRoles"]["Condition"] == {
        "StringLike": {"iam:PassedToService": ["elasticmapreduce.amazonaws.com*", "ec2.amazonaws.com*"]}
    }
    assert found["SyncEventRules"]["Resource"] == [
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/StepFunctionsGetEventForEMRRunJobFlowRule",
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/StepFunctionsGetEventForEMRAddJobFlowStepsRule",
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/StepFunctionsGetEventForEMRTerminateJobFlowsRule",
    ]


def test_the_serverless_role_may_only_run_jobs_on_its_application():
    found = statements(policy_for("serverless"))
    assert found["StartJobRuns"]["Resource"] == [APPLICATION_ARN]
    assert found["WatchJobRuns"]["Resource"] == [f"{APPLICATION_ARN}/jobruns/*"]
    assert found["PassJobRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "emr-serverless.amazonaws.com"}
    }
    assert found["SyncEventRules"]["Resource"] == [
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/StepFunctionsGetEventsForEMRServerlessJobRule"
    ]
    assert not [sid for sid in found if "Cluster" in sid]
    with pytest.raises(ValueError, match="serverless_application_arn"):
        state_machines.state_machine_policy(
            **{**POLICY_ARGS, "runtime": "serverless", "serverless_application_arn": None}
        )


POLICY_ARGS = {
    "partition": PARTITION,
    "region": REGION,
    "account_id": ACCOUNT,
    "pipeline": PIPELINES["kindle"],
    "runtime": "cluster",
    "emr_role_arns": [f"arn:aws:iam::{ACCOUNT}:role/r"],
    "serverless_application_arn": None,
    "workgroup_arn": f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/w",
    "glue_database": "db",
    "results_bucket_arn": "arn:aws:s3:::r",
    "curated_bucket_arn": "arn:aws:s3:::c",
    "kms_key_arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k",
}

# What each integration calls, from the Step Functions developer guide's IAM templates for .sync tasks.
NEEDED_ACTIONS = {
    "arn:aws:states:::elasticmapreduce:createCluster.sync": {
        "elasticmapreduce:RunJobFlow",
        "elasticmapreduce:DescribeCluster",
        "elasticmapreduce:TerminateJobFlows",
        "iam:PassRole",
        "events:PutTargets",
        "events:PutRule",
        "events:DescribeRule",
    },
    "arn:aws:states:::elasticmapreduce:addStep.sync": {
        "elasticmapreduce:AddJobFlowSteps",
        "elasticmapreduce:DescribeStep",
        "elasticmapreduce:CancelSteps",
    },
    "arn:aws:states:::elasticmapreduce:terminateCluster.sync": {
        "elasticmapreduce:TerminateJobFlows",
        "elasticmapreduce:DescribeCluster",
    },
    "arn:aws:states:::emr-serverless:startJobRun.sync": {
        "emr-serverless:StartJobRun",
        "emr-serverless:GetJobRun",
        "emr-serverless:CancelJobRun",
        "iam:PassRole",
        "events:PutTargets",
        "events:PutRule",
        "events:DescribeRule",
    },
    # "Gather Amazon S3 bucket info using AWS SDK service integrations" (Step Functions Developer Guide): the SDK
    # integration calls GetObject as the role; the object is SSE-KMS, so kms:Decrypt too (UseLakeKeyThroughS3AndAthena).
    "arn:aws:states:::aws-sdk:s3:getObject": {"s3:GetObject", "kms:Decrypt"},
    "arn:aws:states:::athena:startQueryExecution.sync": {
        "athena:StartQueryExecution",
        "athena:GetQueryExecution",
        "athena:StopQueryExecution",
        "s3:GetObject",
        "s3:PutObject",
        "glue:GetTable",
        "glue:GetDatabase",
    },
    "arn:aws:states:::aws-sdk:athena:getQueryResults": {"athena:GetQueryResults"},
}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_policy_allows_every_call_the_definition_makes(runtime):
    granted = {action for s in policy_for(runtime)["Statement"] for action in s["Action"]}
    for name, state in tasks(build(PIPELINES["rentals"], runtime)):
        missing = NEEDED_ACTIONS[state["Resource"]] - granted
        assert not missing, f"{name} ({state['Resource']}) needs {sorted(missing)}"


def test_tracing_and_log_delivery_statements_can_be_left_out():
    policy = state_machines.state_machine_policy(**POLICY_ARGS, tracing=False, log_delivery=False)
    assert not [s for s in policy["Statement"] if s["Resource"] == ["*"] and s["Sid"] != "CreatePipelineClusters"]
    assert {"XRayTracing", "CloudWatchLogsDelivery"} <= set(
        statements(state_machines.state_machine_policy(**POLICY_ARGS))
    )


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_check_query_may_write_its_results_as_athena_does(runtime):
    # Athena writes the check query's results as the state machine's role, in multipart uploads ("IAM policies for
    # calling Amazon Athena", Step Functions Developer Guide; AmazonAthenaFullAccess, BaseQueryResultsPermissions).
    granted: dict[str, set[str]] = {}
    for statement in policy_for(runtime)["Statement"]:
        for resource in statement["Resource"]:
            granted.setdefault(resource, set()).update(statement["Action"])
    assert set(ATHENA_RESULTS_BUCKET_ACTIONS) <= granted["arn:aws:s3:::athena-results-bucket"]
    assert set(ATHENA_RESULTS_OBJECT_ACTIONS) <= granted["arn:aws:s3:::athena-results-bucket/*"]
