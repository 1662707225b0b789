"""RawEvents under mocks: the raw bucket's one notification configuration, one prefix per road, each invoke
permission scoped to the bucket and its account and in place before S3 saves the configuration."""

import pytest

from components.raw_events import RawEventsArgs, RawEventTarget
from pipelines import orders, raw_roads


@pytest.fixture(params=["dev", "prod"])
def run(request, stack_run):
    return stack_run(request.param)


def test_raw_bucket_notification_filters_and_scoped_permissions(run):
    (notification,) = run.of_type("aws:s3/bucketNotification:BucketNotification")
    assert notification.inputs["bucket"] == f"datalake-{run.stack}-raw-0a1b2c3"
    targets = {t["id"]: t for t in notification.inputs["lambdaFunctions"]}
    assert targets["orders-ingest"]["filterPrefix"] == orders.INGEST_LANDING.prefix == "orders/incoming/"
    assert targets["orders-ingest"]["filterSuffix"] == ".json"
    assert {t["events"][0] for t in targets.values()} == {"s3:ObjectCreated:*"}
    s3_permissions = [
        p for p in run.of_type("aws:lambda/permission:Permission") if p.inputs["principal"] == "s3.amazonaws.com"
    ]
    assert len(s3_permissions) == len(targets)
    raw_arn = run.named(f"datalake-{run.stack}-raw").state["arn"]
    for permission in s3_permissions:
        assert permission.inputs["sourceArn"] == raw_arn
        assert permission.inputs["sourceAccount"] == "123456789012"
        # S3 tests the permission when the configuration is saved ("Granting permissions to invoke an AWS Lambda
        # function", Amazon S3 User Guide).
        assert permission.urn in notification.dependencies


def test_no_notification_listens_where_the_emr_road_lands_or_quarantine_copies_go(run):
    (notification,) = run.of_type("aws:s3/bucketNotification:BucketNotification")
    prefixes = [t["filterPrefix"] for t in notification.inputs["lambdaFunctions"]]
    quiet = [prefix for road, prefix in raw_roads() if road.startswith("emr:") or road == "quarantine"]
    assert not [(p, q) for p in prefixes for q in quiet if q.startswith(p) or p.startswith(q)]


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
