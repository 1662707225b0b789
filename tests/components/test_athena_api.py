"""AthenaApi alone, with Args built here: every route protected by an API key or IAM, a stage that logs and traces
but never logs data, the query Lambda limited to the workgroup it is given, the account-wide CloudWatch role only
when asked; then in the stacks: the settings reach it, and at most one stack owns the account-wide role."""

import json
import re

import pytest

from components.athena_api import AthenaApi, AthenaApiArgs
from components.iam import statements
from components.iam.lambdas import QUERY_API_ACTIONS
from tests.components.iam.documents import grants
from tests.infra import LAKE_ARNS, LAKE_BUCKETS, LAKE_KEY, ROOT, run_component, run_program, stack_config

ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
METHOD = "aws:apigateway/method:Method"
WORKGROUP_ARN = "arn:aws:athena:eu-west-1:123456789012:workgroup/datalake-test"


def api_args(**overrides) -> AthenaApiArgs:
    values = {
        "project": "datalake",
        "environment": "test",
        "database": "datalake_test",
        "workgroup": "datalake-test",
        "workgroup_arn": WORKGROUP_ARN,
        "results_bucket_arn": LAKE_ARNS["athena-results"],
        "curated_bucket_arn": LAKE_ARNS["curated"],
        "scripts_bucket": LAKE_BUCKETS["scripts"],
        "key_arn": LAKE_KEY,
        "log_retention_days": 30,
        "auth": "api_key",
        "throttle_rate_limit": 5.0,
        "throttle_burst_limit": 10,
        "quota_limit": 500,
        "quota_period": "DAY",
        "manage_account_logging_role": False,
    }
    return AthenaApiArgs(**{**values, **overrides})


def api(**overrides):
    run = run_component(lambda: AthenaApi("athena", api_args(**overrides)))
    assert run.error is None, run.error
    return run


@pytest.fixture(scope="module")
def run():
    return api()


@pytest.fixture(scope="module")
def iam_run():
    return api(auth="iam")


def test_every_method_requires_an_api_key_by_default(run):
    methods = run.of_type(METHOD)
    assert sorted((m.inputs["httpMethod"], m.inputs["resourceId"]) for m in methods) == [
        ("GET", "athena-resource-executions-id-id"),
        ("GET", "athena-resource-queries-id"),
        ("POST", "athena-resource-queries-name-id"),
    ]
    for method in methods:
        assert method.inputs["apiKeyRequired"] is True
        assert method.inputs["authorization"] == "NONE"
    (plan,) = run.of_type("aws:apigateway/usagePlan:UsagePlan")
    assert plan.inputs["throttleSettings"] == {"rateLimit": 5.0, "burstLimit": 10}
    assert plan.inputs["quotaSettings"] == {"limit": 500, "period": "DAY"}
    assert len(run.of_type("aws:apigateway/usagePlanKey:UsagePlanKey")) == 1
    (key,) = run.of_type("aws:apigateway/apiKey:ApiKey")
    assert run.resolve(run.component.api_key_id) == f"{key.name}-id"  # the mock's id: the key's id, never its value
    assert "value" not in key.inputs


def test_iam_auth_replaces_the_key_on_every_method(iam_run):
    assert all(m.inputs["authorization"] == "AWS_IAM" for m in iam_run.of_type(METHOD))
    assert all(m.inputs["apiKeyRequired"] is False for m in iam_run.of_type(METHOD))
    assert iam_run.of_type("aws:apigateway/apiKey:ApiKey") == []
    assert iam_run.of_type("aws:apigateway/usagePlan:UsagePlan") == []
    assert iam_run.component.api_key_id is None


def test_only_the_stage_may_invoke_the_function_through_a_proxy_integration(run):
    (permission,) = run.of_type("aws:lambda/permission:Permission")
    assert permission.inputs["principal"] == "apigateway.amazonaws.com"
    assert permission.inputs["sourceArn"] == "arn:aws:execute-api:eu-west-1:123456789012:athena-api-id/v1/*/*"
    for integration in run.of_type("aws:apigateway/integration:Integration"):
        assert (integration.inputs["type"], integration.inputs["integrationHttpMethod"]) == ("AWS_PROXY", "POST")
        assert integration.inputs["uri"].endswith(":function:datalake-test-query-api/invocations")


def test_stage_logs_traces_and_never_logs_data(run):
    (stage,) = run.of_type("aws:apigateway/stage:Stage")
    assert (stage.inputs["stageName"], stage.inputs["xrayTracingEnabled"]) == ("v1", True)
    access = stage.inputs["accessLogSettings"]
    group = next(g for g in run.of_type("aws:cloudwatch/logGroup:LogGroup") if g.inputs["name"].endswith("/access"))
    assert access["destinationArn"] == group.state["arn"]
    assert json.loads(access["format"])["requestId"] == "$context.requestId"
    (settings,) = run.of_type("aws:apigateway/methodSettings:MethodSettings")
    assert settings.inputs["methodPath"] == "*/*"
    assert settings.inputs["settings"]["loggingLevel"] == "ERROR"
    assert settings.inputs["settings"]["dataTraceEnabled"] is False
    assert (
        settings.inputs["settings"]["throttlingRateLimit"],
        settings.inputs["settings"]["throttlingBurstLimit"],
    ) == (
        5.0,
        10,
    )
    # API Gateway writes execution logs to a group it names itself: made first, for its retention.
    execution = next(g for g in run.of_type("aws:cloudwatch/logGroup:LogGroup") if "Execution-Logs" in g.inputs["name"])
    assert execution.inputs == {
        "name": "API-Gateway-Execution-Logs_athena-api-id/v1",
        "retentionInDays": 30,
        "kmsKeyId": LAKE_KEY,
    }


def test_no_account_wide_cloudwatch_role_unless_asked(run):
    """API Gateway keeps one CloudWatch role per account and region: two stacks managing it fight over it."""
    assert run.of_type("aws:apigateway/account:Account") == []
    assert not [r for r in run.of_type("aws:iam/role:Role") if "cloudwatch-role" in r.name]


def test_the_owner_sets_the_role_first_and_leaves_it_behind_on_destroy():
    run = api(manage_account_logging_role=True)
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


def test_the_query_function_runs_in_the_given_workgroup_only(run):
    (function,) = run.of_type("aws:lambda/function:Function")
    assert function.inputs["environment"]["variables"] == {"WORKGROUP": "datalake-test", "DATABASE": "datalake_test"}
    assert (function.inputs["timeout"], function.inputs["memorySize"]) == (29, 512)  # API Gateway waits 29 s
    called = set(re.findall(r"athena\(\)\.([a-z_]+)\(", (ROOT / "functions" / "query_api.py").read_text()))
    assert {"athena:" + "".join(w.title() for w in name.split("_")) for name in called} == set(QUERY_API_ACTIONS)
    policy = json.loads(run.named("athena-handler-policy").inputs["policy"])
    (statement,) = [s for s in policy["Statement"] if s["Sid"] == "RunQueriesInThisWorkgroup"]
    assert statement["Action"] == sorted(QUERY_API_ACTIONS)
    assert statement["Resource"] == [WORKGROUP_ARN]


def test_the_query_role_may_write_results_as_athena_does(run):
    # Athena writes a query's results with the caller's credentials, in multipart uploads: without the multipart
    # actions a query with larger results fails ("AWS managed policies for Amazon Athena": AmazonAthenaFullAccess,
    # BaseQueryResultsPermissions).
    granted = grants(json.loads(run.named("athena-handler-policy").inputs["policy"]))
    results = LAKE_ARNS["athena-results"]
    assert set(statements.ATHENA_RESULTS_BUCKET_ACTIONS) <= granted[results]
    assert set(statements.ATHENA_RESULTS_OBJECT_ACTIONS) <= granted[statements.objects(results, "athena/")]


def test_deployment_is_redeployed_when_the_api_changes(run, iam_run):
    (deployment,) = run.of_type("aws:apigateway/deployment:Deployment")
    trigger = deployment.inputs["triggers"]["redeployment"]
    assert len(trigger) == 64
    assert iam_run.of_type("aws:apigateway/deployment:Deployment")[0].inputs["triggers"]["redeployment"] != trigger
    # Every route is in place before a deployment snapshots the API.
    routes = {r.urn for r in (*run.of_type(METHOD), *run.of_type("aws:apigateway/integration:Integration"))}
    assert routes <= set(deployment.dependencies)


# In the stacks ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("stack", "quota"), [("dev", 500), ("prod", 5000)])
def test_the_stack_settings_reach_the_api(stack_run, stack, quota):
    run = stack_run(stack)
    (plan,) = run.of_type("aws:apigateway/usagePlan:UsagePlan")
    assert plan.inputs["quotaSettings"]["limit"] == quota
    assert run.outputs["api_url"]
    assert run.outputs["api_auth"] == "api_key"
    (key,) = run.of_type("aws:apigateway/apiKey:ApiKey")
    assert run.outputs["api_key_id"] == f"{key.name}-id"
    # The query Lambda runs in the stack's workgroup.
    (workgroup,) = run.of_type("aws:athena/workgroup:Workgroup")
    policy = json.loads(run.named(f"datalake-{stack}-athena-handler-policy").inputs["policy"])
    (statement,) = [s for s in policy["Statement"] if s["Sid"] == "RunQueriesInThisWorkgroup"]
    assert statement["Resource"] == [workgroup.state["arn"]]
    assert run.of_type("aws:apigateway/account:Account") == []


def test_iam_auth_from_the_settings_leaves_no_key_output():
    run = run_program("dev", overrides={"api": {"auth": "iam"}})
    assert run.error is None, run.error
    assert run.outputs.get("api_key_id") is None
    assert run.outputs["api_auth"] == "iam"


def test_at_most_one_stack_file_owns_the_account_wide_cloudwatch_role():
    owners = [
        path.name
        for path in ROOT.glob("Pulumi.*.yaml")
        if stack_config(path.name.split(".")[1])["datalake:settings"].get("api", {}).get("manage_account_logging_role")
    ]
    assert len(owners) <= 1, f"{owners} all manage API Gateway's one CloudWatch role per account and region"
