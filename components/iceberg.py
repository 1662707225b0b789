"""How each cloud runtime's Spark reaches the lake's Iceberg tables: one Glue-catalog conf, as EMR on EC2, EMR
Serverless and Glue each take it. Pure functions over plain values; the jobs read `--catalog` and `--database`."""

from __future__ import annotations

# The Spark catalog name every job is told (`--catalog`), in every runtime (ISSUE12 contract).
CATALOG = "glue_catalog"
# Every curated table lives under this prefix of the curated bucket (pipelines/ Table.location), apart from the
# Hive-era Parquet under <pipeline>/<table>/: no Iceberg maintenance ever reaches the old data.
ICEBERG_ROOT = "iceberg/"
EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
# EMR Serverless's bundled Iceberg runtime ("Using Apache Iceberg with EMR Serverless", EMR Serverless User Guide,
# docs.aws.amazon.com/emr/latest/EMR-Serverless-UserGuide/using-iceberg.html).
SERVERLESS_ICEBERG_JAR = "/usr/share/aws/iceberg/lib/iceberg-spark3-runtime.jar"
# EMR on EC2 puts the same jar on Spark's classpath when iceberg-defaults sets iceberg.enabled ("Use an Iceberg
# cluster with Spark", Amazon EMR Release Guide,
# docs.aws.amazon.com/emr/latest/ReleaseGuide/emr-iceberg-use-spark-cluster.html).
ICEBERG_DEFAULTS = {"Classification": "iceberg-defaults", "Properties": {"iceberg.enabled": "true"}}


def catalog_conf(warehouse: str) -> dict[str, str]:
    """The Spark conf of the `glue_catalog` catalog: Iceberg's SparkCatalog over the Glue Data Catalog, data through
    S3FileIO, new tables' default root `warehouse` (Pulumi creates every table with its own location, so it is only a
    fallback), and Iceberg's SQL extensions (CALL procedures, MERGE, branches).

    From "Apache Iceberg AWS integrations" (iceberg.apache.org/docs/latest/aws/#spark) and the EMR pages above."""
    if not warehouse.startswith("s3://") or not warehouse.endswith("/"):
        raise ValueError(f"Iceberg warehouse {warehouse!r} must be an s3:// prefix ending in '/'")
    prefix = f"spark.sql.catalog.{CATALOG}"
    return {
        "spark.sql.extensions": EXTENSIONS,
        prefix: "org.apache.iceberg.spark.SparkCatalog",
        f"{prefix}.catalog-impl": "org.apache.iceberg.aws.glue.GlueCatalog",
        f"{prefix}.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        f"{prefix}.warehouse": warehouse,
    }


def emr_configurations(warehouse: str) -> list[dict]:
    """createCluster's Configurations: Iceberg on, and the catalog in spark-defaults."""
    return [ICEBERG_DEFAULTS, {"Classification": "spark-defaults", "Properties": catalog_conf(warehouse)}]


def serverless_conf(warehouse: str) -> dict[str, str]:
    """The sparkSubmitParameters conf of an EMR Serverless job run: the bundled jar and the catalog."""
    return {"spark.jars": SERVERLESS_ICEBERG_JAR, **catalog_conf(warehouse)}


def glue_conf_argument(warehouse: str) -> str:
    """The value of a Glue job's single `--conf` argument: Glue takes one `--conf`, so the others follow inside its
    value ("Using the Iceberg framework in AWS Glue", AWS Glue Developer Guide,
    docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-etl-format-iceberg.html)."""
    pairs = [f"{key}={value}" for key, value in sorted(catalog_conf(warehouse).items())]
    return " --conf ".join(pairs)


def job_catalog_arguments(database: str) -> list[str]:
    """What the cloud adds to every job's command line: write `<catalog>.<database>.<glue_name>`, never create."""
    return ["--catalog", CATALOG, "--database", database]
