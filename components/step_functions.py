"""Step Functions definitions (ASL) of the pipelines, and the IAM policy of the role that runs them.

Pure functions over resolved plain values: `pipelines/` describes the steps, these turn them into states.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from components.policies import ATHENA_RESULTS_OBJECT_ACTIONS, document, objects, statement
from pipelines.model import Pipeline, Step

Runtime = Literal["cluster", "serverless"]

# The cluster tag the state machine role is scoped by: it may create, drive and end only its pipeline's clusters.
PIPELINE_TAG = "pipeline"

CREATE_CLUSTER = "CreateCluster"
TERMINATE_CLUSTER = "TerminateCluster"
TERMINATE_AFTER_FAILURE = "TerminateClusterAfterFailure"
START_CRAWLER = "StartCrawler"
INIT_CRAWLER_POLLS = "InitCrawlerPolls"
WAIT_FOR_CRAWLER = "WaitForCrawler"
GET_CRAWLER = "GetCrawler"
CRAWLER_STATUS = "CrawlerStatus"
COUNT_CRAWLER_POLL = "CountCrawlerPoll"
CRAWLER_POLL_BUDGET = "CrawlerPollBudget"
CRAWLER_FAILED = "CrawlerFailed"
CRAWLER_TIMED_OUT = "CrawlerTimedOut"
RUN_CHECK_QUERY = "RunCheckQuery"
GET_CHECK_RESULTS = "GetCheckResults"
CHECK_HAS_ROWS = "CheckHasRows"
CHECK_EMPTY = "CheckQueryReturnedNoRows"
SUCCEEDED = "PipelineSucceeded"
FAILED = "PipelineFailed"
FAIL_WITH_CAUSE = "FailWithCause"
FAIL_WITHOUT_CAUSE = "FailWithoutCause"
PIPELINE_FAILED_ERROR = "Datalake.PipelineFailed"

SPARK_TASK_RESOURCES = (
    "arn:aws:states:::elasticmapreduce:addStep.sync",
    "arn:aws:states:::emr-serverless:startJobRun.sync",
)

# Transient errors only: throttling and service-side failures of each integration. A failed Spark step or job
# run surfaces as States.TaskFailed and is never retried (a rerun costs cluster hours and hides the bug).
# The optimized EMR integration reports throttling and service errors as the SDK's base exception.
EMR_TRANSIENT = ["EMR.AmazonElasticMapReduceException"]
SERVERLESS_TRANSIENT = ["EMRServerless.ThrottlingException", "EMRServerless.InternalServerException"]
GLUE_TRANSIENT = ["Glue.ThrottlingException", "Glue.OperationTimeoutException", "Glue.InternalServiceException"]
ATHENA_TRANSIENT = ["Athena.TooManyRequestsException", "Athena.InternalServerException"]

# Upper bound on createCluster.sync: provisioning longer than this is a capacity problem, not a slow start.
CREATE_CLUSTER_TIMEOUT_SECONDS = 1800
# Step Functions falls back to polling an EMR step every 300 s; an idle timeout below twice that could end the
# cluster between two waves while the state machine has not yet noticed the first one finished.
MIN_IDLE_TIMEOUT_SECONDS = 600
MAX_IDLE_TIMEOUT_SECONDS = 7 * 24 * 3600  # the AutoTerminationPolicy maximum
_RELEASE_LABEL = re.compile(r"^emr-\d+\.\d+\.\d+$")


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


@dataclass(frozen=True)
class ServerlessSpec:
    application_id: str
    execution_role_arn: str
    log_uri: str
    job_timeout_minutes: int

    def __post_init__(self) -> None:
        if not self.log_uri.startswith("s3://"):
            raise ValueError(f"ServerlessSpec: log_uri {self.log_uri!r} must be an s3:// URI")
        if self.job_timeout_minutes < 1:
            raise ValueError(f"ServerlessSpec: job_timeout_minutes {self.job_timeout_minutes} must be at least 1")


@dataclass(frozen=True)
class PipelineTargets:
    """Where a pipeline's code and data live in AWS, resolved."""

    zone_uris: Mapping[str, str]
    script_uris: Mapping[str, str]
    py_files_uri: str
    crawler_name: str
    check_query_sql: str
    athena_workgroup: str
    glue_database: str
    spark_conf: Mapping[str, str] = field(default_factory=dict)


def step_arguments(step: Step, targets: PipelineTargets) -> list[str]:
    """The job's command-line arguments, each Location as the s3:// URI of its prefix in its zone's bucket."""
    arguments = []
    for flag, location in step.args:
        if location.zone not in targets.zone_uris:
            raise ValueError(f"step {step.name}: no bucket for zone {location.zone!r} in {sorted(targets.zone_uris)}")
        base = targets.zone_uris[location.zone].rstrip("/")
        if not base.startswith("s3://"):
            raise ValueError(f"step {step.name}: zone {location.zone!r} URI {base!r} is not an s3:// URI")
        arguments += [flag, f"{base}/{location.prefix}"]
    return arguments


def _script(step: Step, targets: PipelineTargets) -> str:
    if step.job not in targets.script_uris:
        raise ValueError(f"step {step.name}: no uploaded script for job {step.job!r}")
    return targets.script_uris[step.job]


def _conf_flags(spark_conf: Mapping[str, str]) -> list[str]:
    return [flag for key, value in sorted(spark_conf.items()) for flag in ("--conf", f"{key}={value}")]


def _retry(errors: list[str], *, interval: int = 10, attempts: int = 4) -> dict:
    return {
        "ErrorEquals": errors,
        "IntervalSeconds": interval,
        "BackoffRate": 2.0,
        "MaxAttempts": attempts,
        "MaxDelaySeconds": 300,
        "JitterStrategy": "FULL",
    }


def _catch(target: str, *, errors: Sequence[str] = ("States.ALL",), result_path: str | None = "$.error") -> dict:
    return {"ErrorEquals": list(errors), "ResultPath": result_path, "Next": target}


def _format_literal(text: str) -> str:
    """`text` as a literal inside an intrinsic function's quoted template (', {, } and \\ are escaped)."""
    return re.sub(r"([\\'{}])", r"\\\1", text)


def _task_name(step: Step) -> str:
    return f"Run {step.name}"


# Runtime-specific states -------------------------------------------------------------------------------------


def _cluster_parameters(spec: ClusterSpec, pipeline: Pipeline, step_concurrency: int) -> dict:
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
        *_conf_flags(targets.spark_conf),
        "--py-files",
        targets.py_files_uri,
        _script(step, targets),
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
        "Retry": [_retry(EMR_TRANSIENT)],
    }


def _start_job_run_task(step: Step, targets: PipelineTargets, spec: ServerlessSpec) -> dict:
    submit = " ".join(["--py-files", targets.py_files_uri, *_conf_flags(targets.spark_conf)])
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::emr-serverless:startJobRun.sync",
        "Parameters": {
            "Name": step.name,
            "ApplicationId": spec.application_id,
            "ExecutionRoleArn": spec.execution_role_arn,
            "JobDriver": {
                "SparkSubmit": {
                    "EntryPoint": _script(step, targets),
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
        "Retry": [_retry(SERVERLESS_TRANSIENT)],
    }


def _cluster_states(pipeline: Pipeline, spec: ClusterSpec, first_wave: str) -> dict[str, dict]:
    width = max(len(wave) for wave in pipeline.waves())
    return {
        CREATE_CLUSTER: {
            "Type": "Task",
            "Resource": "arn:aws:states:::elasticmapreduce:createCluster.sync",
            "Parameters": _cluster_parameters(spec, pipeline, width),
            "TimeoutSeconds": CREATE_CLUSTER_TIMEOUT_SECONDS,
            "ResultSelector": {"ClusterId.$": "$.ClusterId"},
            "ResultPath": "$.cluster",
            # A throttled RunJobFlow created nothing; a retry after a RunJobFlow that did create a cluster
            # leaves that cluster idle, and the AutoTerminationPolicy ends it.
            "Retry": [_retry(EMR_TRANSIENT, interval=30, attempts=2)],
            # No cluster id without a result, so nothing to terminate here: EMR ends a cluster that fails to
            # start, and one that starts after this state gave up is idle and ends itself (AutoTerminationPolicy).
            "Catch": [_catch(FAILED)],
            "Next": first_wave,
        },
        TERMINATE_CLUSTER: {
            "Type": "Task",
            "Resource": "arn:aws:states:::elasticmapreduce:terminateCluster.sync",
            "Parameters": {"ClusterId.$": "$.cluster.ClusterId"},
            "ResultPath": None,
            "Retry": [_retry(EMR_TRANSIENT)],
            "Catch": [_catch(TERMINATE_AFTER_FAILURE)],
            "Next": START_CRAWLER,
        },
        TERMINATE_AFTER_FAILURE: {
            "Type": "Task",
            "Resource": "arn:aws:states:::elasticmapreduce:terminateCluster.sync",
            "Parameters": {"ClusterId.$": "$.cluster.ClusterId"},
            "ResultPath": None,
            # Terminating is idempotent and a live cluster costs money by the hour: any error is worth retrying.
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 30, "BackoffRate": 2.0, "MaxAttempts": 4}],
            # A failed cleanup still fails the run with the original cause; the cleanup error stays beside it.
            "Catch": [_catch(FAILED, result_path="$.cleanupError")],
            "Next": FAILED,
        },
    }


# The waves of steps ---------------------------------------------------------------------------------------------


def _wave_states(pipeline: Pipeline, task_for, *, after_last: str, on_failure: str) -> tuple[str, dict[str, dict]]:
    """One state per wave, chained in wave order: a single step's Task, or a Parallel of one-Task branches."""
    waves = pipeline.waves()
    names = [_task_name(wave[0]) if len(wave) == 1 else f"Wave {index + 1}" for index, wave in enumerate(waves)]
    states: dict[str, dict] = {}
    for index, wave in enumerate(waves):
        following = names[index + 1] if index + 1 < len(waves) else after_last
        if len(wave) == 1:
            task = task_for(wave[0])
            states[names[index]] = {**task, "Catch": [_catch(on_failure)], "Next": following}
            continue
        # Retries stay on each branch's Task; one Catch on the Parallel covers every branch.
        branches = [
            {"StartAt": _task_name(step), "States": {_task_name(step): {**task_for(step), "End": True}}}
            for step in wave
        ]
        states[names[index]] = {
            "Type": "Parallel",
            "Branches": branches,
            "ResultPath": None,
            "Catch": [_catch(on_failure)],
            "Next": following,
        }
    return names[0], states


# After the jobs: crawler, check query --------------------------------------------------------------------------


def _crawler_states(targets: PipelineTargets, *, poll_seconds: int, max_polls: int) -> dict[str, dict]:
    name = targets.crawler_name
    glue_retry = [_retry(GLUE_TRANSIENT, interval=5)]
    return {
        START_CRAWLER: {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:glue:startCrawler",
            "Parameters": {"Name": name},
            "ResultPath": None,
            "Retry": glue_retry,
            # Already running is fine: poll that run to its end.
            "Catch": [
                _catch(INIT_CRAWLER_POLLS, errors=["Glue.CrawlerRunningException"], result_path=None),
                _catch(FAILED),
            ],
            "Next": INIT_CRAWLER_POLLS,
        },
        INIT_CRAWLER_POLLS: {
            "Type": "Pass",
            "Result": {"count": 0},
            "ResultPath": "$.crawlerPolls",
            "Next": WAIT_FOR_CRAWLER,
        },
        WAIT_FOR_CRAWLER: {"Type": "Wait", "Seconds": poll_seconds, "Next": GET_CRAWLER},
        GET_CRAWLER: {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:glue:getCrawler",
            "Parameters": {"Name": name},
            # No ResultSelector: LastCrawl is absent until a crawler's first run ends, and a selector path that
            # resolves to nothing is a States.Runtime error no Catch sees. CrawlerStatus tests it with IsPresent.
            "ResultPath": "$.crawler",
            "Retry": glue_retry,
            "Catch": [_catch(FAILED)],
            "Next": CRAWLER_STATUS,
        },
        CRAWLER_STATUS: {
            "Type": "Choice",
            "Choices": [
                {"Not": {"Variable": "$.crawler.Crawler.State", "StringEquals": "READY"}, "Next": COUNT_CRAWLER_POLL},
                {"Variable": "$.crawler.Crawler.LastCrawl.Status", "IsPresent": False, "Next": CRAWLER_FAILED},
                {
                    "Variable": "$.crawler.Crawler.LastCrawl.Status",
                    "StringEquals": "SUCCEEDED",
                    "Next": RUN_CHECK_QUERY,
                },
            ],
            # READY after a FAILED or CANCELLED crawl.
            "Default": CRAWLER_FAILED,
        },
        COUNT_CRAWLER_POLL: {
            "Type": "Pass",
            "Parameters": {"count.$": "States.MathAdd($.crawlerPolls.count, 1)"},
            "ResultPath": "$.crawlerPolls",
            "Next": CRAWLER_POLL_BUDGET,
        },
        CRAWLER_POLL_BUDGET: {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.crawlerPolls.count", "NumericGreaterThanEquals": max_polls, "Next": CRAWLER_TIMED_OUT}
            ],
            "Default": WAIT_FOR_CRAWLER,
        },
        CRAWLER_FAILED: {
            "Type": "Pass",
            "Parameters": {
                "Error": "CrawlerFailed",
                "Cause.$": f"States.Format('crawler {_format_literal(name)} did not succeed: {{}}', "
                "States.JsonToString($.crawler.Crawler))",
            },
            "ResultPath": "$.error",
            "Next": FAILED,
        },
        CRAWLER_TIMED_OUT: {
            "Type": "Pass",
            "Result": {
                "Error": "CrawlerTimeout",
                "Cause": f"crawler {name} was still not READY after {max_polls} polls {poll_seconds} s apart",
            },
            "ResultPath": "$.error",
            "Next": FAILED,
        },
    }


def _check_states(pipeline: Pipeline, targets: PipelineTargets) -> dict[str, dict]:
    athena_retry = [_retry(ATHENA_TRANSIENT, interval=5)]
    return {
        RUN_CHECK_QUERY: {
            "Type": "Task",
            "Resource": "arn:aws:states:::athena:startQueryExecution.sync",
            "Parameters": {
                "QueryString": targets.check_query_sql,
                "WorkGroup": targets.athena_workgroup,
                "QueryExecutionContext": {"Database": targets.glue_database},
            },
            "ResultSelector": {
                "QueryExecutionId.$": "$.QueryExecution.QueryExecutionId",
                "State.$": "$.QueryExecution.Status.State",
            },
            "ResultPath": "$.check",
            "Retry": athena_retry,
            "Catch": [_catch(FAILED)],
            "Next": GET_CHECK_RESULTS,
        },
        # A query that succeeds on empty tables proves nothing: the run must have produced rows.
        GET_CHECK_RESULTS: {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:athena:getQueryResults",
            # The first row of a SELECT's results is its header.
            "Parameters": {"QueryExecutionId.$": "$.check.QueryExecutionId", "MaxResults": 2},
            "ResultSelector": {"RowCount.$": "States.ArrayLength($.ResultSet.Rows)"},
            "ResultPath": "$.checkResults",
            "Retry": athena_retry,
            "Catch": [_catch(FAILED)],
            "Next": CHECK_HAS_ROWS,
        },
        CHECK_HAS_ROWS: {
            "Type": "Choice",
            "Choices": [{"Variable": "$.checkResults.RowCount", "NumericGreaterThan": 1, "Next": SUCCEEDED}],
            "Default": CHECK_EMPTY,
        },
        CHECK_EMPTY: {
            "Type": "Pass",
            "Result": {
                "Error": "CheckQueryEmpty",
                "Cause": f"the {pipeline.check_query} check query returned no rows",
            },
            "ResultPath": "$.error",
            "Next": FAILED,
        },
        SUCCEEDED: {"Type": "Succeed"},
        **_failure_states(),
    }


def _failure_states() -> dict[str, dict]:
    """Every failure path enters FAILED with the caught error at $.error: the run fails with it as its cause.

    Error names beginning "States." are reserved to the service, so a caught States.TaskFailed cannot be re-raised
    as is: the run fails with one name of its own, the original error leading the cause. A caught error need not
    carry a Cause (error output: "Error handling in Step Functions"), and a path that resolves to nothing fails the
    execution with States.Runtime, which no Catch sees: the Choice tests for it first.
    """
    return {
        FAILED: {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.error.Cause", "IsPresent": False, "Next": FAIL_WITHOUT_CAUSE},
                {"Variable": "$.error.Cause", "IsString": True, "Next": FAIL_WITH_CAUSE},
            ],
            "Default": FAIL_WITHOUT_CAUSE,
        },
        FAIL_WITH_CAUSE: {
            "Type": "Fail",
            "Error": PIPELINE_FAILED_ERROR,
            "CausePath": "States.Format('{}: {}', $.error.Error, $.error.Cause)",
        },
        FAIL_WITHOUT_CAUSE: {
            "Type": "Fail",
            "Error": PIPELINE_FAILED_ERROR,
            "CausePath": "States.Format('{}: no cause given', $.error.Error)",
        },
    }


def _move_to_partition(states: dict[str, dict], partition: str) -> None:
    for state in states.values():
        if "Resource" in state:
            state["Resource"] = state["Resource"].replace("arn:aws:", f"arn:{partition}:", 1)
        for branch in state.get("Branches", []):
            _move_to_partition(branch["States"], partition)


def min_execution_timeout_seconds(waves: int, step_timeout_seconds: int, runtime: Runtime) -> int:
    """The execution timeout must exceed this: an execution that times out runs no Catch, so it must not be able to
    end while a step still runs (each wave's steps run at once; a cluster first takes up to its creation timeout).

    The settings refuse a pipeline timeout at or below it (settings.py); the builder asserts it again."""
    return waves * step_timeout_seconds + (CREATE_CLUSTER_TIMEOUT_SECONDS if runtime == "cluster" else 0)


def _check_timeouts(pipeline: Pipeline, runtime: ClusterSpec | ServerlessSpec, timeout_seconds: int) -> None:
    waves = len(pipeline.waves())
    if isinstance(runtime, ClusterSpec):
        needed = min_execution_timeout_seconds(waves, runtime.step_timeout_seconds, "cluster")
        what = f"{CREATE_CLUSTER_TIMEOUT_SECONDS} s to create the cluster + {waves} wave(s) x step timeout"
    else:
        needed = min_execution_timeout_seconds(waves, runtime.job_timeout_minutes * 60, "serverless")
        what = f"{waves} wave(s) x job timeout"
    if timeout_seconds <= needed:
        raise ValueError(
            f"pipeline {pipeline.name}: timeout_seconds {timeout_seconds} must exceed {what} = {needed} s, "
            "or a timed-out execution could leave a step running"
        )


def build_definition(
    pipeline: Pipeline,
    targets: PipelineTargets,
    runtime: ClusterSpec | ServerlessSpec,
    *,
    crawler_poll_seconds: int = 30,
    crawler_max_polls: int = 60,
    timeout_seconds: int = 6 * 3600,
    partition: str = "aws",
) -> dict:
    """The ASL document of one pipeline: its jobs in waves, then its crawler, then its check query.

    `partition` names the partition of the integrations' ARNs (aws-cn, aws-us-gov); the states are built in `aws`.
    """
    if crawler_poll_seconds < 1 or crawler_max_polls < 1:
        raise ValueError(
            f"crawler polling needs at least 1 s and 1 poll, got {crawler_poll_seconds}, {crawler_max_polls}"
        )
    _check_timeouts(pipeline, runtime, timeout_seconds)
    if isinstance(runtime, ClusterSpec):
        first, waves = _wave_states(
            pipeline,
            lambda step: _add_step_task(step, targets, runtime),
            after_last=TERMINATE_CLUSTER,
            on_failure=TERMINATE_AFTER_FAILURE,
        )
        start, runtime_states = CREATE_CLUSTER, _cluster_states(pipeline, runtime, first)
        where = f"a transient EMR cluster ({runtime.release_label})"
    else:
        # Nothing to clean up: EMR Serverless releases workers when a job ends and the application auto-stops.
        first, waves = _wave_states(
            pipeline,
            lambda step: _start_job_run_task(step, targets, runtime),
            after_last=START_CRAWLER,
            on_failure=FAILED,
        )
        start, runtime_states = first, {}
        where = f"EMR Serverless application {runtime.application_id}"
    states = {
        **runtime_states,
        **waves,
        **_crawler_states(targets, poll_seconds=crawler_poll_seconds, max_polls=crawler_max_polls),
        **_check_states(pipeline, targets),
    }
    _move_to_partition(states, partition)
    steps = " then ".join(" + ".join(step.name for step in wave) for wave in pipeline.waves())
    return {
        "Comment": (
            f"datalake pipeline {pipeline.name}: {steps} on {where}, then crawler {targets.crawler_name} and "
            f"the {pipeline.check_query} check query. {pipeline.description}"
        ),
        "StartAt": start,
        "TimeoutSeconds": timeout_seconds,
        "States": states,
    }


# The state machine's role ---------------------------------------------------------------------------------------

# Rules Step Functions creates in the account's default bus to learn that a .sync job ended.
EMR_SYNC_RULES = (
    "StepFunctionsGetEventForEMRRunJobFlowRule",
    "StepFunctionsGetEventForEMRAddJobFlowStepsRule",
    "StepFunctionsGetEventForEMRTerminateJobFlowsRule",
)
SERVERLESS_SYNC_RULES = ("StepFunctionsGetEventsForEMRServerlessJobRule",)

# Actions IAM cannot scope to a resource, so their statements must name "*" (Service Authorization Reference):
# RunJobFlow creates a cluster that has no ARN yet (scoped instead by the pipeline tag it must carry);
# X-Ray's trace and sampling calls; the CloudWatch Logs vended-delivery calls Step Functions makes.
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets")
LOG_DELIVERY_ACTIONS = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)
UNSCOPED_ACTIONS = frozenset({"elasticmapreduce:RunJobFlow", *XRAY_ACTIONS, *LOG_DELIVERY_ACTIONS})


def _dns_suffix(partition: str) -> str:
    return "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"


def _event_rules(partition: str, region: str, account_id: str, rules: Sequence[str]) -> dict:
    arns = [f"arn:{partition}:events:{region}:{account_id}:rule/{rule}" for rule in rules]
    return statement("SyncEventRules", ["events:PutTargets", "events:PutRule", "events:DescribeRule"], arns)


def _cluster_statements(
    *, partition: str, region: str, account_id: str, pipeline: Pipeline, emr_role_arns: Sequence[str]
) -> list[dict]:
    tag = {PIPELINE_TAG: pipeline.name}
    return [
        statement(
            "CreatePipelineClusters",
            ["elasticmapreduce:RunJobFlow"],
            ["*"],
            condition={"StringEquals": {f"aws:RequestTag/{key}": value for key, value in tag.items()}},
        ),
        statement(
            "DrivePipelineClusters",
            [
                "elasticmapreduce:DescribeCluster",
                "elasticmapreduce:TerminateJobFlows",
                "elasticmapreduce:AddJobFlowSteps",
                "elasticmapreduce:DescribeStep",
                "elasticmapreduce:CancelSteps",
            ],
            [f"arn:{partition}:elasticmapreduce:{region}:{account_id}:cluster/*"],
            condition={"StringEquals": {f"aws:ResourceTag/{key}": value for key, value in tag.items()}},
        ),
        statement(
            "PassClusterRoles",
            ["iam:PassRole"],
            list(emr_role_arns),
            condition={
                "StringLike": {"iam:PassedToService": ["elasticmapreduce.amazonaws.com*", "ec2.amazonaws.com*"]}
            },
        ),
        # createCluster fails in an account that never ran EMR unless the caller may create EMR's cleanup role.
        statement(
            "CreateEmrCleanupRole",
            ["iam:CreateServiceLinkedRole"],
            [
                f"arn:{partition}:iam::{account_id}:role/aws-service-role/elasticmapreduce.amazonaws.com*/AWSServiceRoleForEMRCleanup*"
            ],
            condition={"StringLike": {"iam:AWSServiceName": "elasticmapreduce.amazonaws.com*"}},
        ),
        _event_rules(partition, region, account_id, EMR_SYNC_RULES),
    ]


def _serverless_statements(
    *, partition: str, region: str, account_id: str, application_arn: str | None, emr_role_arns: Sequence[str]
) -> list[dict]:
    if not application_arn:
        raise ValueError("runtime serverless needs serverless_application_arn")
    return [
        statement("StartJobRuns", ["emr-serverless:StartJobRun"], [application_arn]),
        statement(
            "WatchJobRuns",
            ["emr-serverless:GetJobRun", "emr-serverless:CancelJobRun"],
            [f"{application_arn}/jobruns/*"],
        ),
        statement(
            "PassJobRole",
            ["iam:PassRole"],
            list(emr_role_arns),
            condition={"StringEquals": {"iam:PassedToService": "emr-serverless.amazonaws.com"}},
        ),
        _event_rules(partition, region, account_id, SERVERLESS_SYNC_RULES),
    ]


def _query_statements(
    *,
    partition: str,
    region: str,
    account_id: str,
    pipeline: Pipeline,
    workgroup_arn: str,
    glue_database: str,
    results_bucket_arn: str,
    results_prefix: str,
    curated_bucket_arn: str,
    kms_key_arn: str,
) -> list[dict]:
    """Athena runs the check query with the caller's permissions: the catalog entries and data it reads."""
    glue = f"arn:{partition}:glue:{region}:{account_id}"
    tables = [f"{glue}:table/{glue_database}/{table.glue_name}" for table in pipeline.tables]
    suffix = _dns_suffix(partition)
    return [
        statement(
            "RunCheckQuery",
            [
                "athena:StartQueryExecution",
                "athena:GetQueryExecution",
                "athena:StopQueryExecution",
                "athena:GetQueryResults",
            ],
            [workgroup_arn],
        ),
        statement(
            "UseDefaultDataCatalog",
            ["athena:GetDataCatalog"],
            [f"arn:{partition}:athena:{region}:{account_id}:datacatalog/AwsDataCatalog"],
        ),
        statement(
            "ReadPipelineTables",
            ["glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"],
            [f"{glue}:catalog", f"{glue}:database/{glue_database}", *tables],
        ),
        statement("LocateQueryBuckets", ["s3:GetBucketLocation"], [curated_bucket_arn, results_bucket_arn]),
        statement(
            "ListPipelineData",
            ["s3:ListBucket"],
            [curated_bucket_arn],
            condition={"StringLike": {"s3:prefix": [f"{pipeline.output.prefix}*"]}},
        ),
        statement("ReadPipelineData", ["s3:GetObject"], [objects(curated_bucket_arn, pipeline.output.prefix)]),
        statement("ListQueryResults", ["s3:ListBucket", "s3:ListBucketMultipartUploads"], [results_bucket_arn]),
        statement("WriteQueryResults", ATHENA_RESULTS_OBJECT_ACTIONS, [objects(results_bucket_arn, results_prefix)]),
        # The lake key encrypts curated data and query results; only S3 and Athena may use it on our behalf.
        statement(
            "UseLakeKeyThroughS3AndAthena",
            ["kms:Decrypt", "kms:GenerateDataKey"],
            [kms_key_arn],
            condition={"StringEquals": {"kms:ViaService": [f"s3.{region}.{suffix}", f"athena.{region}.{suffix}"]}},
        ),
    ]


def state_machine_policy(
    *,
    partition: str,
    region: str,
    account_id: str,
    pipeline: Pipeline,
    runtime: Runtime,
    emr_role_arns: Sequence[str],
    serverless_application_arn: str | None,
    crawler_arn: str,
    workgroup_arn: str,
    glue_database: str,
    results_bucket_arn: str,
    curated_bucket_arn: str,
    kms_key_arn: str,
    results_prefix: str = "",
    log_delivery: bool = True,
    tracing: bool = True,
) -> dict:
    """The IAM policy of the role that runs `pipeline`'s state machine: what its states call, and nothing else.

    `emr_role_arns`: the roles the jobs run as (cluster: EMR service role and EC2 instance role; serverless: the
    job execution role). Statements name "*" only for the actions in UNSCOPED_ACTIONS.
    """
    if not emr_role_arns:
        raise ValueError("emr_role_arns: the jobs' roles are required (they are passed to EMR)")
    where = {"partition": partition, "region": region, "account_id": account_id}
    if runtime == "cluster":
        statements = _cluster_statements(**where, pipeline=pipeline, emr_role_arns=emr_role_arns)
    else:
        statements = _serverless_statements(
            **where, application_arn=serverless_application_arn, emr_role_arns=emr_role_arns
        )
    statements += [
        statement("RunCrawler", ["glue:StartCrawler", "glue:GetCrawler"], [crawler_arn]),
        *_query_statements(
            **where,
            pipeline=pipeline,
            workgroup_arn=workgroup_arn,
            glue_database=glue_database,
            results_bucket_arn=results_bucket_arn,
            results_prefix=results_prefix,
            curated_bucket_arn=curated_bucket_arn,
            kms_key_arn=kms_key_arn,
        ),
    ]
    if tracing:
        statements.append(statement("XRayTracing", XRAY_ACTIONS, ["*"]))
    if log_delivery:
        statements.append(statement("CloudWatchLogsDelivery", LOG_DELIVERY_ACTIONS, ["*"]))
    return document(statements)
