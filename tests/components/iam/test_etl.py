"""The ETL runtimes' roles: a Spark job reads raw and its code and replaces curated, and nothing else; EMR's service
role may use the lake key for the nodes' volumes; the crawlers read only the tables' prefixes."""

import fnmatch

import pytest

from components.iam import etl
from pipelines import lake
from tests.components.iam.documents import by_sid, grants

RAW, CURATED, SCRIPTS, LOGS = (f"arn:aws:s3:::{zone}" for zone in ("raw", "curated", "scripts", "logs"))
KEY = "arn:aws:kms:eu-west-1:123456789012:key/k"
WHERE = {"partition": "aws", "region": "eu-west-1", "account_id": "123456789012"}


@pytest.mark.parametrize("logs", [lake.EMR_LOGS, lake.GLUE_TEMP])
def test_a_spark_job_reads_raw_and_its_code_replaces_curated_and_writes_only_its_logs(logs):
    policy = etl.job_data_access(
        raw_arn=RAW, curated_arn=CURATED, scripts_arn=SCRIPTS, logs_arn=LOGS, key_arn=KEY, logs=logs
    )
    found = grants(policy)
    assert found[f"{RAW}/*"] == {"s3:GetObject"}
    assert found[f"{SCRIPTS}/jobs/*"] == {"s3:GetObject"}
    assert found[f"{CURATED}/*"] == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}
    assert found[f"{LOGS}/{logs.prefix}*"] == {"s3:PutObject", "s3:GetObject"}
    assert by_sid(policy)["ListJobLogs"]["Condition"] == {"StringLike": {"s3:prefix": [f"{logs.prefix}*"]}}
    assert f"{SCRIPTS}/*" not in found, "a job may not read every script of the bucket"


def test_the_glue_job_keeps_its_temporary_files_and_logs_in_their_own_places():
    policy = etl.glue_job_policy(**WHERE, raw_arn=RAW, curated_arn=CURATED, scripts_arn=SCRIPTS, key_arn=KEY)
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


def test_the_crawlers_read_and_catalogue_only_the_declared_tables():
    policy = etl.crawler_policy(
        **WHERE,
        curated_arn=CURATED,
        key_arn=KEY,
        database="datalake_dev",
        prefixes=["orders/orders/", "orders/order_items/"],
        tables=["orders_orders"],
    )
    found = by_sid(policy)
    assert found["LocateCuratedBucket"]["Resource"] == [CURATED]
    assert found["ListCrawledPrefixes"]["Condition"] == {
        "StringLike": {"s3:prefix": ["orders/orders/*", "orders/order_items/*"]}
    }
    assert found["ReadCrawledPrefixes"]["Resource"] == [f"{CURATED}/orders/orders/*", f"{CURATED}/orders/order_items/*"]
    assert (
        found["CatalogTables"]["Resource"][-1] == "arn:aws:glue:eu-west-1:123456789012:table/datalake_dev/orders_orders"
    )
    group = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws-glue/crawlers-role/r-c"
    assert any(fnmatch.fnmatchcase(f"{group}:log-stream:s", pattern) for pattern in found["GlueLogs"]["Resource"])
