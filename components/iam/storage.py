"""The resource policies of the lake's storage: every bucket's (TLS only; the logs bucket also takes S3's access log
delivery) and the lake key's."""

from __future__ import annotations

from collections.abc import Sequence

from components.iam.statements import document, objects, statement
from pipelines import lake


def deny_insecure_transport(bucket_arn: str) -> list[dict]:
    """Deny every request made without TLS, or with TLS older than 1.2, to the bucket and its objects."""
    resources = [bucket_arn, objects(bucket_arn)]
    return [
        statement(
            "DenyInsecureTransport",
            ["s3:*"],
            resources,
            effect="Deny",
            principal="*",
            condition={"Bool": {"aws:SecureTransport": "false"}},
        ),
        statement(
            "DenyOutdatedTls",
            ["s3:*"],
            resources,
            effect="Deny",
            principal="*",
            condition={"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        ),
    ]


def data_bucket_policy(bucket_arn: str) -> dict:
    return document(deny_insecure_transport(bucket_arn))


def logs_bucket_policy(logs_bucket_arn: str, source_bucket_arns: Sequence[str], account_id: str) -> dict:
    """TLS-only, and S3 server access log delivery from the lake's own buckets (ACLs are disabled)."""
    delivery = statement(
        "S3ServerAccessLogsDelivery",
        ["s3:PutObject"],
        [objects(logs_bucket_arn, lake.ACCESS_LOGS.prefix)],
        principal={"Service": "logging.s3.amazonaws.com"},
        condition={
            "ArnLike": {"aws:SourceArn": list(source_bucket_arns)},
            "StringEquals": {"aws:SourceAccount": account_id},
        },
    )
    return document([*deny_insecure_transport(logs_bucket_arn), delivery])


def lake_key_policy(account_id: str, partition: str, region: str) -> dict:
    """The account administers the key through IAM; CloudWatch Logs may use it for this account's log groups."""
    root = f"arn:{partition}:iam::{account_id}:root"
    return document(
        [
            statement("AccountAdministersThroughIam", ["kms:*"], ["*"], principal={"AWS": root}),
            statement(
                "CloudWatchLogsEncryption",
                ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                ["*"],
                principal={"Service": f"logs.{region}.amazonaws.com"},
                condition={
                    "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account_id}:*"}
                },
            ),
        ]
    )
