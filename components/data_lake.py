"""DataLake: the lake's storage zones, each a hardened S3 bucket, its access-log bucket and its KMS key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.context import AwsContext, policy_json
from components.iam import storage
from pipelines import lake

# Data zones, one bucket each; server access logs go to a separate bucket that cannot use KMS.
ZONES = ("raw", "curated", "scripts", "athena-results")
LOGS = "logs"


@dataclass(frozen=True)
class ZoneLifecycle:
    """Where a zone's current objects go with age: (days, storage class) tiers, then optional expiry."""

    transitions: tuple[tuple[int, str], ...] = ()
    expiration_days: int | None = None


@dataclass(frozen=True)
class DataLakeArgs:
    lifecycle: Mapping[str, ZoneLifecycle]
    noncurrent_version_expiration_days: int
    abort_multipart_upload_days: int
    access_log_expiration_days: int
    kms_deletion_window_days: int
    # Prod: buckets and key are protected and kept if removed from the program; never force-destroyed.
    protect: bool = True
    force_destroy: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.protect and self.force_destroy:
            raise ValueError("DataLakeArgs: force_destroy cannot be combined with protect")
        unknown = set(self.lifecycle) - set(ZONES)
        if unknown:
            raise ValueError(f"DataLakeArgs: lifecycle for unknown zones {sorted(unknown)}")


class DataLake(pulumi.ComponentResource):
    """Creates a KMS key (rotated, aliased), one bucket per zone in ZONES and a logs bucket.

    Every zone bucket: SSE-KMS with a bucket key, versioning, all four public-access-block switches,
    BucketOwnerEnforced, a TLS-only bucket policy, server access logging to the logs bucket under the zone's
    prefix of lake.ACCESS_LOGS, and a lifecycle (abort incomplete uploads, expire noncurrent versions, tier or expire).
    The logs bucket: SSE-S3, versioning, the same blocks and TLS-only policy, and expiry.
    """

    buckets: dict[str, aws.s3.Bucket]
    logs_bucket: aws.s3.Bucket
    key: aws.kms.Key

    def __init__(self, name: str, args: DataLakeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("datalake:components:DataLake", name, None, opts)
        self._name = name
        self._args = args
        data = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)
        self._aws = AwsContext.of(self)

        self.key, self.key_alias = self._create_key(data)
        self.logs_bucket = self._create_bucket(LOGS, data)
        self.buckets = {zone: self._create_bucket(zone, data) for zone in ZONES}
        self._harden_logs_bucket()
        for zone, bucket in self.buckets.items():
            self._harden_zone_bucket(zone, bucket)

        self.bucket_names = {zone: b.bucket for zone, b in self.buckets.items()}
        self.bucket_arns = {zone: b.arn for zone, b in self.buckets.items()}
        self.logs_bucket_name = self.logs_bucket.bucket
        self.key_arn = self.key.arn
        self.register_outputs(
            {
                "bucket_names": self.bucket_names,
                "logs_bucket_name": self.logs_bucket_name,
                "key_arn": self.key_arn,
            }
        )

    def _child(self, role: str) -> str:
        return f"{self._name}-{role}"

    def _create_key(self, data: pulumi.ResourceOptions) -> tuple[aws.kms.Key, aws.kms.Alias]:
        policy = policy_json(storage.lake_key_policy, **self._aws.where)
        key = aws.kms.Key(
            self._child("key"),
            description=f"Encrypts every zone of the {self._name} data lake",
            enable_key_rotation=True,
            deletion_window_in_days=self._args.kms_deletion_window_days,
            policy=policy,
            tags=dict(self._args.tags),
            opts=data,
        )
        alias = aws.kms.Alias(
            self._child("key-alias"),
            name=f"alias/{self._name}",
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return key, alias

    def _create_bucket(self, zone: str, data: pulumi.ResourceOptions) -> aws.s3.Bucket:
        return aws.s3.Bucket(
            self._child(zone),
            force_destroy=self._args.force_destroy,
            tags={**self._args.tags, "datalake:zone": zone},
            opts=data,
        )

    def _block_and_own(self, zone: str, bucket: aws.s3.Bucket) -> list[pulumi.Resource]:
        opts = pulumi.ResourceOptions(parent=self)
        block = aws.s3.BucketPublicAccessBlock(
            self._child(f"{zone}-public-access"),
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=opts,
        )
        ownership = aws.s3.BucketOwnershipControls(
            self._child(f"{zone}-ownership"),
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=opts,
        )
        versioning = aws.s3.BucketVersioning(
            self._child(f"{zone}-versioning"),
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=opts,
        )
        return [block, ownership, versioning]

    def _encrypt(self, zone: str, bucket: aws.s3.Bucket, kms: bool) -> None:
        default = (
            aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="aws:kms", kms_master_key_id=self.key.arn
            )
            if kms
            else aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                sse_algorithm="AES256"
            )
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            self._child(f"{zone}-encryption"),
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=default, bucket_key_enabled=kms
                )
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _lifecycle(
        self, zone: str, bucket: aws.s3.Bucket, lifecycle: ZoneLifecycle, after: list[pulumi.Resource]
    ) -> None:
        rules = [
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="abort-incomplete-multipart-uploads",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=self._args.abort_multipart_upload_days
                ),
            ),
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-noncurrent-versions",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=self._args.noncurrent_version_expiration_days
                ),
            ),
        ]
        if lifecycle.transitions or lifecycle.expiration_days:
            rules.append(
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id=f"{zone}-tiering",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    transitions=[
                        aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(days=days, storage_class=storage_class)
                        for days, storage_class in lifecycle.transitions
                    ]
                    or None,
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=lifecycle.expiration_days)
                    if lifecycle.expiration_days
                    else None,
                )
            )
        aws.s3.BucketLifecycleConfiguration(
            self._child(f"{zone}-lifecycle"),
            bucket=bucket.id,
            rules=rules,
            # S3 rejects lifecycle rules on noncurrent versions until versioning is on.
            opts=pulumi.ResourceOptions(parent=self, depends_on=after),
        )

    def _harden_logs_bucket(self) -> None:
        bucket = self.logs_bucket
        controls = self._block_and_own(LOGS, bucket)
        # Server access logs can only be delivered to buckets encrypted with S3-managed keys.
        self._encrypt(LOGS, bucket, kms=False)
        aws.s3.BucketPolicy(
            self._child(f"{LOGS}-policy"),
            bucket=bucket.id,
            policy=policy_json(
                storage.logs_bucket_policy,
                logs_bucket_arn=bucket.arn,
                source_bucket_arns=[self.buckets[zone].arn for zone in ZONES],
                account_id=self._aws.account_id,
            ),
            # A bucket policy is refused while the public access block is still being applied.
            opts=pulumi.ResourceOptions(parent=self, depends_on=controls),
        )
        self._lifecycle(LOGS, bucket, ZoneLifecycle(expiration_days=self._args.access_log_expiration_days), controls)

    def _harden_zone_bucket(self, zone: str, bucket: aws.s3.Bucket) -> None:
        controls = self._block_and_own(zone, bucket)
        self._encrypt(zone, bucket, kms=True)
        aws.s3.BucketPolicy(
            self._child(f"{zone}-policy"),
            bucket=bucket.id,
            policy=policy_json(storage.data_bucket_policy, bucket_arn=bucket.arn),
            opts=pulumi.ResourceOptions(parent=self, depends_on=controls),
        )
        aws.s3.BucketLogging(
            self._child(f"{zone}-access-logging"),
            bucket=bucket.id,
            target_bucket=self.logs_bucket.id,
            target_prefix=lake.ACCESS_LOGS.child(zone).prefix,
            target_object_key_format=aws.s3.BucketLoggingTargetObjectKeyFormatArgs(
                partitioned_prefix=aws.s3.BucketLoggingTargetObjectKeyFormatPartitionedPrefixArgs(
                    partition_date_source="EventTime"
                )
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._lifecycle(zone, bucket, self._args.lifecycle.get(zone, ZoneLifecycle()), controls)
