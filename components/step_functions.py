"""The Step Functions definition (ASL) of a pipeline: its steps in waves on a runtime (components/emr_states.py), then
its check query; every failure path ends in one Fail state that carries the cause, a failed job's own report first.

Pure functions over resolved plain values: `pipelines/` describes the steps, these turn them into states.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, Protocol

from components import iceberg
from pipelines.model import Location, Pipeline, Step

Runtime = Literal["cluster", "serverless"]

RUN_CHECK_QUERY = "RunCheckQuery"
GET_CHECK_RESULTS = "GetCheckResults"
CHECK_HAS_ROWS = "CheckHasRows"
CHECK_EMPTY = "CheckQueryReturnedNoRows"
SUCCEEDED = "PipelineSucceeded"
FAILED = "PipelineFailed"
FAIL_WITH_CAUSE = "FailWithCause"
FAIL_WITHOUT_CAUSE = "FailWithoutCause"
PIPELINE_FAILED_ERROR = "Datalake.PipelineFailed"
STEP_FAILED_ERROR = "Datalake.StepFailed"

# Transient errors only: throttling and service-side failures of each integration.
# The S3 SDK integration names its errors after the service's (S3.SdkClientException, S3.InternalErrorException ...);
# only throttling is worth a retry when reading a job's report.
S3_TRANSIENT = ["S3.SlowDownException", "S3.InternalErrorException"]
# Where a job leaves its run report, under its --output (ISSUE12 contract): `<output>/_run/<job>.json`.
RUN_REPORTS = "_run/"
ATHENA_TRANSIENT = ["Athena.TooManyRequestsException", "Athena.InternalServerException"]


@dataclass(frozen=True)
class PipelineTargets:
    """Where a pipeline's code and data live in AWS, resolved."""

    zone_uris: Mapping[str, str]
    script_uris: Mapping[str, str]
    py_files_uri: str
    check_query_sql: str
    athena_workgroup: str
    glue_database: str
    spark_conf: Mapping[str, str] = field(default_factory=dict)

    def bucket(self, zone: str) -> str:
        uri = self.zone_uris[zone].rstrip("/")
        if not uri.startswith("s3://") or "/" in uri[len("s3://") :]:
            raise ValueError(f"zone {zone!r} URI {uri!r} is not a bucket's s3:// URI")
        return uri[len("s3://") :]


def step_arguments(step: Step, targets: PipelineTargets) -> list[str]:
    """The job's command-line arguments, each Location as the s3:// URI of its prefix in its zone's bucket, then the
    catalog and database it commits its tables to (it never creates one: Pulumi does)."""
    arguments = []
    for flag, location in step.args:
        if location.zone not in targets.zone_uris:
            raise ValueError(f"step {step.name}: no bucket for zone {location.zone!r} in {sorted(targets.zone_uris)}")
        base = targets.zone_uris[location.zone].rstrip("/")
        if not base.startswith("s3://"):
            raise ValueError(f"step {step.name}: zone {location.zone!r} URI {base!r} is not an s3:// URI")
        arguments += [flag, f"{base}/{location.prefix}"]
    return arguments + iceberg.job_catalog_arguments(targets.glue_database)


def iceberg_warehouse(targets: PipelineTargets) -> str:
    """The Glue catalog's default table root: the curated bucket's Iceberg prefix, under which every table lives."""
    return f"s3://{targets.bucket('curated')}/{iceberg.ICEBERG_ROOT}"


def report_location(step: Step) -> Location:
    """Where the step's job writes its run report: `<--output>/_run/<job>.json` (a curated Location's prefix + key)."""
    outputs = [location for flag, location in step.args if flag == "--output"]
    if len(outputs) != 1 or outputs[0].zone != "curated":
        raise ValueError(f"step {step.name}: needs exactly one curated --output for its run report, got {outputs}")
    return outputs[0].child(RUN_REPORTS.rstrip("/"))


def report_key(step: Step) -> str:
    return f"{report_location(step).prefix}{step.job}.json"


def script_uri(step: Step, targets: PipelineTargets) -> str:
    if step.job not in targets.script_uris:
        raise ValueError(f"step {step.name}: no uploaded script for job {step.job!r}")
    return targets.script_uris[step.job]


def conf_flags(spark_conf: Mapping[str, str]) -> list[str]:
    return [flag for key, value in sorted(spark_conf.items()) for flag in ("--conf", f"{key}={value}")]


def retry(errors: list[str], *, interval: int = 10, attempts: int = 4) -> dict:
    return {
        "ErrorEquals": errors,
        "IntervalSeconds": interval,
        "BackoffRate": 2.0,
        "MaxAttempts": attempts,
        "MaxDelaySeconds": 300,
        "JitterStrategy": "FULL",
    }


def catch(target: str, *, errors: Sequence[str] = ("States.ALL",), result_path: str | None = "$.error") -> dict:
    return {"ErrorEquals": list(errors), "ResultPath": result_path, "Next": target}


def format_literal(text: str) -> str:
    """`text` as a literal inside an intrinsic function's quoted template (', {, } and \\ are escaped)."""
    return re.sub(r"([\\'{}])", r"\\\1", text)


def task_name(step: Step) -> str:
    return f"Run {step.name}"


class Around(NamedTuple):
    """What a runtime puts around the waves: where the run starts, where the waves go when the last succeeds and
    when one fails, and the runtime's own states."""

    start: str
    after_last: str
    on_failure: str
    states: dict[str, dict]


class RuntimeStates(Protocol):
    """How steps run on one runtime: components/emr_states.py's ClusterSpec and ServerlessSpec."""

    @property
    def where(self) -> str: ...

    def min_timeout(self, waves: int) -> tuple[int, str]:
        """The execution timeout must exceed the first; the second says what it is made of."""
        ...

    def task(self, step: Step, targets: PipelineTargets) -> dict:
        """The Task state that runs one step."""
        ...

    def around(self, pipeline: Pipeline, first_wave: str, targets: PipelineTargets) -> Around: ...


# The waves of steps ---------------------------------------------------------------------------------------------


def _wave_names(pipeline: Pipeline) -> list[str]:
    return [
        task_name(wave[0]) if len(wave) == 1 else f"Wave {index + 1}" for index, wave in enumerate(pipeline.waves())
    ]


def _branch(step: Step, task: dict, targets: PipelineTargets) -> dict:
    """One step of a Parallel wave: its Task, and on failure its report's error as the branch's (a Fail state's
    ErrorPath and CausePath, "Fail workflow state", AWS Step Functions Developer Guide)."""
    name, failed = task_name(step), f"{step.name} failed"
    read = report_state_names(step)[0]
    return {
        "StartAt": name,
        "States": {
            name: {**task, "Catch": [catch(read)], "End": True},
            **_report_states(step, targets, then=f"{failed} (cause?)"),
            f"{failed} (cause?)": {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [
                            {"Variable": "$.error.Cause", "IsPresent": True},
                            {"Variable": "$.error.Cause", "IsString": True},
                        ],
                        "Next": failed,
                    }
                ],
                "Default": f"{failed} without a cause",
            },
            # A Fail state may not raise a reserved States.* name, so the branch fails with one of its own and the
            # caught error leads the cause, as FAILED does for the run.
            failed: {
                "Type": "Fail",
                "Error": STEP_FAILED_ERROR,
                "CausePath": "States.Format('{}: {}', $.error.Error, $.error.Cause)",
            },
            f"{failed} without a cause": {
                "Type": "Fail",
                "Error": STEP_FAILED_ERROR,
                "CausePath": "States.Format('{}: no cause given', $.error.Error)",
            },
        },
    }


def _wave_states(
    pipeline: Pipeline,
    task_for: Callable[[Step], dict],
    targets: PipelineTargets,
    *,
    after_last: str,
    on_failure: str,
) -> dict[str, dict]:
    """One state per wave, chained in wave order: a single step's Task, or a Parallel of one-Task branches."""
    waves, names = pipeline.waves(), _wave_names(pipeline)
    states: dict[str, dict] = {}
    for index, wave in enumerate(waves):
        following = names[index + 1] if index + 1 < len(waves) else after_last
        if len(wave) == 1:
            step = wave[0]
            read = report_state_names(step)[0]
            states[names[index]] = {**task_for(step), "Catch": [catch(read)], "Next": following}
            states.update(_report_states(step, targets, then=on_failure))
            continue
        # Retries stay on each branch's Task; a failed branch reads its job's report and fails the branch with it,
        # and one Catch on the Parallel takes that error to the run's failure path.
        branches = [_branch(step, task_for(step), targets) for step in wave]
        states[names[index]] = {
            "Type": "Parallel",
            "Branches": branches,
            "ResultPath": None,
            "Catch": [catch(on_failure)],
            "Next": following,
        }
    return states


# A failed step: its job's own report ---------------------------------------------------------------------------


def report_state_names(step: Step) -> tuple[str, str, str]:
    return (f"Read {step.name} report", f"Check {step.name} report", f"{step.name} failed as reported")


def _report_states(step: Step, targets: PipelineTargets, *, then: str) -> dict[str, dict]:
    """After `step` failed (its error at $.error): read the report its job left under --output, and when it names an
    error (a failed gate exits 3 with `status` gate_failed and the rule, table and count in `error`), make that the
    error the run fails with. No report, or one without an error (the job died first): the caught error stands.

    S3 GetObject through the SDK integration returns a text object's Body as a string ("Gather Amazon S3 bucket
    info using AWS SDK service integrations", AWS Step Functions Developer Guide); States.StringToJson parses it.
    """
    read, check, reported = report_state_names(step)
    body = "$.report.Body"
    return {
        read: {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
            "Parameters": {"Bucket": targets.bucket("curated"), "Key": report_key(step)},
            "ResultSelector": {"Body.$": "States.StringToJson($.Body)"},
            "ResultPath": "$.report",
            "Retry": [retry(S3_TRANSIENT, interval=2, attempts=3)],
            # No report (NoSuchKey), unreadable or not JSON: the job's own error is all there is.
            "Catch": [catch(then, result_path="$.reportError")],
            "Next": check,
        },
        check: {
            "Type": "Choice",
            "Choices": [
                {
                    "And": [
                        {"Variable": f"{body}.error", "IsPresent": True},
                        {"Variable": f"{body}.error", "IsString": True},
                        {"Variable": f"{body}.status", "IsPresent": True},
                        {"Variable": f"{body}.status", "IsString": True},
                    ],
                    "Next": reported,
                }
            ],
            "Default": then,
        },
        reported: {
            "Type": "Pass",
            "Parameters": {
                # The job's status (gate_failed, failed) names the error; its one-line error is the cause.
                "Error.$": f"{body}.status",
                "Cause.$": f"States.Format('step {format_literal(step.name)}: {{}}', {body}.error)",
            },
            "ResultPath": "$.error",
            "Next": then,
        },
    }


def _check_states(pipeline: Pipeline, targets: PipelineTargets) -> dict[str, dict]:
    athena_retry = [retry(ATHENA_TRANSIENT, interval=5)]
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
            "Catch": [catch(FAILED)],
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
            "Catch": [catch(FAILED)],
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


def _check_timeouts(pipeline: Pipeline, runtime: RuntimeStates, timeout_seconds: int) -> None:
    needed, what = runtime.min_timeout(len(pipeline.waves()))
    if timeout_seconds <= needed:
        raise ValueError(
            f"pipeline {pipeline.name}: timeout_seconds {timeout_seconds} must exceed {what} = {needed} s, "
            "or a timed-out execution could leave a step running"
        )


def build_definition(
    pipeline: Pipeline,
    targets: PipelineTargets,
    runtime: RuntimeStates,
    *,
    timeout_seconds: int = 6 * 3600,
    partition: str = "aws",
) -> dict:
    """The ASL document of one pipeline: its jobs in waves, then its check query. The jobs commit their tables'
    metadata themselves (Iceberg), so no crawler runs between the two.

    `partition` names the partition of the integrations' ARNs (aws-cn, aws-us-gov); the states are built in `aws`.
    """
    _check_timeouts(pipeline, runtime, timeout_seconds)
    around = runtime.around(pipeline, _wave_names(pipeline)[0], targets)
    waves = _wave_states(
        pipeline,
        lambda step: runtime.task(step, targets),
        targets,
        after_last=around.after_last,
        on_failure=around.on_failure,
    )
    states = {**around.states, **waves, **_check_states(pipeline, targets)}
    _move_to_partition(states, partition)
    steps = " then ".join(" + ".join(step.name for step in wave) for wave in pipeline.waves())
    return {
        "Comment": (
            f"datalake pipeline {pipeline.name}: {steps} on {runtime.where}, then the {pipeline.check_query} check "
            f"query. {pipeline.description}"
        ),
        "StartAt": around.start,
        "TimeoutSeconds": timeout_seconds,
        "States": states,
    }
