"""OrdersIngest under mocks: its prefixes come from pipelines/orders.py, its role reaches only them, and what
still fails after the retries lands in its encrypted failure queue."""

import json

import pytest

from pipelines import orders

FUNCTION = "aws:lambda/function:Function"


@pytest.fixture(params=["dev", "prod"])
def run(request, stack_run):
    return stack_run(request.param)


def test_ingest_function_settings_and_failure_destination(run):
    function = next(
        f for f in run.of_type(FUNCTION) if f.inputs["name"] == f"datalake-{run.stack}-orders-ingest"
    ).inputs
    assert function["environment"]["variables"] == {
        "CURATED_BUCKET": f"datalake-{run.stack}-curated-0a1b2c3",
        "CURATED_PREFIX": orders.INGESTED_ITEMS.location.prefix,
        "QUARANTINE_PREFIX": orders.INGEST_QUARANTINE.prefix,
        "WATCHED_PREFIX": orders.INGEST_LANDING.prefix,
        "CRAWLER_NAME": f"datalake-{run.stack}-orders",
    }
    assert function["memorySize"] == 2048
    assert function["timeout"] == 300
    assert function["layers"][0].startswith("arn:aws:lambda:eu-west-1:336392948345:layer:AWSSDKPandas-Python312:")
    (config,) = [
        c
        for c in run.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
        if c.inputs["functionName"] == function["name"]
    ]
    queue = run.named(f"datalake-{run.stack}-ingest-handler-failures")
    assert queue.inputs["name"] == f"datalake-{run.stack}-orders-ingest-failures"
    assert config.inputs["destinationConfig"]["onFailure"]["destination"] == queue.state["arn"]
    assert config.inputs["maximumRetryAttempts"] == 2
    assert config.inputs["maximumEventAgeInSeconds"] == 3600
    assert run.outputs["ingest_dead_letter_queue"] == queue.state["url"]


def test_ingest_role_reads_only_the_watched_prefix(run):
    policy = json.loads(run.named(f"datalake-{run.stack}-ingest-handler-policy").inputs["policy"])
    raw = run.named(f"datalake-{run.stack}-raw").state["arn"]
    curated = run.named(f"datalake-{run.stack}-curated").state["arn"]
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["ReadWatchedFiles"]["Resource"] == [f"{raw}/orders/incoming/*"]
    assert by_sid["QuarantineBadFiles"]["Resource"] == [f"{raw}/orders/quarantine/*"]
    assert by_sid["WriteParquet"]["Resource"] == [f"{curated}/orders/ingested_items/*"]
