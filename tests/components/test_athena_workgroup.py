"""AthenaWorkgroup alone, with Args built here: an enforced, encrypted, capped workgroup on engine 3, and a named query
per query (a prepared statement too where it has parameters); then in the stacks: the settings reach it."""

import pytest

from components.athena_workgroup import AthenaWorkgroup, AthenaWorkgroupArgs
from pipelines.queries import load_queries
from tests.infra import LAKE_BUCKETS, LAKE_KEY, run_component

WORKGROUP = "aws:athena/workgroup:Workgroup"


def workgroup_args(**overrides) -> AthenaWorkgroupArgs:
    values = {
        "project": "datalake",
        "environment": "test",
        "database": "datalake_test",
        "results_bucket": LAKE_BUCKETS["athena-results"],
        "key_arn": LAKE_KEY,
        "bytes_scanned_cutoff_mb": 100,
        "publish_cloudwatch_metrics": True,
    }
    return AthenaWorkgroupArgs(**{**values, **overrides})


def athena(**overrides):
    run = run_component(lambda: AthenaWorkgroup("analytics", workgroup_args(**overrides)))
    assert run.error is None, run.error
    return run


@pytest.fixture(scope="module")
def run():
    return athena()


def test_workgroup_is_enforced_encrypted_capped_and_on_engine_3(run):
    (workgroup,) = run.of_type(WORKGROUP)
    assert (workgroup.inputs["name"], workgroup.inputs["state"]) == ("datalake-test", "ENABLED")
    config = workgroup.inputs["configuration"]
    assert config["enforceWorkgroupConfiguration"] is True
    assert config["engineVersion"] == {"selectedEngineVersion": "Athena engine version 3"}
    assert config["resultConfiguration"] == {
        "outputLocation": f"s3://{LAKE_BUCKETS['athena-results']}/athena/",
        "encryptionConfiguration": {"encryptionOption": "SSE_KMS", "kmsKeyArn": LAKE_KEY},
    }
    assert config["bytesScannedCutoffPerQuery"] == 100 * 1024 * 1024
    assert config["publishCloudwatchMetricsEnabled"] is True
    assert workgroup.inputs["forceDestroy"] is False
    assert (run.resolve(run.component.name), run.resolve(run.component.arn)) == (
        "datalake-test",
        workgroup.state["arn"],
    )


def test_metrics_cutoff_and_destruction_are_the_ones_given():
    (workgroup,) = athena(bytes_scanned_cutoff_mb=10, publish_cloudwatch_metrics=False, force_destroy=True).of_type(
        WORKGROUP
    )
    assert workgroup.inputs["configuration"]["bytesScannedCutoffPerQuery"] == 10 * 1024 * 1024
    assert workgroup.inputs["configuration"]["publishCloudwatchMetricsEnabled"] is False
    assert workgroup.inputs["forceDestroy"] is True


def test_every_query_file_is_a_named_query_and_parameterised_ones_are_prepared(run):
    queries = load_queries()
    named = {q.inputs["name"]: q.inputs for q in run.of_type("aws:athena/namedQuery:NamedQuery")}
    assert sorted(named) == sorted(queries)
    for name, query in queries.items():
        assert named[name]["query"] == query.sql
        assert named[name]["database"] == "datalake_test"
        assert named[name]["workgroup"] == "datalake-test"
        assert named[name]["description"] == query.description[:1024]
    prepared = {p.inputs["name"]: p.inputs for p in run.of_type("aws:athena/preparedStatement:PreparedStatement")}
    assert set(prepared) == {name for name, q in queries.items() if q.parameters}
    assert all(p["workgroup"] == "datalake-test" for p in prepared.values())


def test_only_the_queries_it_is_given():
    some = {name: query for name, query in load_queries().items() if query.parameters}
    run = athena(queries=some)
    assert {q.inputs["name"] for q in run.of_type("aws:athena/namedQuery:NamedQuery")} == set(some)


# In the stacks ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("stack", "cutoff_mb"), [("dev", 1024), ("prod", 10240)])
def test_the_stack_settings_reach_the_workgroup(stack_run, stack, cutoff_mb):
    run = stack_run(stack)
    (workgroup,) = run.of_type(WORKGROUP)
    assert workgroup.inputs["configuration"]["bytesScannedCutoffPerQuery"] == cutoff_mb * 1024 * 1024
    assert workgroup.inputs["forceDestroy"] is (stack == "dev")
    assert run.outputs["athena_workgroup"] == f"datalake-{stack}"
