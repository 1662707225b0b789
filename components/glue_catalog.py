"""GlueCatalog: the lake's Glue database with a table per curated output, crawlers, and the Glue ETL path."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import naming
from components.context import AwsContext
from components.iam import etl as etl_iam
from components.iam import lambdas
from components.lambda_function import AsyncInvoke, PythonFunction, PythonFunctionArgs
from pipelines import PIPELINES, Pipeline, Step, Table, lake

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
GLUE_VERSION = "5.0"  # Spark 3.5, like EMR 7 and the jobs
# Glue 5.0 logs every job in real time to /aws-glue/jobs/..., so --enable-continuous-cloudwatch-log is gone ("Logging
# for AWS Glue jobs"); --enable-metrics is left out because the jobs make no GlueContext (the same scripts run on
# EMR), so Glue's job metrics would stay empty while the role needed cloudwatch:PutMetricData on "*".
GLUE_JOB_ARGUMENTS = {"--job-language": "python"}


@dataclass(frozen=True)
class GlueEtlArgs:
    job: str  # a jobs/ script whose pipeline step declares a Glue road (Step.glue_inputs)
    script_uri: pulumi.Input[str]
    py_files_uri: pulumi.Input[str]
    # The one thing that starts the job: None, each upload under its landing prefixes (a Lambda fires an on-demand
    # trigger); a cron()/rate() expression, a scheduled trigger only.
    schedule: str | None
    worker_type: str
    number_of_workers: int
    timeout_minutes: int
    starter_reserved_concurrency: int | None = None


@dataclass(frozen=True)
class GlueCatalogArgs:
    project: str
    environment: str
    bucket_names: Mapping[str, pulumi.Input[str]]  # raw, curated, scripts
    bucket_arns: Mapping[str, pulumi.Input[str]]
    key_arn: pulumi.Input[str]
    log_retention_days: int
    schema_update_behavior: str
    schema_delete_behavior: str
    recrawl_behavior: str
    etl: GlueEtlArgs
    pipelines: tuple[Pipeline, ...] = tuple(PIPELINES.values())


def table_location(curated_bucket: str, table: Table) -> str:
    return f"s3://{curated_bucket}/{table.location.prefix}"


class GlueCatalog(pulumi.ComponentResource):
    """Creates the stack's Glue database; an external Parquet table per declared curated table (columns and
    partition keys from pipelines/, so Athena works before any crawler ran); a Glue security configuration
    (KMS for CloudWatch logs, job bookmarks and S3); a crawler per pipeline over its tables' prefixes, with
    a role limited to them; the log groups Glue writes the crawlers' and the job's logs to, with retention and the
    lake key; and the Glue road of one step: a Glue 5.0 job running its jobs/ script on the step's
    own landing prefixes, started by exactly one trigger (on demand, fired by a starter Lambda when a file lands,
    or scheduled), and a conditional trigger that crawls the pipeline's tables after each successful run."""

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
        self.crawler_log_groups = self._create_glue_log_groups(
            "crawler-logs",
            [
                pulumi.Output.concat(
                    "/aws-glue/crawlers-role/", self.crawler_role.name, "-", self.security_configuration.name
                )
            ],
        )
        self.crawlers = {p.name: self._create_crawler(p) for p in args.pipelines}
        self.crawler_names = {name: crawler.name for name, crawler in self.crawlers.items()}
        self._create_etl(args.etl)
        self.register_outputs(
            {"database_name": self.database.name, "crawler_names": self.crawler_names, "etl_job": self.etl_job.name}
        )

    def _child(self, role: str) -> str:
        return f"{self._name}-{role}"

    def _prefix(self) -> str:
        return naming.prefix(self._args.project, self._args.environment)

    def _glue_arn(self, resource: str) -> pulumi.Output[str]:
        return pulumi.Output.concat(
            "arn:",
            self._aws.partition,
            ":glue:",
            self._aws.region,
            ":",
            self._aws.account_id,
            ":",
            resource,
        )

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
            partition_keys=[aws.glue.CatalogTablePartitionKeyArgs(**column(c)) for c in table.partition_keys],
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
        prefixes = sorted({t.location.prefix for p in args.pipelines for t in p.tables})
        tables = [t.glue_name for p in args.pipelines for t in p.tables]
        policy = pulumi.Output.all(
            self._aws.partition, self._aws.region, self._aws.account_id, args.bucket_arns["curated"], args.key_arn
        ).apply(
            lambda v: json.dumps(
                etl_iam.crawler_policy(
                    partition=v[0],
                    region=v[1],
                    account_id=v[2],
                    curated_arn=v[3],
                    key_arn=v[4],
                    database=self.database_name,
                    prefixes=prefixes,
                    tables=tables,
                )
            )
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

    def _create_glue_log_groups(self, role: str, names: list[pulumi.Output[str]]) -> list[aws.cloudwatch.LogGroup]:
        """The log groups Glue writes to under the security configuration, made first with the stack's retention
        and the lake key: Glue itself would create them with no retention, keeping the logs forever.

        With a security configuration that encrypts CloudWatch Logs, Glue composes the configuration's and the
        role's names into its log groups' ("Security configuration with continuous logging", AWS Glue Developer
        Guide; JobRun.LogGroupName, AWS Glue API Reference). Neither page spells the Glue 5.0 job and crawler names
        out; these are the ones Glue reports (GetCrawler's LastCrawl.LogGroup). Should Glue pick another name, it
        creates and encrypts its own group as before (the roles keep logs:CreateLogGroup and logs:AssociateKmsKey):
        only the retention is lost."""
        return [
            aws.cloudwatch.LogGroup(
                self._child(f"{role}-{index}" if len(names) > 1 else role),
                name=name,
                retention_in_days=self._args.log_retention_days,
                kms_key_id=self._args.key_arn,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for index, name in enumerate(names)
        ]

    def _create_etl(self, etl: GlueEtlArgs) -> None:
        args = self._args
        pipeline, step = _glue_step(args.pipelines, etl.job)
        zone_buckets = {zone: args.bucket_names[zone] for zone in ("raw", "curated")}
        job_arguments = {
            flag: pulumi.Output.concat("s3://", zone_buckets[location.zone], "/", location.prefix)
            for flag, location in step.glue_args()
        }
        # The Glue road's own landing prefixes: the EMR road reads other ones, so an upload starts one runtime.
        self.landing_prefixes = tuple(location.prefix for _, location in step.glue_inputs)
        self.etl_role = self._glue_role("etl-role", f"Glue job {etl.job}: the lake's data and key", self._etl_policy())
        # Glue 5.0 writes a job's driver and executor logs to .../error and its stdout to .../output ("Logging for AWS
        # Glue jobs"), under a name made of the security configuration and the role when one encrypts them.
        job_logs = pulumi.Output.concat(
            "/aws-glue/jobs/", self.security_configuration.name, "-role/", self.etl_role.name
        )
        self.etl_log_groups = self._create_glue_log_groups(
            "etl-logs", [pulumi.Output.concat(job_logs, "/", stream) for stream in ("error", "output")]
        )
        self.etl_job = aws.glue.Job(
            self._child("etl-job"),
            name=f"{self._prefix()}-{etl.job}",
            description=f"jobs/{etl.job}.py on Glue {GLUE_VERSION} (the same script EMR runs)",
            role_arn=self.etl_role.arn,
            glue_version=GLUE_VERSION,
            worker_type=etl.worker_type,
            number_of_workers=etl.number_of_workers,
            timeout=etl.timeout_minutes,
            max_retries=0,
            # One run at a time; a start during a run waits for it (WAITING) instead of failing, so a file that
            # lands mid-run is still read ("AWS Glue job run statuses": job run queuing).
            execution_property=aws.glue.JobExecutionPropertyArgs(max_concurrent_runs=1),
            job_run_queuing_enabled=True,
            command=aws.glue.JobCommandArgs(name="glueetl", script_location=etl.script_uri, python_version="3"),
            security_configuration=self.security_configuration.name,
            default_arguments={
                **job_arguments,
                **GLUE_JOB_ARGUMENTS,
                "--extra-py-files": etl.py_files_uri,
                "--TempDir": pulumi.Output.concat("s3://", args.bucket_names["scripts"], "/", lake.GLUE_TEMP.prefix),
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.etl_log_groups),
        )
        # A conditional trigger fires only for runs a trigger started ("AWS Glue triggers": dependent jobs and
        # crawlers), so the job is always started through a trigger, never by StartJobRun.
        self.start_trigger = self._start_trigger(etl)
        aws.glue.Trigger(
            self._child("trigger-catalogue-output"),
            name=f"{self._prefix()}-{etl.job}-catalogue-output",
            type="CONDITIONAL",
            predicate=aws.glue.TriggerPredicateArgs(
                conditions=[
                    aws.glue.TriggerPredicateConditionArgs(
                        job_name=self.etl_job.name, state="SUCCEEDED", logical_operator="EQUALS"
                    )
                ]
            ),
            actions=[aws.glue.TriggerActionArgs(crawler_name=self.crawlers[pipeline.name].name)],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.starter = self._create_starter(etl) if etl.schedule is None else None

    def _start_trigger(self, etl: GlueEtlArgs) -> aws.glue.Trigger:
        """The one thing that starts the job: a scheduled trigger, or an on-demand one the starter Lambda fires."""
        kind, role = ("SCHEDULED", "schedule") if etl.schedule else ("ON_DEMAND", "on-upload")
        return aws.glue.Trigger(
            self._child(f"trigger-{role}"),
            name=f"{self._prefix()}-{etl.job}-{role}",
            type=kind,
            schedule=etl.schedule,
            actions=[aws.glue.TriggerActionArgs(job_name=self.etl_job.name)],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _etl_policy(self) -> pulumi.Output[str]:
        args = self._args
        return pulumi.Output.all(
            self._aws.partition,
            self._aws.region,
            self._aws.account_id,
            args.bucket_arns["raw"],
            args.bucket_arns["curated"],
            args.bucket_arns["scripts"],
            args.key_arn,
        ).apply(
            lambda v: json.dumps(
                etl_iam.glue_job_policy(
                    partition=v[0],
                    region=v[1],
                    account_id=v[2],
                    raw_arn=v[3],
                    curated_arn=v[4],
                    scripts_arn=v[5],
                    key_arn=v[6],
                )
            )
        )

    def _create_starter(self, etl: GlueEtlArgs) -> PythonFunction:
        job_arn = self._glue_arn(pulumi.Output.concat("job/", self.etl_job.name))
        trigger_arn = self._glue_arn(pulumi.Output.concat("trigger/", self.start_trigger.name))
        policy = pulumi.Output.all(job_arn, trigger_arn).apply(
            lambda arns: json.dumps(lambdas.glue_starter_policy(*arns))
        )
        landing = ", ".join(self.landing_prefixes)
        return PythonFunction(
            self._child("starter"),
            PythonFunctionArgs(
                module="start_glue_job",
                function_name=f"{self._prefix()}-start-{etl.job.replace('_', '-')}",
                description=f"Starts the Glue job {etl.job} when a file lands under {landing}",
                scripts_bucket=self._args.bucket_names["scripts"],
                key_arn=self._args.key_arn,
                log_retention_days=self._args.log_retention_days,
                policy=policy,
                environment={"JOB_NAME": self.etl_job.name, "TRIGGER_NAME": self.start_trigger.name},
                reserved_concurrency=etl.starter_reserved_concurrency,
                async_invoke=AsyncInvoke(),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )


def _glue_step(pipelines: tuple[Pipeline, ...], job: str) -> tuple[Pipeline, Step]:
    """The pipeline and step whose Glue road runs `job`."""
    found = [(p, s) for p in pipelines for s in p.steps if s.job == job and s.runs_on_glue]
    if not found:
        raise ValueError(f"GlueEtlArgs.job {job!r}: no pipeline step declares a Glue road for it (Step.glue_inputs)")
    return found[0]
