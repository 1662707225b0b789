"""The IAM documents of the lake's catalog: what the Glue table optimizers' role may do on the Iceberg tables, what a
job needs for an Iceberg commit through the Glue catalog, and the raw-zone exploration crawler's role."""

from __future__ import annotations

from collections.abc import Sequence

from components.iam.statements import arn, catalog_arns, document, objects, statement

# What Iceberg's GlueCatalog calls to load a table and commit to it: loadTable reads the database and the table;
# a commit swaps the table's metadata_location with UpdateTable (an optimistic check on the previous version, "Glue
# Catalog", Apache Iceberg AWS integrations, iceberg.apache.org/docs/latest/aws/#glue-catalog); Spark's catalog lists
# tables for SHOW TABLES and refreshes. No CreateTable, DeleteTable or database actions: Pulumi owns the tables
# (a job never creates or drops one in the cloud).
ICEBERG_COMMIT_ACTIONS = ("glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:UpdateTable")
# The table optimizers' own log groups ("Table optimization prerequisites", AWS Glue Developer Guide,
# docs.aws.amazon.com/glue/latest/dg/optimization-prerequisites.html: /aws-glue/iceberg-compaction/logs and its
# retention and orphan-file-deletion siblings). One pattern covers the three.
OPTIMIZER_LOG_GROUPS = "log-group:/aws-glue/iceberg-*"


def iceberg_commit_statement(
    *, partition: str, region: str, account_id: str, database: str, tables: Sequence[str]
) -> dict:
    """The Glue catalog actions a Spark job's Iceberg commit needs, on the lake's database and its tables only."""
    return statement(
        "CommitIcebergTables", ICEBERG_COMMIT_ACTIONS, catalog_arns(partition, region, account_id, database, tables)
    )


def optimizer_policy(
    *,
    partition: str,
    region: str,
    account_id: str,
    curated_arn: str,
    key_arn: str,
    database: str,
    tables: Sequence[str],
    prefixes: Sequence[str],
) -> dict:
    """The Glue table optimizers' role: compaction and snapshot retention rewrite and delete files and commit the
    table; orphan-file deletion lists and deletes. Only the Iceberg tables' prefixes of the curated bucket, only the
    lake's database and tables, only the lake key, only the optimizers' log groups.

    From "Table optimization prerequisites" (AWS Glue Developer Guide,
    docs.aws.amazon.com/glue/latest/dg/optimization-prerequisites.html): s3:PutObject, s3:GetObject, s3:DeleteObject
    on the data, s3:ListBucket on the bucket, glue:UpdateTable and glue:GetTable on the table, its database and the
    catalog, logs:CreateLogGroup, logs:CreateLogStream and logs:PutLogEvents on the optimizers' log groups; and, for
    data encrypted with a KMS key, kms:Decrypt and kms:GenerateDataKey on it.
    """
    logs = arn(partition, "logs", region, account_id, OPTIMIZER_LOG_GROUPS)
    return document(
        [
            statement(
                "ListIcebergPrefixes",
                ["s3:ListBucket"],
                [curated_arn],
                condition={"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}},
            ),
            statement(
                "RewriteIcebergFiles",
                ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                [objects(curated_arn, p) for p in prefixes],
            ),
            statement(
                "CommitIcebergTables",
                ["glue:GetTable", "glue:UpdateTable"],
                catalog_arns(partition, region, account_id, database, tables),
            ),
            statement("UseLakeKey", ["kms:Decrypt", "kms:GenerateDataKey"], [key_arn]),
            statement(
                "OptimizerLogs",
                ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                [logs, f"{logs}:*"],
            ),
        ]
    )


def raw_crawler_policy(
    *,
    partition: str,
    region: str,
    account_id: str,
    raw_arn: str,
    key_arn: str,
    database: str,
    prefixes: Sequence[str],
) -> dict:
    """The raw-zone exploration crawler reads the pipelines' raw prefixes and catalogues what it finds in its own
    database (never the lake's, whose tables Pulumi owns)."""
    glue = arn(partition, "glue", region, account_id, "")
    return document(
        [
            # AWSGlueServiceRole, whose S3 part this replaces, grants s3:GetBucketLocation: a crawler locates each
            # target bucket before it lists it.
            statement("LocateRawBucket", ["s3:GetBucketLocation"], [raw_arn]),
            statement(
                "ListRawPrefixes",
                ["s3:ListBucket"],
                [raw_arn],
                condition={"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}},
            ),
            statement("ReadRawPrefixes", ["s3:GetObject"], [objects(raw_arn, p) for p in prefixes]),
            statement(
                "CatalogExplorationTables",
                [
                    "glue:GetDatabase",
                    "glue:GetTable",
                    "glue:GetTables",
                    "glue:CreateTable",
                    "glue:UpdateTable",
                    "glue:GetPartition",
                    "glue:GetPartitions",
                    "glue:BatchGetPartition",
                    "glue:CreatePartition",
                    "glue:BatchCreatePartition",
                    "glue:UpdatePartition",
                    "glue:BatchUpdatePartition",
                ],
                [f"{glue}catalog", f"{glue}database/{database}", f"{glue}table/{database}/*"],
            ),
            statement(
                "GlueLogs",
                ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"],
                [
                    arn(partition, "logs", region, account_id, "log-group:/aws-glue/crawlers*"),
                    arn(partition, "logs", region, account_id, "log-group:/aws-glue/crawlers*:*"),
                ],
            ),
            statement("UseLakeKey", ["kms:Decrypt", "kms:GenerateDataKey"], [key_arn]),
        ]
    )


def deployer_pass_role_policy(*, partition: str, account_id: str, role_name: str) -> dict:
    """What the identity that runs `pulumi up` needs to hand the optimizers their role: CreateTableOptimizer passes
    it to Glue ("Table optimization prerequisites", AWS Glue Developer Guide: the caller needs iam:PassRole on the
    optimizer role)."""
    return document(
        [
            statement(
                "PassTableOptimizerRole",
                ["iam:PassRole"],
                [f"arn:{partition}:iam::{account_id}:role/{role_name}"],
                condition={"StringEquals": {"iam:PassedToService": "glue.amazonaws.com"}},
            )
        ]
    )
