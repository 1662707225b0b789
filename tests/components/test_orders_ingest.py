"""OrdersIngest alone, with Args built here: the handler's environment names its prefixes, its role reaches only
them, and what still fails after the retries lands in its failure queue; then in the stacks: the prefixes come from
pipelines/orders.py and the settings size the function."""

import json

import pytest

from components.orders_ingest import OrdersIngest, OrdersIngestArgs
from pipelines import orders
from tests.infra import LAKE_ARNS, LAKE_BUCKETS, LAKE_KEY, run_component

FUNCTION = "aws:lambda/function:Function"


def ingest_args(**overrides) -> OrdersIngestArgs:
    values = {
        "function_name": "datalake-test-orders-ingest",
        "raw_bucket": LAKE_BUCKETS["raw"],
        "raw_bucket_arn": LAKE_ARNS["raw"],
        "curated_bucket": LAKE_BUCKETS["curated"],
        "curated_bucket_arn": LAKE_ARNS["curated"],
        "scripts_bucket": LAKE_BUCKETS["scripts"],
        "key_arn": LAKE_KEY,
        "watch_prefix": "in/",
        "staging_prefix": "out/",
        "quarantine_prefix": "bad/",
        "pandas_layer_arn": "arn:aws:lambda:eu-west-1:336392948345:layer:AWSSDKPandas-Python312:16",
        "log_retention_days": 30,
        "memory_mb": 1024,
        "timeout_seconds": 120,
        "reserved_concurrency": None,
        "max_retries": 1,
        "max_event_age_seconds": 600,
    }
    return OrdersIngestArgs(**{**values, **overrides})


@pytest.fixture(scope="module")
def run():
    run = run_component(lambda: OrdersIngest("ingest", ingest_args()))
    assert run.error is None, run.error
    return run


def test_the_handler_is_told_its_prefixes_and_its_bucket_and_nothing_of_a_crawler(run):
    (function,) = run.of_type(FUNCTION)
    assert function.inputs["environment"]["variables"] == {
        "CURATED_BUCKET": LAKE_BUCKETS["curated"],
        "STAGING_PREFIX": "out/",
        "QUARANTINE_PREFIX": "bad/",
        "WATCHED_PREFIX": "in/",
    }
    assert (function.inputs["memorySize"], function.inputs["timeout"]) == (1024, 120)
    assert function.inputs["layers"] == ["arn:aws:lambda:eu-west-1:336392948345:layer:AWSSDKPandas-Python312:16"]
    assert function.inputs["handler"] == "functions.orders_ingest.handler"


def test_the_role_reads_only_the_watched_prefix_and_writes_only_its_outputs(run):
    policy = json.loads(run.named("ingest-handler-policy").inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["ReadWatchedFiles"]["Resource"] == [f"{LAKE_ARNS['raw']}/in/*"]
    assert by_sid["QuarantineBadFiles"]["Resource"] == [f"{LAKE_ARNS['raw']}/bad/*"]
    assert by_sid["StageParquet"] == {
        "Sid": "StageParquet",
        "Effect": "Allow",
        "Action": ["s3:PutObject"],
        "Resource": [f"{LAKE_ARNS['curated']}/out/*"],
    }
    # Objects under SSE-KMS: GenerateDataKey to write, Decrypt to read (S3 User Guide, SSE-KMS), nothing more.
    assert by_sid["UseLakeKey"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    # The merge step commits the table: the function touches no catalog and starts no crawler.
    actions = [a for s in policy["Statement"] for a in s["Action"]]
    assert not [a for a in actions if not a.startswith(("s3:", "kms:", "logs:", "sqs:"))], actions


def test_what_still_fails_after_the_retries_lands_in_its_queue(run):
    (config,) = run.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    queue = run.named("ingest-handler-failures")
    assert queue.inputs["name"] == "datalake-test-orders-ingest-failures"
    assert config.inputs["destinationConfig"]["onFailure"]["destination"] == queue.state["arn"]
    assert (config.inputs["maximumRetryAttempts"], config.inputs["maximumEventAgeInSeconds"]) == (1, 600)
    assert run.resolve(run.component.dead_letters.url) == queue.state["url"]


# In the stacks ------------------------------------------------------------------------------------------------------


@pytest.fixture(params=["dev", "prod"])
def stack(request, stack_run):
    return stack_run(request.param)


def test_the_stacks_ingest_under_the_declared_prefixes(stack):
    function = next(
        f for f in stack.of_type(FUNCTION) if f.inputs["name"] == f"datalake-{stack.stack}-orders-ingest"
    ).inputs
    assert function["environment"]["variables"] == {
        "CURATED_BUCKET": f"datalake-{stack.stack}-curated-0a1b2c3",
        "STAGING_PREFIX": orders.INGEST_STAGING.prefix,
        "QUARANTINE_PREFIX": orders.INGEST_QUARANTINE.prefix,
        "WATCHED_PREFIX": orders.INGEST_LANDING.prefix,
    }
    assert function["memorySize"] == 2048
    assert function["timeout"] == 300
    assert function["layers"][0].startswith("arn:aws:lambda:eu-west-1:336392948345:layer:AWSSDKPandas-Python312:")
    (config,) = [
        c
        for c in stack.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
        if c.inputs["functionName"] == function["name"]
    ]
    assert config.inputs["maximumRetryAttempts"] == 2
    assert config.inputs["maximumEventAgeInSeconds"] == 3600
    queue = stack.named(f"datalake-{stack.stack}-ingest-handler-failures")
    assert stack.outputs["ingest_dead_letter_queue"] == queue.state["url"]
    policy = json.loads(stack.named(f"datalake-{stack.stack}-ingest-handler-policy").inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    raw = stack.named(f"datalake-{stack.stack}-raw").state["arn"]
    curated = stack.named(f"datalake-{stack.stack}-curated").state["arn"]
    assert by_sid["ReadWatchedFiles"]["Resource"] == [f"{raw}/orders/incoming/*"]
    assert by_sid["QuarantineBadFiles"]["Resource"] == [f"{raw}/orders/quarantine/*"]
    assert by_sid["StageParquet"]["Resource"] == [f"{curated}/{orders.INGEST_STAGING.prefix}*"]
    # Staged outside the table, where its orphan-file optimizer never deletes what the merge has not taken yet.
    assert not orders.INGEST_STAGING.prefix.startswith(orders.INGESTED_ITEMS.location.prefix)
