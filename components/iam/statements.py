"""The vocabulary of every IAM document: statements, documents, object ARNs, trust policies, managed policy ARNs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


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


def arn(partition: str, service: str, region: str, account_id: str, resource: str) -> str:
    return f"arn:{partition}:{service}:{region}:{account_id}:{resource}"


def catalog_arns(partition: str, region: str, account_id: str, database: str, tables: Iterable[str]) -> list[str]:
    """The Glue catalog, one database and tables of it: what every Glue table action must name."""
    glue = arn(partition, "glue", region, account_id, "")
    return [f"{glue}catalog", f"{glue}database/{database}", *(f"{glue}table/{database}/{t}" for t in tables)]


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


def pass_role(role_arns: list[str], service: str) -> dict:
    return statement(
        "PassOwnRoles",
        ["iam:PassRole"],
        role_arns,
        condition={"StringEquals": {"iam:PassedToService": service}},
    )


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
