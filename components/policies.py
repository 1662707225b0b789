"""Pure helpers for IAM, bucket and key policy documents: plain dicts, no Pulumi, tested with plain asserts.

Every document names its resources; callers pass ARNs already resolved (inside one `Output.all(...).apply`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pipelines import lake
from pipelines.model import Location


def statement(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[str],
    *,
    effect: str = "Allow",
    principal: dict | str | None = None,
    condition: dict | None = None,
) -> dict:
    doc: dict = {"Sid": sid, "Effect": effect, "Action": sorted(set(actions)), "Resource": list(resources)}
    if principal is not None:
        doc["Principal"] = principal
    if condition:
        doc["Condition"] = condition
    return doc


def document(statements: Iterable[dict]) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def objects(bucket_arn: str, prefix: str = "") -> str:
    """The ARN of the objects of a bucket, or of those under `prefix`."""
    return f"{bucket_arn}/{prefix}*"


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


# The tag AmazonEMRServicePolicy_v2 requires on every subnet and security group an EMR cluster uses (its
# CreateInTaggedNetwork statement: "AmazonEMRServicePolicy_v2", AWS Managed Policy Reference).
EMR_MANAGED_TAG_KEY = "for-use-with-amazon-emr-managed-policies"

# Services whose documentation says they send aws:SourceAccount when they assume a role, so a trust policy may
# require it (confused-deputy protection). A condition on a key the service does not send is false: the role
# could never be assumed. Evidence:
# - Lambda: "Working with AWS managed policies in the execution role" (AWS Lambda Developer Guide,
#   docs.aws.amazon.com/lambda/latest/dg/permissions-managed-policies.html);
# - Step Functions: "Cross-service confused deputy prevention" (AWS Step Functions Developer Guide,
#   docs.aws.amazon.com/step-functions/latest/dg/cross-service-confused-deputy-prevention.html);
# - EMR: "Service role for Amazon EMR (EMR role)" (Amazon EMR Management Guide,
#   docs.aws.amazon.com/emr/latest/ManagementGuide/emr-iam-role.html);
# - EMR Serverless: "Job runtime roles for Amazon EMR Serverless" (EMR Serverless User Guide,
#   docs.aws.amazon.com/emr/latest/EMR-Serverless-UserGuide/security-iam-runtime-role.html).
# EC2 (instance profiles), Glue and API Gateway document no such key for the roles they assume.
SENDS_SOURCE_ACCOUNT = frozenset(
    {"lambda.amazonaws.com", "states.amazonaws.com", "elasticmapreduce.amazonaws.com", "emr-serverless.amazonaws.com"}
)


def assume_role(service: str, *, account_id: str | None = None, source_arn: str | None = None) -> dict:
    """Trust policy for one AWS service; with `account_id`/`source_arn`, only on behalf of this account/resource.

    `account_id` is refused for a service not in SENDS_SOURCE_ACCOUNT: the condition would lock the service out.
    """
    condition: dict = {}
    if account_id and service not in SENDS_SOURCE_ACCOUNT:
        raise ValueError(f"{service} does not send aws:SourceAccount: a trust condition on it would never match")
    if account_id:
        condition["StringEquals"] = {"aws:SourceAccount": account_id}
    if source_arn:
        condition["ArnLike"] = {"aws:SourceArn": source_arn}
    trust = statement("TrustService", ["sts:AssumeRole"], [], principal={"Service": service}, condition=condition)
    del trust["Resource"]  # trust policies name no resource
    return document([trust])


def managed_policy_arn(partition: str, name: str) -> str:
    """AWS managed policies live in each partition's `aws` account: arn:aws-cn:iam::aws:policy/... in China."""
    return f"arn:{partition}:iam::aws:policy/{name}"


def use_key(key_arn: str, sid: str = "UseLakeKey") -> dict:
    return statement(sid, ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"], [key_arn])


def ebs_encryption_key_use(key_arn: str) -> list[dict]:
    """What the caller that launches instances with EBS volumes encrypted by `key_arn` needs on that key.

    From "Amazon EBS encryption requirements" (Amazon EBS User Guide,
    docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption-requirements.html): kms:CreateGrant, kms:Decrypt,
    kms:DescribeKey, kms:GenerateDataKeyWithoutPlainText and kms:ReEncrypt*; the grant only for an AWS resource
    (the volume), which EC2 creates on the caller's behalf.
    """
    return [
        statement(
            "EncryptEbsVolumesWithLakeKey",
            [
                "kms:Decrypt",
                "kms:DescribeKey",
                "kms:GenerateDataKeyWithoutPlaintext",
                "kms:ReEncryptFrom",
                "kms:ReEncryptTo",
            ],
            [key_arn],
        ),
        statement(
            "GrantLakeKeyToEbsVolumes",
            ["kms:CreateGrant"],
            [key_arn],
            condition={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
    ]


# What a caller of Athena needs on the query results location: Athena writes the results with the caller's
# credentials, as multipart uploads ("BaseQueryResultsPermissions" of AmazonAthenaFullAccess, "AWS managed policies
# for Amazon Athena", docs.aws.amazon.com/athena/latest/ug/security-iam-awsmanpol.html; the same list in "IAM
# policies for calling Amazon Athena", docs.aws.amazon.com/step-functions/latest/dg/athena-iam.html).
ATHENA_RESULTS_BUCKET_ACTIONS = ("s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads")
ATHENA_RESULTS_OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)


def job_data_access(
    *, raw_arn: str, curated_arn: str, scripts_arn: str, logs_arn: str, key_arn: str, logs: Location
) -> dict:
    """What a Spark job may do: read raw and its code, read and replace curated, write its logs, use the key."""
    logs_prefix = logs.prefix
    return document(
        [
            statement(
                "ListLakeBuckets", ["s3:ListBucket", "s3:GetBucketLocation"], [raw_arn, curated_arn, scripts_arn]
            ),
            statement(
                "ReadRawAndCode", ["s3:GetObject"], [objects(raw_arn), objects(scripts_arn, lake.JOB_CODE.prefix)]
            ),
            statement(
                "ReplaceCurated",
                ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
                [objects(curated_arn)],
            ),
            statement("WriteJobLogs", ["s3:PutObject", "s3:GetObject"], [objects(logs_arn, logs_prefix)]),
            statement(
                "ListJobLogs",
                ["s3:ListBucket"],
                [logs_arn],
                condition={"StringLike": {"s3:prefix": [f"{logs_prefix}*"]}},
            ),
            use_key(key_arn),
        ]
    )


def pass_role(role_arns: list[str], service: str) -> dict:
    return statement(
        "PassOwnRoles",
        ["iam:PassRole"],
        role_arns,
        condition={"StringEquals": {"iam:PassedToService": service}},
    )
