"""components/iceberg.py: the one Glue-catalog conf, as each cloud runtime takes it."""

from __future__ import annotations

import pytest

from components import iceberg

WAREHOUSE = "s3://datalake-dev-curated-0a1b2c3/iceberg/"


def test_the_catalog_is_icebergs_spark_catalog_over_glue_with_s3fileio():
    # "Apache Iceberg AWS integrations" (iceberg.apache.org/docs/latest/aws/#spark): catalog-impl GlueCatalog,
    # io-impl S3FileIO; the SQL extensions bring CALL, MERGE and branches, which the jobs use.
    conf = iceberg.catalog_conf(WAREHOUSE)
    assert conf == {
        "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        "spark.sql.catalog.glue_catalog": "org.apache.iceberg.spark.SparkCatalog",
        "spark.sql.catalog.glue_catalog.catalog-impl": "org.apache.iceberg.aws.glue.GlueCatalog",
        "spark.sql.catalog.glue_catalog.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        "spark.sql.catalog.glue_catalog.warehouse": WAREHOUSE,
    }


@pytest.mark.parametrize("warehouse", ["s3://bucket/iceberg", "s3a://bucket/iceberg/", "bucket/iceberg/"])
def test_a_warehouse_that_is_not_an_s3_prefix_is_refused(warehouse):
    with pytest.raises(ValueError, match="must be an s3:// prefix"):
        iceberg.catalog_conf(warehouse)


def test_emr_on_ec2_turns_iceberg_on_and_puts_the_catalog_in_spark_defaults():
    defaults, spark = iceberg.emr_configurations(WAREHOUSE)
    assert defaults == {"Classification": "iceberg-defaults", "Properties": {"iceberg.enabled": "true"}}
    assert spark == {"Classification": "spark-defaults", "Properties": iceberg.catalog_conf(WAREHOUSE)}


def test_emr_serverless_takes_its_bundled_jar():
    conf = iceberg.serverless_conf(WAREHOUSE)
    assert conf["spark.jars"] == "/usr/share/aws/iceberg/lib/iceberg-spark3-runtime.jar"
    assert conf.items() >= iceberg.catalog_conf(WAREHOUSE).items()


def test_glue_takes_one_conf_argument_whose_value_chains_the_others():
    value = iceberg.glue_conf_argument(WAREHOUSE)
    pairs = value.split(" --conf ")
    assert dict(pair.split("=", 1) for pair in pairs) == iceberg.catalog_conf(WAREHOUSE)
    assert not value.startswith("--conf")


def test_every_job_is_told_the_catalog_and_its_database():
    assert iceberg.job_catalog_arguments("datalake_dev") == ["--catalog", "glue_catalog", "--database", "datalake_dev"]
