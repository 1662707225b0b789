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
    CRAWLER_RUNNING,
    RUNTIMES,
    after_jobs,
    build,
    catches_all,
    cluster_run,
    containers,
    diamond,
    polls,
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
        (task,) = branch["States"].values()
        assert task["End"] is True
        assert task["Retry"]
    assert wave["Next"] == "Run d"
    if runtime == "cluster":
        # EMR runs one step at a time unless told otherwise: the widest wave sets the concurrency.
        assert states[emr.CREATE_CLUSTER]["Parameters"]["StepConcurrencyLevel"] == 2


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


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_caught_error_without_a_cause_still_fails_the_run_with_its_name(asl, runtime):
    definition = build(PIPELINES["kindle"], runtime, **polls())
    replies = cluster_run() if runtime == "cluster" else after_jobs()
    run = asl.run(definition, {**replies, "Run kindle_metadata": [("StepFailed", None)]})
    assert (run.error, run.cause) == ("StepFailed", "no cause given")
    assert run.entered[-2:] == [sf.FAILED, sf.FAIL_WITHOUT_CAUSE]


def test_a_crawler_that_never_finishes_fails_after_the_poll_budget(asl):
    definition = build(PIPELINES["orders"], "serverless", **polls())
    jobs = {"Run orders": [{}], "Run ingest_merge": [{}]}
    run = asl.run(definition, {**jobs, **after_jobs(**{sf.GET_CRAWLER: [CRAWLER_RUNNING]})})
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
