"""The runtimes a pipeline's steps run on, as Step Functions states: a transient EMR cluster (created, given the
steps, terminated on every path) or an EMR Serverless application. The flow around them is components/step_functions.py.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from components import iceberg
from components.step_functions import (
    FAILED,
    RUN_CHECK_QUERY,
    Around,
    PipelineTargets,
    Runtime,
    catch,
    conf_flags,
    iceberg_warehouse,
    retry,
    script_uri,
    step_arguments,
)
from pipelines.model import Pipeline, Step

# The cluster tag the state machine role is scoped by: it may create, drive and end only its pipeline's clusters.
PIPELINE_TAG = "pipeline"

CREATE_CLUSTER = "CreateCluster"
TERMINATE_CLUSTER = "TerminateCluster"
TERMINATE_AFTER_FAILURE = "TerminateClusterAfterFailure"

SPARK_TASK_RESOURCES = (
    "arn:aws:states:::elasticmapreduce:addStep.sync",
    "arn:aws:states:::emr-serverless:startJobRun.sync",
)

# Transient errors only: throttling and service-side failures. A failed Spark step or job run surfaces as
# States.TaskFailed and is never retried (a rerun costs cluster hours and hides the bug). The optimized EMR
# integration reports throttling and service errors as the SDK's base exception.
EMR_TRANSIENT = ["EMR.AmazonElasticMapReduceException"]
SERVERLESS_TRANSIENT = ["EMRServerless.ThrottlingException", "EMRServerless.InternalServerException"]

# Upper bound on createCluster.sync: provisioning longer than this is a capacity problem, not a slow start.
CREATE_CLUSTER_TIMEOUT_SECONDS = 1800
# Step Functions falls back to polling an EMR step every 300 s; an idle timeout below twice that could end the
# cluster between two waves while the state machine has not yet noticed the first one finished.
MIN_IDLE_TIMEOUT_SECONDS = 600
MAX_IDLE_TIMEOUT_SECONDS = 7 * 24 * 3600  # the AutoTerminationPolicy maximum
_RELEASE_LABEL = re.compile(r"^emr-\d+\.\d+\.\d+$")


def min_execution_timeout_seconds(waves: int, step_timeout_seconds: int, runtime: Runtime) -> int:
    """The execution timeout must exceed this: an execution that times out runs no Catch, so it must not be able to
    end while a step still runs (each wave's steps run at once; a cluster first takes up to its creation timeout).

    The settings refuse a pipeline timeout at or below it (settings.py); the builder asserts it again."""
    return waves * step_timeout_seconds + (CREATE_CLUSTER_TIMEOUT_SECONDS if runtime == "cluster" else 0)


@dataclass(frozen=True)
class ClusterSpec:
    """Everything createCluster needs, already resolved to plain values."""

    name: str
    release_label: str
    log_uri: str
    service_role: str
    instance_profile: str
    security_configuration: str
    subnet_id: str
    master_security_group: str
    core_security_group: str
    service_access_security_group: str | None
    primary_instance_type: str
    core_instance_type: str
    # Worker capacity in nodes, on-demand and spot together; `spot_core_instance_count` of them run on spot.
    core_instance_count: int
    spot_core_instance_count: int
    ebs_volume_gb: int
    idle_timeout_seconds: int
    step_timeout_seconds: int
    tags: Mapping[str, str] = field(default_factory=dict)
    # Scripts run on every node before Spark starts: (name, s3:// URI).
    bootstrap_actions: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        problems = []
        if not all(uri.startswith("s3://") for _, uri in self.bootstrap_actions):
            problems.append(f"bootstrap_actions {self.bootstrap_actions} must be s3:// URIs")
        if not _RELEASE_LABEL.match(self.release_label):
            problems.append(f"release_label {self.release_label!r} is not an EMR release label like emr-7.12.0")
        if not self.log_uri.startswith("s3://"):
            problems.append(f"log_uri {self.log_uri!r} must be an s3:// URI")
        if self.core_instance_count < 1:
            problems.append(f"core_instance_count {self.core_instance_count} must be at least 1")
        # Spot nodes run as TASK nodes beside at least one on-demand CORE node: HDFS (Spark event logs, YARN
        # staging) must not live on nodes EC2 may reclaim mid-step.
        if not 0 <= self.spot_core_instance_count < self.core_instance_count:
            problems.append(
                f"spot_core_instance_count {self.spot_core_instance_count} must be from 0 to "
                f"core_instance_count - 1 = {self.core_instance_count - 1} (one on-demand core node keeps HDFS)"
            )
        if self.ebs_volume_gb < 1:
            problems.append(f"ebs_volume_gb {self.ebs_volume_gb} must be at least 1")
        if not MIN_IDLE_TIMEOUT_SECONDS <= self.idle_timeout_seconds <= MAX_IDLE_TIMEOUT_SECONDS:
            problems.append(
                f"idle_timeout_seconds {self.idle_timeout_seconds} must be from {MIN_IDLE_TIMEOUT_SECONDS} "
                f"to {MAX_IDLE_TIMEOUT_SECONDS}"
            )
        if self.step_timeout_seconds < 1:
            problems.append(f"step_timeout_seconds {self.step_timeout_seconds} must be at least 1")
        if problems:
            raise ValueError(f"ClusterSpec {self.name}: " + "; ".join(problems))

    @property
    def where(self) -> str:
        return f"a transient EMR cluster ({self.release_label})"

    def min_timeout(self, waves: int) -> tuple[int, str]:
        needed = min_execution_timeout_seconds(waves, self.step_timeout_seconds, "cluster")
        return needed, f"{CREATE_CLUSTER_TIMEOUT_SECONDS} s to create the cluster + {waves} wave(s) x step timeout"

    def task(self, step: Step, targets: PipelineTargets) -> dict:
        return _add_step_task(step, targets, self)

    def around(self, pipeline: Pipeline, first_wave: str, targets: PipelineTargets) -> Around:
        """The cluster comes up before the first wave and goes after the last, or after any failure."""
        states = _cluster_states(pipeline, self, first_wave, iceberg_warehouse(targets))
        return Around(CREATE_CLUSTER, TERMINATE_CLUSTER, TERMINATE_AFTER_FAILURE, states)


@dataclass(frozen=True)
class ServerlessSpec:
    """Everything startJobRun needs, already resolved to plain values."""

    application_id: str
    execution_role_arn: str
    log_uri: str
    job_timeout_minutes: int

    def __post_init__(self) -> None:
        if not self.log_uri.startswith("s3://"):
            raise ValueError(f"ServerlessSpec: log_uri {self.log_uri!r} must be an s3:// URI")
        if self.job_timeout_minutes < 1:
            raise ValueError(f"ServerlessSpec: job_timeout_minutes {self.job_timeout_minutes} must be at least 1")

    @property
    def where(self) -> str:
        return f"EMR Serverless application {self.application_id}"

    def min_timeout(self, waves: int) -> tuple[int, str]:
        needed = min_execution_timeout_seconds(waves, self.job_timeout_minutes * 60, "serverless")
        return needed, f"{waves} wave(s) x job timeout"

    def task(self, step: Step, targets: PipelineTargets) -> dict:
        return _start_job_run_task(step, targets, self)

    def around(self, pipeline: Pipeline, first_wave: str, targets: PipelineTargets) -> Around:
        # Nothing to clean up: EMR Serverless releases workers when a job ends and the application auto-stops.
        return Around(first_wave, RUN_CHECK_QUERY, FAILED, {})


def _cluster_parameters(spec: ClusterSpec, pipeline: Pipeline, step_concurrency: int, warehouse: str) -> dict:
    tags = dict(spec.tags)
    if tags.setdefault(PIPELINE_TAG, pipeline.name) != pipeline.name:
        raise ValueError(f"ClusterSpec {spec.name}: tag {PIPELINE_TAG}={tags[PIPELINE_TAG]!r} is not {pipeline.name!r}")
    ebs = {
        "EbsBlockDeviceConfigs": [
            {"VolumeSpecification": {"VolumeType": "gp3", "SizeInGB": spec.ebs_volume_gb}, "VolumesPerInstance": 1}
        ],
        "EbsOptimized": True,
    }

    def group(name: str, role: str, market: str, instance_type: str, count: int) -> dict:
        return {
            "Name": name,
            "InstanceRole": role,
            "Market": market,
            "InstanceType": instance_type,
            "InstanceCount": count,
            "EbsConfiguration": ebs,
        }

    on_demand_core = spec.core_instance_count - spec.spot_core_instance_count
    groups = [
        group("Primary", "MASTER", "ON_DEMAND", spec.primary_instance_type, 1),
        group("Core", "CORE", "ON_DEMAND", spec.core_instance_type, on_demand_core),
    ]
    if spec.spot_core_instance_count:
        # Spot capacity joins as TASK nodes: EMR allows one core group, and task nodes hold no HDFS blocks.
        groups.append(group("Spot", "TASK", "SPOT", spec.core_instance_type, spec.spot_core_instance_count))
    instances = {
        "InstanceGroups": groups,
        "Ec2SubnetId": spec.subnet_id,
        "EmrManagedMasterSecurityGroup": spec.master_security_group,
        "EmrManagedSlaveSecurityGroup": spec.core_security_group,
        # createCluster requires it: steps are added afterwards, and the state machine ends the cluster.
        "KeepJobFlowAliveWhenNoSteps": True,
        "TerminationProtected": False,
    }
    if spec.service_access_security_group:
        instances["ServiceAccessSecurityGroup"] = spec.service_access_security_group
    bootstrap = [{"Name": name, "ScriptBootstrapAction": {"Path": uri}} for name, uri in spec.bootstrap_actions]
    return {
        "Name": spec.name,
        "ReleaseLabel": spec.release_label,
        "Applications": [{"Name": "Spark"}],
        # Iceberg on, and the jobs' Glue catalog in spark-defaults (components/iceberg.py).
        "Configurations": iceberg.emr_configurations(warehouse),
        "ServiceRole": spec.service_role,
        "JobFlowRole": spec.instance_profile,
        "LogUri": spec.log_uri,
        "SecurityConfiguration": spec.security_configuration,
        "VisibleToAllUsers": True,
        "StepConcurrencyLevel": step_concurrency,
        # Cost guard for what no Catch can reach: a stopped or timed-out execution, a cluster that came up after
        # CreateCluster gave up, a failed cleanup. An idle cluster ends itself.
        "AutoTerminationPolicy": {"IdleTimeout": spec.idle_timeout_seconds},
        "Instances": instances,
        **({"BootstrapActions": bootstrap} if bootstrap else {}),
        "Tags": [{"Key": key, "Value": value} for key, value in sorted(tags.items())],
    }


def _add_step_task(step: Step, targets: PipelineTargets, spec: ClusterSpec) -> dict:
    args = [
        "spark-submit",
        "--deploy-mode",
        "cluster",
        *conf_flags(targets.spark_conf),
        "--py-files",
        targets.py_files_uri,
        script_uri(step, targets),
        *step_arguments(step, targets),
    ]
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::elasticmapreduce:addStep.sync",
        "Parameters": {
            "ClusterId.$": "$.cluster.ClusterId",
            "Step": {
                "Name": step.name,
                # The state machine, not EMR, decides what a failure does: it terminates the cluster itself.
                "ActionOnFailure": "CONTINUE",
                "HadoopJarStep": {"Jar": "command-runner.jar", "Args": args},
            },
        },
        "TimeoutSeconds": spec.step_timeout_seconds,
        # Keep the input: the cluster id must reach the next step and the cleanup.
        "ResultPath": None,
        "Retry": [retry(EMR_TRANSIENT)],
    }


def _start_job_run_task(step: Step, targets: PipelineTargets, spec: ServerlessSpec) -> dict:
    conf = {**iceberg.serverless_conf(iceberg_warehouse(targets)), **targets.spark_conf}
    submit = " ".join(["--py-files", targets.py_files_uri, *conf_flags(conf)])
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::emr-serverless:startJobRun.sync",
        "Parameters": {
            "Name": step.name,
            "ApplicationId": spec.application_id,
            "ExecutionRoleArn": spec.execution_role_arn,
            "JobDriver": {
                "SparkSubmit": {
                    "EntryPoint": script_uri(step, targets),
                    "EntryPointArguments": step_arguments(step, targets),
                    "SparkSubmitParameters": submit,
                }
            },
            "ConfigurationOverrides": {
                "MonitoringConfiguration": {"S3MonitoringConfiguration": {"LogUri": spec.log_uri}}
            },
            "ExecutionTimeoutMinutes": spec.job_timeout_minutes,
        },
        "ResultPath": None,
        "Retry": [retry(SERVERLESS_TRANSIENT)],
    }


def _cluster_states(pipeline: Pipeline, spec: ClusterSpec, first_wave: str, warehouse: str) -> dict[str, dict]:
    width = max(len(wave) for wave in pipeline.waves())
    return {
        CREATE_CLUSTER: {
            "Type": "Task",
            "Resource": "arn:aws:states:::elasticmapreduce:createCluster.sync",
            "Parameters": _cluster_parameters(spec, pipeline, width, warehouse),
            "TimeoutSeconds": CREATE_CLUSTER_TIMEOUT_SECONDS,
            "ResultSelector": {"ClusterId.$": "$.ClusterId"},
            "ResultPath": "$.cluster",
            # A throttled RunJobFlow created nothing; a retry after a RunJobFlow that did create a cluster
            # leaves that cluster idle, and the AutoTerminationPolicy ends it.
            "Retry": [retry(EMR_TRANSIENT, interval=30, attempts=2)],
            # No cluster id without a result, so nothing to terminate here: EMR ends a cluster that fails to
            # start, and one that starts after this state gave up is idle and ends itself (AutoTerminationPolicy).
            "Catch": [catch(FAILED)],
            "Next": first_wave,
        },
        TERMINATE_CLUSTER: {
            "Type": "Task",
            "Resource": "arn:aws:states:::elasticmapreduce:terminateCluster.sync",
            "Parameters": {"ClusterId.$": "$.cluster.ClusterId"},
            "ResultPath": None,
            "Retry": [retry(EMR_TRANSIENT)],
            "Catch": [catch(TERMINATE_AFTER_FAILURE)],
            "Next": RUN_CHECK_QUERY,
        },
        TERMINATE_AFTER_FAILURE: {
            "Type": "Task",
            "Resource": "arn:aws:states:::elasticmapreduce:terminateCluster.sync",
            "Parameters": {"ClusterId.$": "$.cluster.ClusterId"},
            "ResultPath": None,
            # Terminating is idempotent and a live cluster costs money by the hour: any error is worth retrying.
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 30, "BackoffRate": 2.0, "MaxAttempts": 4}],
            # A failed cleanup still fails the run with the original cause; the cleanup error stays beside it.
            "Catch": [catch(FAILED, result_path="$.cleanupError")],
            "Next": FAILED,
        },
    }
