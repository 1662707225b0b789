"""The Lambda functions' roles: what every function may do, then what each one's handler calls, and nothing else."""

from __future__ import annotations

from collections.abc import Sequence

from components.iam.statements import ATHENA_RESULTS_OBJECT_ACTIONS, catalog_arns, document, objects, statement, use_key
from pipelines import lake

# The Athena calls functions/query_api.py makes (it never stops a query: nothing in the API can).
QUERY_API_ACTIONS = ("athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults")


def base_policy(log_group_arn: str, key_arn: str, failures_arn: str | None) -> dict:
    """What every function may do: write its own logs, decrypt its environment, send to its failure queue."""
    statements = [
        statement("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group_arn}:*"]),
        # The environment is encrypted with the lake key.
        statement("DecryptEnvironment", ["kms:Decrypt"], [key_arn]),
    ]
    if failures_arn:
        # An SQS on-failure destination needs sqs:SendMessage in the execution role (Lambda Developer Guide,
        # "Capturing records of Lambda asynchronous invocations"); the queue uses SSE-SQS, so no key grant.
        statements.append(statement("SendFailures", ["sqs:SendMessage"], [failures_arn]))
    return document(statements)


def glue_starter_policy(job_arn: str, trigger_arn: str) -> dict:
    """functions/start_glue_job.py fires the job's on-demand trigger and looks at the job's queued runs."""
    return document(
        [
            statement("FireItsTrigger", ["glue:StartTrigger"], [trigger_arn]),
            statement("SeeQueuedRuns", ["glue:GetJobRuns"], [job_arn]),
        ]
    )


def orders_ingest_policy(
    *,
    raw_arn: str,
    curated_arn: str,
    key_arn: str,
    watch_prefix: str,
    quarantine_prefix: str,
    staging_prefix: str,
) -> dict:
    """functions/orders_ingest.py reads the watched prefix only, writes the staging and quarantine prefixes only.

    It starts nothing: the merge step commits the staged rows to the Iceberg table, so no Glue permission at all."""
    return document(
        [
            # GetObject with a versionId is authorised as s3:GetObjectVersion, without one as s3:GetObject (Amazon
            # S3 API Reference, GetObject, versionId: docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html);
            # the same holds for the source of the quarantine copy.
            statement("ReadWatchedFiles", ["s3:GetObject", "s3:GetObjectVersion"], [objects(raw_arn, watch_prefix)]),
            # Copies of files too large to read whole take a multipart copy above 5 GB.
            statement(
                "QuarantineBadFiles",
                ["s3:PutObject", "s3:AbortMultipartUpload"],
                [objects(raw_arn, quarantine_prefix)],
            ),
            statement("StageParquet", ["s3:PutObject"], [objects(curated_arn, staging_prefix)]),
            # "To upload or download an object encrypted with an AWS KMS key ... you need kms:GenerateDataKey and
            # kms:Decrypt permissions on the key" (Amazon S3 User Guide, "Using server-side encryption with AWS KMS
            # keys (SSE-KMS) in directory buckets", Permissions, docs.aws.amazon.com/AmazonS3/latest/userguide/
            # s3-express-UsingKMSEncryption.html; the multipart copy's, "Multipart upload API and permissions",
            # mpuoverview.html): a copy decrypts its source and encrypts its destination, nothing else.
            statement("UseLakeKey", ["kms:Decrypt", "kms:GenerateDataKey"], [key_arn]),
        ]
    )


def query_api_policy(
    *,
    partition: str,
    region: str,
    account_id: str,
    workgroup_arn: str,
    database: str,
    tables: Sequence[str],
    results_arn: str,
    curated_arn: str,
    key_arn: str,
) -> dict:
    """functions/query_api.py runs queries in one workgroup; Athena reads the catalog and data, and writes the
    results, with the caller's permissions."""
    results = lake.QUERY_RESULTS.prefix
    return document(
        [
            # In this workgroup only: Athena authorises each call against the execution's workgroup, so another
            # workgroup's ids are refused (answered 404).
            statement("RunQueriesInThisWorkgroup", QUERY_API_ACTIONS, [workgroup_arn]),
            statement(
                "ReadTheCatalog",
                ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions"],
                catalog_arns(partition, region, account_id, database, tables),
            ),
            statement("ListCurated", ["s3:ListBucket", "s3:GetBucketLocation"], [curated_arn]),
            statement("ReadCurated", ["s3:GetObject"], [objects(curated_arn)]),
            statement(
                "ListResults",
                ["s3:ListBucket"],
                [results_arn],
                condition={"StringLike": {"s3:prefix": [f"{results}*"]}},
            ),
            statement("LocateResults", ["s3:GetBucketLocation"], [results_arn]),
            # Athena writes the results as the caller, in multipart uploads.
            statement("ListResultUploads", ["s3:ListBucketMultipartUploads"], [results_arn]),
            statement("WriteResults", ATHENA_RESULTS_OBJECT_ACTIONS, [objects(results_arn, results)]),
            use_key(key_arn),
        ]
    )
