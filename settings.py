"""Stack settings: the one `datalake:settings` key of each Pulumi.<stack>.yaml, validated by pydantic models.

Each cross-field rule is its own `@rule`, named for what it protects; `load_settings` reports every problem in one
message that names each bad key by its dotted path (the wording lives in settings_errors.py).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo

from pipelines import GLUE_JOBS, orders
from settings_emr import BastionSettings, EmrSettings
from settings_errors import CONFIG_KEY, Problem, SettingsError, Strict, error_lines, rule

# The values CloudWatch Logs accepts for a log group's retention.
LogRetentionDays = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
]
StorageClass = Literal["STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"]
# S3 refuses a transition into STANDARD_IA before an object is 30 days old, and a later transition before it has
# spent 30 days in that first tier ("Constraints and considerations for transitions", S3 User Guide).
_MIN_IA_DAYS = 30
_TAG_VALUE = r"^[A-Za-z0-9 _.:/=+\-@]{1,256}$"


class LakeSettings(Strict):
    """Storage: lifecycle per zone, the lake's KMS key, and whether data may be destroyed."""

    raw_transition_days: int = Field(30, ge=1, description="Days after which raw objects move to `raw_storage_class`.")
    raw_storage_class: StorageClass = Field("STANDARD_IA", description="Storage class raw objects move to first.")
    raw_archive_days: int | None = Field(
        365, ge=1, description="Days after which raw objects move to GLACIER; null keeps them in the first tier."
    )
    curated_transition_days: int = Field(
        30, ge=1, description="Days after which curated objects move to `curated_storage_class`."
    )
    curated_storage_class: StorageClass = Field(
        "INTELLIGENT_TIERING", description="Storage class for curated objects (queried, so tiered automatically)."
    )
    scripts_transition_days: int = Field(
        90, ge=1, description="Days after which job code and Lambda artifacts move to INTELLIGENT_TIERING."
    )
    athena_results_expiration_days: int = Field(
        30, ge=1, description="Days after which Athena query results are deleted (results are re-creatable)."
    )
    noncurrent_version_expiration_days: int = Field(
        90, ge=1, description="Days after which overwritten or deleted object versions are removed, in every zone."
    )
    abort_multipart_upload_days: int = Field(
        7, ge=1, description="Days after which incomplete multipart uploads are aborted, in every zone."
    )
    access_log_expiration_days: int = Field(
        365, ge=1, description="Days after which S3 server access logs are deleted from the logs bucket."
    )
    kms_deletion_window_days: int = Field(
        30, ge=7, le=30, description="Waiting period before the lake's KMS key is deleted after a destroy."
    )
    allow_data_destroy: bool = Field(
        False,
        description="Let `pulumi destroy` delete buckets with their objects (force_destroy). Refused for prod.",
    )

    @rule
    def _infrequent_access_s3_accepts(self, _info: ValidationInfo) -> list[Problem]:
        """`raw_transition_days` and `curated_transition_days` are at least 30 while their zone's storage class is
        STANDARD_IA (the minimum S3 allows)."""
        problems = []
        for zone in ("raw", "curated"):
            days, storage_class = getattr(self, f"{zone}_transition_days"), getattr(self, f"{zone}_storage_class")
            if storage_class == "STANDARD_IA" and days < _MIN_IA_DAYS:
                problems.append(
                    Problem(f"{zone}_transition_days", days, f"is below 30, the minimum S3 allows for {storage_class}")
                )
        return problems

    @rule
    def _archive_s3_accepts(self, _info: ValidationInfo) -> list[Problem]:
        """`raw_archive_days`, when set, is at least `raw_transition_days` + 30 (S3 keeps an object 30 days in the first
        tier before the next transition)."""
        least = self.raw_transition_days + _MIN_IA_DAYS
        if self.raw_archive_days is None or self.raw_archive_days >= least:
            return []
        return [
            Problem("raw_archive_days", self.raw_archive_days, f"must be at least raw_transition_days + 30 = {least}")
        ]


# Lambda keeps 100 of an account's concurrency unreserved, so reservations share at most 900 of the standard quota
# of 1000 ("Lambda quotas"; new accounts may start lower: README, Deploy prerequisites).
_MAX_RESERVED = 900
_LAYER_ARN = r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+$"
# AWS SDK for pandas (awswrangler) publishes its layers from this account; versions differ per region.
_PANDAS_LAYERS = {
    "eu-west-1": "arn:aws:lambda:eu-west-1:336392948345:layer:AWSSDKPandas-Python312:16",
    "us-east-1": "arn:aws:lambda:us-east-1:336392948345:layer:AWSSDKPandas-Python312:16",
}


class GlueSettings(Strict):
    """The raw-zone exploration crawler and the Glue ETL job of the reference architecture."""

    schema_update_behavior: Literal["LOG", "UPDATE_IN_DATABASE"] = Field(
        "LOG", description="What the raw-zone exploration crawler does when it finds a changed schema."
    )
    schema_delete_behavior: Literal["LOG", "DEPRECATE_IN_DATABASE", "DELETE_FROM_DATABASE"] = Field(
        "LOG", description="What the raw-zone exploration crawler does when data behind a table or partition is gone."
    )
    recrawl_behavior: Literal["CRAWL_EVERYTHING", "CRAWL_NEW_FOLDERS_ONLY"] = Field(
        "CRAWL_NEW_FOLDERS_ONLY", description="Crawl only new partitions (cheap) or everything on each run."
    )
    etl_job: Literal[GLUE_JOBS] = Field(  # type: ignore[valid-type]
        "orders",
        description="The jobs/ script the Glue job runs (on Glue 5.1: Spark 3.5.6, Iceberg 1.10.0): one of the steps "
        "that declare a Glue road in pipelines/, which also names its landing prefix.",
    )
    etl_schedule: str | None = Field(
        None,
        pattern=r"^(cron\([^)]+\)|rate\(\d+ (minute|minutes|hour|hours|day|days)\))$",
        description="What starts the Glue job, the one thing that does: null, every upload under its landing prefix "
        "(through a Lambda); a cron() or rate() expression, that schedule only (uploads then wait for it).",
    )
    starter_reserved_concurrency: int | None = Field(
        None,
        ge=1,
        le=_MAX_RESERVED,
        description="Concurrency reserved for the Lambda that starts the Glue job on upload; null reserves none "
        "(AWS keeps 100 of the account's quota unreserved; README, Deploy prerequisites).",
    )
    worker_type: Literal["G.1X", "G.2X", "G.4X"] = Field("G.1X", description="Glue worker type.")
    number_of_workers: int = Field(2, ge=2, le=100, description="Glue workers per job run.")
    job_timeout_minutes: int = Field(60, ge=1, le=2880, description="A Glue job run that runs longer is stopped.")

    @rule
    def _incremental_crawls_only_log(self, _info: ValidationInfo) -> list[Problem]:
        """Crawling new folders only (CRAWL_NEW_FOLDERS_ONLY) requires LOG for schema updates and deletions."""
        if self.recrawl_behavior != "CRAWL_NEW_FOLDERS_ONLY":
            return []
        return [
            Problem(key, getattr(self, key), "must be LOG when recrawl_behavior is CRAWL_NEW_FOLDERS_ONLY")
            for key in ("schema_update_behavior", "schema_delete_behavior")
            if getattr(self, key) != "LOG"
        ]


class MaintenanceSettings(Strict):
    """The Glue table optimizers of every Iceberg table: compaction, snapshot retention, orphan-file deletion."""

    optimizers_enabled: bool = Field(
        True,
        description="Run the three Glue table optimizers on every curated table. Off leaves small files and every "
        "snapshot in place (storage grows without bound); refused for prod.",
    )
    snapshot_retention_days: int = Field(
        7,
        ge=1,
        le=3650,
        description="Snapshots of a table's main branch younger than this stay (time travel, rollback); the audit "
        "branch's head is a branch head, which snapshot expiration never removes, so an unpublished run stays "
        "inspectable until the next run moves the branch.",
    )
    snapshots_to_retain: int = Field(
        10, ge=1, le=1000, description="The fewest snapshots kept per table, however old they are."
    )
    orphan_file_retention_days: int = Field(
        3,
        ge=1,
        le=3650,
        description="Files no snapshot references are deleted once older than this. A running job's files are "
        "unreferenced until it commits, so this must outlast the longest job run.",
    )
    compaction_min_input_files: int = Field(
        100,
        ge=2,
        le=10000,
        description="Glue compacts a partition (bin-packing, the only strategy it supports) once it holds this many "
        "data files.",
    )


class AthenaSettings(Strict):
    """The lake's Athena workgroup."""

    bytes_scanned_cutoff_mb: int = Field(
        10240, ge=10, description="Cost guard: a query that would scan more than this many MB is cancelled."
    )
    publish_cloudwatch_metrics: bool = Field(True, description="Publish the workgroup's query metrics to CloudWatch.")


class ApiSettings(Strict):
    """The query API in front of the named queries."""

    auth: Literal["api_key", "iam"] = Field(
        "api_key", description="`api_key`: callers send x-api-key (usage plan); `iam`: SigV4-signed requests."
    )
    throttle_rate_limit: float = Field(5.0, gt=0, le=10000, description="Steady requests per second allowed.")
    throttle_burst_limit: int = Field(10, ge=1, le=5000, description="Requests allowed in a burst.")
    quota_limit: int = Field(1000, ge=1, description="Requests allowed per quota period (api_key auth).")
    quota_period: Literal["DAY", "WEEK", "MONTH"] = Field("DAY", description="The quota's period.")
    manage_account_logging_role: bool = Field(
        False,
        description="This stack owns API Gateway's CloudWatch role, one setting per account and region that every "
        "API's stage logging needs. Set it in exactly one long-lived stack of an account and region, or in none "
        "and set the role once outside Pulumi (README, Deploy prerequisites).",
    )


class IngestSettings(Strict):
    """The S3-triggered Lambda that flattens new order files into Parquet (its prefixes are in pipelines/orders.py)."""

    memory_mb: int = Field(
        2048,
        ge=1024,
        le=10240,
        description=f"Lambda memory. It reads each file whole, so it quarantines files above (memory_mb - "
        f"{orders.INGEST_RUNTIME_MB}) / {orders.INGEST_MEMORY_PER_FILE_BYTE} MiB, which the orders Spark job takes "
        f"({orders.ingest_max_file_bytes(2048) // 2**20} MiB at 2048).",
    )
    timeout_seconds: int = Field(300, ge=60, le=900, description="Lambda timeout.")
    reserved_concurrency: int | None = Field(
        None,
        ge=1,
        le=_MAX_RESERVED,
        description="Concurrency reserved for it (also its most concurrent invocations); null reserves none (AWS "
        "keeps 100 of the account's quota unreserved; README, Deploy prerequisites).",
    )
    max_retries: int = Field(2, ge=0, le=2, description="Retries of a failed asynchronous invocation before the DLQ.")
    max_event_age_seconds: int = Field(3600, ge=60, le=21600, description="Events older than this go to the DLQ.")
    pandas_layer_arns: dict[str, str] = Field(
        default_factory=lambda: dict(_PANDAS_LAYERS),
        description="AWS SDK for pandas layer ARN (it provides pyarrow) per region; the stack's region must be listed.",
    )

    @rule
    def _layers_in_their_regions(self, _info: ValidationInfo) -> list[Problem]:
        """Each pandas layer ARN is a versioned layer in the region it is listed under."""
        return [
            Problem(f"pandas_layer_arns.{region}", arn, "is not a versioned layer ARN in that region")
            for region, arn in self.pandas_layer_arns.items()
            if not re.match(_LAYER_ARN, arn) or arn.split(":")[3] != region
        ]


class Settings(Strict):
    """Everything a stack can change. Later sections (emr, glue, athena, api, ingest) live beside `lake`."""

    environment: Literal["dev", "staging", "prod"] = Field(
        description="Which environment the stack deploys; prod turns on deletion protection."
    )
    owner: str = Field(pattern=_TAG_VALUE, description="Team or person answerable for the stack (`owner` tag).")
    cost_centre: str = Field(pattern=_TAG_VALUE, description="Cost centre billed for the stack (`cost-centre` tag).")
    log_retention_days: LogRetentionDays = Field(
        90, description="Retention of every CloudWatch log group the stack creates."
    )
    lake: LakeSettings = Field(default_factory=LakeSettings, description="Storage zones and the lake's key.")
    emr: EmrSettings = Field(default_factory=EmrSettings, description="Where and how the Spark jobs run.")
    bastion: BastionSettings = Field(default_factory=BastionSettings, description="Optional SSM bastion.")
    glue: GlueSettings = Field(default_factory=GlueSettings, description="The raw-zone crawler and the Glue job.")
    maintenance: MaintenanceSettings = Field(
        default_factory=MaintenanceSettings, description="Iceberg table maintenance (Glue table optimizers)."
    )
    athena: AthenaSettings = Field(default_factory=AthenaSettings, description="The Athena workgroup.")
    api: ApiSettings = Field(default_factory=ApiSettings, description="The query API.")
    ingest: IngestSettings = Field(default_factory=IngestSettings, description="The orders ingest Lambda.")

    @rule
    def _prod_keeps_its_data(self, _info: ValidationInfo) -> list[Problem]:
        """With environment prod, lake.allow_data_destroy is false."""
        if self.environment == "prod" and self.lake.allow_data_destroy:
            return [Problem("lake.allow_data_destroy", True, "is refused when environment is prod")]
        return []

    @rule
    def _prod_keeps_its_logs(self, _info: ValidationInfo) -> list[Problem]:
        """With environment prod, log_retention_days is at least 90."""
        if self.environment == "prod" and self.log_retention_days < 90:
            return [Problem("log_retention_days", self.log_retention_days, "is below 90, the prod minimum")]
        return []

    @rule
    def _prod_maintains_its_tables(self, _info: ValidationInfo) -> list[Problem]:
        """With environment prod, maintenance.optimizers_enabled is true."""
        if self.environment == "prod" and not self.maintenance.optimizers_enabled:
            return [
                Problem(
                    "maintenance.optimizers_enabled",
                    False,
                    "is refused when environment is prod (its tables would keep every snapshot and small file)",
                )
            ]
        return []

    @rule
    def _orphans_outlast_a_run(self, _info: ValidationInfo) -> list[Problem]:
        """maintenance.orphan_file_retention_days outlasts the longest job run (emr.step_timeout_minutes,
        glue.job_timeout_minutes): a job's files are unreferenced until its commit, and deleting them breaks it."""
        longest = max(self.emr.step_timeout_minutes, self.glue.job_timeout_minutes)
        days = self.maintenance.orphan_file_retention_days
        if days * 24 * 60 > longest:
            return []
        return [
            Problem(
                "maintenance.orphan_file_retention_days",
                days,
                f"must outlast the longest job run ({longest} minutes, from emr.step_timeout_minutes and "
                "glue.job_timeout_minutes): a running job's files are unreferenced until it commits",
            )
        ]

    @rule
    def _bastion_needs_a_network(self, _info: ValidationInfo) -> list[Problem]:
        """bastion.enabled needs emr.runtime cluster (EMR Serverless has no network to reach)."""
        if self.bastion.enabled and self.emr.runtime != "cluster":
            return [Problem("bastion.enabled", True, "needs emr.runtime cluster (serverless has no network)")]
        return []

    @rule
    def _layer_in_the_stack_region(self, info: ValidationInfo) -> list[Problem]:
        """The stack's region has an entry in ingest.pandas_layer_arns."""
        region, layers = (info.context or {}).get("region"), sorted(self.ingest.pandas_layer_arns)
        if region and region not in layers:
            return [Problem("ingest.pandas_layer_arns", layers, f"has no layer for the stack's region {region}")]
        return []

    @rule
    def _reservations_fit_the_quota(self, _info: ValidationInfo) -> list[Problem]:
        """The stack's reserved Lambda concurrency, summed, leaves AWS's 100 unreserved of the standard 1000."""
        reserved = {
            "ingest.reserved_concurrency": self.ingest.reserved_concurrency,
            "glue.starter_reserved_concurrency": self.glue.starter_reserved_concurrency,
        }
        total = sum(value for value in reserved.values() if value)
        if total <= _MAX_RESERVED:
            return []
        message = (
            f"brings the stack's reserved concurrency to {total}, above {_MAX_RESERVED} (AWS keeps 100 unreserved)"
        )
        return [Problem(key, value, message) for key, value in reserved.items() if value]

    @property
    def protect_data(self) -> bool:
        """Prod buckets and keys are protected; elsewhere `pulumi destroy` may remove them."""
        return self.environment == "prod"


# Region prefixes of the partitions the program refuses: in China the roles trust, and the lake key's policy names,
# service principals that the China Regions may spell with .amazonaws.com.cn (elasticmapreduce, the regional logs
# principal), and neither those spellings nor the services the program needs there (EMR Serverless, Glue 5.0, the
# AWS SDK for pandas layer) have been checked; the isolated and sovereign partitions likewise. README, "Partitions".
UNSUPPORTED_REGIONS = {"cn-": "aws-cn", "us-iso-": "aws-iso", "us-isob-": "aws-iso-b", "eusc-": "aws-eusc"}


def _region_problems(region: str | None) -> list[str]:
    for prefix, partition in UNSUPPORTED_REGIONS.items():
        if region and region.startswith(prefix):
            return [
                f"aws:region: {region!r} is in the {partition} partition, which this program does not support: its "
                "service principals and services there are unverified (README, Partitions); use an aws or "
                "aws-us-gov region"
            ]
    return []


def load_settings(raw: Any, *, region: str | None = None) -> Settings:
    """Validate the raw `datalake:settings` (for the stack's region); raise SettingsError listing every problem."""
    if raw is None:
        raise SettingsError(f"{CONFIG_KEY}: is missing; add it to Pulumi.<stack>.yaml (see the README)")
    if not isinstance(raw, dict):
        raise SettingsError(f"{CONFIG_KEY}: must be a mapping, got {type(raw).__name__}")
    lines = _region_problems(region)
    try:
        settings = Settings.model_validate(raw, context={"region": region})
    except ValidationError as error:
        lines += error_lines(error, Settings)
    if lines:
        raise SettingsError("invalid stack settings:\n  " + "\n  ".join(lines))
    return settings
