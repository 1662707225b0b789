"""AthenaApi under mocks: workgroup, named queries, API protection, logging, the account-wide role."""

import json
import re

import pytest

from components.iam import statements
from components.iam.lambdas import QUERY_API_ACTIONS
from pipelines.queries import load_queries
from tests.infra import ROOT, run_program, stack_config

ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


@pytest.fixture(params=["dev", "prod"])
def run(request, stack_run):
    return stack_run(request.param)


def test_workgroup_is_enforced_encrypted_capped_and_on_engine_3(run):
    (workgroup,) = run.of_type("aws:athena/workgroup:Workgroup")
    config = workgroup.inputs["configuration"]
    key = run.named(f"datalake-{run.stack}-key").state["arn"]
    assert config["enforceWorkgroupConfiguration"] is True
    assert config["engineVersion"] == {"selectedEngineVersion": "Athena engine version 3"}
    assert config["resultConfiguration"] == {
        "outputLocation": f"s3://datalake-{run.stack}-athena-results-0a1b2c3/athena/",
        "encryptionConfiguration": {"encryptionOption": "SSE_KMS", "kmsKeyArn": key},
    }
    cutoff_mb = {"dev": 1024, "prod": 10240}[run.stack]
    assert config["bytesScannedCutoffPerQuery"] == cutoff_mb * 1024 * 1024
    assert config["publishCloudwatchMetricsEnabled"] is True


def test_every_query_file_is_a_named_query_and_parameterised_ones_are_prepared(run):
    queries = load_queries()
    named = {q.inputs["name"]: q.inputs for q in run.of_type("aws:athena/namedQuery:NamedQuery")}
    assert sorted(named) == sorted(queries)
    for name, query in queries.items():
        assert named[name]["query"] == query.sql
        assert named[name]["database"] == f"datalake_{run.stack}"
    prepared = {p.inputs["name"] for p in run.of_type("aws:athena/preparedStatement:PreparedStatement")}
    assert prepared == {name for name, q in queries.items() if q.parameters}


def test_every_method_requires_an_api_key_by_default(run):
    methods = run.of_type("aws:apigateway/method:Method")
    assert sorted(m.inputs["httpMethod"] for m in methods) == ["GET", "GET", "POST"]
    for method in methods:
        assert method.inputs["apiKeyRequired"] is True
        assert method.inputs["authorization"] == "NONE"
    (plan,) = run.of_type("aws:apigateway/usagePlan:UsagePlan")
    assert plan.inputs["throttleSettings"]["rateLimit"] > 0
    assert plan.inputs["quotaSettings"]["limit"] == {"dev": 500, "prod": 5000}[run.stack]
    assert len(run.of_type("aws:apigateway/usagePlanKey:UsagePlanKey")) == 1
    (key,) = run.of_type("aws:apigateway/apiKey:ApiKey")
    assert run.outputs["api_key_id"] == f"{key.name}-id"  # the mock's id: the key's id, never its value
    assert "value" not in key.inputs


def test_iam_auth_replaces_the_key_on_every_method():
    run = run_program("dev", overrides={"api": {"auth": "iam"}})
    assert run.error is None, run.error
    assert all(m.inputs["authorization"] == "AWS_IAM" for m in run.of_type("aws:apigateway/method:Method"))
    assert run.of_type("aws:apigateway/apiKey:ApiKey") == []
    assert run.outputs.get("api_key_id") is None


def test_stage_logs_traces_and_never_logs_data(run):
    (stage,) = run.of_type("aws:apigateway/stage:Stage")
    assert stage.inputs["xrayTracingEnabled"] is True
    access = stage.inputs["accessLogSettings"]
    group = next(g for g in run.of_type("aws:cloudwatch/logGroup:LogGroup") if g.inputs["name"].endswith("/access"))
    assert access["destinationArn"] == group.state["arn"]
    assert json.loads(access["format"])["requestId"] == "$context.requestId"
    (settings,) = run.of_type("aws:apigateway/methodSettings:MethodSettings")
    assert settings.inputs["methodPath"] == "*/*"
    assert settings.inputs["settings"]["loggingLevel"] == "ERROR"
    assert settings.inputs["settings"]["dataTraceEnabled"] is False


def test_no_stack_owns_the_account_wide_cloudwatch_role_by_default(run):
    """API Gateway keeps one CloudWatch role per account and region: two stacks managing it fight over it."""
    assert run.of_type("aws:apigateway/account:Account") == []
    assert not [r for r in run.of_type("aws:iam/role:Role") if "cloudwatch-role" in r.name]


def test_at_most_one_stack_file_owns_the_account_wide_cloudwatch_role():
    owners = [
        path.name
        for path in ROOT.glob("Pulumi.*.yaml")
        if stack_config(path.name.split(".")[1])["datalake:settings"].get("api", {}).get("manage_account_logging_role")
    ]
    assert len(owners) <= 1, f"{owners} all manage API Gateway's one CloudWatch role per account and region"


def test_the_owning_stack_sets_the_role_first_and_leaves_it_behind_on_destroy():
    run = run_program("prod", overrides={"api": {"manage_account_logging_role": True}})
    assert run.error is None, run.error
    (account,) = run.of_type("aws:apigateway/account:Account")
    (role,) = [r for r in run.of_type("aws:iam/role:Role") if r.name.endswith("-cloudwatch-role")]
    (attachment,) = [r for r in run.of_type(ATTACHMENT) if r.name.endswith("-cloudwatch-role-policy")]
    assert account.inputs["cloudwatchRoleArn"] == role.state["arn"]
    assert attachment.inputs["policyArn"].endswith(":policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs")
    # Other stacks' stages log through this role: destroying the owner must not delete it.
    assert (account.retain_on_delete, role.retain_on_delete, attachment.retain_on_delete) == (True, True, True)
    # A stage with logging is refused until the account has the role.
    (stage,) = run.of_type("aws:apigateway/stage:Stage")
    assert account.urn in stage.dependencies


def test_the_query_role_may_call_exactly_what_the_handler_calls(run):
    called = set(re.findall(r"athena\(\)\.([a-z_]+)\(", (ROOT / "functions" / "query_api.py").read_text()))
    assert {"athena:" + "".join(w.title() for w in name.split("_")) for name in called} == set(QUERY_API_ACTIONS)
    policy = json.loads(run.named(f"datalake-{run.stack}-athena-handler-policy").inputs["policy"])
    (statement,) = [s for s in policy["Statement"] if s["Sid"] == "RunQueriesInThisWorkgroup"]
    assert statement["Action"] == sorted(QUERY_API_ACTIONS)
    assert statement["Resource"] == [run.named(f"datalake-{run.stack}-analytics-workgroup").state["arn"]]


def test_deployment_is_redeployed_when_the_api_changes(run):
    (deployment,) = run.of_type("aws:apigateway/deployment:Deployment")
    trigger = deployment.inputs["triggers"]["redeployment"]
    assert len(trigger) == 64
    other = run_program(run.stack, overrides={"api": {"auth": "iam"}})
    assert other.of_type("aws:apigateway/deployment:Deployment")[0].inputs["triggers"]["redeployment"] != trigger


def test_api_outputs(run):
    assert run.outputs["api_url"]
    assert run.outputs["athena_workgroup"] == f"datalake-{run.stack}"
    assert run.outputs["api_auth"] == "api_key"


def _grants(policy: dict) -> dict[str, set[str]]:
    """Resource -> the actions the policy allows on it (unconditioned or not)."""
    granted: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        for resource in statement["Resource"]:
            granted.setdefault(resource, set()).update(statement["Action"])
    return granted


def test_the_query_role_may_write_results_as_athena_does(run):
    # Athena writes a query's results with the caller's credentials, in multipart uploads: without the multipart
    # actions a query with larger results fails ("AWS managed policies for Amazon Athena": AmazonAthenaFullAccess,
    # BaseQueryResultsPermissions).
    policy = json.loads(run.named(f"datalake-{run.stack}-athena-handler-policy").inputs["policy"])
    results = run.named(f"datalake-{run.stack}-athena-results").state["arn"]
    granted = _grants(policy)
    assert set(statements.ATHENA_RESULTS_BUCKET_ACTIONS) <= granted[results]
    assert set(statements.ATHENA_RESULTS_OBJECT_ACTIONS) <= granted[statements.objects(results, "athena/")]
