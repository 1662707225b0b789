"""The datalake program: validate the stack's settings, wire the components, export what analysts use."""

import pulumi
import pulumi_aws as aws

from components import naming
from components.athena_api import AthenaApi, AthenaApiArgs
from components.athena_workgroup import AthenaWorkgroup, AthenaWorkgroupArgs
from components.data_lake import DataLake, DataLakeArgs, ZoneLifecycle
from components.emr_etl import ClusterSizing, EmrEtl, EmrEtlArgs, ServerlessCapacity
from components.glue_catalog import GlueCatalog, GlueCatalogArgs, TableMaintenance
from components.glue_etl import GlueEtl, GlueEtlArgs
from components.iceberg import CATALOG as ICEBERG_CATALOG
from components.job_code import JobCode, JobCodeArgs
from components.moves import MovedFrom
from components.orders_ingest import OrdersIngest, OrdersIngestArgs
from components.raw_events import RawEvents, RawEventsArgs, RawEventTarget
from functions.query_parameters import inline_parameters
from pipelines import PIPELINES, orders
from pipelines.queries import load_queries
from settings import Settings, SettingsError, load_settings

PROJECT = "datalake"


def data_lake_args(settings: Settings) -> DataLakeArgs:
    lake = settings.lake
    raw_tiers = [(lake.raw_transition_days, lake.raw_storage_class)]
    if lake.raw_archive_days is not None:
        raw_tiers.append((lake.raw_archive_days, "GLACIER"))
    return DataLakeArgs(
        lifecycle={
            "raw": ZoneLifecycle(transitions=tuple(raw_tiers)),
            "curated": ZoneLifecycle(transitions=((lake.curated_transition_days, lake.curated_storage_class),)),
            "scripts": ZoneLifecycle(transitions=((lake.scripts_transition_days, "INTELLIGENT_TIERING"),)),
            "athena-results": ZoneLifecycle(expiration_days=lake.athena_results_expiration_days),
        },
        noncurrent_version_expiration_days=lake.noncurrent_version_expiration_days,
        abort_multipart_upload_days=lake.abort_multipart_upload_days,
        access_log_expiration_days=lake.access_log_expiration_days,
        kms_deletion_window_days=lake.kms_deletion_window_days,
        protect=settings.protect_data,
        force_destroy=lake.allow_data_destroy,
    )


def emr_sizing(settings: Settings) -> tuple[ClusterSizing, ServerlessCapacity]:
    emr = settings.emr
    return (
        ClusterSizing(
            primary_instance_type=emr.primary_instance_type,
            core_instance_type=emr.core_instance_type,
            core_instance_count=emr.core_instance_count,
            spot_core_instance_count=emr.spot_core_instance_count,
            ebs_volume_gb=emr.ebs_volume_gb,
            idle_timeout_minutes=emr.idle_timeout_minutes,
            step_timeout_minutes=emr.step_timeout_minutes,
        ),
        ServerlessCapacity(
            max_vcpu=emr.serverless_max_vcpu,
            max_memory_gb=emr.serverless_max_memory_gb,
            idle_minutes=emr.serverless_idle_minutes,
            job_timeout_minutes=emr.step_timeout_minutes,
        ),
    )


region = pulumi.Config("aws").require("region")
try:
    settings = load_settings(pulumi.Config(PROJECT).get_object("settings"), region=region)
except SettingsError as error:
    # Stop before any resource is registered; RunError prints the message without a stack trace.
    raise pulumi.RunError(str(error)) from None

env = settings.environment
provider = aws.Provider(
    "aws",
    region=region,
    default_tags=aws.ProviderDefaultTagsArgs(
        tags={
            "project": PROJECT,
            "environment": env,
            "owner": settings.owner,
            "cost-centre": settings.cost_centre,
            "managed-by": "pulumi",
        }
    ),
)
with_provider = pulumi.ResourceOptions(providers=[provider])
prefix = naming.prefix(PROJECT, env)
database = naming.glue_database(PROJECT, env)
queries = load_queries()

lake = DataLake(prefix, data_lake_args(settings), with_provider)
buckets, arns = lake.bucket_names, lake.bucket_arns

# Before issue 11, EmrEtl shipped the job code, AthenaApi owned the workgroup and GlueCatalog ran the Glue road:
# their resources keep the names they were deployed under, behind aliases (README, Upgrading).
code = JobCode(
    f"{prefix}-code",
    JobCodeArgs(
        scripts_bucket=buckets["scripts"],
        moved_from=MovedFrom.component(f"{prefix}-emr", "datalake:components:EmrEtl"),
    ),
    with_provider,
)

workgroup = AthenaWorkgroup(
    f"{prefix}-analytics",
    AthenaWorkgroupArgs(
        project=PROJECT,
        environment=env,
        database=database,
        results_bucket=buckets["athena-results"],
        key_arn=lake.key_arn,
        bytes_scanned_cutoff_mb=settings.athena.bytes_scanned_cutoff_mb,
        publish_cloudwatch_metrics=settings.athena.publish_cloudwatch_metrics,
        force_destroy=settings.lake.allow_data_destroy,
        queries=queries,
        moved_from=MovedFrom.component(f"{prefix}-athena", "datalake:components:AthenaApi"),
    ),
    with_provider,
)

glue = settings.glue
catalog = GlueCatalog(
    f"{prefix}-catalog",
    GlueCatalogArgs(
        project=PROJECT,
        environment=env,
        bucket_names=buckets,
        bucket_arns=arns,
        key_arn=lake.key_arn,
        log_retention_days=settings.log_retention_days,
        schema_update_behavior=glue.schema_update_behavior,
        schema_delete_behavior=glue.schema_delete_behavior,
        recrawl_behavior=glue.recrawl_behavior,
        maintenance=TableMaintenance(
            enabled=settings.maintenance.optimizers_enabled,
            snapshot_retention_days=settings.maintenance.snapshot_retention_days,
            snapshots_to_retain=settings.maintenance.snapshots_to_retain,
            orphan_file_retention_days=settings.maintenance.orphan_file_retention_days,
            compaction_min_input_files=settings.maintenance.compaction_min_input_files,
        ),
        protect_tables=settings.protect_data,
    ),
    with_provider,
)

cluster, serverless = emr_sizing(settings)
emr = EmrEtl(
    f"{prefix}-emr",
    EmrEtlArgs(
        prefix=prefix,
        runtime=settings.emr.runtime,
        release_label=settings.emr.release_label,
        code=code.shipped,
        bucket_names={**buckets, "logs": lake.logs_bucket_name},
        bucket_arns={**arns, "logs": lake.logs_bucket.arn},
        key_arn=lake.key_arn,
        log_retention_days=settings.log_retention_days,
        cluster=cluster,
        serverless=serverless,
        pipeline_timeout_minutes=settings.emr.pipeline_timeout_minutes,
        check_queries={name: inline_parameters(queries[p.check_query]) for name, p in PIPELINES.items()},
        glue_database=database,
        athena_workgroup=workgroup.name,
        athena_workgroup_arn=workgroup.arn,
        athena_results_bucket_arn=arns["athena-results"],
        vpc_id=settings.emr.vpc_id,
        subnet_id=settings.emr.subnet_id,
        use_default_vpc=settings.emr.use_default_vpc,
        bastion_instance_type=settings.bastion.instance_type if settings.bastion.enabled else None,
        bastion_public_key=settings.bastion.public_key,
    ),
    with_provider,
)

glue_etl = GlueEtl(
    f"{prefix}-glue",
    GlueEtlArgs(
        project=PROJECT,
        environment=env,
        job=glue.etl_job,
        script_uri=code.shipped.script_uris[glue.etl_job],
        py_files_uri=code.shipped.py_files_uri,
        schedule=glue.etl_schedule,
        worker_type=glue.worker_type,
        number_of_workers=glue.number_of_workers,
        timeout_minutes=glue.job_timeout_minutes,
        bucket_names=buckets,
        bucket_arns=arns,
        key_arn=lake.key_arn,
        log_retention_days=settings.log_retention_days,
        security_configuration=catalog.security_configuration.name,
        glue_database=database,
        starter_reserved_concurrency=glue.starter_reserved_concurrency,
        moved_from=MovedFrom.component(f"{prefix}-catalog", "datalake:components:GlueCatalog"),
    ),
    with_provider,
)

athena = AthenaApi(
    f"{prefix}-athena",
    AthenaApiArgs(
        project=PROJECT,
        environment=env,
        database=database,
        workgroup=workgroup.name,
        workgroup_arn=workgroup.arn,
        results_bucket_arn=arns["athena-results"],
        curated_bucket_arn=arns["curated"],
        scripts_bucket=buckets["scripts"],
        key_arn=lake.key_arn,
        log_retention_days=settings.log_retention_days,
        auth=settings.api.auth,
        throttle_rate_limit=settings.api.throttle_rate_limit,
        throttle_burst_limit=settings.api.throttle_burst_limit,
        quota_limit=settings.api.quota_limit,
        quota_period=settings.api.quota_period,
        manage_account_logging_role=settings.api.manage_account_logging_role,
    ),
    with_provider,
)

ingest_settings = settings.ingest
ingest = OrdersIngest(
    f"{prefix}-ingest",
    OrdersIngestArgs(
        function_name=f"{prefix}-orders-ingest",
        raw_bucket=buckets["raw"],
        raw_bucket_arn=arns["raw"],
        curated_bucket=buckets["curated"],
        curated_bucket_arn=arns["curated"],
        scripts_bucket=buckets["scripts"],
        key_arn=lake.key_arn,
        watch_prefix=orders.INGEST_LANDING.prefix,
        staging_prefix=orders.INGEST_STAGING.prefix,
        quarantine_prefix=orders.INGEST_QUARANTINE.prefix,
        pandas_layer_arn=ingest_settings.pandas_layer_arns[region],
        log_retention_days=settings.log_retention_days,
        memory_mb=ingest_settings.memory_mb,
        timeout_seconds=ingest_settings.timeout_seconds,
        reserved_concurrency=ingest_settings.reserved_concurrency,
        max_retries=ingest_settings.max_retries,
        max_event_age_seconds=ingest_settings.max_event_age_seconds,
    ),
    with_provider,
)

RawEvents(
    f"{prefix}-raw-events",
    RawEventsArgs(
        bucket=buckets["raw"],
        bucket_arn=arns["raw"],
        account_id=aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider)).account_id,
        targets=(
            RawEventTarget(
                "orders-ingest", ingest.function.arn, ingest.function.name, orders.INGEST_LANDING.prefix, ".json"
            ),
            # With a schedule the Glue job starts only on it: its landing prefixes start nothing.
            *(
                RawEventTarget(f"glue-etl-{i}", glue_etl.starter.arn, glue_etl.starter.name, prefix)
                for i, prefix in enumerate(glue_etl.landing_prefixes)
                if glue_etl.starter
            ),
        ),
    ),
    with_provider,
)

pulumi.export("region", region)
for zone, name in buckets.items():
    pulumi.export(f"{zone.replace('-', '_')}_bucket", name)
pulumi.export("logs_bucket", lake.logs_bucket_name)
pulumi.export("kms_key_arn", lake.key_arn)
pulumi.export("glue_database", catalog.database.name)
pulumi.export("raw_crawler", catalog.raw_crawler.name)
pulumi.export("raw_database", catalog.raw_database.name)
pulumi.export("iceberg_catalog", ICEBERG_CATALOG)
pulumi.export("table_optimizer_role_arn", catalog.optimizer_role.arn)
pulumi.export("glue_etl_job", glue_etl.job.name)
pulumi.export(
    "glue_etl_landing", [pulumi.Output.concat("s3://", buckets["raw"], "/", p) for p in glue_etl.landing_prefixes]
)
pulumi.export("glue_etl_start", glue.etl_schedule or "upload")
pulumi.export("glue_etl_dead_letter_queue", glue_etl.starter.failures.url if glue_etl.starter else None)
pulumi.export("state_machine_arns", emr.state_machine_arns)
pulumi.export("emr_runtime", settings.emr.runtime)
pulumi.export("athena_workgroup", workgroup.name)
pulumi.export("api_url", athena.api_url)
pulumi.export("api_auth", settings.api.auth)
pulumi.export("api_key_id", athena.api_key_id)
pulumi.export("ingest_prefix", pulumi.Output.concat("s3://", buckets["raw"], "/", orders.INGEST_LANDING.prefix))
pulumi.export("ingest_dead_letter_queue", ingest.dead_letters.url)
