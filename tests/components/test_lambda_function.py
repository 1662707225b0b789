"""PythonFunction under mocks, over every function of both stacks: traced, logged with retention, shipped from the
scripts bucket, guarded against recursion; each one S3 invokes keeps what still fails in an encrypted queue."""

import json

import pytest

from tests.infra import run_program

FUNCTION = "aws:lambda/function:Function"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
QUEUE = "aws:sqs/queue:Queue"


@pytest.fixture(params=["dev", "prod"])
def run(request, stack_run):
    return stack_run(request.param)


def test_every_lambda_is_traced_logged_with_retention_and_shipped_from_scripts(run):
    retention = {"dev": 30, "prod": 365}[run.stack]
    for function in run.of_type(FUNCTION):
        inputs = function.inputs
        assert inputs["tracingConfig"] == {"mode": "Active"}
        assert inputs["s3Bucket"] == f"datalake-{run.stack}-scripts-0a1b2c3"
        group = next(
            g
            for g in run.of_type("aws:cloudwatch/logGroup:LogGroup")
            if g.inputs["name"] == f"/aws/lambda/{inputs['name']}"
        )
        assert group.inputs["retentionInDays"] == retention
        assert inputs["loggingConfig"]["logGroup"] == group.inputs["name"]
    guards = {
        g.inputs["functionName"]: g.inputs["recursiveLoop"]
        for g in run.of_type("aws:lambda/functionRecursionConfig:FunctionRecursionConfig")
    }
    assert set(guards.values()) == {"Terminate"}
    assert len(guards) == len(run.of_type(FUNCTION))


def test_every_function_s3_invokes_sends_what_still_fails_to_its_own_queue(run):
    """S3 invokes asynchronously: after Lambda's retries an event is dropped unless a destination keeps it
    ("Capturing records of Lambda asynchronous invocations"). The destination must be a standard queue (no FIFO),
    and the execution role must be allowed sqs:SendMessage on it, or delivery fails."""
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
