"""RawEvents alone, with Args built here: the raw bucket's one notification configuration, one filter per target,
each invoke permission scoped to the bucket and its account and in place before S3 saves the configuration; then in
the stacks: one prefix per road, and none where the EMR road lands or quarantine copies go."""

import pytest

from components.raw_events import RawEvents, RawEventsArgs, RawEventTarget
from pipelines import orders, raw_roads
from tests.infra import ACCOUNT_ID, LAKE_ARNS, LAKE_BUCKETS, run_component

TARGETS = (
    RawEventTarget("ingest", "arn:aws:lambda:eu-west-1:123456789012:function:ingest", "ingest", "in/", ".json"),
    RawEventTarget("starter", "arn:aws:lambda:eu-west-1:123456789012:function:start", "start", "glue/"),
)


@pytest.fixture(scope="module")
def run():
    args = RawEventsArgs(
        bucket=LAKE_BUCKETS["raw"], bucket_arn=LAKE_ARNS["raw"], account_id=ACCOUNT_ID, targets=TARGETS
    )
    run = run_component(lambda: RawEvents("raw-events", args))
    assert run.error is None, run.error
    return run


def test_one_notification_with_a_filter_per_target(run):
    (notification,) = run.of_type("aws:s3/bucketNotification:BucketNotification")
    assert notification.inputs["bucket"] == LAKE_BUCKETS["raw"]
    assert notification.inputs["lambdaFunctions"] == [
        {
            "id": "ingest",
            "lambdaFunctionArn": TARGETS[0].function_arn,
            "events": ["s3:ObjectCreated:*"],
            "filterPrefix": "in/",
            "filterSuffix": ".json",
        },
        {
            "id": "starter",
            "lambdaFunctionArn": TARGETS[1].function_arn,
            "events": ["s3:ObjectCreated:*"],
            "filterPrefix": "glue/",
        },
    ]


def test_each_permission_is_scoped_to_the_bucket_and_its_account_and_made_first(run):
    (notification,) = run.of_type("aws:s3/bucketNotification:BucketNotification")
    permissions = run.of_type("aws:lambda/permission:Permission")
    assert sorted(p.inputs["function"] for p in permissions) == ["ingest", "start"]
    for permission in permissions:
        assert permission.inputs["principal"] == "s3.amazonaws.com"
        assert permission.inputs["sourceArn"] == LAKE_ARNS["raw"]
        assert permission.inputs["sourceAccount"] == ACCOUNT_ID
        # S3 tests the permission when the configuration is saved ("Granting permissions to invoke an AWS Lambda
        # function", Amazon S3 User Guide).
        assert permission.urn in notification.dependencies


def test_overlapping_prefixes_are_refused_before_s3_would_refuse_them():
    """S3 refuses two notifications for the same event type whose prefixes overlap ("Configuring event
    notifications using object key name filtering")."""
    with pytest.raises(ValueError, match="overlap: 'orders/' and 'orders/incoming/'"):
        RawEventsArgs(
            bucket="raw",
            bucket_arn="arn:aws:s3:::raw",
            account_id="123456789012",
            targets=(
                RawEventTarget("a", "arn-a", "a", "orders/incoming/"),
                RawEventTarget("b", "arn-b", "b", "orders/"),
            ),
        )


# In the stacks ------------------------------------------------------------------------------------------------------


@pytest.fixture(params=["dev", "prod"])
def stack(request, stack_run):
    return stack_run(request.param)


def test_the_ingest_road_listens_for_json_under_its_landing_prefix(stack):
    (notification,) = stack.of_type("aws:s3/bucketNotification:BucketNotification")
    assert notification.inputs["bucket"] == f"datalake-{stack.stack}-raw-0a1b2c3"
    targets = {t["id"]: t for t in notification.inputs["lambdaFunctions"]}
    assert targets["orders-ingest"]["filterPrefix"] == orders.INGEST_LANDING.prefix == "orders/incoming/"
    assert targets["orders-ingest"]["filterSuffix"] == ".json"
    s3_permissions = [
        p for p in stack.of_type("aws:lambda/permission:Permission") if p.inputs["principal"] == "s3.amazonaws.com"
    ]
    assert len(s3_permissions) == len(targets)
    assert {p.inputs["sourceArn"] for p in s3_permissions} == {stack.named(f"datalake-{stack.stack}-raw").state["arn"]}


def test_no_notification_listens_where_the_emr_road_lands_or_quarantine_copies_go(stack):
    (notification,) = stack.of_type("aws:s3/bucketNotification:BucketNotification")
    prefixes = [t["filterPrefix"] for t in notification.inputs["lambdaFunctions"]]
    quiet = [prefix for road, prefix in raw_roads() if road.startswith("emr:") or road == "quarantine"]
    assert not [(p, q) for p in prefixes for q in quiet if q.startswith(p) or p.startswith(q)]
