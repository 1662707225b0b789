"""The Step Functions definition (ASL) of a pipeline: its steps in waves on a runtime (components/emr_states.py), then
its crawler, then its check query; every failure path ends in one Fail state that carries the cause.

Pure functions over resolved plain values: `pipelines/` describes the steps, these turn them into states.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, Protocol

from pipelines.model import Pipeline, Step

Runtime = Literal["cluster", "serverless"]

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

# Transient errors only: throttling and service-side failures of each integration.
GLUE_TRANSIENT = ["Glue.ThrottlingException", "Glue.OperationTimeoutException", "Glue.InternalServiceException"]
ATHENA_TRANSIENT = ["Athena.TooManyRequestsException", "Athena.InternalServerException"]


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

    def around(self, pipeline: Pipeline, first_wave: str) -> Around: ...


# The waves of steps ---------------------------------------------------------------------------------------------


def _wave_names(pipeline: Pipeline) -> list[str]:
    return [
        task_name(wave[0]) if len(wave) == 1 else f"Wave {index + 1}" for index, wave in enumerate(pipeline.waves())
    ]


def _wave_states(
    pipeline: Pipeline, task_for: Callable[[Step], dict], *, after_last: str, on_failure: str
) -> dict[str, dict]:
    """One state per wave, chained in wave order: a single step's Task, or a Parallel of one-Task branches."""
    waves, names = pipeline.waves(), _wave_names(pipeline)
    states: dict[str, dict] = {}
    for index, wave in enumerate(waves):
        following = names[index + 1] if index + 1 < len(waves) else after_last
        if len(wave) == 1:
            task = task_for(wave[0])
            states[names[index]] = {**task, "Catch": [catch(on_failure)], "Next": following}
            continue
        # Retries stay on each branch's Task; one Catch on the Parallel covers every branch.
        branches = [
            {"StartAt": task_name(step), "States": {task_name(step): {**task_for(step), "End": True}}} for step in wave
        ]
        states[names[index]] = {
            "Type": "Parallel",
            "Branches": branches,
            "ResultPath": None,
            "Catch": [catch(on_failure)],
            "Next": following,
        }
    return states


# After the jobs: crawler, check query --------------------------------------------------------------------------


def _crawler_states(targets: PipelineTargets, *, poll_seconds: int, max_polls: int) -> dict[str, dict]:
    """Start the crawler (or join its run), then poll it until it is READY again, within a budget of polls."""
    name = targets.crawler_name
    glue_retry = [retry(GLUE_TRANSIENT, interval=5)]
    return {
        START_CRAWLER: {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:glue:startCrawler",
            "Parameters": {"Name": name},
            "ResultPath": None,
            "Retry": glue_retry,
            # Already running is fine: poll that run to its end.
            "Catch": [
                catch(INIT_CRAWLER_POLLS, errors=["Glue.CrawlerRunningException"], result_path=None),
                catch(FAILED),
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
            "Catch": [catch(FAILED)],
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
        **_crawler_poll_budget(max_polls),
        **_crawler_failures(name, poll_seconds=poll_seconds, max_polls=max_polls),
    }


def _crawler_poll_budget(max_polls: int) -> dict[str, dict]:
    return {
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
    }


def _crawler_failures(name: str, *, poll_seconds: int, max_polls: int) -> dict[str, dict]:
    """A crawl that did not succeed, or a crawler still busy when the budget is spent: the run fails with why."""
    return {
        CRAWLER_FAILED: {
            "Type": "Pass",
            "Parameters": {
                "Error": "CrawlerFailed",
                "Cause.$": f"States.Format('crawler {format_literal(name)} did not succeed: {{}}', "
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
    around = runtime.around(pipeline, _wave_names(pipeline)[0])
    waves = _wave_states(
        pipeline,
        lambda step: runtime.task(step, targets),
        after_last=around.after_last,
        on_failure=around.on_failure,
    )
    states = {
        **around.states,
        **waves,
        **_crawler_states(targets, poll_seconds=crawler_poll_seconds, max_polls=crawler_max_polls),
        **_check_states(pipeline, targets),
    }
    _move_to_partition(states, partition)
    steps = " then ".join(" + ".join(step.name for step in wave) for wave in pipeline.waves())
    return {
        "Comment": (
            f"datalake pipeline {pipeline.name}: {steps} on {runtime.where}, then crawler {targets.crawler_name} and "
            f"the {pipeline.check_query} check query. {pipeline.description}"
        ),
        "StartAt": around.start,
        "TimeoutSeconds": timeout_seconds,
        "States": states,
    }
