"""The `emr` and `emr.bastion` sections of the stack settings: how the Spark jobs run in AWS, and the cost guards.

Split from settings.py, which composes every section; the rules' wording is in settings_errors.py.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationInfo

from components.emr_states import MAX_IDLE_TIMEOUT_SECONDS, MIN_IDLE_TIMEOUT_SECONDS, min_execution_timeout_seconds
from components.iam.etl import EMR_MANAGED_TAG_KEY
from pipelines import PIPELINES
from settings_errors import Problem, Strict, rule

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
