"""GlueEtl: the Glue road of one pipeline step, the second ETL runtime beside EmrEtl: a Glue 5.1 job running the
step's jobs/ script on the step's own landing prefixes, committing to the lake's Iceberg tables, and the one trigger
that starts it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import iceberg, naming
from components.context import AwsContext, policy_json
from components.glue_catalog import glue_log_groups
from components.iam import etl as etl_iam
from components.iam import lambdas
from components.lambda_function import AsyncInvoke, PythonFunction, PythonFunctionArgs
from components.moves import MovedFrom, child_options
from pipelines import PIPELINES, Pipeline, Step, lake

# Spark 3.5.6 and Iceberg 1.10.0, as EMR 7.12 ("Migrating AWS Glue for Spark jobs to AWS Glue version 5.1", AWS Glue
# Developer Guide, docs.aws.amazon.com/glue/latest/dg/migrating-version-51.html). Its breaking change: S3A replaces
# EMRFS as the S3 connector. The jobs pass s3:// URIs, which S3A serves too, and set no fs.s3.* (EMRFS) option;
# Iceberg's own S3FileIO does the table I/O.
GLUE_VERSION = "5.1"
# Glue 5 logs every job in real time to /aws-glue/jobs/..., so --enable-continuous-cloudwatch-log is gone ("Logging
# for AWS Glue jobs"); --enable-metrics is left out because the jobs make no GlueContext (the same scripts run on
# EMR), so Glue's job metrics would stay empty while the role needed cloudwatch:PutMetricData on "*".
# --datalake-formats iceberg puts Glue's Iceberg on the classpath ("Using the Iceberg framework in AWS Glue").
GLUE_JOB_ARGUMENTS = {"--job-language": "python", "--datalake-formats": "iceberg"}


@dataclass(frozen=True)
class GlueEtlArgs:
    project: str
    environment: str
    job: str  # a jobs/ script whose pipeline step declares a Glue road (Step.glue_inputs)
    script_uri: pulumi.Input[str]  # JobCode.shipped.script_uris[job]
    py_files_uri: pulumi.Input[str]  # JobCode.shipped.py_files_uri
    # The one thing that starts the job: None, each upload under its landing prefixes (a Lambda fires an on-demand
    # trigger); a cron()/rate() expression, a scheduled trigger only.
    schedule: str | None
    worker_type: str
    number_of_workers: int
    timeout_minutes: int
    bucket_names: Mapping[str, pulumi.Input[str]]  # raw, curated, scripts
    bucket_arns: Mapping[str, pulumi.Input[str]]
    key_arn: pulumi.Input[str]
    log_retention_days: int
    # GlueCatalog's: the security configuration Glue encrypts the job's logs, bookmarks and S3 writes with, and the
    # lake's database, whose Iceberg tables the job commits to.
    security_configuration: pulumi.Input[str]
    glue_database: str
    starter_reserved_concurrency: int | None = None
    pipelines: tuple[Pipeline, ...] = tuple(PIPELINES.values())
    # Before issue 11 the Glue road was part of GlueCatalog.
    moved_from: MovedFrom | None = None


class GlueEtl(pulumi.ComponentResource):
    """Creates, for the step whose Glue road runs `job`: a role limited to the lake's data and key, Iceberg commits on
    the lake's tables and Glue's job logs; the job's log groups (retention, lake key); the Glue 5.1 job (Iceberg on,
    told the catalog and database; one run at a time, later starts queued); and exactly one trigger that starts it
    (on demand, fired by a starter Lambda when a file lands under the step's landing prefixes, or scheduled)."""

    def __init__(self, name: str, args: GlueEtlArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("datalake:components:GlueEtl", name, None, opts)
        self._name, self._args = name, args
        self._aws = AwsContext.of(self)
        self._prefix = naming.prefix(args.project, args.environment)
        _, step = _glue_step(args.pipelines, args.job)
        # The Glue road's own landing prefixes: the EMR road reads other ones, so an upload starts one runtime.
        self.landing_prefixes = tuple(location.prefix for _, location in step.glue_inputs)
        self.role = self._create_role()
        # Glue 5 writes a job's driver and executor logs to .../error and its stdout to .../output ("Logging for AWS
        # Glue jobs"); under a security configuration that encrypts them, the group's name is made of the
        # configuration's and the role's, as Glue reports it (GetJobRun's LogGroupName): no AWS page spells this
        # form out (see glue_log_groups for what happens if Glue picks another).
        job_logs = pulumi.Output.concat("/aws-glue/jobs/", args.security_configuration, "-role/", self.role.name)
        self.log_groups = glue_log_groups(
            self,
            name,
            "etl-logs",
            [pulumi.Output.concat(job_logs, "/", stream) for stream in ("error", "output")],
            retention_days=args.log_retention_days,
            key_arn=args.key_arn,
            moved_from=args.moved_from,
        )
        self.job = self._create_job(step)
        self.start_trigger = self._start_trigger()
        self.starter = self._create_starter() if args.schedule is None else None
        self.register_outputs(
            {
                "job": self.job.name,
                "landing_prefixes": list(self.landing_prefixes),
                "dead_letter_queue": self.starter.failures.url if self.starter and self.starter.failures else None,
            }
        )

    def _child(self, role: str) -> str:
        return f"{self._name}-{role}"

    def _opts(self, role: str, **options) -> pulumi.ResourceOptions:
        return child_options(self, self._name, self._child(role), self._args.moved_from, **options)

    def _glue_arn(self, resource: pulumi.Input[str]) -> pulumi.Output[str]:
        aws_ = self._aws
        return pulumi.Output.concat("arn:", aws_.partition, ":glue:", aws_.region, ":", aws_.account_id, ":", resource)

    def _create_role(self) -> aws.iam.Role:
        args = self._args
        role = self._aws.service_role(
            self._child("etl-role"),
            "glue.amazonaws.com",
            f"Glue job {args.job}: the lake's data and key",
            self,
            aliases=self._opts("etl-role").aliases,
        )
        policy = policy_json(
            etl_iam.glue_job_policy,
            **self._aws.where,
            raw_arn=args.bucket_arns["raw"],
            curated_arn=args.bucket_arns["curated"],
            scripts_arn=args.bucket_arns["scripts"],
            key_arn=args.key_arn,
            database=args.glue_database,
            tables=[t.glue_name for p in args.pipelines for t in p.tables],
        )
        aws.iam.RolePolicy(
            self._child("etl-role-policy"), role=role.id, policy=policy, opts=self._opts("etl-role-policy")
        )
        return role

    def _create_job(self, step: Step) -> aws.glue.Job:
        args = self._args
        zone_buckets = {zone: args.bucket_names[zone] for zone in ("raw", "curated")}
        job_arguments = {
            flag: pulumi.Output.concat("s3://", zone_buckets[location.zone], "/", location.prefix)
            for flag, location in step.glue_args()
        }
        return aws.glue.Job(
            self._child("etl-job"),
            name=f"{self._prefix}-{args.job}",
            description=f"jobs/{args.job}.py on Glue {GLUE_VERSION} (the same script EMR runs)",
            role_arn=self.role.arn,
            glue_version=GLUE_VERSION,
            worker_type=args.worker_type,
            number_of_workers=args.number_of_workers,
            timeout=args.timeout_minutes,
            max_retries=0,
            # One run at a time; a start during a run waits for it (WAITING) instead of failing, so a file that
            # lands mid-run is still read ("AWS Glue job run statuses": job run queuing).
            execution_property=aws.glue.JobExecutionPropertyArgs(max_concurrent_runs=1),
            job_run_queuing_enabled=True,
            command=aws.glue.JobCommandArgs(name="glueetl", script_location=args.script_uri, python_version="3"),
            security_configuration=args.security_configuration,
            default_arguments={
                **job_arguments,
                **glue_catalog_arguments(args.glue_database),
                **GLUE_JOB_ARGUMENTS,
                "--conf": pulumi.Output.from_input(args.bucket_names["curated"]).apply(
                    lambda bucket: iceberg.glue_conf_argument(f"s3://{bucket}/{iceberg.ICEBERG_ROOT}")
                ),
                "--extra-py-files": args.py_files_uri,
                "--TempDir": pulumi.Output.concat("s3://", args.bucket_names["scripts"], "/", lake.GLUE_TEMP.prefix),
            },
            opts=self._opts("etl-job", depends_on=self.log_groups),
        )

    def _start_trigger(self) -> aws.glue.Trigger:
        """The one thing that starts the job: a scheduled trigger, or an on-demand one the starter Lambda fires."""
        args = self._args
        kind, role = ("SCHEDULED", "schedule") if args.schedule else ("ON_DEMAND", "on-upload")
        return aws.glue.Trigger(
            self._child(f"trigger-{role}"),
            name=f"{self._prefix}-{args.job}-{role}",
            type=kind,
            schedule=args.schedule,
            actions=[aws.glue.TriggerActionArgs(job_name=self.job.name)],
            opts=self._opts(f"trigger-{role}"),
        )

    def _create_starter(self) -> PythonFunction:
        args = self._args
        policy = policy_json(
            lambdas.glue_starter_policy,
            job_arn=self._glue_arn(pulumi.Output.concat("job/", self.job.name)),
            trigger_arn=self._glue_arn(pulumi.Output.concat("trigger/", self.start_trigger.name)),
        )
        landing = ", ".join(self.landing_prefixes)
        return PythonFunction(
            self._child("starter"),
            PythonFunctionArgs(
                module="start_glue_job",
                function_name=f"{self._prefix}-start-{args.job.replace('_', '-')}",
                description=f"Starts the Glue job {args.job} when a file lands under {landing}",
                scripts_bucket=args.bucket_names["scripts"],
                key_arn=args.key_arn,
                log_retention_days=args.log_retention_days,
                policy=policy,
                environment={"JOB_NAME": self.job.name, "TRIGGER_NAME": self.start_trigger.name},
                reserved_concurrency=args.starter_reserved_concurrency,
                async_invoke=AsyncInvoke(),
            ),
            # Its children follow it: the engine derives their old names from its own.
            opts=self._opts("starter"),
        )


def glue_catalog_arguments(database: str) -> dict[str, str]:
    """The job's `--catalog glue_catalog --database <lake database>` as Glue default arguments."""
    flags = iceberg.job_catalog_arguments(database)
    return dict(zip(flags[::2], flags[1::2], strict=True))


def _glue_step(pipelines: tuple[Pipeline, ...], job: str) -> tuple[Pipeline, Step]:
    """The pipeline and step whose Glue road runs `job`."""
    found = [(p, s) for p in pipelines for s in p.steps if s.job == job and s.runs_on_glue]
    if not found:
        raise ValueError(f"GlueEtlArgs.job {job!r}: no pipeline step declares a Glue road for it (Step.glue_inputs)")
    return found[0]
