"""GlueCatalog: the lake's Glue database with an Iceberg table per curated output and its table optimizers, and the
raw-zone exploration crawler."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import naming
from components.context import AwsContext, policy_json
from components.iam import catalog as catalog_iam
from components.moves import MovedFrom, child_options
from pipelines import PIPELINES, Pipeline, Table

# Each curated table is an Iceberg table (format v2) the Glue catalog creates from its declaration; after that the
# engine (the jobs' commits, the optimizers) owns it. Glue's CreateTable takes OpenTableFormatInput.IcebergInput
# with MetadataOperation CREATE only ("IcebergInput", AWS Glue API Reference,
# docs.aws.amazon.com/glue/latest/webapi/API_IcebergInput.html), and any later change to it through the table API
# breaks the table or replaces it (pulumi/pulumi-aws#4618, hashicorp/terraform-provider-aws#36641): Pulumi ignores
# every attribute the engine writes (ENGINE_OWNED) and protects prod tables.
ICEBERG_METADATA_OPERATION = "CREATE"
ICEBERG_FORMAT_VERSION = "2"
ENGINE_OWNED = ["openTableFormatInput", "parameters", "storageDescriptor", "partitionKeys", "tableType", "description"]
# Iceberg spec ("Partition Specs", iceberg.apache.org/spec/#partition-specs): partition field ids start at 1000, so
# they never collide with schema field ids; the first spec and sort order of a new table are 0 and 1 (0 is unsorted).
FIRST_PARTITION_FIELD_ID = 1000
SORT_ORDER_ID = 1
# The three Glue table optimizers ("Optimizing Iceberg tables", AWS Glue Developer Guide;
# CreateTableOptimizer Type: compaction | retention | orphan_file_deletion).
OPTIMIZER_TYPES = ("compaction", "retention", "orphan_file_deletion")
# Glue's managed compaction bin-packs only ("Considerations and limitations", AWS Glue Developer Guide,
# docs.aws.amazon.com/glue/latest/dg/optimizer-notes.html: no regular or z-order sorting).
COMPACTION_STRATEGY = "binpack"
# The raw-zone crawler is for exploration: nothing starts it but a user (`aws glue start-crawler`), and it
# catalogues into a database of its own, never the lake's, whose tables Pulumi owns.
RAW_CRAWLER_EXCLUSIONS = ["**/_SUCCESS", "**/_temporary/**", "**/.*"]
RAW_CRAWLER_CONFIGURATION = {"Version": 1.0, "Grouping": {"TableGroupingPolicy": "CombineCompatibleSchemas"}}


@dataclass(frozen=True)
class TableMaintenance:
    """The Glue table optimizers' settings (settings.MaintenanceSettings)."""

    enabled: bool = True
    snapshot_retention_days: int = 7
    snapshots_to_retain: int = 10
    orphan_file_retention_days: int = 3
    compaction_min_input_files: int = 100


@dataclass(frozen=True)
class GlueCatalogArgs:
    project: str
    environment: str
    bucket_names: Mapping[str, pulumi.Input[str]]  # raw, curated
    bucket_arns: Mapping[str, pulumi.Input[str]]
    key_arn: pulumi.Input[str]
    log_retention_days: int
    schema_update_behavior: str
    schema_delete_behavior: str
    recrawl_behavior: str
    maintenance: TableMaintenance = TableMaintenance()
    # Prod: the tables cannot be deleted by an update or a destroy (their data is under them).
    protect_tables: bool = False
    pipelines: tuple[Pipeline, ...] = tuple(PIPELINES.values())


def table_location(curated_bucket: str, table: Table) -> str:
    return f"s3://{curated_bucket}/{table.location.prefix}"


def iceberg_type_json(type_: str) -> str:
    """A declared Iceberg type as the JSON document Glue's IcebergStructField.Type takes ("IcebergStructField", AWS
    Glue API Reference: Type is a JSON value): a primitive as a JSON string (`"long"`), a nested type as its object."""
    return type_ if type_.startswith("{") else json.dumps(type_)


def iceberg_table_input(table: Table, location: str) -> dict:
    """The IcebergTableInput of `table` (pulumi-aws CatalogTableOpenTableFormatInputIcebergInputIcebergTableInputArgs,
    as a dict): its schema with field ids, partition spec, sort order and properties, all from pipelines/."""
    fields = table.iceberg_fields()
    ids = {f.name: f.id for f in fields}
    schema = {
        "schema_id": 0,
        "type": "struct",
        "fields": [
            {
                "id": f.id,
                "name": f.name,
                "type": iceberg_type_json(f.type),
                "required": f.required,
                "doc": f.doc or None,
            }
            for f in fields
        ],
    }
    spec = {
        "spec_id": 0,
        "fields": [
            {
                "source_id": ids[p.column],
                "field_id": FIRST_PARTITION_FIELD_ID + index,
                "transform": p.transform,
                "name": p.name,
            }
            for index, p in enumerate(table.partitioning)
        ],
    }
    result = {"location": location, "schema": schema, "partition_spec": spec, "properties": table.properties}
    if table.sort_order:
        result["sort_order"] = {
            "order_id": SORT_ORDER_ID,
            "fields": [
                {"source_id": ids[c], "transform": "identity", "direction": "asc", "null_order": "nulls-first"}
                for c in table.sort_order
            ],
        }
    return result


def optimizer_configuration(kind: str, maintenance: TableMaintenance, role_arn: pulumi.Input[str]) -> dict:
    """One optimizer's configuration (pulumi-aws CatalogTableOptimizerConfigurationArgs, as a dict)."""
    config: dict = {"enabled": maintenance.enabled, "role_arn": role_arn}
    if kind == "compaction":
        iceberg = {"strategy": COMPACTION_STRATEGY, "min_input_files": maintenance.compaction_min_input_files}
        config["compaction_configuration"] = {"iceberg_configuration": iceberg}
    elif kind == "retention":
        # Expiration keeps every branch's head: the audit branch's unpublished snapshot survives until the next run
        # moves the branch ("Branching and Tagging", Apache Iceberg docs: snapshots referenced by a branch or tag are
        # not expired). Files unique to expired snapshots go too, or storage would grow without bound.
        iceberg = {
            "snapshot_retention_period_in_days": maintenance.snapshot_retention_days,
            "number_of_snapshots_to_retain": maintenance.snapshots_to_retain,
            "clean_expired_files": True,
        }
        config["retention_configuration"] = {"iceberg_configuration": iceberg}
    elif kind == "orphan_file_deletion":
        iceberg = {"orphan_file_retention_period_in_days": maintenance.orphan_file_retention_days}
        config["orphan_file_deletion_configuration"] = {"iceberg_configuration": iceberg}
    else:
        raise ValueError(f"optimizer type {kind!r} is not one of {OPTIMIZER_TYPES}")
    return config


class GlueCatalog(pulumi.ComponentResource):
    """Creates the stack's Glue database; an Iceberg table per declared curated table (schema with field ids,
    partition spec, sort order and properties from pipelines/, under its own iceberg/ prefix, so Athena reads it
    before the first run), ignoring afterwards what the engine owns and protected in prod; the three Glue table
    optimizers of each (compaction, snapshot retention, orphan-file deletion) under a role limited to those tables;
    a Glue security configuration (KMS for CloudWatch logs, job bookmarks and S3, for the crawler and GlueEtl's job);
    and the raw-zone exploration crawler (on demand, into a database of its own) with its role and log group."""

    def __init__(self, name: str, args: GlueCatalogArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("datalake:components:GlueCatalog", name, None, opts)
        self._name, self._args = name, args
        self._aws = AwsContext.of(self)
        self.database_name = naming.glue_database(args.project, args.environment)
        self.database = aws.glue.CatalogDatabase(
            self._child("database"),
            name=self.database_name,
            description=f"Curated Iceberg tables of the {args.project} {args.environment} data lake",
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect_tables),
        )
        self._tables = [table for pipeline in args.pipelines for table in pipeline.tables]
        self.tables = {table.glue_name: self._create_table(table) for table in self._tables}
        self.optimizer_role = self._create_optimizer_role()
        self.optimizers = {
            (table.glue_name, kind): self._create_optimizer(table, kind)
            for table in self._tables
            for kind in OPTIMIZER_TYPES
        }
        self.security_configuration = self._create_security_configuration()
        self.raw_database_name = f"{self.database_name}_raw"
        self.raw_database = aws.glue.CatalogDatabase(
            self._child("raw-database"),
            name=self.raw_database_name,
            description=f"What the exploration crawler finds in the {args.project} {args.environment} raw zone",
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.crawler_role = self._create_crawler_role()
        # Glue names a crawler's log group after its role and security configuration.
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
        self.raw_crawler = self._create_raw_crawler()
        self.register_outputs(
            {
                "database_name": self.database.name,
                "raw_database_name": self.raw_database.name,
                "raw_crawler_name": self.raw_crawler.name,
                "optimizer_role_arn": self.optimizer_role.arn,
                "security_configuration": self.security_configuration.name,
            }
        )

    def _child(self, role: str) -> str:
        return f"{self._name}-{role}"

    def _prefix(self) -> str:
        return naming.prefix(self._args.project, self._args.environment)

    def _create_table(self, table: Table) -> aws.glue.CatalogTable:
        table_input = pulumi.Output.from_input(self._args.bucket_names["curated"]).apply(
            lambda bucket: iceberg_table_input(table, table_location(bucket, table))
        )
        return aws.glue.CatalogTable(
            # A child of its own, not the Hive table's (`-table-<glue_name>`): under the old URN, ignore_changes would
            # keep the Hive definition. Pulumi creates before it deletes, so a deployed stack removes its Hive tables
            # first (README, Upgrading); otherwise CreateTable fails with AlreadyExistsException and nothing changes.
            self._child(f"iceberg-{table.glue_name}"),
            name=table.glue_name,
            database_name=self.database.name,
            open_table_format_input=aws.glue.CatalogTableOpenTableFormatInputArgs(
                iceberg_input=table_input.apply(
                    lambda value: {
                        "metadata_operation": ICEBERG_METADATA_OPERATION,
                        "version": ICEBERG_FORMAT_VERSION,
                        "iceberg_table_input": value,
                    }
                )
            ),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=ENGINE_OWNED, protect=self._args.protect_tables),
        )

    def _glue_role(
        self, role: str, description: str, policy: pulumi.Input[str]
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        """A role only Glue may assume, with its one inline policy."""
        iam_role = self._aws.service_role(self._child(role), "glue.amazonaws.com", description, self)
        attached = aws.iam.RolePolicy(
            self._child(f"{role}-policy"), role=iam_role.id, policy=policy, opts=pulumi.ResourceOptions(parent=self)
        )
        return iam_role, attached

    def _create_optimizer_role(self) -> aws.iam.Role:
        args = self._args
        policy = policy_json(
            catalog_iam.optimizer_policy,
            **self._aws.where,
            curated_arn=args.bucket_arns["curated"],
            key_arn=args.key_arn,
            database=self.database_name,
            tables=[t.glue_name for t in self._tables],
            prefixes=sorted(t.location.prefix for t in self._tables),
        )
        role, self.optimizer_policy = self._glue_role(
            "optimizer", "Glue table optimizers: the lake's Iceberg tables only", policy
        )
        return role

    def _create_optimizer(self, table: Table, kind: str) -> aws.glue.CatalogTableOptimizer:
        config = optimizer_configuration(kind, self._args.maintenance, self.optimizer_role.arn)
        return aws.glue.CatalogTableOptimizer(
            self._child(f"optimizer-{table.glue_name}-{kind.replace('_', '-')}"),
            catalog_id=self._aws.account_id,
            database_name=self.database.name,
            table_name=self.tables[table.glue_name].name,
            type=kind,
            configuration=config,
            # Glue assumes the role when the optimizer is created: its policy must be in place first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.optimizer_policy]),
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

    def _raw_prefixes(self) -> list[str]:
        return sorted({p.raw.prefix for p in self._args.pipelines})

    def _create_crawler_role(self) -> aws.iam.Role:
        args = self._args
        policy = policy_json(
            catalog_iam.raw_crawler_policy,
            **self._aws.where,
            raw_arn=args.bucket_arns["raw"],
            key_arn=args.key_arn,
            database=self.raw_database_name,
            prefixes=self._raw_prefixes(),
        )
        role, _ = self._glue_role("crawler", "Glue raw-zone crawler: the pipelines' raw prefixes only", policy)
        return role

    def _create_raw_crawler(self) -> aws.glue.Crawler:
        args = self._args
        raw = pulumi.Output.from_input(args.bucket_names["raw"])
        targets = [
            aws.glue.CrawlerS3TargetArgs(
                path=raw.apply(lambda bucket, prefix=prefix: f"s3://{bucket}/{prefix}"),
                exclusions=RAW_CRAWLER_EXCLUSIONS,
            )
            for prefix in self._raw_prefixes()
        ]
        return aws.glue.Crawler(
            self._child("crawler-raw"),
            name=naming.crawler(args.project, args.environment, "raw"),
            description="On demand: catalogues the raw zone for exploration (the curated tables need no crawler)",
            database_name=self.raw_database.name,
            role=self.crawler_role.arn,
            s3_targets=targets,
            configuration=json.dumps(RAW_CRAWLER_CONFIGURATION),
            security_configuration=self.security_configuration.name,
            schema_change_policy=aws.glue.CrawlerSchemaChangePolicyArgs(
                update_behavior=args.schema_update_behavior, delete_behavior=args.schema_delete_behavior
            ),
            recrawl_policy=aws.glue.CrawlerRecrawlPolicyArgs(recrawl_behavior=args.recrawl_behavior),
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.crawler_log_groups),
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
