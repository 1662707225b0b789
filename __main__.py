"""The datalake program: validate the stack's settings, wire the components, export what analysts use."""

import pulumi
import pulumi_aws as aws

from components.data_lake import DataLake, DataLakeArgs, ZoneLifecycle
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


try:
    settings = load_settings(pulumi.Config(PROJECT).get_object("settings"))
except SettingsError as error:
    # Stop before any resource is registered; RunError prints the message without a stack trace.
    raise pulumi.RunError(str(error)) from None

region = pulumi.Config("aws").require("region")
provider = aws.Provider(
    "aws",
    region=region,
    default_tags=aws.ProviderDefaultTagsArgs(
        tags={
            "project": PROJECT,
            "environment": settings.environment,
            "owner": settings.owner,
            "cost-centre": settings.cost_centre,
            "managed-by": "pulumi",
        }
    ),
)
with_provider = pulumi.ResourceOptions(providers=[provider])

lake = DataLake(f"{PROJECT}-{settings.environment}", data_lake_args(settings), with_provider)

pulumi.export("region", region)
for zone, name in lake.bucket_names.items():
    pulumi.export(f"{zone.replace('-', '_')}_bucket", name)
pulumi.export("logs_bucket", lake.logs_bucket_name)
pulumi.export("kms_key_arn", lake.key_arn)
