"""The roles the ETL runtimes run as: EMR's service role and nodes, EMR Serverless jobs, the Glue job. Each reaches
the lake's buckets, prefixes and key only, and the lake's Iceberg tables in the Glue catalog."""

from __future__ import annotations

from collections.abc import Sequence

from components.iam.catalog import iceberg_commit_statement
from components.iam.statements import arn, document, objects, pass_role, statement, use_key
from pipelines import lake
from pipelines.model import Location

# The tag AmazonEMRServicePolicy_v2 requires on every subnet and security group an EMR cluster uses (its
# CreateInTaggedNetwork statement: "AmazonEMRServicePolicy_v2", AWS Managed Policy Reference).
EMR_MANAGED_TAG_KEY = "for-use-with-amazon-emr-managed-policies"


def job_data_access(
    *,
    partition: str,
    region: str,
    account_id: str,
    raw_arn: str,
    curated_arn: str,
    scripts_arn: str,
    logs_arn: str,
    key_arn: str,
    logs: Location,
    database: str,
    tables: Sequence[str],
) -> dict:
    """What a Spark job may do: read raw and its code, read and replace curated, write its logs, use the key, and
    commit to the lake's Iceberg tables through the Glue catalog (components/iam/catalog.py)."""
    return document(
        [
            iceberg_commit_statement(
                partition=partition, region=region, account_id=account_id, database=database, tables=tables
            ),
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
            statement("WriteJobLogs", ["s3:PutObject", "s3:GetObject"], [objects(logs_arn, logs.prefix)]),
            statement(
                "ListJobLogs",
                ["s3:ListBucket"],
                [logs_arn],
                condition={"StringLike": {"s3:prefix": [f"{logs.prefix}*"]}},
            ),
            use_key(key_arn),
        ]
    )


def emr_ebs_key_policy(key_arn: str) -> dict:
    """What the caller that launches instances with EBS volumes encrypted by `key_arn` needs on that key: EMR's
    service role, which launches the nodes' volumes (the managed service policy has no kms: action).

    From "Amazon EBS encryption requirements" (Amazon EBS User Guide,
    docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption-requirements.html): kms:CreateGrant, kms:Decrypt,
    kms:DescribeKey, kms:GenerateDataKeyWithoutPlainText and kms:ReEncrypt*; the grant only for an AWS resource
    (the volume), which EC2 creates on the caller's behalf.
    """
    return document(
        [
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
    )


def emr_pass_instance_role_policy(instance_role_arn: str) -> dict:
    """EMR's service role hands the nodes' role to EC2."""
    return document([pass_role([instance_role_arn], "ec2.amazonaws.com")])


def glue_logs(partition: str, region: str, account_id: str, kind: str) -> dict:
    """Glue's own log groups (`/aws-glue/crawlers...`, `/aws-glue/jobs...`), which its security configuration
    encrypts with the lake key."""
    logs = arn(partition, "logs", region, account_id, f"log-group:/aws-glue/{kind}*")
    return statement(
        "GlueLogs",
        ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"],
        [logs, f"{logs}:*"],
    )


def glue_job_policy(*, partition: str, region: str, account_id: str, scripts_arn: str, **access: str) -> dict:
    """A Spark job's data access on Glue: its temporary files in the scripts bucket, its logs in Glue's groups
    (`access`: job_data_access's buckets, key, database and tables)."""
    policy = job_data_access(
        partition=partition,
        region=region,
        account_id=account_id,
        scripts_arn=scripts_arn,
        logs_arn=scripts_arn,
        logs=lake.GLUE_TEMP,
        **access,
    )
    policy["Statement"].append(glue_logs(partition, region, account_id, "jobs"))
    return policy
