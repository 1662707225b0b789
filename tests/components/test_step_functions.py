"""The pipelines' state machines checked as graphs and run by an ASL interpreter; their role's policy linted."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import parliament
import pytest
from statelint.linter import Linter

from components import step_functions as sf
from components.policies import ATHENA_RESULTS_BUCKET_ACTIONS, ATHENA_RESULTS_OBJECT_ACTIONS
from pipelines import PIPELINES
from pipelines.model import Location, Pipeline, Step

ACCOUNT, REGION, PARTITION = "123456789012", "eu-west-1", "aws"
RUNTIMES = ("cluster", "serverless")
CASES = [(name, runtime) for name in PIPELINES for runtime in RUNTIMES]
CLUSTER_ID = "j-2AXXXXXXGAPLF"
RUN_LIMIT_SECONDS = 20
TERMINATES = {sf.TERMINATE_CLUSTER, sf.TERMINATE_AFTER_FAILURE}


def targets_for(pipeline: Pipeline, **overrides) -> sf.PipelineTargets:
    values = {
        "zone_uris": {"raw": "s3://raw-bucket", "curated": "s3://curated-bucket/"},
        "script_uris": {step.job: f"s3://scripts-bucket/jobs/{step.job}-0123abcd.py" for step in pipeline.steps},
        "py_files_uri": "s3://scripts-bucket/jobs/deps-4567ef.zip",
        "crawler_name": f"datalake-dev-{pipeline.name}",
        "check_query_sql": "SELECT count(*) AS n FROM t",
        "athena_workgroup": "datalake-dev",
        "glue_database": "datalake_dev",
    }
    return sf.PipelineTargets(**{**values, **overrides})


def cluster_spec(**overrides) -> sf.ClusterSpec:
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
    return sf.ClusterSpec(**{**values, **overrides})


def serverless_spec() -> sf.ServerlessSpec:
    return sf.ServerlessSpec(
        application_id="00fabcdefghij012",
        execution_role_arn=f"arn:aws:iam::{ACCOUNT}:role/datalake-dev-emr-serverless",
        log_uri="s3://logs-bucket/emr/rentals/",
        job_timeout_minutes=60,
    )


def build(pipeline: Pipeline, runtime: str, **kwargs) -> dict:
    spec = cluster_spec() if runtime == "cluster" else serverless_spec()
    return sf.build_definition(pipeline, targets_for(pipeline), spec, **kwargs)


@pytest.fixture(params=CASES, ids=[f"{name}-{runtime}" for name, runtime in CASES])
def case(request) -> tuple[Pipeline, str, dict]:
    name, runtime = request.param
    return PIPELINES[name], runtime, build(PIPELINES[name], runtime)


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
    return {name: state for name, state in tasks(definition) if state["Resource"] in sf.SPARK_TASK_RESOURCES}


def containers(definition: dict) -> dict[str, str]:
    """Spark task name -> the top-level state that runs it (itself, or the Parallel holding it)."""
    found = {}
    for name, state in definition["States"].items():
        for branch in state.get("Branches", []):
            found.update(dict.fromkeys(branch["States"], name))
        if state.get("Resource") in sf.SPARK_TASK_RESOURCES:
            found[name] = name
    return found


def catches_all(state: dict) -> dict:
    matches = [catch for catch in state.get("Catch", []) if catch["ErrorEquals"] == ["States.ALL"]]
    assert len(matches) == 1, f"expected one States.ALL catcher in {state}"
    return matches[0]


# Structure of every definition -------------------------------------------------------------------------------


def test_definition_survives_a_json_round_trip(case):
    pipeline, _, definition = case
    assert json.loads(json.dumps(definition)) == definition
    assert definition["StartAt"] in definition["States"]
    assert pipeline.name in definition["Comment"]
    assert definition["TimeoutSeconds"] == 6 * 3600


def test_every_transition_names_an_existing_state(case):
    _, _, definition = case
    for name, state in definition["States"].items():
        assert targets_of(state) <= set(definition["States"]), name
        for branch in state.get("Branches", []):
            assert branch["StartAt"] in branch["States"]
            for inner_name, inner in branch["States"].items():
                assert targets_of(inner) <= set(branch["States"]), inner_name
                assert inner.get("End") or "Next" in inner, inner_name


def test_every_state_is_reachable_and_success_is_too(case):
    _, _, definition = case
    states = definition["States"]
    assert reachable(states, definition["StartAt"]) == set(states)
    assert sf.SUCCEEDED in reachable(states, definition["StartAt"])
    assert states[sf.SUCCEEDED]["Type"] == "Succeed"


def test_every_failure_ends_in_the_fail_state_with_its_cause(case):
    _, _, definition = case
    states = definition["States"]
    # A caught error may carry no Cause: the Choice tests for it before a path reads it.
    assert states[sf.FAILED]["Type"] == "Choice"
    assert states[sf.FAILED]["Choices"][0] == {
        "Variable": "$.error.Cause",
        "IsPresent": False,
        "Next": sf.FAIL_WITHOUT_CAUSE,
    }
    assert states[sf.FAIL_WITH_CAUSE] == {
        "Type": "Fail",
        "Error": "Datalake.PipelineFailed",
        "CausePath": "States.Format('{}: {}', $.error.Error, $.error.Cause)",
    }
    assert states[sf.FAIL_WITHOUT_CAUSE]["CausePath"] == "States.Format('{}: no cause given', $.error.Error)"
    for name, state in definition["States"].items():
        if state["Type"] in ("Task", "Parallel"):
            assert catches_all(state)["ResultPath"] in ("$.error", "$.cleanupError"), name


def test_no_spark_step_is_retried_after_it_failed(case):
    _, _, definition = case
    assert spark_tasks(definition)
    for name, state in tasks(definition):
        for retrier in state.get("Retry", []):
            assert retrier["BackoffRate"] == 2.0, name
            if name == sf.TERMINATE_AFTER_FAILURE:
                continue  # terminating is idempotent: the cleanup retries anything
            assert not [e for e in retrier["ErrorEquals"] if e.startswith("States.")], name
    for name, state in definition["States"].items():
        if state["Type"] == "Parallel":
            assert "Retry" not in state, f"{name}: retrying a Parallel reruns its finished steps"


def test_steps_run_with_the_uploaded_code_and_s3_locations(case):
    pipeline, runtime, definition = case
    targets = targets_for(pipeline)
    for step in pipeline.steps:
        state = spark_tasks(definition)[f"Run {step.name}"]
        if runtime == "cluster":
            args = state["Parameters"]["Step"]["HadoopJarStep"]["Args"]
            script = args.index(targets.script_uris[step.job])
            assert args[:script] == ["spark-submit", "--deploy-mode", "cluster", "--py-files", targets.py_files_uri]
            assert args[script + 1 :] == sf.step_arguments(step, targets)
        else:
            driver = state["Parameters"]["JobDriver"]["SparkSubmit"]
            assert driver["EntryPoint"] == targets.script_uris[step.job]
            assert driver["EntryPointArguments"] == sf.step_arguments(step, targets)


def test_the_asl_interpreter_parses_the_definition(case, asl):
    _, _, definition = case
    program = asl.parse(definition)
    assert program is not None


def test_statelint_finds_nothing(case):
    """statelint, the Amazon States Language validator, on every pipeline x runtime definition."""
    _, _, definition = case
    assert Linter.validate(definition) == []


def test_statelint_reports_a_broken_definition():
    definition = build(PIPELINES["rentals"], "cluster")
    definition["States"][sf.CREATE_CLUSTER]["Next"] = "NoSuchState"
    del definition["States"][sf.FAIL_WITH_CAUSE]["Error"]
    problems = Linter.validate(definition)
    assert any("NoSuchState" in p for p in problems), problems
    assert len(problems) >= 2, problems


# The cluster is never left running ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PIPELINES))
def test_no_path_from_a_live_cluster_ends_without_terminating_it(name):
    definition = build(PIPELINES[name], "cluster")
    states = definition["States"]
    assert definition["StartAt"] == sf.CREATE_CLUSTER
    live = reachable(states, states[sf.CREATE_CLUSTER]["Next"], removed=frozenset(TERMINATES))
    assert live >= set(containers(definition).values())
    for state_name in live:
        state = states[state_name]
        assert state["Type"] in ("Task", "Parallel"), f"{state_name} would end or branch with the cluster up"
        assert catches_all(state)["Next"] == sf.TERMINATE_AFTER_FAILURE, state_name
    # Spark tasks inside a Parallel have no Catch of their own: their errors reach the Parallel's.
    for state_name, state in spark_tasks(definition).items():
        if containers(definition)[state_name] != state_name:
            assert "Catch" not in state, state_name
    cleanup = states[sf.TERMINATE_AFTER_FAILURE]
    assert cleanup["Next"] == sf.FAILED
    assert catches_all(cleanup) == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.cleanupError", "Next": sf.FAILED}
    assert states[sf.TERMINATE_CLUSTER]["Next"] == sf.START_CRAWLER
    # Before the cluster id exists there is nothing to terminate.
    assert catches_all(states[sf.CREATE_CLUSTER])["Next"] == sf.FAILED


@pytest.mark.parametrize("name", list(PIPELINES))
def test_serverless_runs_no_cluster_states(name):
    definition = build(PIPELINES[name], "serverless")
    resources = {state["Resource"] for _, state in tasks(definition)}
    assert not [r for r in resources if "elasticmapreduce" in r]
    for state_name, state in definition["States"].items():
        if state.get("Resource") in sf.SPARK_TASK_RESOURCES or state["Type"] == "Parallel":
            assert catches_all(state)["Next"] == sf.FAILED, state_name


# Order of the steps ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_rentals_kpis_runs_only_after_rentals_transform(runtime):
    definition = build(PIPELINES["rentals"], runtime)
    states = definition["States"]
    where = containers(definition)
    transform, kpis = where["Run rentals_transform"], where["Run rentals_kpis"]
    assert transform != kpis, "the KPI job must not run beside the job that writes its input"
    assert kpis in reachable(states, definition["StartAt"])
    assert kpis not in reachable(states, definition["StartAt"], removed=frozenset({transform}))
    assert states[transform]["Next"] == kpis


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


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_independent_steps_run_in_a_parallel_between_their_dependencies(runtime):
    definition = build(diamond(), runtime)
    states = definition["States"]
    assert states["Run a"]["Next"] == "Wave 2"
    wave = states["Wave 2"]
    assert wave["Type"] == "Parallel"
    assert wave["ResultPath"] is None
    assert [branch["StartAt"] for branch in wave["Branches"]] == ["Run b", "Run c"]
    for branch in wave["Branches"]:
        (task,) = branch["States"].values()
        assert task["End"] is True
        assert task["Retry"]
    assert wave["Next"] == "Run d"
    if runtime == "cluster":
        # EMR runs one step at a time unless told otherwise: the widest wave sets the concurrency.
        assert states[sf.CREATE_CLUSTER]["Parameters"]["StepConcurrencyLevel"] == 2


# The crawler is polled, not awaited with a fixed Wait -------------------------------------------------------


def test_the_crawler_is_polled_in_a_loop_bounded_by_a_counter():
    definition = build(PIPELINES["kindle"], "cluster", crawler_poll_seconds=45, crawler_max_polls=20)
    states = definition["States"]
    assert states[sf.START_CRAWLER]["Next"] == sf.INIT_CRAWLER_POLLS
    running = [c for c in states[sf.START_CRAWLER]["Catch"] if c["ErrorEquals"] == ["Glue.CrawlerRunningException"]]
    assert running == [
        {"ErrorEquals": ["Glue.CrawlerRunningException"], "ResultPath": None, "Next": "InitCrawlerPolls"}
    ]
    assert states[sf.INIT_CRAWLER_POLLS]["Result"] == {"count": 0}
    assert states[sf.WAIT_FOR_CRAWLER] == {"Type": "Wait", "Seconds": 45, "Next": sf.GET_CRAWLER}
    assert states[sf.GET_CRAWLER]["Resource"] == "arn:aws:states:::aws-sdk:glue:getCrawler"
    loop = [sf.WAIT_FOR_CRAWLER, sf.GET_CRAWLER, sf.CRAWLER_STATUS, sf.COUNT_CRAWLER_POLL, sf.CRAWLER_POLL_BUDGET]
    for here, there in zip(loop, [*loop[1:], loop[0]], strict=True):
        assert there in targets_of(states[here]), f"{here} -> {there}"
    budget = states[sf.CRAWLER_POLL_BUDGET]["Choices"]
    assert budget == [
        {"Variable": "$.crawlerPolls.count", "NumericGreaterThanEquals": 20, "Next": sf.CRAWLER_TIMED_OUT}
    ]
    assert sf.WAIT_FOR_CRAWLER not in reachable(states, sf.RUN_CHECK_QUERY)
    # A missing LastCrawl is tested before it is compared: Step Functions fails the execution on a missing path.
    status = [
        (c.get("Variable"), c.get("IsPresent", c.get("StringEquals"))) for c in states[sf.CRAWLER_STATUS]["Choices"]
    ]
    assert status[1:] == [
        ("$.crawler.Crawler.LastCrawl.Status", False),
        ("$.crawler.Crawler.LastCrawl.Status", "SUCCEEDED"),
    ]


# Cluster sizing and cost guards ------------------------------------------------------------------------------


def create_cluster(spec: sf.ClusterSpec, pipeline: Pipeline = PIPELINES["rentals"]) -> dict:
    return sf.build_definition(pipeline, targets_for(pipeline), spec)["States"][sf.CREATE_CLUSTER]


def test_create_cluster_carries_the_cost_and_security_settings():
    state = create_cluster(cluster_spec())
    assert state["Resource"] == "arn:aws:states:::elasticmapreduce:createCluster.sync"
    assert state["ResultSelector"] == {"ClusterId.$": "$.ClusterId"}
    assert state["ResultPath"] == "$.cluster"
    parameters = state["Parameters"]
    assert parameters["ReleaseLabel"] == "emr-7.12.0"
    assert parameters["Applications"] == [{"Name": "Spark"}]
    assert parameters["AutoTerminationPolicy"] == {"IdleTimeout": 900}
    assert parameters["SecurityConfiguration"] == "datalake-dev-emr"
    assert parameters["LogUri"] == "s3://logs-bucket/emr/rentals/"
    assert parameters["ServiceRole"] == "datalake-dev-emr-service"
    assert parameters["JobFlowRole"] == "datalake-dev-emr-instance"
    assert parameters["Tags"] == [
        {"Key": "for-use-with-amazon-emr-managed-policies", "Value": "true"},
        {"Key": "pipeline", "Value": "rentals"},
    ]
    instances = parameters["Instances"]
    assert instances["KeepJobFlowAliveWhenNoSteps"] is True
    assert instances["TerminationProtected"] is False
    assert instances["Ec2SubnetId"] == "subnet-0a1b2c3d"
    assert instances["EmrManagedMasterSecurityGroup"] == "sg-0primary"
    assert instances["EmrManagedSlaveSecurityGroup"] == "sg-0core"
    assert instances["ServiceAccessSecurityGroup"] == "sg-0service"
    assert "Steps" not in parameters


def groups(state: dict) -> dict[str, dict]:
    return {group["InstanceRole"]: group for group in state["Parameters"]["Instances"]["InstanceGroups"]}


def test_no_spot_capacity_at_all_when_the_spot_count_is_zero():
    found = groups(create_cluster(cluster_spec(core_instance_count=3, spot_core_instance_count=0)))
    assert set(found) == {"MASTER", "CORE"}
    assert {g["Market"] for g in found.values()} == {"ON_DEMAND"}
    assert (found["MASTER"]["InstanceCount"], found["CORE"]["InstanceCount"]) == (1, 3)
    assert found["MASTER"]["InstanceType"] == "m7g.xlarge"
    assert found["CORE"]["InstanceType"] == "r7g.2xlarge"
    volume = found["CORE"]["EbsConfiguration"]["EbsBlockDeviceConfigs"][0]["VolumeSpecification"]
    assert volume == {"VolumeType": "gp3", "SizeInGB": 64}


def test_spot_capacity_joins_as_task_nodes_within_the_core_count():
    found = groups(create_cluster(cluster_spec(core_instance_count=4, spot_core_instance_count=3)))
    assert (found["CORE"]["Market"], found["CORE"]["InstanceCount"]) == ("ON_DEMAND", 1)
    assert (found["TASK"]["Market"], found["TASK"]["InstanceCount"]) == ("SPOT", 3)
    assert sum(g["InstanceCount"] for g in found.values()) == 1 + 4


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"spot_core_instance_count": 3}, "spot_core_instance_count 3 must be from 0 to core_instance_count - 1 = 2"),
        ({"spot_core_instance_count": -1}, "spot_core_instance_count -1"),
        ({"core_instance_count": 0}, "core_instance_count 0 must be at least 1"),
        ({"idle_timeout_seconds": 120}, "idle_timeout_seconds 120 must be from 600 to 604800"),
        ({"idle_timeout_seconds": 700_000}, "idle_timeout_seconds 700000"),
        ({"release_label": "7.12.0"}, "release_label '7.12.0'"),
        ({"log_uri": "/tmp/logs"}, "log_uri '/tmp/logs' must be an s3:// URI"),
        ({"step_timeout_seconds": 0}, "step_timeout_seconds 0"),
    ],
)
def test_cluster_spec_refuses_unsafe_sizes(overrides, message):
    with pytest.raises(ValueError, match="ClusterSpec datalake-dev-rentals: ") as error:
        cluster_spec(**overrides)
    assert message in str(error.value)


def test_cluster_spec_refuses_another_pipelines_tag():
    with pytest.raises(ValueError, match="tag pipeline='kindle' is not 'rentals'"):
        create_cluster(cluster_spec(tags={"pipeline": "kindle"}))


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_an_execution_timeout_shorter_than_its_steps_is_refused(runtime):
    # rentals: two waves of at most 3600 s (cluster: + 1800 s to create it) or 60 min jobs (serverless).
    enough = 1800 + 2 * 3600 + 1 if runtime == "cluster" else 2 * 3600 + 1
    assert build(PIPELINES["rentals"], runtime, timeout_seconds=enough)["TimeoutSeconds"] == enough
    with pytest.raises(ValueError, match="a timed-out execution could leave a step running"):
        build(PIPELINES["rentals"], runtime, timeout_seconds=enough - 1)


def test_integrations_are_called_in_the_stacks_partition():
    definition = build(diamond(), "cluster", partition="aws-cn")
    resources = {state["Resource"] for _, state in tasks(definition)}
    assert len(resources) == 7
    assert {r.split(":::")[0] for r in resources} == {"arn:aws-cn:states"}


def test_step_arguments_are_s3_uris_of_the_locations():
    targets = targets_for(PIPELINES["sparkify"])
    assert sf.step_arguments(PIPELINES["sparkify"].steps[0], targets) == [
        "--song-data",
        "s3://raw-bucket/sparkify/song_data/",
        "--log-data",
        "s3://raw-bucket/sparkify/log_data/",
        "--output",
        "s3://curated-bucket/sparkify/",
    ]
    kpis = PIPELINES["rentals"].step("rentals_kpis")
    assert sf.step_arguments(kpis, targets) == [
        "--input",
        "s3://curated-bucket/rentals/",
        "--output",
        "s3://curated-bucket/rentals/",
    ]
    with pytest.raises(ValueError, match="no bucket for zone 'raw'"):
        sf.step_arguments(
            PIPELINES["rentals"].step("rentals_transform"),
            targets_for(PIPELINES["rentals"], zone_uris={"curated": "s3://curated-bucket"}),
        )
    with pytest.raises(ValueError, match="is not an s3:// URI"):
        sf.step_arguments(kpis, targets_for(PIPELINES["rentals"], zone_uris={"curated": "/tmp/lake/curated"}))


def test_spark_conf_and_serverless_job_settings_reach_the_job():
    pipeline = PIPELINES["orders"]
    targets = targets_for(pipeline, spark_conf={"spark.sql.shuffle.partitions": "64", "spark.executor.memory": "4g"})
    conf = ["--conf", "spark.executor.memory=4g", "--conf", "spark.sql.shuffle.partitions=64"]
    cluster = sf.build_definition(pipeline, targets, cluster_spec())["States"]["Run orders"]
    step = cluster["Parameters"]["Step"]
    assert step["ActionOnFailure"] == "CONTINUE"
    assert step["HadoopJarStep"]["Jar"] == "command-runner.jar"
    assert step["HadoopJarStep"]["Args"][3:7] == conf
    assert cluster["TimeoutSeconds"] == 3600
    assert cluster["ResultPath"] is None
    serverless = sf.build_definition(pipeline, targets, serverless_spec())["States"]["Run orders"]
    parameters = serverless["Parameters"]
    assert parameters["ApplicationId"] == "00fabcdefghij012"
    assert parameters["ExecutionRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/datalake-dev-emr-serverless"
    assert parameters["ExecutionTimeoutMinutes"] == 60
    assert parameters["JobDriver"]["SparkSubmit"]["SparkSubmitParameters"] == " ".join(
        ["--py-files", "s3://scripts-bucket/jobs/deps-4567ef.zip", *conf]
    )
    monitoring = parameters["ConfigurationOverrides"]["MonitoringConfiguration"]
    assert monitoring == {"S3MonitoringConfiguration": {"LogUri": "s3://logs-bucket/emr/rentals/"}}


def test_the_check_query_runs_in_the_workgroup_and_must_return_rows():
    definition = build(PIPELINES["orders"], "serverless")
    query = definition["States"][sf.RUN_CHECK_QUERY]
    assert query["Resource"] == "arn:aws:states:::athena:startQueryExecution.sync"
    assert query["Parameters"] == {
        "QueryString": "SELECT count(*) AS n FROM t",
        "WorkGroup": "datalake-dev",
        "QueryExecutionContext": {"Database": "datalake_dev"},
    }
    assert query["ResultPath"] == "$.check"
    assert definition["States"][sf.CHECK_HAS_ROWS]["Choices"][0]["Next"] == sf.SUCCEEDED


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


@pytest.fixture(scope="module")
def asl() -> Iterator[Asl]:
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


CRAWLER_RUNNING = {"Crawler": {"Name": "c", "State": "RUNNING"}}
CRAWLER_DONE = {"Crawler": {"Name": "c", "State": "READY", "LastCrawl": {"Status": "SUCCEEDED"}}}
QUERY_DONE = {"QueryExecution": {"QueryExecutionId": "q-1", "Status": {"State": "SUCCEEDED"}}}
TWO_ROWS = {"ResultSet": {"Rows": [{"Data": [{"VarCharValue": "n"}]}, {"Data": [{"VarCharValue": "42"}]}]}}
# A failed step or job run raises States.TaskFailed, a name the interpreter's mocks may not throw (it is reserved to
# the service); the States.ALL catchers under test handle every name the same way.
STEP_FAILED = ("StepFailed", '{"Step": {"Status": {"State": "FAILED", "FailureDetails": {"Reason": "boom"}}}}')


def after_jobs(**overrides) -> dict[str, list]:
    replies = {
        sf.START_CRAWLER: [{}],
        sf.GET_CRAWLER: [CRAWLER_RUNNING, CRAWLER_DONE],
        sf.RUN_CHECK_QUERY: [QUERY_DONE],
        sf.GET_CHECK_RESULTS: [TWO_ROWS],
    }
    return {**replies, **overrides}


def cluster_run(**overrides) -> dict[str, list]:
    return {
        sf.CREATE_CLUSTER: [{"ClusterId": CLUSTER_ID}],
        sf.TERMINATE_CLUSTER: [{}],
        sf.TERMINATE_AFTER_FAILURE: [{}],
        **after_jobs(),
        **overrides,
    }


def polls(**kwargs) -> dict:
    return {"crawler_poll_seconds": 1, "crawler_max_polls": 3, **kwargs}


def test_a_rentals_run_creates_runs_in_order_terminates_crawls_and_checks(asl):
    definition = build(PIPELINES["rentals"], "cluster", **polls())
    run = asl.run(definition, cluster_run(**{"Run rentals_transform": [{}], "Run rentals_kpis": [{}]}))
    assert run.succeeded, (run.error, run.cause)
    tasks_run = [name for name in run.entered if name in dict(tasks(definition))]
    assert tasks_run == [
        "CreateCluster",
        "Run rentals_transform",
        "Run rentals_kpis",
        "TerminateCluster",
        "StartCrawler",
        "GetCrawler",
        "GetCrawler",
        "RunCheckQuery",
        "GetCheckResults",
    ]
    for name in ("Run rentals_transform", "Run rentals_kpis", "TerminateCluster"):
        assert run.parameters[name][0]["ClusterId"] == CLUSTER_ID, name
    assert run.parameters["GetCheckResults"] == [{"QueryExecutionId": "q-1", "MaxResults": 2}]
    assert run.output["checkResults"] == {"RowCount": 2}


def test_a_failed_step_terminates_the_cluster_and_fails_with_its_cause(asl):
    definition = build(PIPELINES["rentals"], "cluster", **polls())
    run = asl.run(definition, cluster_run(**{"Run rentals_transform": [STEP_FAILED]}))
    assert not run.succeeded
    assert (run.error, run.cause) == STEP_FAILED
    assert "Run rentals_kpis" not in run.entered
    assert run.entered[-3:] == [sf.TERMINATE_AFTER_FAILURE, sf.FAILED, sf.FAIL_WITH_CAUSE]
    assert run.parameters[sf.TERMINATE_AFTER_FAILURE] == [{"ClusterId": CLUSTER_ID}]
    assert sf.START_CRAWLER not in run.entered


def test_a_failed_branch_of_a_parallel_wave_terminates_the_cluster(asl):
    definition = build(diamond(), "cluster", **polls())
    run = asl.run(definition, cluster_run(**{"Run a": [{}], "Run b": [{}], "Run c": [STEP_FAILED], "Run d": [{}]}))
    assert (run.error, run.cause) == STEP_FAILED
    assert "Run d" not in run.entered
    assert run.parameters[sf.TERMINATE_AFTER_FAILURE] == [{"ClusterId": CLUSTER_ID}]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_caught_error_without_a_cause_still_fails_the_run_with_its_name(asl, runtime):
    definition = build(PIPELINES["kindle"], runtime, **polls())
    replies = cluster_run() if runtime == "cluster" else after_jobs()
    run = asl.run(definition, {**replies, "Run kindle_metadata": [("StepFailed", None)]})
    assert (run.error, run.cause) == ("StepFailed", "no cause given")
    assert run.entered[-2:] == [sf.FAILED, sf.FAIL_WITHOUT_CAUSE]


def test_a_cluster_that_never_started_fails_without_a_terminate(asl):
    definition = build(PIPELINES["kindle"], "cluster", **polls())
    error = ("ClusterFailed", "Cluster terminated with errors: VALIDATION_ERROR")
    run = asl.run(definition, cluster_run(**{sf.CREATE_CLUSTER: [error]}))
    assert (run.error, run.cause) == error
    assert run.entered == [sf.CREATE_CLUSTER, sf.FAILED, sf.FAIL_WITH_CAUSE]


def test_a_crawler_that_never_finishes_fails_after_the_poll_budget(asl):
    definition = build(PIPELINES["orders"], "serverless", **polls())
    run = asl.run(definition, {"Run orders": [{}], **after_jobs(**{sf.GET_CRAWLER: [CRAWLER_RUNNING]})})
    assert run.error == "CrawlerTimeout"
    assert run.cause == "crawler datalake-dev-orders was still not READY after 3 polls 1 s apart"
    assert run.entered.count(sf.GET_CRAWLER) == 3
    assert sf.RUN_CHECK_QUERY not in run.entered


def test_a_crawler_already_running_is_polled_to_its_end(asl):
    definition = build(PIPELINES["sparkify"], "serverless", **polls())
    running = ("Glue.CrawlerRunningException", "Crawler with name datalake-dev-sparkify has already started")
    run = asl.run(definition, {"Run sparkify": [{}], **after_jobs(**{sf.START_CRAWLER: [running]})})
    assert run.succeeded, (run.error, run.cause)
    assert run.entered.count(sf.GET_CRAWLER) == 2
    assert run.parameters["Run sparkify"][0]["Name"] == "sparkify"


def test_a_failed_crawl_fails_the_run_with_the_crawlers_report(asl):
    definition = build(PIPELINES["sparkify"], "serverless", **polls())
    failed = {"Crawler": {"Name": "c", "State": "READY", "LastCrawl": {"Status": "FAILED", "ErrorMessage": "no perms"}}}
    run = asl.run(definition, {"Run sparkify": [{}], **after_jobs(**{sf.GET_CRAWLER: [failed]})})
    assert run.error == "CrawlerFailed"
    assert run.cause.startswith("crawler datalake-dev-sparkify did not succeed: ")
    assert "no perms" in run.cause


def test_a_crawler_without_a_last_crawl_fails_instead_of_breaking_the_execution(asl):
    definition = build(PIPELINES["sparkify"], "serverless", **polls())
    never = {"Crawler": {"Name": "c", "State": "READY"}}
    run = asl.run(definition, {"Run sparkify": [{}], **after_jobs(**{sf.GET_CRAWLER: [never]})})
    assert run.error == "CrawlerFailed"


def test_a_check_query_without_rows_fails_the_run(asl):
    definition = build(PIPELINES["kindle"], "serverless", **polls())
    header_only = {"ResultSet": {"Rows": [{"Data": [{"VarCharValue": "store"}]}]}}
    run = asl.run(definition, {"Run kindle_metadata": [{}], **after_jobs(**{sf.GET_CHECK_RESULTS: [header_only]})})
    assert (run.error, run.cause) == ("CheckQueryEmpty", "the top_stores check query returned no rows")


def test_a_failed_serverless_job_fails_the_run_without_cleanup(asl):
    definition = build(PIPELINES["rentals"], "serverless", **polls())
    failed = ("JobRunFailed", '{"JobRun": {"State": "FAILED"}}')
    run = asl.run(definition, {"Run rentals_transform": [failed], "Run rentals_kpis": [{}], **after_jobs()})
    assert (run.error, run.cause) == failed
    assert run.entered == ["Run rentals_transform", sf.FAILED, sf.FAIL_WITH_CAUSE]


# The state machine role's policy -----------------------------------------------------------------------------

APPLICATION_ARN = f"arn:aws:emr-serverless:{REGION}:{ACCOUNT}:/applications/00fabcdefghij012"
DATA_ACTIONS = {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"}


def policy_for(runtime: str, pipeline: Pipeline = PIPELINES["rentals"]) -> dict:
    roles = {
        "cluster": [f"arn:aws:iam::{ACCOUNT}:role/emr-service", f"arn:aws:iam::{ACCOUNT}:role/emr-instance"],
        "serverless": [f"arn:aws:iam::{ACCOUNT}:role/emr-serverless"],
    }[runtime]
    return sf.state_machine_policy(
        partition=PARTITION,
        region=REGION,
        account_id=ACCOUNT,
        pipeline=pipeline,
        runtime=runtime,
        emr_role_arns=roles,
        serverless_application_arn=APPLICATION_ARN if runtime == "serverless" else None,
        crawler_arn=f"arn:aws:glue:{REGION}:{ACCOUNT}:crawler/datalake-dev-{pipeline.name}",
        workgroup_arn=f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/datalake-dev",
        glue_database="datalake_dev",
        results_bucket_arn="arn:aws:s3:::athena-results-bucket",
        curated_bucket_arn="arn:aws:s3:::curated-bucket",
        kms_key_arn=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0a1b2c3d",
    )


def statements(policy: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in policy["Statement"]}


def findings(policy: dict, *, community: bool = False) -> list:
    return parliament.analyze_policy_string(json.dumps(policy), include_community_auditors=community).findings


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_parliament_finds_nothing_but_the_documented_permission_management(runtime):
    policy = policy_for(runtime)
    assert [(f.issue, f.location) for f in findings(policy)] == []
    (management,) = findings(policy, community=True)
    assert management.issue == "PERMISSIONS_MANAGEMENT_ACTIONS"
    # Passing the jobs' roles, creating EMR's cleanup role, and the log delivery Step Functions sets up.
    expected = {"iam:passrole", "logs:putresourcepolicy"} | (
        {"iam:createservicelinkedrole"} if runtime == "cluster" else set()
    )
    assert set(management.location["actions"]) == expected


def test_parliament_still_reports_what_the_policy_must_not_contain():
    broken = policy_for("cluster")
    broken["Statement"].append({"Sid": "Bad", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["*"]})
    assert [f.issue for f in findings(broken)] == ["RESOURCE_STAR"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_no_wildcard_action_and_star_only_for_unscoped_actions(runtime):
    for statement in policy_for(runtime)["Statement"]:
        assert statement["Effect"] == "Allow"
        assert not [a for a in statement["Action"] if "*" in a], statement["Sid"]
        if "*" in statement["Resource"]:
            assert statement["Resource"] == ["*"]
            assert set(statement["Action"]) <= sf.UNSCOPED_ACTIONS, statement["Sid"]
            assert not set(statement["Action"]) & DATA_ACTIONS, statement["Sid"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_data_actions_name_the_pipelines_own_prefixes_and_key(runtime):
    found = statements(policy_for(runtime))
    assert found["ReadPipelineData"]["Resource"] == ["arn:aws:s3:::curated-bucket/rentals/*"]
    assert found["ListPipelineData"]["Condition"] == {"StringLike": {"s3:prefix": ["rentals/*"]}}
    assert found["WriteQueryResults"]["Resource"] == ["arn:aws:s3:::athena-results-bucket/*"]
    assert found["UseLakeKeyThroughS3AndAthena"]["Resource"] == [f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0a1b2c3d"]
    assert found["UseLakeKeyThroughS3AndAthena"]["Condition"] == {
        "StringEquals": {"kms:ViaService": [f"s3.{REGION}.amazonaws.com", f"athena.{REGION}.amazonaws.com"]}
    }
    glue = f"arn:aws:glue:{REGION}:{ACCOUNT}"
    assert found["ReadPipelineTables"]["Resource"] == [
        f"{glue}:catalog",
        f"{glue}:database/datalake_dev",
        *[f"{glue}:table/datalake_dev/{table.glue_name}" for table in PIPELINES["rentals"].tables],
    ]


def test_the_cluster_role_may_only_touch_clusters_of_its_pipeline():
    found = statements(policy_for("cluster"))
    definition = build(PIPELINES["rentals"], "cluster")
    tags = {t["Key"]: t["Value"] for t in definition["States"][sf.CREATE_CLUSTER]["Parameters"]["Tags"]}
    assert found["CreatePipelineClusters"]["Condition"] == {
        "StringEquals": {"aws:RequestTag/pipeline": tags["pipeline"]}
    }
    assert found["DrivePipelineClusters"]["Resource"] == [f"arn:aws:elasticmapreduce:{REGION}:{ACCOUNT}:cluster/*"]
    assert found["DrivePipelineClusters"]["Condition"] == {"StringEquals": {"aws:ResourceTag/pipeline": "rentals"}}
    assert found["PassClusterRoles"]["Resource"] == [
        f"arn:aws:iam::{ACCOUNT}:role/emr-service",
        f"arn:aws:iam::{ACCOUNT}:role/emr-instance",
    ]
    assert found["PassClusterRoles"]["Condition"] == {
        "StringLike": {"iam:PassedToService": ["elasticmapreduce.amazonaws.com*", "ec2.amazonaws.com*"]}
    }
    assert found["SyncEventRules"]["Resource"] == [
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/StepFunctionsGetEventForEMRRunJobFlowRule",
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/StepFunctionsGetEventForEMRAddJobFlowStepsRule",
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/StepFunctionsGetEventForEMRTerminateJobFlowsRule",
    ]


def test_the_serverless_role_may_only_run_jobs_on_its_application():
    found = statements(policy_for("serverless"))
    assert found["StartJobRuns"]["Resource"] == [APPLICATION_ARN]
    assert found["WatchJobRuns"]["Resource"] == [f"{APPLICATION_ARN}/jobruns/*"]
    assert found["PassJobRole"]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "emr-serverless.amazonaws.com"}
    }
    assert found["SyncEventRules"]["Resource"] == [
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/StepFunctionsGetEventsForEMRServerlessJobRule"
    ]
    assert not [sid for sid in found if "Cluster" in sid]
    with pytest.raises(ValueError, match="serverless_application_arn"):
        sf.state_machine_policy(**{**POLICY_ARGS, "runtime": "serverless", "serverless_application_arn": None})


POLICY_ARGS = {
    "partition": PARTITION,
    "region": REGION,
    "account_id": ACCOUNT,
    "pipeline": PIPELINES["kindle"],
    "runtime": "cluster",
    "emr_role_arns": [f"arn:aws:iam::{ACCOUNT}:role/r"],
    "serverless_application_arn": None,
    "crawler_arn": f"arn:aws:glue:{REGION}:{ACCOUNT}:crawler/c",
    "workgroup_arn": f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/w",
    "glue_database": "db",
    "results_bucket_arn": "arn:aws:s3:::r",
    "curated_bucket_arn": "arn:aws:s3:::c",
    "kms_key_arn": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k",
}

# What each integration calls, from the Step Functions developer guide's IAM templates for .sync tasks.
NEEDED_ACTIONS = {
    "arn:aws:states:::elasticmapreduce:createCluster.sync": {
        "elasticmapreduce:RunJobFlow",
        "elasticmapreduce:DescribeCluster",
        "elasticmapreduce:TerminateJobFlows",
        "iam:PassRole",
        "events:PutTargets",
        "events:PutRule",
        "events:DescribeRule",
    },
    "arn:aws:states:::elasticmapreduce:addStep.sync": {
        "elasticmapreduce:AddJobFlowSteps",
        "elasticmapreduce:DescribeStep",
        "elasticmapreduce:CancelSteps",
    },
    "arn:aws:states:::elasticmapreduce:terminateCluster.sync": {
        "elasticmapreduce:TerminateJobFlows",
        "elasticmapreduce:DescribeCluster",
    },
    "arn:aws:states:::emr-serverless:startJobRun.sync": {
        "emr-serverless:StartJobRun",
        "emr-serverless:GetJobRun",
        "emr-serverless:CancelJobRun",
        "iam:PassRole",
        "events:PutTargets",
        "events:PutRule",
        "events:DescribeRule",
    },
    "arn:aws:states:::aws-sdk:glue:startCrawler": {"glue:StartCrawler"},
    "arn:aws:states:::aws-sdk:glue:getCrawler": {"glue:GetCrawler"},
    "arn:aws:states:::athena:startQueryExecution.sync": {
        "athena:StartQueryExecution",
        "athena:GetQueryExecution",
        "athena:StopQueryExecution",
        "s3:GetObject",
        "s3:PutObject",
        "glue:GetTable",
        "glue:GetDatabase",
    },
    "arn:aws:states:::aws-sdk:athena:getQueryResults": {"athena:GetQueryResults"},
}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_policy_allows_every_call_the_definition_makes(runtime):
    granted = {action for s in policy_for(runtime)["Statement"] for action in s["Action"]}
    for name, state in tasks(build(PIPELINES["rentals"], runtime)):
        missing = NEEDED_ACTIONS[state["Resource"]] - granted
        assert not missing, f"{name} ({state['Resource']}) needs {sorted(missing)}"


def test_tracing_and_log_delivery_statements_can_be_left_out():
    policy = sf.state_machine_policy(**POLICY_ARGS, tracing=False, log_delivery=False)
    assert not [s for s in policy["Statement"] if s["Resource"] == ["*"] and s["Sid"] != "CreatePipelineClusters"]
    assert {"XRayTracing", "CloudWatchLogsDelivery"} <= set(statements(sf.state_machine_policy(**POLICY_ARGS)))


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_check_query_may_write_its_results_as_athena_does(runtime):
    # Athena writes the check query's results as the state machine's role, in multipart uploads ("IAM policies for
    # calling Amazon Athena", Step Functions Developer Guide; AmazonAthenaFullAccess, BaseQueryResultsPermissions).
    granted: dict[str, set[str]] = {}
    for statement in policy_for(runtime)["Statement"]:
        for resource in statement["Resource"]:
            granted.setdefault(resource, set()).update(statement["Action"])
    assert set(ATHENA_RESULTS_BUCKET_ACTIONS) <= granted["arn:aws:s3:::athena-results-bucket"]
    assert set(ATHENA_RESULTS_OBJECT_ACTIONS) <= granted["arn:aws:s3:::athena-results-bucket/*"]
