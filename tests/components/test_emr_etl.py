"""EmrEtl alone, with Args built here: the state machines it deploys on each runtime, the network and roles of the
cluster runtime, the capped serverless application; then in the stacks: dev on EMR Serverless, prod on clusters in
the subnet its settings name."""

import json
import re

import botocore.loaders
import pytest
from statelint.linter import Linter

from components import assets
from components.emr_etl import ClusterSizing, EmrEtl, EmrEtlArgs, ServerlessCapacity
from components.job_code import ShippedCode
from pipelines import PIPELINES
from tests.components.definitions import reachable as definitions_reachable
from tests.infra import (
    DEFAULT_SUBNET,
    DEFAULT_VPC,
    LAKE_ARNS,
    LAKE_BUCKETS,
    LAKE_KEY,
    PROD_SUBNET,
    PROD_VPC,
    run_component,
    run_program,
)

STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
APPLICATION = "aws:emrserverless/application:Application"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
CODE = ShippedCode(
    script_uris={job: f"s3://{LAKE_BUCKETS['scripts']}/jobs/{job}-0123456789abcdef.py" for job in assets.job_scripts()},
    py_files_uri=f"s3://{LAKE_BUCKETS['scripts']}/jobs/deps-0123456789abcdef.zip",
    bootstrap_uri=f"s3://{LAKE_BUCKETS['scripts']}/jobs/bootstrap-0123456789abcdef.sh",
)
SIZING = ClusterSizing(
    primary_instance_type="m7g.xlarge",
    core_instance_type="r7g.2xlarge",
    core_instance_count=3,
    spot_core_instance_count=1,
    ebs_volume_gb=64,
    idle_timeout_minutes=30,
    step_timeout_minutes=60,
)
CAPACITY = ServerlessCapacity(max_vcpu=16, max_memory_gb=64, idle_minutes=10, job_timeout_minutes=60)


def emr_args(runtime: str, **overrides) -> EmrEtlArgs:
    values = {
        "prefix": "datalake-test",
        "runtime": runtime,
        "release_label": "emr-7.12.0",
        "code": CODE,
        "bucket_names": LAKE_BUCKETS,
        "bucket_arns": LAKE_ARNS,
        "key_arn": LAKE_KEY,
        "log_retention_days": 30,
        "cluster": SIZING,
        "serverless": CAPACITY,
        "pipeline_timeout_minutes": 360,
        "check_queries": {name: f"SELECT count(*) FROM {name}" for name in PIPELINES},
        "glue_database": "datalake_test",
        "athena_workgroup": "datalake-test",
        "athena_workgroup_arn": "arn:aws:athena:eu-west-1:123456789012:workgroup/datalake-test",
        "athena_results_bucket_arn": LAKE_ARNS["athena-results"],
    }
    if runtime == "cluster":
        values |= {"vpc_id": PROD_VPC, "subnet_id": PROD_SUBNET}
    return EmrEtlArgs(**{**values, **overrides})


def emr(args: EmrEtlArgs):
    run = run_component(lambda: EmrEtl("emr", args))
    assert run.error is None, run.error
    return run


@pytest.fixture(scope="module")
def cluster():
    return emr(emr_args("cluster"))


@pytest.fixture(scope="module")
def serverless():
    return emr(emr_args("serverless"))


@pytest.fixture(params=["cluster", "serverless"])
def run(request, cluster, serverless):
    return {"cluster": cluster, "serverless": serverless}[request.param]


def definitions(run) -> dict[str, dict]:
    return {r.inputs["name"].rsplit("-", 1)[-1]: json.loads(r.inputs["definition"]) for r in run.of_type(STATE_MACHINE)}


def walk(states: dict):
    """Every state, including those inside Parallel branches, with the states dict it lives in."""
    for name, state in states.items():
        yield name, state, states
        for branch in state.get("Branches", []):
            yield from walk(branch["States"])


def successors(state: dict) -> list[str]:
    nexts = [state.get("Next"), state.get("Default")]
    nexts += [choice.get("Next") for choice in state.get("Choices", [])]
    nexts += [catch["Next"] for catch in state.get("Catch", [])]
    return [n for n in nexts if n]


def reachable(states: dict, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(successors(states[name]))
    return seen


# The state machines, on either runtime -----------------------------------------------------------------------------


def test_one_state_machine_per_pipeline_logged_and_traced(run):
    machines = run.of_type(STATE_MACHINE)
    assert sorted(m.inputs["name"] for m in machines) == sorted(f"datalake-test-{p}" for p in PIPELINES)
    (group,) = [g for g in run.of_type("aws:cloudwatch/logGroup:LogGroup") if "/states/" in g.inputs["name"]]
    assert (group.inputs["name"], group.inputs["retentionInDays"]) == ("/aws/vendedlogs/states/datalake-test", 30)
    assert group.inputs["kmsKeyId"] == LAKE_KEY
    for machine in machines:
        assert machine.inputs["loggingConfiguration"]["level"] == "ALL"
        assert machine.inputs["loggingConfiguration"]["logDestination"] == f"{group.state['arn']}:*"
        assert machine.inputs["tracingConfiguration"] == {"enabled": True}
        # The role's policy must exist before the first execution.
        policy = run.named(machine.name.replace("-pipeline-", "-states-") + "-policy")
        assert policy.urn in machine.dependencies


def test_every_next_exists_and_every_state_is_reachable(run):
    for pipeline, definition in definitions(run).items():
        for name, state, scope in walk(definition["States"]):
            for target in successors(state):
                assert target in scope, f"{pipeline}: {name} goes to missing state {target}"
        assert reachable(definition["States"], definition["StartAt"]) == set(definition["States"]), pipeline


def test_statelint_finds_nothing_in_the_deployed_definitions(run):
    for pipeline, definition in definitions(run).items():
        assert Linter.validate(definition) == [], pipeline


def test_the_kpi_job_follows_the_transform_in_the_deployed_machine(run):
    states = definitions(run)["rentals"]["States"]
    tasks = {n: s for n, s, _ in walk(states) if s["Type"] == "Task"}
    transform = next(n for n, s in tasks.items() if "rentals_transform" in json.dumps(s.get("Parameters", {})))
    kpis = next(n for n, s in tasks.items() if "rentals_kpis" in json.dumps(s.get("Parameters", {})))
    assert kpis in reachable(states, transform)
    assert transform not in reachable(states, kpis)


def test_no_crawler_runs_and_the_check_query_runs_in_the_workgroup(run):
    for pipeline, definition in definitions(run).items():
        states = definition["States"]
        # The jobs commit their Iceberg tables' metadata: nothing waits on a crawl.
        assert "glue:" not in json.dumps(states), pipeline
        check = states["RunCheckQuery"]["Parameters"]
        assert check["QueryString"] == f"SELECT count(*) FROM {pipeline}"
        assert check["WorkGroup"] == "datalake-test"
        assert check["QueryExecutionContext"] == {"Database": "datalake_test"}


def test_the_job_roles_may_commit_iceberg_tables_of_the_lake_only(serverless, cluster):
    # Iceberg's GlueCatalog loads a table (GetDatabase, GetTable) and commits by UpdateTable ("Glue Catalog", Apache
    # Iceberg AWS integrations); Pulumi owns the tables, so no job may create or delete one.
    tables = {t.glue_name for p in PIPELINES.values() for t in p.tables}
    for component, suffix in ((serverless, "-emr-serverless-data"), (cluster, "-emr-instance-data")):
        (policy,) = [p for p in component.of_type("aws:iam/rolePolicy:RolePolicy") if p.name.endswith(suffix)]
        statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
        commit = statements["CommitIcebergTables"]
        assert commit["Action"] == ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:UpdateTable"]
        named = {r.rsplit("/", 1)[1] for r in commit["Resource"] if ":table/" in r}
        assert named == tables
        assert all("datalake_test" in r or r.endswith(":catalog") for r in commit["Resource"])
        actions = {a for s in statements.values() for a in s["Action"]}
        assert not {"glue:CreateTable", "glue:DeleteTable", "glue:CreateDatabase"} & actions


def test_the_jobs_run_the_shipped_code(run):
    text = json.dumps(definitions(run)["orders"])
    assert CODE.script_uris["orders"] in text
    assert CODE.py_files_uri in text


# The cluster runtime ---------------------------------------------------------------------------------------------


def test_cluster_runs_terminate_on_every_failure_path(cluster):
    for pipeline, definition in definitions(cluster).items():
        states = definition["States"]
        create = next(n for n, s in states.items() if s.get("Resource", "").endswith("createCluster.sync"))
        terminations = {n for n, s in states.items() if s.get("Resource", "").endswith("terminateCluster.sync")}
        terminate_on_failure = {n for n in terminations if "Fail" in n}
        (terminate,) = terminations - terminate_on_failure
        assert terminate_on_failure, pipeline
        # From cluster creation until the cluster is terminated on the success path.
        after_create = reachable(states, create) - {create} - terminate_on_failure - reachable(states, terminate)
        for name in after_create:
            state = states[name]
            if state["Type"] not in ("Task", "Parallel"):
                continue
            catches = [c for c in state.get("Catch", []) if "States.ALL" in c["ErrorEquals"]]
            assert catches, f"{pipeline}: {name} has no States.ALL catch"
            # A failed step's report is read first ($.reportError when there is none): the cluster id stays.
            assert catches[0]["ResultPath"] in ("$.error", "$.reportError"), f"{pipeline}: {name} loses the cluster id"
            onward = definitions_reachable(states, catches[0]["Next"], removed=frozenset(terminate_on_failure))
            ends = {n for n in onward if states[n]["Type"] in ("Fail", "Succeed") or n == terminate}
            assert not ends, f"{pipeline}: {name} fails without terminating"
            assert onward <= after_create | {catches[0]["Next"]}, f"{pipeline}: {name} fails without terminating"


def test_cluster_definition_carries_the_sizing_and_guards(cluster):
    create = next(
        s
        for s in definitions(cluster)["sparkify"]["States"].values()
        if s.get("Resource", "").endswith("createCluster.sync")
    )["Parameters"]
    assert create["ReleaseLabel"] == "emr-7.12.0"
    assert create["AutoTerminationPolicy"] == {"IdleTimeout": 1800}
    assert create["SecurityConfiguration"] == "datalake-test-at-rest"
    assert create["LogUri"] == "s3://test-logs/emr/sparkify/"
    assert create["Instances"]["Ec2SubnetId"] == PROD_SUBNET
    groups = {g["InstanceRole"]: g for g in create["Instances"]["InstanceGroups"]}
    assert (groups["CORE"]["InstanceCount"], groups["TASK"]["InstanceCount"], groups["TASK"]["Market"]) == (
        2,
        1,
        "SPOT",
    )
    tags = {t["Key"]: t["Value"] for t in create["Tags"]}
    assert tags == {"pipeline": "sparkify", "for-use-with-amazon-emr-managed-policies": "true"}
    (bootstrap,) = create["BootstrapActions"]
    assert bootstrap["ScriptBootstrapAction"]["Path"] == CODE.bootstrap_uri


def test_security_configuration_encrypts_s3_local_disk_and_ebs_with_the_lake_key(run):
    config = json.loads(run.of_type("aws:emr/securityConfiguration:SecurityConfiguration")[0].inputs["configuration"])
    at_rest = config["EncryptionConfiguration"]["AtRestEncryptionConfiguration"]
    assert at_rest["S3EncryptionConfiguration"] == {"EncryptionMode": "SSE-KMS", "AwsKmsKey": LAKE_KEY}
    assert at_rest["LocalDiskEncryptionConfiguration"] == {
        "EncryptionKeyProviderType": "AwsKms",
        "AwsKmsKey": LAKE_KEY,
        "EnableEbsEncryption": True,
    }


def test_cluster_security_groups_open_nothing_inbound(cluster):
    groups = cluster.of_type(SECURITY_GROUP)
    assert groups, "cluster runtime must create its own security groups"
    for group in groups:
        assert not group.inputs.get("ingress"), group.name
        assert group.inputs["revokeRulesOnDelete"] is True
        assert group.inputs["tags"] == {"for-use-with-amazon-emr-managed-policies": "true"}
    assert cluster.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") == []


def test_the_private_subnet_gets_the_service_access_group_and_no_default_vpc_is_looked_up(cluster):
    groups = cluster.of_type(SECURITY_GROUP)
    assert {g.name.rsplit("-", 1)[-1] for g in groups} == {"primary", "core", "service"}
    assert all(g.inputs["vpcId"] == PROD_VPC for g in groups)
    # Accounts without a default VPC (common under Control Tower) must preview: nothing looks one up.
    assert not {"aws:ec2/getVpc:getVpc", "aws:ec2/getSubnets:getSubnets"} & set(cluster.invokes)
    assert cluster.of_type("aws:ec2/tag:Tag") == []


def test_the_cluster_runtime_needs_a_network():
    run = run_component(lambda: EmrEtl("emr", emr_args("cluster", vpc_id=None, subnet_id=None)))
    assert "the cluster runtime needs vpc_id and subnet_id, or use_default_vpc" in str(run.error)


def test_the_default_vpc_opt_in_tags_its_subnet_and_keeps_the_tag_on_destroy():
    run = emr(emr_args("cluster", vpc_id=None, subnet_id=None, use_default_vpc=True, bastion_instance_type="t3.micro"))
    (tag,) = run.of_type("aws:ec2/tag:Tag")
    # AmazonEMRServicePolicy_v2 runs instances only in subnets tagged so (its CreateInTaggedNetwork statement).
    assert tag.inputs == {
        "resourceId": DEFAULT_SUBNET,
        "key": "for-use-with-amazon-emr-managed-policies",
        "value": "true",
    }
    # The default subnet is shared: destroy leaves the tag rather than pull it from under another stack.
    assert tag.retain_on_delete is True
    groups = run.of_type(SECURITY_GROUP)
    assert all(g.inputs["vpcId"] == DEFAULT_VPC for g in groups)
    assert "service" not in {g.name.rsplit("-", 1)[-1] for g in groups}  # EMR allows it in private subnets only
    create = definitions(run)["kindle"]["States"]["CreateCluster"]["Parameters"]
    assert create["Instances"]["Ec2SubnetId"] == DEFAULT_SUBNET
    machine = next(m for m in run.of_type(STATE_MACHINE) if m.inputs["name"].endswith("-kindle"))
    assert tag.urn in machine.property_dependencies["definition"], "a cluster could start before its subnet is tagged"
    # Session Manager needs a route out of the default VPC's public subnet.
    assert run.of_type("aws:ec2/instance:Instance")[0].inputs["associatePublicIpAddress"] is True


def test_the_instance_profile_has_exactly_its_roles_name(cluster):
    """EMR refuses a profile named differently from its role ("Customize IAM roles with Amazon EMR")."""
    (profile,) = cluster.of_type("aws:iam/instanceProfile:InstanceProfile")
    role = cluster.named("emr-emr-instance")
    assert profile.inputs["role"] == role.state["name"]
    assert profile.inputs["name"] == role.state["name"]
    for definition in definitions(cluster).values():
        assert definition["States"]["CreateCluster"]["Parameters"]["JobFlowRole"] == role.state["name"]


def test_the_emr_service_role_may_encrypt_ebs_volumes_with_the_lake_key(cluster):
    """EMR launches the encrypted EBS volumes as the service role ("Amazon EBS encryption requirements")."""
    policy = json.loads(cluster.named("emr-emr-service-ebs-key").inputs["policy"])
    found = {s["Sid"]: s for s in policy["Statement"]}
    assert set(found["EncryptEbsVolumesWithLakeKey"]["Action"]) == {
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
    }
    assert found["GrantLakeKeyToEbsVolumes"] == {
        "Sid": "GrantLakeKeyToEbsVolumes",
        "Effect": "Allow",
        "Action": ["kms:CreateGrant"],
        "Resource": [LAKE_KEY],
        "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
    }
    service = cluster.named("emr-emr-service")
    assert cluster.named("emr-emr-service-ebs-key").inputs["role"] == f"{service.name}-id"


def test_a_bastion_only_where_clusters_run():
    assert emr(emr_args("serverless", bastion_instance_type="t3.micro")).of_type("aws:ec2/instance:Instance") == []
    assert emr(emr_args("cluster")).of_type("aws:ec2/instance:Instance") == []
    on = emr(emr_args("cluster", bastion_instance_type="t3.micro"))
    (instance,) = on.of_type("aws:ec2/instance:Instance")
    assert (instance.inputs["subnetId"], instance.inputs["associatePublicIpAddress"]) == (PROD_SUBNET, False)
    assert instance.inputs["rootBlockDevice"]["kmsKeyId"] == LAKE_KEY


# The serverless runtime ------------------------------------------------------------------------------------------


def test_serverless_application_stops_itself_and_is_capped(serverless):
    (app,) = serverless.of_type(APPLICATION)
    assert app.inputs["releaseLabel"] == "emr-7.12.0"
    assert app.inputs["type"] == "spark"
    assert app.inputs["autoStopConfiguration"] == {"enabled": True, "idleTimeoutMinutes": 10}
    assert app.inputs["maximumCapacity"] == {"cpu": "16 vCPU", "memory": "64 GB"}
    assert "networkConfiguration" not in app.inputs
    assert serverless.of_type("aws:iam/instanceProfile:InstanceProfile") == []
    assert serverless.of_type(SECURITY_GROUP) == []


def test_serverless_jobs_run_in_the_users_subnet_when_given_one():
    run = emr(emr_args("serverless", vpc_id=PROD_VPC, subnet_id=PROD_SUBNET))
    (group,) = run.of_type(SECURITY_GROUP)
    (app,) = run.of_type(APPLICATION)
    assert app.inputs["networkConfiguration"] == {"subnetIds": [PROD_SUBNET], "securityGroupIds": [f"{group.name}-id"]}
    assert group.inputs["vpcId"] == PROD_VPC


def _emr_serverless_shape(name: str) -> dict:
    """A shape of the EMR Serverless API model botocore ships (the service's own request constraints)."""
    return botocore.loaders.Loader().load_service_model("emr-serverless", "service-2")["shapes"][name]


@pytest.mark.parametrize(("vcpu", "memory_gb"), [(8, 32), (4000, 16000)])
def test_serverless_maximum_capacity_is_written_as_the_api_accepts_it(vcpu, memory_gb):
    # MaximumAllowedResources (EMR Serverless API Reference): cpu and memory are strings such as "8 vCPU" and
    # "32 GB", at most 15 characters, matching CpuSize and MemorySize. The settings' bounds must give such strings.
    run = run_program("dev", overrides={"emr": {"serverless_max_vcpu": vcpu, "serverless_max_memory_gb": memory_gb}})
    capacity = run.of_type(APPLICATION)[0].inputs["maximumCapacity"]
    for field, shape in (("cpu", "CpuSize"), ("memory", "MemorySize")):
        constraint = _emr_serverless_shape(shape)
        assert constraint["min"] <= len(capacity[field]) <= constraint["max"], capacity
        assert re.fullmatch(constraint["pattern"], capacity[field]), capacity


# In the stacks ------------------------------------------------------------------------------------------------------


def test_dev_runs_on_emr_serverless_and_prod_on_transient_clusters(stack_run):
    dev, prod = stack_run("dev"), stack_run("prod")
    dev_resources = {s.get("Resource", "") for d in definitions(dev).values() for _, s, _ in walk(d["States"])}
    prod_resources = {s.get("Resource", "") for d in definitions(prod).values() for _, s, _ in walk(d["States"])}
    assert "arn:aws:states:::emr-serverless:startJobRun.sync" in dev_resources
    assert not any("elasticmapreduce" in r for r in dev_resources)
    assert {
        "arn:aws:states:::elasticmapreduce:createCluster.sync",
        "arn:aws:states:::elasticmapreduce:addStep.sync",
    } <= prod_resources
    assert len(dev.of_type(APPLICATION)) == 1
    assert prod.of_type(APPLICATION) == []
    create = definitions(prod)["sparkify"]["States"]["CreateCluster"]["Parameters"]
    assert create["Instances"]["Ec2SubnetId"] == PROD_SUBNET
    assert create["AutoTerminationPolicy"] == {"IdleTimeout": 1800}  # prod's idle_timeout_minutes
    assert "SPOT" in json.dumps(create)  # spot_share 0.34 of 3 core nodes


def test_the_committed_prod_file_asks_for_its_subnet_by_key_before_any_resource():
    run = run_program("prod", as_committed=True)
    assert "datalake:settings.emr.subnet_id: None must name a subnet when runtime is cluster" in str(run.error)
    assert "tagged for-use-with-amazon-emr-managed-policies=true" in str(run.error)
    assert run.resources == []


def test_the_bastion_is_off_in_both_stacks(stack_run):
    assert stack_run("dev").of_type("aws:ec2/instance:Instance") == []
    assert stack_run("prod").of_type("aws:ec2/instance:Instance") == []


def test_outputs_name_state_machines_database_and_the_raw_crawler(stack_run):
    for stack in ("dev", "prod"):
        outputs = stack_run(stack).outputs
        assert sorted(outputs["state_machine_arns"]) == sorted(PIPELINES)
        assert outputs["emr_runtime"] == {"dev": "serverless", "prod": "cluster"}[stack]
        assert outputs["glue_database"] == f"datalake_{stack}"
        assert outputs["raw_crawler"] == f"datalake-{stack}-raw"
        assert outputs["iceberg_catalog"] == "glue_catalog"
        assert "crawler_names" not in outputs
