"""Builders of the pipelines' state machine definitions from plain values, graph helpers, and moto's port of the ASL
interpreter with every service call answered by a mock: what the definition and state machine role tests share."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from components import emr_states as emr
from components import step_functions as sf
from pipelines import PIPELINES
from pipelines.model import Location, Pipeline, Step

ACCOUNT, REGION, PARTITION = "123456789012", "eu-west-1", "aws"
RUNTIMES = ("cluster", "serverless")
CLUSTER_ID = "j-2AXXXXXXGAPLF"
RUN_LIMIT_SECONDS = 20
TERMINATES = {emr.TERMINATE_CLUSTER, emr.TERMINATE_AFTER_FAILURE}


def targets_for(pipeline: Pipeline, **overrides) -> sf.PipelineTargets:
    values = {
        "zone_uris": {"raw": "s3://raw-bucket", "curated": "s3://curated-bucket/"},
        "script_uris": {step.job: f"s3://scripts-bucket/jobs/{step.job}-0123abcd.py" for step in pipeline.steps},
        "py_files_uri": "s3://scripts-bucket/jobs/deps-4567ef.zip",
        "check_query_sql": "SELECT count(*) AS n FROM t",
        "athena_workgroup": "datalake-dev",
        "glue_database": "datalake_dev",
    }
    return sf.PipelineTargets(**{**values, **overrides})


def cluster_spec(**overrides) -> emr.ClusterSpec:
    values = {
        "name": "datalake-dev-rentals",
        "release_label": "emr-7.12.0",
        "log_uri": "s3://logs-bucket/emr/rentals/",
        "service_role": "datalake-dev-emr-service",
        "instance_profile": "datalake-dev-emr-instance",
        "security_configuration": "datalake-dev-emr",
        "subnet_id": "subnet-0a1b2c3d",
        "master_security_group": "sg-0primary",
        "core_security_group": "sg-0core",
        "service_access_security_group": "sg-0service",
        "primary_instance_type": "m7g.xlarge",
        "core_instance_type": "r7g.2xlarge",
        "core_instance_count": 3,
        "spot_core_instance_count": 0,
        "ebs_volume_gb": 64,
        "idle_timeout_seconds": 900,
        "step_timeout_seconds": 3600,
        "tags": {"for-use-with-amazon-emr-managed-policies": "true"},
    }
    return emr.ClusterSpec(**{**values, **overrides})


def serverless_spec() -> emr.ServerlessSpec:
    return emr.ServerlessSpec(
        application_id="00fabcdefghij012",
        execution_role_arn=f"arn:aws:iam::{ACCOUNT}:role/datalake-dev-emr-serverless",
        log_uri="s3://logs-bucket/emr/rentals/",
        job_timeout_minutes=60,
    )


def build(pipeline: Pipeline, runtime: str, **kwargs) -> dict:
    spec = cluster_spec() if runtime == "cluster" else serverless_spec()
    return sf.build_definition(pipeline, targets_for(pipeline), spec, **kwargs)


# Graph helpers ----------------------------------------------------------------------------------------------


def flatten(states: dict) -> dict[str, dict]:
    """Every state, those inside Parallel branches included (state names are unique across the machine)."""
    found: dict[str, dict] = {}
    for name, state in states.items():
        assert name not in found, f"duplicate state name {name}"
        found[name] = state
        for branch in state.get("Branches", []):
            inner = flatten(branch["States"])
            assert not set(inner) & set(found), f"state names reused inside {name}"
            found.update(inner)
    return found


def targets_of(state: dict) -> set[str]:
    targets = {state[key] for key in ("Next", "Default") if key in state}
    targets |= {choice["Next"] for choice in state.get("Choices", [])}
    targets |= {catch["Next"] for catch in state.get("Catch", [])}
    return targets


def reachable(states: dict, start: str, *, removed: frozenset[str] = frozenset()) -> set[str]:
    """States reachable from `start` at the top level, never passing through `removed`."""
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen or name in removed:
            continue
        seen.add(name)
        todo += targets_of(states[name])
    return seen


def tasks(definition: dict) -> Iterator[tuple[str, dict]]:
    for name, state in flatten(definition["States"]).items():
        if state["Type"] == "Task":
            yield name, state


def spark_tasks(definition: dict) -> dict[str, dict]:
    return {name: state for name, state in tasks(definition) if state["Resource"] in emr.SPARK_TASK_RESOURCES}


def containers(definition: dict) -> dict[str, str]:
    """Spark task name -> the top-level state that runs it (itself, or the Parallel holding it)."""
    found = {}
    for name, state in definition["States"].items():
        for branch in state.get("Branches", []):
            found.update(dict.fromkeys(branch["States"], name))
        if state.get("Resource") in emr.SPARK_TASK_RESOURCES:
            found[name] = name
    return found


def catches_all(state: dict) -> dict:
    matches = [catch for catch in state.get("Catch", []) if catch["ErrorEquals"] == ["States.ALL"]]
    assert len(matches) == 1, f"expected one States.ALL catcher in {state}"
    return matches[0]


def diamond() -> Pipeline:
    """a, then b and c side by side (both need only a), then d (needs both)."""
    raw, out = Location("raw", "diamond/"), Location("curated", "diamond/")

    def step(name: str, *after: str) -> Step:
        return Step(name=name, job=f"job_{name}", args=(("--input", raw), ("--output", out)), after=after)

    return Pipeline(
        name="diamond",
        description="test DAG",
        raw=raw,
        steps=(step("a"), step("b", "a"), step("c", "a"), step("d", "b", "c")),
        tables=(),
        check_query="q",
    )


def create_cluster(spec: emr.ClusterSpec, pipeline: Pipeline = PIPELINES["rentals"]) -> dict:
    return sf.build_definition(pipeline, targets_for(pipeline), spec)["States"][emr.CREATE_CLUSTER]


def groups(state: dict) -> dict[str, dict]:
    return {group["InstanceRole"]: group for group in state["Parameters"]["Instances"]["InstanceGroups"]}


# Executions in the ASL interpreter, every service call answered by a mock --------------------------------------


class Execution:
    """The outcome of one mocked run: states entered in order, each task's parameters, the end event."""

    def __init__(self, events: list[dict]):
        self.entered: list[str] = []
        self.parameters: dict[str, list[dict]] = {}
        for event in events:
            if "stateEnteredEventDetails" in event:
                self.entered.append(event["stateEnteredEventDetails"]["name"])
            if "taskScheduledEventDetails" in event:
                details = event["taskScheduledEventDetails"]
                self.parameters.setdefault(self.entered[-1], []).append(json.loads(details["parameters"]))
        last = events[-1]
        self.succeeded = "executionSucceededEventDetails" in last
        failed = last.get("executionFailedEventDetails", {})
        assert self.succeeded or failed.get("error") == sf.PIPELINE_FAILED_ERROR, failed
        # The pipeline's own failure: the original error name leads the cause.
        self.error, _, self.cause = failed.get("cause", "").partition(": ")
        self.output = json.loads(last["executionSucceededEventDetails"]["output"]) if self.succeeded else None


class Asl:
    """moto's port of the LocalStack ASL interpreter: parses definitions and runs them against mocked tasks."""

    def __init__(self):
        from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

        self._parser = AmazonStateLanguageParser

    def parse(self, definition: dict):
        program, _ = self._parser.parse(json.dumps(definition))
        return program

    def run(self, definition: dict, responses: dict[str, list]) -> Execution:
        """Run with `responses`: state name -> replies in call order (a dict is returned, a tuple thrown)."""
        from moto.stepfunctions.parser.api import StateMachineType
        from moto.stepfunctions.parser.asl.eval.environment import Environment
        from moto.stepfunctions.parser.asl.eval.evaluation_details import AWSExecutionDetails
        from moto.stepfunctions.parser.asl.eval.event.event_manager import EventHistoryContext
        from moto.stepfunctions.parser.mocking.mock_config import (
            MockedResponseReturn,
            MockedResponseThrow,
            MockTestCase,
            StateMockedResponses,
        )

        mocks = []
        for state, replies in responses.items():
            mock = StateMockedResponses(state, state, [])
            mock.mocked_responses = InCallOrder(
                MockedResponseThrow(0, 0, *reply) if isinstance(reply, tuple) else MockedResponseReturn(0, 0, reply)
                for reply in replies
            )
            mocks.append(mock)
        role = f"arn:aws:iam::{ACCOUNT}:role/states"
        env = Environment(
            aws_execution_details=AWSExecutionDetails(account=ACCOUNT, region=REGION, role_arn=role),
            execution_type=StateMachineType.STANDARD,
            context={
                "Execution": {
                    "Id": "exec",
                    "Input": {},
                    "Name": "test",
                    "RoleArn": role,
                    "StartTime": "2025-01-01T00:00:00Z",
                },
                "StateMachine": {"Id": "sm", "Name": "sm"},
            },
            event_history_context=EventHistoryContext.of_program_start(),
            cloud_watch_logging_session=None,
            activity_store={},
            mock_test_case=MockTestCase("sm", "test", mocks),
        )
        env.states.reset(input_value={})
        # Retries and Waits really sleep: a run that loops or backs off for long is a failure, not a slow test.
        worker = threading.Thread(target=self.parse(definition).eval, args=(env,), daemon=True)
        worker.start()
        worker.join(RUN_LIMIT_SECONDS)
        if worker.is_alive():
            env.set_stop(stop_date=datetime.now(tz=UTC), error="TestTimeout", cause="still running")
            pytest.fail(f"the execution was still running after {RUN_LIMIT_SECONDS} s: {env.next_state_name}")
        return Execution(env.event_manager.get_event_history())


class InCallOrder(list):
    """Mocked replies served one per call, the last one repeated: the interpreter indexes by retry count, which
    stays 0 for a state entered again by a loop."""

    def __getitem__(self, index):
        return self.pop(0) if len(self) > 1 else super().__getitem__(0)


def asl_interpreter() -> Iterator[Asl]:
    try:
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
            state_task_service_unsupported as unsupported,
        )
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
    except ImportError as error:
        pytest.fail(f"the ASL interpreter needs moto[stepfunctions] (antlr4-python3-runtime, jsonpath-ng): {error}")

    # The interpreter has no .sync for EMR or Athena; mocked tasks never call the service, so let it parse them.
    added = ResourceCondition.Sync not in unsupported._SUPPORTED_INTEGRATION_PATTERNS
    unsupported._SUPPORTED_INTEGRATION_PATTERNS.add(ResourceCondition.Sync)
    yield Asl()
    if added:
        unsupported._SUPPORTED_INTEGRATION_PATTERNS.discard(ResourceCondition.Sync)


QUERY_DONE = {"QueryExecution": {"QueryExecutionId": "q-1", "Status": {"State": "SUCCEEDED"}}}
TWO_ROWS = {"ResultSet": {"Rows": [{"Data": [{"VarCharValue": "n"}]}, {"Data": [{"VarCharValue": "42"}]}]}}
# A failed step or job run raises States.TaskFailed, a name the interpreter's mocks may not throw (it is reserved to
# the service); the States.ALL catchers under test handle every name the same way.
STEP_FAILED = ("StepFailed", '{"Step": {"Status": {"State": "FAILED", "FailureDetails": {"Reason": "boom"}}}}')


NO_REPORT = ("S3.NoSuchKeyException", "The specified key does not exist.")


def no_reports(pipeline: Pipeline) -> dict[str, list]:
    """Every step's report reader finds nothing (a job that died before writing its report)."""
    return {sf.report_state_names(step)[0]: [NO_REPORT] for step in pipeline.steps}


def after_jobs(**overrides) -> dict[str, list]:
    replies = {
        sf.RUN_CHECK_QUERY: [QUERY_DONE],
        sf.GET_CHECK_RESULTS: [TWO_ROWS],
    }
    return {**replies, **overrides}


def cluster_run(**overrides) -> dict[str, list]:
    return {
        emr.CREATE_CLUSTER: [{"ClusterId": CLUSTER_ID}],
        emr.TERMINATE_CLUSTER: [{}],
        emr.TERMINATE_AFTER_FAILURE: [{}],
        **after_jobs(),
        **overrides,
    }
