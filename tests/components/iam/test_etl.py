"""The ETL runtimes' roles: a Spark job reads raw and its code and replaces curated, and nothing else; EMR's service
role may use the lake key for the nodes' volumes; a job commits Iceberg tables of the lake's database only; the raw
crawler and the table optimizers reach only their prefixes."""

import fnmatch

import pytest

from components.iam import catalog, etl
from pipelines import lake
from tests.components.iam.documents import by_sid, grants

RAW, CURATED, SCRIPTS, LOGS = (f"arn:aws:s3:::{zone}" for zone in ("raw", "curated", "scripts", "logs"))
KEY = "arn:aws:kms:eu-west-1:123456789012:key/k"
WHERE = {"partition": "aws", "region": "eu-west-1", "account_id": "123456789012"}
LAKE_TABLES = {"database": "datalake_dev", "tables": ["orders_orders", "orders_order_items"]}
GLUE = "arn:aws:glue:eu-west-1:123456789012:"


@pytest.mark.parametrize("logs", [lake.EMR_LOGS, lake.GLUE_TEMP])
def test_a_spark_job_reads_raw_and_its_code_replaces_curated_and_writes_only_its_logs(logs):
    policy = etl.job_data_access(
        **WHERE,
        **LAKE_TABLES,
        raw_arn=RAW,
        curated_arn=CURATED,
        scripts_arn=SCRIPTS,
        logs_arn=LOGS,
        key_arn=KEY,
        logs=logs,
    )
    found = grants(policy)
    assert found[f"{RAW}/*"] == {"s3:GetObject"}
    assert found[f"{SCRIPTS}/jobs/*"] == {"s3:GetObject"}
    assert found[f"{CURATED}/*"] == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}
    assert found[f"{LOGS}/{logs.prefix}*"] == {"s3:PutObject", "s3:GetObject"}
    assert by_sid(policy)["ListJobLogs"]["Condition"] == {"StringLike": {"s3:prefix": [f"{logs.prefix}*"]}}
    assert f"{SCRIPTS}/*" not in found, "a job may not read every script of the bucket"


def test_the_glue_job_keeps_its_temporary_files_and_logs_in_their_own_places():
    policy = etl.glue_job_policy(
        **WHERE, **LAKE_TABLES, raw_arn=RAW, curated_arn=CURATED, scripts_arn=SCRIPTS, key_arn=KEY
    )
    found = by_sid(policy)
    assert found["WriteJobLogs"]["Resource"] == [f"{SCRIPTS}/glue-temp/*"]
    assert found["GlueLogs"]["Resource"] == [
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws-glue/jobs*",
        "arn:aws:logs:eu-west-1:123456789012:log-group:/aws-glue/jobs*:*",
    ]


def test_emr_may_encrypt_the_nodes_volumes_with_the_lake_key_and_grant_it_only_to_them():
    # "Amazon EBS encryption requirements" (Amazon EBS User Guide): the caller that launches encrypted volumes.
    found = by_sid(etl.emr_ebs_key_policy(KEY))
    assert found["EncryptEbsVolumesWithLakeKey"]["Action"] == [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
    ]
    assert found["GrantLakeKeyToEbsVolumes"]["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    (passing,) = etl.emr_pass_instance_role_policy("arn:aws:iam::123456789012:role/nodes")["Statement"]
    assert passing["Resource"] == ["arn:aws:iam::123456789012:role/nodes"]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}


def test_a_job_may_load_and_commit_the_lakes_iceberg_tables_but_never_create_or_drop_one():
    # Iceberg's GlueCatalog: loadTable is GetTable (and the database), a commit UpdateTable with the previous
    # metadata location as its condition ("Glue Catalog", Apache Iceberg AWS integrations). Pulumi owns the tables.
    for policy in (
        etl.job_data_access(
            **WHERE,
            **LAKE_TABLES,
            raw_arn=RAW,
            curated_arn=CURATED,
            scripts_arn=SCRIPTS,
            logs_arn=LOGS,
            key_arn=KEY,
            logs=lake.EMR_LOGS,
        ),
        etl.glue_job_policy(**WHERE, **LAKE_TABLES, raw_arn=RAW, curated_arn=CURATED, scripts_arn=SCRIPTS, key_arn=KEY),
    ):
        commit = by_sid(policy)["CommitIcebergTables"]
        assert commit["Action"] == ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:UpdateTable"]
        assert commit["Resource"] == [
            f"{GLUE}catalog",
            f"{GLUE}database/datalake_dev",
            f"{GLUE}table/datalake_dev/orders_orders",
            f"{GLUE}table/datalake_dev/orders_order_items",
        ]
        actions = {a for st in policy["Statement"] for a in st["Action"]}
        assert not {a for a in actions if a.startswith("glue:") and ("Create" in a or "Delete" in a)}


def test_the_raw_crawler_reads_the_raw_prefixes_and_catalogues_into_its_own_database():
    policy = catalog.raw_crawler_policy(
        **WHERE, raw_arn=RAW, key_arn=KEY, database="datalake_dev_raw", prefixes=["orders/", "kindle/"]
    )
    found = by_sid(policy)
    assert found["LocateRawBucket"]["Resource"] == [RAW]
    assert found["ListRawPrefixes"]["Condition"] == {"StringLike": {"s3:prefix": ["orders/*", "kindle/*"]}}
    assert found["ReadRawPrefixes"]["Resource"] == [f"{RAW}/orders/*", f"{RAW}/kindle/*"]
    assert found["CatalogExplorationTables"]["Resource"] == [
        f"{GLUE}catalog",
        f"{GLUE}database/datalake_dev_raw",
        f"{GLUE}table/datalake_dev_raw/*",
    ]
    assert CURATED not in str(policy)
    group = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws-glue/crawlers-role/r-c"
    assert any(fnmatch.fnmatchcase(f"{group}:log-stream:s", pattern) for pattern in found["GlueLogs"]["Resource"])


def test_the_deployer_may_pass_the_optimizer_role_to_glue_only():
    # "Table optimization prerequisites", AWS Glue Developer Guide: the caller passes the role (iam:PassRole).
    (passing,) = catalog.deployer_pass_role_policy(partition="aws", account_id="123456789012", role_name="r")[
        "Statement"
    ]
    assert passing["Action"] == ["iam:PassRole"]
    assert passing["Resource"] == ["arn:aws:iam::123456789012:role/r"]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "glue.amazonaws.com"}}
