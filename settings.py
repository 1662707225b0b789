"""Stack settings: the one `datalake:settings` key of each Pulumi.<stack>.yaml, validated by pydantic models.

Each cross-field rule is its own `@rule`, named for what it protects; `load_settings` reports every problem in one
message that names each bad key by its dotted path (the wording lives in settings_errors.py).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo

from components.emr_states import MAX_IDLE_TIMEOUT_SECONDS, MIN_IDLE_TIMEOUT_SECONDS, min_execution_timeout_seconds
from components.iam.etl import EMR_MANAGED_TAG_KEY
from pipelines import GLUE_JOBS, PIPELINES, orders
from settings_errors import CONFIG_KEY, Problem, SettingsError, error_lines, rule

# The values CloudWatch Logs accepts for a log group's retention.
LogRetentionDays = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
]
StorageClass = Literal["STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"]
# S3 refuses a transition into STANDARD_IA before an object is 30 days old, and a later transition before it has
# spent 30 days in that first tier ("Constraints and considerations for transitions", S3 User Guide).
_MIN_IA_DAYS = 30
_TAG_VALUE = r"^[A-Za-z0-9 _.:/=+\-@]{1,256}$"


class Strict(BaseModel):
    """Base of every settings model: unknown keys fail loudly, values never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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


# The Iceberg each EMR 7 release ships ("Iceberg release history", Amazon EMR Release Guide,
# docs.aws.amazon.com/emr/latest/ReleaseGuide/Iceberg-release-history.html). The jobs are verified on Iceberg 1.9.2
# (tests, `make run`); the first release with a 1.9 Iceberg is emr-7.11.0, and EMR Serverless takes the same labels.
ICEBERG_OF_RELEASE = {
    "emr-7.0.0": "1.4.2",
    "emr-7.1.0": "1.4.3",
    "emr-7.2.0": "1.5.0",
    "emr-7.3.0": "1.5.2",
    "emr-7.4.0": "1.6.1",
    "emr-7.5.0": "1.6.1",
    "emr-7.6.0": "1.6.1",
    "emr-7.7.0": "1.7.1",
    "emr-7.8.0": "1.7.1",
    "emr-7.9.0": "1.7.1",
    "emr-7.10.0": "1.8.1",
    "emr-7.11.0": "1.9.1",
    "emr-7.12.0": "1.10.0",
}
MIN_ICEBERG = "1.9"
MIN_ICEBERG_RELEASE = "emr-7.11.0"

# The longest chain of dependent steps of any pipeline (rentals: transform, then KPIs).
_MAX_WAVES = max(len(p.waves()) for p in PIPELINES.values())
# Lambda keeps 100 of an account's concurrency unreserved, so reservations share at most 900 of the standard quota
# of 1000 ("Lambda quotas"; new accounts may start lower: README, Deploy prerequisites).
_MAX_RESERVED = 900
_LAYER_ARN = r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]+:\d+$"
# AWS SDK for pandas (awswrangler) publishes its layers from this account; versions differ per region.
_PANDAS_LAYERS = {
    "eu-west-1": "arn:aws:lambda:eu-west-1:336392948345:layer:AWSSDKPandas-Python312:16",
    "us-east-1": "arn:aws:lambda:us-east-1:336392948345:layer:AWSSDKPandas-Python312:16",
}


class EmrSettings(Strict):
    """How the Spark jobs run in AWS: transient EMR clusters or EMR Serverless, and the cost guards."""

    runtime: Literal["cluster", "serverless"] = Field(
        "serverless",
        description="`serverless`: an EMR Serverless application (needs no network of yours); `cluster`: a transient "
        "EMR cluster per run (needs `subnet_id`, or `use_default_vpc`).",
    )
    release_label: str = Field(
        "emr-7.12.0",
        pattern=r"^emr-7\.\d+\.\d+$",
        description=f"EMR release (7.x runs Spark 3.5, like the jobs), {MIN_ICEBERG_RELEASE} or later: the jobs' "
        f"Iceberg use (branches, fast_forward, MERGE ... NOT MATCHED BY SOURCE) needs Iceberg {MIN_ICEBERG} or later.",
    )
    vpc_id: str | None = Field(
        None, pattern=r"^vpc-[0-9a-f]{8,17}$", description="VPC of `subnet_id` (its security groups are made there)."
    )
    subnet_id: str | None = Field(
        None,
        pattern=r"^subnet-[0-9a-f]{8,17}$",
        description="Subnet of the clusters (or of EMR Serverless jobs): a private one, with a NAT gateway or S3 and "
        f"EMR endpoints, tagged {EMR_MANAGED_TAG_KEY}=true. Required by the cluster runtime unless use_default_vpc.",
    )
    use_default_vpc: bool = Field(
        False,
        description="Cluster runtime only, for trials: run the clusters in a default subnet of the account's default "
        f"VPC (public), which the program tags {EMR_MANAGED_TAG_KEY}=true. The tag stays on the subnet after "
        "`pulumi destroy`.",
    )
    primary_instance_type: str = Field(
        "m5.xlarge", pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$", description="Instance type of the primary node."
    )
    core_instance_type: str = Field(
        "m5.xlarge", pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$", description="Instance type of the core nodes."
    )
    core_instance_count: int = Field(2, ge=1, description="Core nodes per cluster (on-demand and spot together).")
    max_core_instances: int = Field(10, ge=1, le=100, description="Cost guard: the most core nodes a cluster may have.")
    spot_share: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Share of the core nodes bought as spot capacity (0 = on-demand only); the spot node count is "
        "core_instance_count x spot_share, rounded half to even.",
    )
    max_spot_share: float = Field(
        0.8, ge=0.0, le=1.0, description="Cost and reliability guard: the highest `spot_share` allowed."
    )
    ebs_volume_gb: int = Field(64, ge=32, le=2048, description="Encrypted EBS volume per node, in GB.")
    # The builder's own bounds (Step Functions' polling; the AutoTerminationPolicy maximum), in minutes.
    idle_timeout_minutes: int = Field(
        30,
        ge=MIN_IDLE_TIMEOUT_SECONDS // 60,
        le=MAX_IDLE_TIMEOUT_SECONDS // 60,
        description="Cost guard: a cluster with no running step terminates after this idle time (Step Functions "
        "may take 5 minutes to notice a finished step, so less than 10 could end a cluster between steps).",
    )
    step_timeout_minutes: int = Field(120, ge=5, le=1440, description="A job step that runs longer fails the run.")
    pipeline_timeout_minutes: int = Field(
        480, ge=30, le=10080, description="A whole pipeline execution that runs longer fails (and its cluster ends)."
    )
    # EMR Serverless's default Spark driver and executors are 4 vCPU / 16 GB workers ("Using Spark configurations
    # when you run EMR Serverless jobs", EMR Serverless User Guide): less than two of them cannot run a job.
    serverless_max_vcpu: int = Field(
        32,
        ge=8,
        le=4000,
        description="Cost guard: the most vCPUs the EMR Serverless application may use at once (a driver and one "
        "executor take 8).",
    )
    serverless_max_memory_gb: int = Field(
        128,
        ge=32,
        le=16000,
        description="Cost guard: the most memory the EMR Serverless application may use at once (a driver and one "
        "executor take 32 GB).",
    )
    serverless_idle_minutes: int = Field(
        15, ge=1, le=10080, description="EMR Serverless auto-stop: the application stops after this idle time."
    )

    @rule
    def _release_has_our_iceberg(self, _info: ValidationInfo) -> list[Problem]:
        """release_label ships an Iceberg the jobs can use: MIN_ICEBERG_RELEASE or later (Iceberg 1.9 or later)."""
        minor = int(self.release_label.split(".")[1])
        if minor >= int(MIN_ICEBERG_RELEASE.split(".")[1]):
            return []
        shipped = ICEBERG_OF_RELEASE.get(self.release_label, "an older Iceberg")
        return [
            Problem(
                "release_label",
                self.release_label,
                f"ships Iceberg {shipped}; the jobs need Iceberg {MIN_ICEBERG} or later (audit branches, "
                f"fast_forward, MERGE ... WHEN NOT MATCHED BY SOURCE, verified on 1.9.2): use {MIN_ICEBERG_RELEASE} or "
                "later (Iceberg release history, Amazon EMR Release Guide)",
            )
        ]

    @rule
    def _core_nodes_within_guard(self, _info: ValidationInfo) -> list[Problem]:
        """core_instance_count must not exceed max_core_instances."""
        if self.core_instance_count <= self.max_core_instances:
            return []
        message = f"is above max_core_instances {self.max_core_instances}"
        return [Problem("core_instance_count", self.core_instance_count, message)]

    @rule
    def _spot_share_within_guard(self, _info: ValidationInfo) -> list[Problem]:
        """spot_share must not exceed max_spot_share."""
        if self.spot_share <= self.max_spot_share:
            return []
        return [Problem("spot_share", self.spot_share, f"is above max_spot_share {self.max_spot_share}")]

    @rule
    def _spot_leaves_an_on_demand_core_node(self, _info: ValidationInfo) -> list[Problem]:
        """spot_share x core_instance_count, rounded, must leave at least one on-demand core node.

        Spot nodes join as TASK nodes beside on-demand CORE nodes, which keep HDFS (Spark event logs, YARN staging).
        """
        if self.spot_core_instance_count < self.core_instance_count:
            return []
        return [
            Problem(
                "spot_share",
                self.spot_share,
                f"x core_instance_count {self.core_instance_count} rounds to {self.spot_core_instance_count} spot "
                "nodes, leaving no on-demand core node (HDFS must not live on spot capacity)",
            )
        ]

    @rule
    def _execution_outlasts_its_steps(self, _info: ValidationInfo) -> list[Problem]:
        """pipeline_timeout_minutes must exceed dependent steps x step_timeout_minutes (+ 30 to create a cluster).

        The longest pipeline's chain of dependent steps counts (rentals: two). An execution that times out runs no
        cleanup, so it must never end while a step still runs.
        """
        needed = min_execution_timeout_seconds(_MAX_WAVES, self.step_timeout_minutes * 60, self.runtime)
        if self.pipeline_timeout_minutes * 60 > needed:
            return []
        return [
            Problem(
                "pipeline_timeout_minutes",
                self.pipeline_timeout_minutes,
                f"must exceed {needed // 60} minutes on the {self.runtime} runtime: {_MAX_WAVES} dependent steps x "
                f"step_timeout_minutes {self.step_timeout_minutes}"
                + (" + 30 minutes to create the cluster" if self.runtime == "cluster" else ""),
            )
        ]

    @rule
    def _cluster_network(self, _info: ValidationInfo) -> list[Problem]:
        """The cluster runtime needs a network: vpc_id and subnet_id of a tagged private subnet, or use_default_vpc.

        vpc_id and subnet_id go together; use_default_vpc excludes them and needs the cluster runtime.
        """
        problems = []
        if (self.vpc_id is None) != (self.subnet_id is None):
            problems.append(Problem("subnet_id", self.subnet_id, "and vpc_id must be set together (or both left null)"))
        if self.use_default_vpc and self.subnet_id:
            problems.append(Problem("use_default_vpc", True, "excludes subnet_id: use one or the other"))
        elif self.use_default_vpc and self.runtime != "cluster":
            problems.append(Problem("use_default_vpc", True, "needs runtime cluster (EMR Serverless needs no VPC)"))
        if self.runtime == "cluster" and not self.use_default_vpc and self.subnet_id is None:
            problems.append(
                Problem(
                    "subnet_id",
                    None,
                    "must name a subnet when runtime is cluster: a private one (NAT gateway or S3 and EMR "
                    f"endpoints) tagged {EMR_MANAGED_TAG_KEY}=true, with its vpc_id; for a trial, set "
                    "use_default_vpc: true instead",
                )
            )
        return problems

    @property
    def spot_core_instance_count(self) -> int:
        return round(self.core_instance_count * self.spot_share)


class BastionSettings(Strict):
    """An optional instance inside the clusters' network, reached through SSM Session Manager (no SSH port)."""

    enabled: bool = Field(False, description="Create the bastion instance.")
    instance_type: str = Field("t3.micro", pattern=r"^[a-z][a-z0-9-]*\.[a-z0-9]+$", description="Its instance type.")
    public_key: str | None = Field(
        None,
        pattern=r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256) [A-Za-z0-9+/=]+( .*)?$",
        description="An OpenSSH public key: creates an EC2 key pair for SSH over Session Manager. Null: no key pair.",
    )


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
