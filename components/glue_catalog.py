"""GlueCatalog: the lake's Glue database with a table per curated output, and a crawler per pipeline."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import naming
from components.context import AwsContext, policy_json
from components.iam import etl as etl_iam
from components.moves import MovedFrom, child_options
from pipelines import PIPELINES, Pipeline, Table

PARQUET = {
    "input_format": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "output_format": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "serde": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
}
# Spark's bookkeeping files are not data; the declared tables' partitions are the crawlers' only business.
CRAWLER_EXCLUSIONS = ["**/_SUCCESS", "**/_temporary/**", "**/.*"]
CRAWLER_CONFIGURATION = {
    "Version": 1.0,
    "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}},
    "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas"},
}


@dataclass(frozen=True)
class GlueCatalogArgs:
    project: str
    environment: str
    bucket_names: Mapping[str, pulumi.Input[str]]  # curated
    bucket_arns: Mapping[str, pulumi.Input[str]]
    key_arn: pulumi.Input[str]
    log_retention_days: int
    schema_update_behavior: str
    schema_delete_behavior: str
    recrawl_behavior: str
    pipelines: tuple[Pipeline, ...] = tuple(PIPELINES.values())


def table_location(curated_bucket: str, table: Table) -> str:
    return f"s3://{curated_bucket}/{table.location.prefix}"


class GlueCatalog(pulumi.ComponentResource):
    """Creates the stack's Glue database; an external Parquet table per declared curated table (columns and
    partition keys from pipelines/, so Athena works before any crawler ran); a Glue security configuration
    (KMS for CloudWatch logs, job bookmarks and S3, for the crawlers and GlueEtl's job); a crawler per pipeline over
    its tables' prefixes, with a role limited to them; and the log group Glue writes the crawlers' logs to, with
    retention and the lake key."""

    def __init__(self, name: str, args: GlueCatalogArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("datalake:components:GlueCatalog", name, None, opts)
        self._name, self._args = name, args
        self._aws = AwsContext.of(self)
        self.database_name = naming.glue_database(args.project, args.environment)
        self.database = aws.glue.CatalogDatabase(
            self._child("database"),
            name=self.database_name,
            description=f"Curated tables of the {args.project} {args.environment} data lake",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.tables = {
            table.glue_name: self._create_table(table) for pipeline in args.pipelines for table in pipeline.tables
        }
        self.security_configuration = self._create_security_configuration()
        self.crawler_role = self._create_crawler_role()
        # Glue names a crawler's log group after its role and security configuration (one group for every crawler
        # of the role, one stream per crawler).
        self.crawler_log_groups = glue_log_groups(
            self,
            name,
            "crawler-logs",
            [
                pulumi.Output.concat(
                    "/aws-glue/crawlers-role/", self.crawler_role.name, "-", self.security_configuration.name
                )
            ],
            retention_days=args.log_retention_days,
            key_arn=args.key_arn,
        )
        self.crawlers = {p.name: self._create_crawler(p) for p in args.pipelines}
        self.crawler_names = {name: crawler.name for name, crawler in self.crawlers.items()}
        self.register_outputs(
            {
                "database_name": self.database.name,
                "crawler_names": self.crawler_names,
                "security_configuration": self.security_configuration.name,
            }
        )

    def _child(self, role: str) -> str:
        return f"{self._name}-{role}"

    def _prefix(self) -> str:
        return naming.prefix(self._args.project, self._args.environment)

    def _create_table(self, table: Table) -> aws.glue.CatalogTable:
        def column(c):
            return {"name": c.name, "type": c.type, "comment": c.comment or None}

        location = pulumi.Output.from_input(self._args.bucket_names["curated"]).apply(
            lambda bucket: table_location(bucket, table)
        )
        return aws.glue.CatalogTable(
            self._child(f"table-{table.glue_name}"),
            name=table.glue_name,
            database_name=self.database.name,
            description=table.description,
            table_type="EXTERNAL_TABLE",
            parameters={"classification": "parquet", "EXTERNAL": "TRUE", "parquet.compression": "SNAPPY"},
            storage_descriptor=aws.glue.CatalogTableStorageDescriptorArgs(
                location=location,
                input_format=PARQUET["input_format"],
                output_format=PARQUET["output_format"],
                ser_de_info=aws.glue.CatalogTableStorageDescriptorSerDeInfoArgs(
                    serialization_library=PARQUET["serde"], parameters={"serialization.format": "1"}
                ),
                columns=[aws.glue.CatalogTableStorageDescriptorColumnArgs(**column(c)) for c in table.columns],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_security_configuration(self) -> aws.glue.SecurityConfiguration:
        key = self._args.key_arn
        config = aws.glue.SecurityConfigurationEncryptionConfigurationArgs
        return aws.glue.SecurityConfiguration(
            self._child("security"),
            name=f"{self._prefix()}-glue",
            encryption_configuration=config(
                cloudwatch_encryption=aws.glue.SecurityConfigurationEncryptionConfigurationCloudwatchEncryptionArgs(
                    cloudwatch_encryption_mode="SSE-KMS", kms_key_arn=key
                ),
                job_bookmarks_encryption=aws.glue.SecurityConfigurationEncryptionConfigurationJobBookmarksEncryptionArgs(
                    job_bookmarks_encryption_mode="CSE-KMS", kms_key_arn=key
                ),
                s3_encryption=aws.glue.SecurityConfigurationEncryptionConfigurationS3EncryptionArgs(
                    s3_encryption_mode="SSE-KMS", kms_key_arn=key
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _glue_role(self, role: str, description: str, policy: pulumi.Input[str]) -> aws.iam.Role:
        iam_role = self._aws.service_role(self._child(role), "glue.amazonaws.com", description, self)
        aws.iam.RolePolicy(
            self._child(f"{role}-policy"), role=iam_role.id, policy=policy, opts=pulumi.ResourceOptions(parent=self)
        )
        return iam_role

    def _create_crawler_role(self) -> aws.iam.Role:
        args = self._args
        policy = policy_json(
            etl_iam.crawler_policy,
            **self._aws.where,
            curated_arn=args.bucket_arns["curated"],
            key_arn=args.key_arn,
            database=self.database_name,
            prefixes=sorted({t.location.prefix for p in args.pipelines for t in p.tables}),
            tables=[t.glue_name for p in args.pipelines for t in p.tables],
        )
        return self._glue_role("crawler", "Glue crawlers: the lake's table prefixes only", policy)

    def _create_crawler(self, pipeline: Pipeline) -> aws.glue.Crawler:
        args = self._args
        curated = args.bucket_names["curated"]
        # One S3 target per declared table: the crawler names each table `<pipeline>_<folder>`, which is the
        # declared glue_name, so it adds partitions to the existing table instead of inventing another.
        paths = [
            pulumi.Output.from_input(curated).apply(lambda bucket, t=t: table_location(bucket, t))
            for t in pipeline.tables
        ]
        return aws.glue.Crawler(
            self._child(f"crawler-{pipeline.name}"),
            name=naming.crawler(args.project, args.environment, pipeline.name),
            description=f"Adds new partitions of the {pipeline.name} tables",
            database_name=self.database.name,
            role=self.crawler_role.arn,
            table_prefix=f"{pipeline.name}_",
            s3_targets=[aws.glue.CrawlerS3TargetArgs(path=path, exclusions=CRAWLER_EXCLUSIONS) for path in paths],
            configuration=json.dumps(CRAWLER_CONFIGURATION),
            security_configuration=self.security_configuration.name,
            schema_change_policy=aws.glue.CrawlerSchemaChangePolicyArgs(
                update_behavior=args.schema_update_behavior, delete_behavior=args.schema_delete_behavior
            ),
            recrawl_policy=aws.glue.CrawlerRecrawlPolicyArgs(recrawl_behavior=args.recrawl_behavior),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*self.tables.values(), *self.crawler_log_groups]),
        )


def glue_log_groups(
    parent: pulumi.Resource,
    parent_name: str,
    role: str,
    names: list[pulumi.Output[str]],
    *,
    retention_days: int,
    key_arn: pulumi.Input[str],
    moved_from: MovedFrom | None = None,
) -> list[aws.cloudwatch.LogGroup]:
    """The log groups Glue writes to under the security configuration, made first with the stack's retention
    and the lake key: Glue itself would create them with no retention, keeping the logs forever.

    With a security configuration that encrypts CloudWatch Logs, Glue composes the configuration's and the
    role's names into its log groups' ("Security configuration with continuous logging", AWS Glue Developer
    Guide; JobRun.LogGroupName, AWS Glue API Reference). Neither page spells the Glue 5.0 job and crawler names
    out; these are the ones Glue reports (GetCrawler's LastCrawl.LogGroup). Should Glue pick another name, it
    creates and encrypts its own group as before (the roles keep logs:CreateLogGroup and logs:AssociateKmsKey):
    only the retention is lost."""
    groups = []
    for index, name in enumerate(names):
        child = f"{parent_name}-{role}-{index}" if len(names) > 1 else f"{parent_name}-{role}"
        groups.append(
            aws.cloudwatch.LogGroup(
                child,
                name=name,
                retention_in_days=retention_days,
                kms_key_id=key_arn,
                opts=child_options(parent, parent_name, child, moved_from),
            )
        )
    return groups
