"""The runtimes' states (components/emr_states.py): a transient cluster is never left running and carries the cost
and security settings; EMR Serverless runs no cluster states; the specs refuse what EMR would refuse or bill for."""

from __future__ import annotations

import pytest

from components import emr_states as emr
from components import iceberg as iceberg_conf
from components import step_functions as sf
from pipelines import PIPELINES, all_tables
from tests.components.definitions import (
    ACCOUNT,
    CLUSTER_ID,
    STEP_FAILED,
    TERMINATES,
    after_jobs,
    build,
    catches_all,
    cluster_run,
    cluster_spec,
    containers,
    create_cluster,
    diamond,
    groups,
    no_reports,
    reachable,
    serverless_spec,
    spark_tasks,
    targets_for,
    tasks,
)

# The cluster is never left running ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PIPELINES))
def test_no_path_from_a_live_cluster_ends_without_terminating_it(name):
    definition = build(PIPELINES[name], "cluster")
    states = definition["States"]
    assert definition["StartAt"] == emr.CREATE_CLUSTER
    live = reachable(states, states[emr.CREATE_CLUSTER]["Next"], removed=frozenset(TERMINATES))
    assert live >= set(containers(definition).values())
    for state_name in live:
        state = states[state_name]
        assert state["Type"] not in ("Fail", "Succeed"), f"{state_name} would end with the cluster up"
        if state["Type"] in ("Task", "Parallel"):
            # Straight to the cleanup, or first to the failed step's report, from which every path leads there.
            assert catches_all(state)["Next"] in live | {emr.TERMINATE_AFTER_FAILURE}, state_name
    # A Spark task inside a Parallel catches only to read its report: its branch then fails (never succeeds), so the
    # error reaches the Parallel's Catch, which leads to the cleanup.
    for state_name, state in spark_tasks(definition).items():
        container = containers(definition)[state_name]
        if container != state_name:
            (branch,) = [b for b in states[container]["Branches"] if state_name in b["States"]]
            for catch in state.get("Catch", []):
                after = reachable(branch["States"], catch["Next"])
                assert {branch["States"][name]["Type"] for name in after} <= {"Task", "Choice", "Pass", "Fail"}, after
                assert any(branch["States"][name]["Type"] == "Fail" for name in after), state_name
    cleanup = states[emr.TERMINATE_AFTER_FAILURE]
    assert cleanup["Next"] == sf.FAILED
    assert catches_all(cleanup) == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.cleanupError", "Next": sf.FAILED}
    # No crawler: the jobs commit their tables, the check query follows the cluster's end.
    assert states[emr.TERMINATE_CLUSTER]["Next"] == sf.RUN_CHECK_QUERY
    # Before the cluster id exists there is nothing to terminate.
    assert catches_all(states[emr.CREATE_CLUSTER])["Next"] == sf.FAILED


@pytest.mark.parametrize("name", list(PIPELINES))
def test_serverless_runs_no_cluster_states(name):
    definition = build(PIPELINES[name], "serverless")
    resources = {state["Resource"] for _, state in tasks(definition)}
    assert not [r for r in resources if "elasticmapreduce" in r]
    for state_name, state in definition["States"].items():
        if state["Type"] == "Parallel":
            assert catches_all(state)["Next"] == sf.FAILED, state_name
        if state.get("Resource") in emr.SPARK_TASK_RESOURCES:
            read = catches_all(state)["Next"]
            assert catches_all(definition["States"][read])["Next"] == sf.FAILED, state_name


def test_a_failed_step_terminates_the_cluster_and_fails_with_its_cause(asl):
    definition = build(PIPELINES["rentals"], "cluster")
    run = asl.run(
        definition, cluster_run(**no_reports(PIPELINES["rentals"]), **{"Run rentals_transform": [STEP_FAILED]})
    )
    assert not run.succeeded
    assert (run.error, run.cause) == STEP_FAILED
    assert "Run rentals_kpis" not in run.entered
    assert run.entered[-3:] == [emr.TERMINATE_AFTER_FAILURE, sf.FAILED, sf.FAIL_WITH_CAUSE]
    assert run.parameters[emr.TERMINATE_AFTER_FAILURE] == [{"ClusterId": CLUSTER_ID}]
    assert sf.RUN_CHECK_QUERY not in run.entered


def test_a_failed_branch_of_a_parallel_wave_terminates_the_cluster(asl):
    definition = build(diamond(), "cluster")
    replies = {"Run a": [{}], "Run b": [{}], "Run c": [STEP_FAILED], "Run d": [{}]}
    run = asl.run(definition, cluster_run(**no_reports(diamond()), **replies))
    # The branch fails with a name of its own (a Fail state may not raise States.*), the step's error leading.
    assert (run.error, run.cause) == (sf.STEP_FAILED_ERROR, ": ".join(STEP_FAILED))
    assert "Run d" not in run.entered
    assert run.parameters[emr.TERMINATE_AFTER_FAILURE] == [{"ClusterId": CLUSTER_ID}]


def test_a_cluster_that_never_started_fails_without_a_terminate(asl):
    definition = build(PIPELINES["kindle"], "cluster")
    error = ("ClusterFailed", "Cluster terminated with errors: VALIDATION_ERROR")
    run = asl.run(definition, cluster_run(**{emr.CREATE_CLUSTER: [error]}))
    assert (run.error, run.cause) == error
    assert run.entered == [emr.CREATE_CLUSTER, sf.FAILED, sf.FAIL_WITH_CAUSE]


def test_a_failed_serverless_job_fails_the_run_without_cleanup(asl):
    definition = build(PIPELINES["rentals"], "serverless")
    failed = ("JobRunFailed", '{"JobRun": {"State": "FAILED"}}')
    replies = {"Run rentals_transform": [failed], "Run rentals_kpis": [{}], **after_jobs()}
    run = asl.run(definition, {**replies, **no_reports(PIPELINES["rentals"])})
    assert (run.error, run.cause) == failed
    read = sf.report_state_names(PIPELINES["rentals"].step("rentals_transform"))[0]
    assert run.entered == ["Run rentals_transform", read, sf.FAILED, sf.FAIL_WITH_CAUSE]


# Cluster sizing and cost guards ------------------------------------------------------------------------------


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


def _state(definition: dict, name: str) -> dict:
    """State `name` of a definition, at its top level or in a wave's parallel branches (orders runs two steps)."""
    for state in [definition, *(b for s in definition["States"].values() for b in s.get("Branches", []))]:
        if name in state["States"]:
            return state["States"][name]
    raise KeyError(name)


def test_spark_conf_and_serverless_job_settings_reach_the_job():
    pipeline = PIPELINES["orders"]
    targets = targets_for(pipeline, spark_conf={"spark.sql.shuffle.partitions": "64", "spark.executor.memory": "4g"})
    conf = ["--conf", "spark.executor.memory=4g", "--conf", "spark.sql.shuffle.partitions=64"]
    cluster = _state(sf.build_definition(pipeline, targets, cluster_spec()), "Run orders")
    step = cluster["Parameters"]["Step"]
    assert step["ActionOnFailure"] == "CONTINUE"
    assert step["HadoopJarStep"]["Jar"] == "command-runner.jar"
    assert step["HadoopJarStep"]["Args"][3:7] == conf
    assert cluster["TimeoutSeconds"] == 3600
    assert cluster["ResultPath"] is None
    serverless = _state(sf.build_definition(pipeline, targets, serverless_spec()), "Run orders")
    parameters = serverless["Parameters"]
    assert parameters["ApplicationId"] == "00fabcdefghij012"
    assert parameters["ExecutionRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/datalake-dev-emr-serverless"
    assert parameters["ExecutionTimeoutMinutes"] == 60
    iceberg = sf.conf_flags(iceberg_conf.serverless_conf("s3://curated-bucket/iceberg/"))
    submit = parameters["JobDriver"]["SparkSubmit"]["SparkSubmitParameters"]
    assert submit.startswith("--py-files s3://scripts-bucket/jobs/deps-4567ef.zip --conf ")
    for flag in (*conf[1::2], *iceberg[1::2]):
        assert f"--conf {flag}" in submit, flag
    monitoring = parameters["ConfigurationOverrides"]["MonitoringConfiguration"]
    assert monitoring == {"S3MonitoringConfiguration": {"LogUri": "s3://logs-bucket/emr/rentals/"}}


def test_every_runtime_gets_the_glue_iceberg_catalog():
    pipeline = PIPELINES["kindle"]
    targets = targets_for(pipeline)
    # EMR Serverless: the runtime's bundled jar ("Using Apache Iceberg with EMR Serverless", EMR Serverless User
    # Guide) and the catalog; the job is told the catalog and the database.
    serverless = sf.build_definition(pipeline, targets, serverless_spec())["States"]["Run kindle_metadata"]
    submit = serverless["Parameters"]["JobDriver"]["SparkSubmit"]["SparkSubmitParameters"]
    assert "--conf spark.jars=/usr/share/aws/iceberg/lib/iceberg-spark3-runtime.jar" in submit
    assert "--conf spark.sql.catalog.glue_catalog=org.apache.iceberg.spark.SparkCatalog" in submit
    assert "--conf spark.sql.catalog.glue_catalog.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog" in submit
    assert "--conf spark.sql.catalog.glue_catalog.io-impl=org.apache.iceberg.aws.s3.S3FileIO" in submit
    assert "--conf spark.sql.catalog.glue_catalog.warehouse=s3://curated-bucket/iceberg/" in submit
    assert "--conf spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions" in submit
    arguments = serverless["Parameters"]["JobDriver"]["SparkSubmit"]["EntryPointArguments"]
    assert arguments[-4:] == ["--catalog", "glue_catalog", "--database", "datalake_dev"]
    # EMR on EC2: iceberg-defaults turns Iceberg on ("Use an Iceberg cluster with Spark", Amazon EMR Release Guide),
    # the catalog is in spark-defaults.
    definition = sf.build_definition(pipeline, targets, cluster_spec())["States"]
    configurations = definition[emr.CREATE_CLUSTER]["Parameters"]["Configurations"]
    assert configurations[0] == {"Classification": "iceberg-defaults", "Properties": {"iceberg.enabled": "true"}}
    assert configurations[1]["Classification"] == "spark-defaults"
    assert configurations[1]["Properties"] == iceberg_conf.catalog_conf("s3://curated-bucket/iceberg/")
    assert definition["Run kindle_metadata"]["Parameters"]["Step"]["HadoopJarStep"]["Args"][-4:] == arguments[-4:]
    # Every table lives under the catalog's warehouse, apart from the Hive-era data.
    for table in all_tables():
        assert table.location.prefix.startswith(iceberg_conf.ICEBERG_ROOT), table.glue_name
