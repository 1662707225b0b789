"""The pipelines' state machine definitions (components/step_functions.py) on both runtimes: checked as graphs,
linted, and run by an ASL interpreter."""

from __future__ import annotations

import json

import pytest
from statelint.linter import Linter

from components import emr_states as emr
from components import step_functions as sf
from pipelines import PIPELINES
from pipelines.model import Pipeline
from tests.components.definitions import (
    CLUSTER_ID,
    NO_REPORT,
    RUNTIMES,
    STEP_FAILED,
    after_jobs,
    build,
    catches_all,
    cluster_run,
    containers,
    diamond,
    no_reports,
    reachable,
    spark_tasks,
    targets_for,
    targets_of,
    tasks,
)

CASES = [(name, runtime) for name in PIPELINES for runtime in RUNTIMES]


@pytest.fixture(params=CASES, ids=[f"{name}-{runtime}" for name, runtime in CASES])
def case(request) -> tuple[Pipeline, str, dict]:
    name, runtime = request.param
    return PIPELINES[name], runtime, build(PIPELINES[name], runtime)


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
                assert inner.get("End") or "Next" in inner or inner["Type"] in ("Choice", "Fail"), inner_name


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
            # A failed step's report reader keeps the step's error when there is no report.
            assert catches_all(state)["ResultPath"] in ("$.error", "$.cleanupError", "$.reportError"), name


def test_no_spark_step_is_retried_after_it_failed(case):
    _, _, definition = case
    assert spark_tasks(definition)
    for name, state in tasks(definition):
        for retrier in state.get("Retry", []):
            assert retrier["BackoffRate"] == 2.0, name
            if name == emr.TERMINATE_AFTER_FAILURE:
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
    definition["States"][emr.CREATE_CLUSTER]["Next"] = "NoSuchState"
    del definition["States"][sf.FAIL_WITH_CAUSE]["Error"]
    problems = Linter.validate(definition)
    assert any("NoSuchState" in p for p in problems), problems
    assert len(problems) >= 2, problems


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
        task = branch["States"][branch["StartAt"]]
        assert task["End"] is True
        assert task["Retry"]
        # A failed branch reads its job's report and fails the branch with it, which the Parallel's Catch takes.
        read = catches_all(task)["Next"]
        assert branch["States"][read]["Resource"] == "arn:aws:states:::aws-sdk:s3:getObject"
        fails = [st for st in branch["States"].values() if st["Type"] == "Fail"]
        assert fails
        assert all(st["Error"] == sf.STEP_FAILED_ERROR for st in fails)
    assert wave["Next"] == "Run d"
    if runtime == "cluster":
        # EMR runs one step at a time unless told otherwise: the widest wave sets the concurrency.
        assert states[emr.CREATE_CLUSTER]["Parameters"]["StepConcurrencyLevel"] == 2


# A failed step's cause is its job's run report -------------------------------------------------------------


def test_a_failed_step_reads_its_jobs_report_under_its_output():
    definition = build(PIPELINES["kindle"], "serverless")
    states = definition["States"]
    read, check, reported = sf.report_state_names(PIPELINES["kindle"].steps[0])
    assert catches_all(states["Run kindle_metadata"])["Next"] == read
    # <output>/_run/<job>.json (ISSUE12 contract), in the curated bucket.
    assert states[read]["Resource"] == "arn:aws:states:::aws-sdk:s3:getObject"
    assert states[read]["Parameters"] == {"Bucket": "curated-bucket", "Key": "kindle/_run/kindle_metadata.json"}
    assert states[read]["ResultSelector"] == {"Body.$": "States.StringToJson($.Body)"}
    # No report: the step's own error stands, the report's absence beside it.
    assert catches_all(states[read]) == {
        "ErrorEquals": ["States.ALL"],
        "ResultPath": "$.reportError",
        "Next": sf.FAILED,
    }
    assert states[check]["Default"] == sf.FAILED
    assert states[reported]["Next"] == sf.FAILED


# Timeouts, partitions, arguments, the check query ----------------------------------------------------------


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
    # createCluster, addStep, terminateCluster, a failed step's report, the check query and its results.
    assert len(resources) == 6
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
        # In the cloud every job commits through the Glue catalog (ISSUE12 contract) and never creates a table.
        "--catalog",
        "glue_catalog",
        "--database",
        "datalake_dev",
    ]
    kpis = PIPELINES["rentals"].step("rentals_kpis")
    assert sf.step_arguments(kpis, targets)[:4] == [
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


# Executions ----------------------------------------------------------------------------------------------------


def test_a_rentals_run_creates_runs_in_order_terminates_and_checks(asl):
    definition = build(PIPELINES["rentals"], "cluster")
    run = asl.run(definition, cluster_run(**{"Run rentals_transform": [{}], "Run rentals_kpis": [{}]}))
    assert run.succeeded, (run.error, run.cause)
    tasks_run = [name for name in run.entered if name in dict(tasks(definition))]
    assert tasks_run == [
        "CreateCluster",
        "Run rentals_transform",
        "Run rentals_kpis",
        "TerminateCluster",
        "RunCheckQuery",
        "GetCheckResults",
    ]
    for name in ("Run rentals_transform", "Run rentals_kpis", "TerminateCluster"):
        assert run.parameters[name][0]["ClusterId"] == CLUSTER_ID, name
    assert run.parameters["GetCheckResults"] == [{"QueryExecutionId": "q-1", "MaxResults": 2}]
    assert run.output["checkResults"] == {"RowCount": 2}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_caught_error_without_a_cause_still_fails_the_run_with_its_name(asl, runtime):
    definition = build(PIPELINES["kindle"], runtime)
    replies = cluster_run() if runtime == "cluster" else after_jobs()
    run = asl.run(
        definition, {**replies, **no_reports(PIPELINES["kindle"]), "Run kindle_metadata": [("StepFailed", None)]}
    )
    assert (run.error, run.cause) == ("StepFailed", "no cause given")
    assert run.entered[-2:] == [sf.FAILED, sf.FAIL_WITHOUT_CAUSE]


GATE_REPORT = {
    "status": "gate_failed",
    "error": "gate: table kindle_items rule not_null(parent_asin) failed for 3 rows",
    "gate": [{"table": "kindle_items", "rule": "not_null(parent_asin)", "count": 3, "passed": False}],
}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_job_that_fails_its_gate_fails_the_run_with_the_reports_error(asl, runtime):
    definition = build(PIPELINES["kindle"], runtime)
    replies = cluster_run() if runtime == "cluster" else after_jobs()
    read = sf.report_state_names(PIPELINES["kindle"].steps[0])[0]
    run = asl.run(
        definition,
        {**replies, "Run kindle_metadata": [STEP_FAILED], read: [{"Body": json.dumps(GATE_REPORT)}]},
    )
    assert run.error == "gate_failed"
    assert run.cause == f"step kindle_metadata: {GATE_REPORT['error']}"
    assert run.parameters[read] == [{"Bucket": "curated-bucket", "Key": "kindle/_run/kindle_metadata.json"}]
    if runtime == "cluster":
        assert emr.TERMINATE_AFTER_FAILURE in run.entered
    assert sf.RUN_CHECK_QUERY not in run.entered


def test_a_job_that_left_no_report_fails_the_run_with_its_own_error(asl):
    definition = build(PIPELINES["kindle"], "serverless")
    read = sf.report_state_names(PIPELINES["kindle"].steps[0])[0]
    run = asl.run(definition, {**after_jobs(), "Run kindle_metadata": [STEP_FAILED], read: [NO_REPORT]})
    assert run.error == STEP_FAILED[0]
    assert "boom" in run.cause


def test_a_report_without_an_error_leaves_the_steps_own(asl):
    definition = build(PIPELINES["kindle"], "serverless")
    read = sf.report_state_names(PIPELINES["kindle"].steps[0])[0]
    published = {"status": "published", "gate": []}
    run = asl.run(
        definition, {**after_jobs(), "Run kindle_metadata": [STEP_FAILED], read: [{"Body": json.dumps(published)}]}
    )
    assert run.error == STEP_FAILED[0]


def test_a_check_query_without_rows_fails_the_run(asl):
    definition = build(PIPELINES["kindle"], "serverless")
    header_only = {"ResultSet": {"Rows": [{"Data": [{"VarCharValue": "store"}]}]}}
    run = asl.run(definition, {"Run kindle_metadata": [{}], **after_jobs(**{sf.GET_CHECK_RESULTS: [header_only]})})
    assert (run.error, run.cause) == ("CheckQueryEmpty", "the top_stores check query returned no rows")
