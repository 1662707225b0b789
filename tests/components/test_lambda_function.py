"""PythonFunction alone, with Args built here: traced, logged with retention and the lake key, shipped from the
scripts bucket, guarded against recursion, its role limited to its own logs; with async_invoke, what still fails
after the retries lands in an encrypted queue. Then over every function of both stacks."""

import json

import pytest

from components.lambda_function import AsyncInvoke, PythonFunction, PythonFunctionArgs
from tests.infra import LAKE_BUCKETS, LAKE_KEY, run_component, run_program

FUNCTION = "aws:lambda/function:Function"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
QUEUE = "aws:sqs/queue:Queue"
POLICY = json.dumps({"Version": "2012-10-17", "Statement": []})


def function_args(**overrides) -> PythonFunctionArgs:
    values = {
        "module": "start_glue_job",
        "function_name": "datalake-test-start",
        "description": "Starts something",
        "scripts_bucket": LAKE_BUCKETS["scripts"],
        "key_arn": LAKE_KEY,
        "log_retention_days": 30,
        "policy": POLICY,
    }
    return PythonFunctionArgs(**{**values, **overrides})


def function(**overrides):
    run = run_component(lambda: PythonFunction("fn", function_args(**overrides)))
    assert run.error is None, run.error
    return run


@pytest.fixture(scope="module")
def plain():
    return function(environment={"JOB_NAME": "j"}, memory_mb=512, timeout_seconds=60, layers=["arn:layer:1"])


@pytest.fixture(scope="module")
def invoked_async():
    return function(async_invoke=AsyncInvoke(max_retries=1, max_event_age_seconds=3600), reserved_concurrency=2)


def test_the_function_is_traced_logged_and_shipped_from_the_scripts_bucket(plain):
    (fn,) = plain.of_type(FUNCTION)
    inputs = fn.inputs
    assert (inputs["runtime"], inputs["handler"]) == ("python3.12", "functions.start_glue_job.handler")
    assert inputs["tracingConfig"] == {"mode": "Active"}
    assert inputs["kmsKeyArn"] == LAKE_KEY
    assert (inputs["memorySize"], inputs["timeout"], inputs["layers"]) == (512, 60, ["arn:layer:1"])
    assert inputs["environment"] == {"variables": {"JOB_NAME": "j"}}
    (code,) = plain.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
    assert (inputs["s3Bucket"], inputs["s3Key"]) == (LAKE_BUCKETS["scripts"], code.inputs["key"])
    assert code.inputs["key"].startswith("functions/start_glue_job-")
    (group,) = plain.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs == {"name": "/aws/lambda/datalake-test-start", "retentionInDays": 30, "kmsKeyId": LAKE_KEY}
    assert inputs["loggingConfig"] == {"logFormat": "JSON", "logGroup": "/aws/lambda/datalake-test-start"}
    (guard,) = plain.of_type("aws:lambda/functionRecursionConfig:FunctionRecursionConfig")
    assert guard.inputs == {"functionName": "datalake-test-start", "recursiveLoop": "Terminate"}
    assert "reservedConcurrentExecutions" not in inputs


def test_the_role_carries_its_permissions_before_the_first_invocation(plain):
    (fn,) = plain.of_type(FUNCTION)
    policies = {p.name: p for p in plain.of_type("aws:iam/rolePolicy:RolePolicy")}
    assert set(policies) == {"fn-policy", "fn-base-policy"}
    assert policies["fn-policy"].inputs["policy"] == POLICY
    (xray,) = plain.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert xray.inputs["policyArn"] == "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"
    assert {p.urn for p in policies.values()} | {xray.urn} <= set(fn.dependencies)
    base = {s["Sid"] for s in json.loads(policies["fn-base-policy"].inputs["policy"])["Statement"]}
    assert base == {"WriteOwnLogs", "DecryptEnvironment"}
    assert plain.of_type(QUEUE) == []
    assert plain.of_type(INVOKE_CONFIG) == []


def test_what_still_fails_after_the_retries_goes_to_its_own_encrypted_queue(invoked_async):
    """S3 invokes asynchronously: after Lambda's retries an event is dropped unless a destination keeps it
    ("Capturing records of Lambda asynchronous invocations"). The destination must be a standard queue (no FIFO),
    and the execution role must be allowed sqs:SendMessage on it, or delivery fails."""
    (queue,) = invoked_async.of_type(QUEUE)
    assert queue.inputs == {
        "name": "datalake-test-start-failures",
        "messageRetentionSeconds": 14 * 24 * 3600,
        "sqsManagedSseEnabled": True,
    }
    (config,) = invoked_async.of_type(INVOKE_CONFIG)
    assert config.inputs["destinationConfig"]["onFailure"]["destination"] == queue.state["arn"]
    assert (config.inputs["maximumRetryAttempts"], config.inputs["maximumEventAgeInSeconds"]) == (1, 3600)
    base = invoked_async.named("fn-base-policy")
    (send,) = [s for s in json.loads(base.inputs["policy"])["Statement"] if s["Sid"] == "SendFailures"]
    assert (send["Action"], send["Resource"]) == (["sqs:SendMessage"], [queue.state["arn"]])
    (fn,) = invoked_async.of_type(FUNCTION)
    assert fn.inputs["reservedConcurrentExecutions"] == 2


def test_lambdas_own_defaults_for_asynchronous_invocation():
    # "Configuring error handling for asynchronous invocation": 2 retries, events up to 6 hours old.
    assert AsyncInvoke() == AsyncInvoke(max_retries=2, max_event_age_seconds=21600)


# In the stacks ------------------------------------------------------------------------------------------------------


@pytest.fixture(params=["dev", "prod"])
def run(request, stack_run):
    return stack_run(request.param)


def test_every_lambda_of_the_stacks_is_traced_logged_and_guarded(run):
    retention = {"dev": 30, "prod": 365}[run.stack]
    groups = {g.inputs["name"]: g for g in run.of_type("aws:cloudwatch/logGroup:LogGroup")}
    for function in run.of_type(FUNCTION):
        inputs = function.inputs
        assert inputs["tracingConfig"] == {"mode": "Active"}
        assert inputs["s3Bucket"] == f"datalake-{run.stack}-scripts-0a1b2c3"
        assert groups[f"/aws/lambda/{inputs['name']}"].inputs["retentionInDays"] == retention
    guards = run.of_type("aws:lambda/functionRecursionConfig:FunctionRecursionConfig")
    assert len(guards) == len(run.of_type(FUNCTION))


def test_every_function_s3_invokes_sends_what_still_fails_to_its_own_queue(run):
    invoked_by_s3 = {
        p.inputs["function"]
        for p in run.of_type("aws:lambda/permission:Permission")
        if p.inputs["principal"] == "s3.amazonaws.com"
    }
    assert invoked_by_s3, "the raw bucket's notification invokes at least the ingest function"
    configs = {c.inputs["functionName"]: c.inputs for c in run.of_type(INVOKE_CONFIG)}
    queues = {q.state["arn"]: q.inputs for q in run.of_type(QUEUE)}
    for function in (f for f in run.of_type(FUNCTION) if f.inputs["name"] in invoked_by_s3):
        destination = configs[function.inputs["name"]]["destinationConfig"]["onFailure"]["destination"]
        queue = queues[destination]
        assert not queue.get("fifoQueue")
        assert not destination.endswith(".fifo")
        assert queue["sqsManagedSseEnabled"] is True
        assert queue["messageRetentionSeconds"] == 14 * 24 * 3600
        base = run.named(function.name.removesuffix("-function") + "-base-policy")
        (send,) = [s for s in json.loads(base.inputs["policy"])["Statement"] if s["Sid"] == "SendFailures"]
        assert (send["Action"], send["Resource"]) == (["sqs:SendMessage"], [destination])


def test_no_function_reserves_concurrency_unless_its_stack_says_so(run):
    """A reservation that cuts into the 100 unreserved executions AWS keeps is refused ("Lambda quotas")."""
    reserved = {
        f.inputs["name"]: f.inputs["reservedConcurrentExecutions"]
        for f in run.of_type(FUNCTION)
        if f.inputs.get("reservedConcurrentExecutions") is not None
    }
    assert reserved == {"dev": {}, "prod": {"datalake-prod-orders-ingest": 10}}[run.stack]


def test_reservations_come_from_settings():
    run = run_program(
        "dev", overrides={"ingest": {"reserved_concurrency": 3}, "glue": {"starter_reserved_concurrency": 1}}
    )
    assert run.error is None, run.error
    reserved = {f.inputs["name"]: f.inputs.get("reservedConcurrentExecutions") for f in run.of_type(FUNCTION)}
    assert reserved["datalake-dev-orders-ingest"] == 3
    assert reserved["datalake-dev-start-orders"] == 1


def test_names_fit_lambda_and_sqs_limits_in_the_longest_environment():
    """Function names stop at 64 characters ("Lambda quotas"), queue names at 80 ("Amazon SQS queue quotas")."""
    run = run_program("dev", overrides={"environment": "staging", "glue": {"etl_job": "sparkify"}})
    assert run.error is None, run.error
    assert max(len(f.inputs["name"]) for f in run.of_type(FUNCTION)) <= 64
    assert max(len(q.inputs["name"]) for q in run.of_type(QUEUE)) <= 80
    assert all(q.inputs["name"].replace("-", "").isalnum() for q in run.of_type(QUEUE))
