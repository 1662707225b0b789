"""The Lambda functions' roles: their own logs and queue; and per handler, exactly what it calls where it calls it."""

import re

from components.iam import lambdas
from components.iam.statements import ATHENA_RESULTS_BUCKET_ACTIONS, ATHENA_RESULTS_OBJECT_ACTIONS
from tests.components.iam.documents import by_sid, grants
from tests.infra import ROOT

KEY = "arn:aws:kms:eu-west-1:123456789012:key/k"


def test_every_function_writes_its_own_logs_and_sends_failures_only_where_it_has_a_queue():
    group = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/f"
    without = by_sid(lambdas.base_policy(group, KEY, None))
    assert without["WriteOwnLogs"]["Resource"] == [f"{group}:*"]
    assert without["DecryptEnvironment"] == {
        "Sid": "DecryptEnvironment",
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": [KEY],
    }
    assert "SendFailures" not in without
    queue = "arn:aws:sqs:eu-west-1:123456789012:f-failures"
    assert by_sid(lambdas.base_policy(group, KEY, queue))["SendFailures"]["Resource"] == [queue]


def test_the_glue_starter_fires_only_its_trigger():
    found = by_sid(lambdas.glue_starter_policy("arn:job", "arn:trigger"))
    assert (found["FireItsTrigger"]["Action"], found["FireItsTrigger"]["Resource"]) == (
        ["glue:StartTrigger"],
        ["arn:trigger"],
    )
    assert found["SeeQueuedRuns"]["Resource"] == ["arn:job"]


def test_the_ingest_reads_its_landing_prefix_and_writes_only_its_staging_and_quarantine():
    policy = lambdas.orders_ingest_policy(
        raw_arn="arn:aws:s3:::raw",
        curated_arn="arn:aws:s3:::curated",
        key_arn=KEY,
        watch_prefix="orders/incoming/",
        quarantine_prefix="orders/quarantine/",
        staging_prefix="staging/orders/ingested_items/",
    )
    # The staged Parquet is one PutObject (never multipart); no Glue action: the merge step commits the table.
    assert grants(policy) == {
        "arn:aws:s3:::raw/orders/incoming/*": {"s3:GetObject", "s3:GetObjectVersion"},
        "arn:aws:s3:::raw/orders/quarantine/*": {"s3:PutObject", "s3:AbortMultipartUpload"},
        "arn:aws:s3:::curated/staging/orders/ingested_items/*": {"s3:PutObject"},
        KEY: {"kms:Decrypt", "kms:GenerateDataKey"},
    }


def query_api_policy() -> dict:
    return lambdas.query_api_policy(
        partition="aws",
        region="eu-west-1",
        account_id="123456789012",
        workgroup_arn="arn:aws:athena:eu-west-1:123456789012:workgroup/w",
        database="db",
        tables=["t"],
        results_arn="arn:aws:s3:::results",
        curated_arn="arn:aws:s3:::curated",
        key_arn=KEY,
    )


def test_the_query_api_may_call_exactly_what_the_handler_calls_in_its_workgroup():
    called = set(re.findall(r"athena\(\)\.([a-z_]+)\(", (ROOT / "functions" / "query_api.py").read_text()))
    assert {"athena:" + "".join(w.title() for w in name.split("_")) for name in called} == set(
        lambdas.QUERY_API_ACTIONS
    )
    statement = by_sid(query_api_policy())["RunQueriesInThisWorkgroup"]
    assert statement["Action"] == sorted(lambdas.QUERY_API_ACTIONS)
    assert statement["Resource"] == ["arn:aws:athena:eu-west-1:123456789012:workgroup/w"]


def test_the_query_api_may_write_results_as_athena_does():
    # Athena writes a query's results with the caller's credentials, in multipart uploads ("AWS managed policies for
    # Amazon Athena": AmazonAthenaFullAccess, BaseQueryResultsPermissions).
    found = grants(query_api_policy())
    assert set(ATHENA_RESULTS_BUCKET_ACTIONS) <= found["arn:aws:s3:::results"]
    assert set(ATHENA_RESULTS_OBJECT_ACTIONS) <= found["arn:aws:s3:::results/athena/*"]
    assert by_sid(query_api_policy())["ListResults"]["Condition"] == {"StringLike": {"s3:prefix": ["athena/*"]}}
