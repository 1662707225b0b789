"""EmrEtl under mocks: shipped code, deployed state machines, roles, runtime switches."""

import json
import re

import botocore.loaders
import pytest
from statelint.linter import Linter

from components import assets
from pipelines import PIPELINES
from tests.infra import DEFAULT_SUBNET, DEFAULT_VPC, PROD_SUBNET, PROD_VPC, run_program

STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"


@pytest.fixture(params=["dev", "prod"])
def run(request, stack_run):
    return stack_run(request.param)


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


def test_one_state_machine_per_pipeline_logged_and_traced(run):
    machines = run.of_type(STATE_MACHINE)
    assert sorted(m.inputs["name"] for m in machines) == sorted(f"datalake-{run.stack}-{p}" for p in PIPELINES)
    group = next(g for g in run.of_type("aws:cloudwatch/logGroup:LogGroup") if "/states/" in g.inputs["name"])
    for machine in machines:
        assert machine.inputs["loggingConfiguration"]["level"] == "ALL"
        assert machine.inputs["loggingConfiguration"]["logDestination"] == f"{group.state['arn']}:*"
        assert machine.inputs["tracingConfiguration"] == {"enabled": True}
    assert group.inputs["retentionInDays"] in (30, 365)


def test_every_next_exists_and_every_state_is_reachable(run):
    for pipeline, definition in definitions(run).items():
        for name, state, scope in walk(definition["States"]):
            for target in successors(state):
                assert target in scope, f"{pipeline}: {name} goes to missing state {target}"
        assert reachable(definition["States"], definition["StartAt"]) == set(definition["States"]), pipeline


def test_statelint_finds_nothing_in_the_deployed_definitions(run):
    for pipeline, definition in definitions(run).items():
        assert Linter.validate(definition) == [], pipeline


def test_cluster_runs_terminate_on_every_failure_path(stack_run):
    run = stack_run("prod")
    for pipeline, definition in definitions(run).items():
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
            assert catches[0]["ResultPath"] == "$.error", f"{pipeline}: {name} loses the cluster id"
            assert catches[0]["Next"] in terminate_on_failure, f"{pipeline}: {name} fails without terminating"


def test_the_kpi_job_follows_the_transform_in_the_deployed_machine(run):
    states = definitions(run)["rentals"]["States"]
    tasks = {n: s for n, s, _ in walk(states) if s["Type"] == "Task"}
    transform = next(n for n, s in tasks.items() if "rentals_transform" in json.dumps(s.get("Parameters", {})))
    kpis = next(n for n, s in tasks.items() if "rentals_kpis" in json.dumps(s.get("Parameters", {})))
    assert kpis in reachable(states, transform)
    assert transform not in reachable(states, kpis)


def test_the_crawler_is_polled_not_awaited_with_a_fixed_wait(run):
    for pipeline, definition in definitions(run).items():
        states = definition["States"]
        get_crawler = next(n for n, s in states.items() if s.get("Resource", "").endswith("glue:getCrawler"))
        assert get_crawler in reachable(states, successors(states[get_crawler])[0]), f"{pipeline}: no polling loop"
        start = next(s for s in states.values() if s.get("Resource", "").endswith("glue:startCrawler"))
        assert start["Parameters"]["Name"] == f"datalake-{run.stack}-{pipeline}"


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
    assert len(dev.of_type("aws:emrserverless/application:Application")) == 1
    assert prod.of_type("aws:emrserverless/application:Application") == []
    assert dev.of_type("aws:iam/instanceProfile:InstanceProfile") == []
    assert len(prod.of_type("aws:iam/instanceProfile:InstanceProfile")) == 1


def test_serverless_application_stops_itself_and_is_capped(stack_run):
    app = stack_run("dev").of_type("aws:emrserverless/application:Application")[0].inputs
    assert app["releaseLabel"] == "emr-7.12.0"
    assert app["type"] == "spark"
    assert app["autoStopConfiguration"] == {"enabled": True, "idleTimeoutMinutes": 10}
    assert app["maximumCapacity"] == {"cpu": "16 vCPU", "memory": "64 GB"}


def _emr_serverless_shape(name: str) -> dict:
    """A shape of the EMR Serverless API model botocore ships (the service's own request constraints)."""
    return botocore.loaders.Loader().load_service_model("emr-serverless", "service-2")["shapes"][name]


@pytest.mark.parametrize(("vcpu", "memory_gb"), [(8, 32), (4000, 16000)])
def test_serverless_maximum_capacity_is_written_as_the_api_accepts_it(vcpu, memory_gb):
    # MaximumAllowedResources (EMR Serverless API Reference): cpu and memory are strings such as "8 vCPU" and
    # "32 GB", at most 15 characters, matching CpuSize and MemorySize. The settings' bounds must give such strings.
    run = run_program("dev", overrides={"emr": {"serverless_max_vcpu": vcpu, "serverless_max_memory_gb": memory_gb}})
    capacity = run.of_type("aws:emrserverless/application:Application")[0].inputs["maximumCapacity"]
    for field, shape in (("cpu", "CpuSize"), ("memory", "MemorySize")):
        constraint = _emr_serverless_shape(shape)
        assert constraint["min"] <= len(capacity[field]) <= constraint["max"], capacity
        assert re.fullmatch(constraint["pattern"], capacity[field]), capacity


def test_cluster_definition_uses_settings_and_guards(stack_run):
    run = stack_run("prod")
    create = next(
        s
        for s in definitions(run)["sparkify"]["States"].values()
        if s.get("Resource", "").endswith("createCluster.sync")
    )["Parameters"]
    assert create["ReleaseLabel"] == "emr-7.12.0"
    assert create["AutoTerminationPolicy"] == {"IdleTimeout": 1800}
    assert create["SecurityConfiguration"] == "datalake-prod-at-rest"
    assert create["LogUri"] == "s3://datalake-prod-logs-0a1b2c3/emr/sparkify/"
    assert create["Instances"]["Ec2SubnetId"] == PROD_SUBNET
    text = json.dumps(create)
    assert "SPOT" in text  # spot_share 0.34 of 3 core nodes
    (bootstrap,) = create["BootstrapActions"]
    path = bootstrap["ScriptBootstrapAction"]["Path"]
    assert re.fullmatch(r"s3://datalake-prod-scripts-0a1b2c3/jobs/bootstrap-[0-9a-f]{16}\.sh", path)


def test_security_configuration_encrypts_s3_local_disk_and_ebs_with_the_lake_key(stack_run):
    run = stack_run("prod")
    key = run.named("datalake-prod-key").state["arn"]
    config = json.loads(run.of_type("aws:emr/securityConfiguration:SecurityConfiguration")[0].inputs["configuration"])
    at_rest = config["EncryptionConfiguration"]["AtRestEncryptionConfiguration"]
    assert at_rest["S3EncryptionConfiguration"] == {"EncryptionMode": "SSE-KMS", "AwsKmsKey": key}
    assert at_rest["LocalDiskEncryptionConfiguration"] == {
        "EncryptionKeyProviderType": "AwsKms",
        "AwsKmsKey": key,
        "EnableEbsEncryption": True,
    }


def test_cluster_security_groups_open_nothing_inbound(stack_run):
    run = stack_run("prod")
    groups = run.of_type("aws:ec2/securityGroup:SecurityGroup")
    assert groups, "cluster runtime must create its own security groups"
    for group in groups:
        assert not group.inputs.get("ingress"), group.name
        assert group.inputs["revokeRulesOnDelete"] is True
    assert run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") == []


def test_job_scripts_ship_under_content_hashed_keys(run):
    objects = {o.inputs["key"] for o in run.of_type("aws:s3/bucketObjectv2:BucketObjectv2")}
    for job, path in assets.job_scripts().items():
        assert f"jobs/{job}-{assets.content_hash({path.name: path})}.py" in objects
    deps = assets.job_dependencies()
    assert f"jobs/deps-{assets.content_hash(deps)}.zip" in objects
    assert "_job.py" in deps
    assert "pipelines/model.py" in deps
    assert all(re.fullmatch(r"(jobs|functions)/[a-z_]+-[0-9a-f]{16}\.(py|zip|sh)", key) for key in objects)


def test_content_hash_changes_with_the_content(tmp_path):
    script = tmp_path / "job.py"
    script.write_text("print(1)\n")
    before = assets.content_hash({"job.py": script})
    script.write_text("print(2)\n")
    assert assets.content_hash({"job.py": script}) != before


def test_bastion_is_off_by_default_and_hardened_when_on(stack_run):
    assert stack_run("dev").of_type("aws:ec2/instance:Instance") == []
    assert stack_run("prod").of_type("aws:ec2/instance:Instance") == []
    on = run_program(
        "prod",
        overrides={"bastion": {"enabled": True, "public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIbastion test"}},
    )
    assert on.error is None, on.error
    instance = on.of_type("aws:ec2/instance:Instance")[0].inputs
    assert instance["metadataOptions"]["httpTokens"] == "required"
    assert instance["rootBlockDevice"]["encrypted"] is True
    assert instance["keyName"]
    assert len(on.of_type("aws:ec2/keyPair:KeyPair")) == 1
    without_key = run_program("prod", overrides={"bastion": {"enabled": True}})
    assert without_key.of_type("aws:ec2/keyPair:KeyPair") == []
    assert "keyName" not in without_key.of_type("aws:ec2/instance:Instance")[0].inputs


def test_the_private_subnet_gets_the_service_access_group_and_no_default_vpc_is_looked_up(stack_run):
    run = stack_run("prod")
    groups = run.of_type("aws:ec2/securityGroup:SecurityGroup")
    assert {g.name.rsplit("-", 1)[-1] for g in groups} >= {"primary", "core", "service"}
    assert all(g.inputs["vpcId"] == PROD_VPC for g in groups)
    # Accounts without a default VPC (common under Control Tower) must preview: nothing looks one up.
    assert not {"aws:ec2/getVpc:getVpc", "aws:ec2/getSubnets:getSubnets"} & set(run.invokes)
    assert run.of_type("aws:ec2/tag:Tag") == []


def test_the_committed_prod_file_asks_for_its_subnet_by_key_before_any_resource():
    run = run_program("prod", as_committed=True)
    assert "datalake:settings.emr.subnet_id: None must name a subnet when runtime is cluster" in str(run.error)
    assert "tagged for-use-with-amazon-emr-managed-policies=true" in str(run.error)
    assert run.resources == []


def test_the_default_vpc_opt_in_tags_its_subnet_and_keeps_the_tag_on_destroy():
    run = run_program(
        "prod", as_committed=True, overrides={"emr": {"use_default_vpc": True}, "bastion": {"enabled": True}}
    )
    assert run.error is None, run.error
    (tag,) = run.of_type("aws:ec2/tag:Tag")
    # AmazonEMRServicePolicy_v2 runs instances only in subnets tagged so (its CreateInTaggedNetwork statement).
    assert tag.inputs == {
        "resourceId": DEFAULT_SUBNET,
        "key": "for-use-with-amazon-emr-managed-policies",
        "value": "true",
    }
    # The default subnet is shared: destroy leaves the tag rather than pull it from under another stack.
    assert tag.retain_on_delete is True
    groups = run.of_type("aws:ec2/securityGroup:SecurityGroup")
    assert all(g.inputs["vpcId"] == DEFAULT_VPC for g in groups)
    assert "service" not in {g.name.rsplit("-", 1)[-1] for g in groups}  # EMR allows it in private subnets only
    create = definitions(run)["kindle"]["States"]["CreateCluster"]["Parameters"]
    assert create["Instances"]["Ec2SubnetId"] == DEFAULT_SUBNET
    machine = next(m for m in run.of_type(STATE_MACHINE) if m.inputs["name"].endswith("-kindle"))
    assert tag.urn in machine.property_dependencies["definition"], "a cluster could start before its subnet is tagged"
    assert run.of_type("aws:ec2/instance:Instance")[0].inputs["associatePublicIpAddress"] is True


def test_the_instance_profile_has_exactly_its_roles_name(stack_run):
    """EMR refuses a profile named differently from its role ("Customize IAM roles with Amazon EMR")."""
    run = stack_run("prod")
    (profile,) = run.of_type("aws:iam/instanceProfile:InstanceProfile")
    role = run.named("datalake-prod-emr-emr-instance")
    assert profile.inputs["role"] == role.state["name"]
    assert profile.inputs["name"] == role.state["name"]
    for definition in definitions(run).values():
        assert definition["States"]["CreateCluster"]["Parameters"]["JobFlowRole"] == role.state["name"]


def test_the_emr_service_role_may_encrypt_ebs_volumes_with_the_lake_key(stack_run):
    """EMR launches the encrypted EBS volumes as the service role ("Amazon EBS encryption requirements")."""
    run = stack_run("prod")
    key = run.named("datalake-prod-key").state["arn"]
    policy = json.loads(run.named("datalake-prod-emr-emr-service-ebs-key").inputs["policy"])
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
        "Resource": [key],
        "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
    }
    assert found["EncryptEbsVolumesWithLakeKey"]["Resource"] == [key]
    service = run.named("datalake-prod-emr-emr-service")
    assert run.named("datalake-prod-emr-emr-service-ebs-key").inputs["role"] == f"{service.name}-id"


def test_outputs_name_state_machines_database_and_crawlers(run):
    outputs = run.outputs
    assert sorted(outputs["state_machine_arns"]) == sorted(PIPELINES)
    assert outputs["glue_database"] == f"datalake_{run.stack}"
    assert outputs["crawler_names"] == {p: f"datalake-{run.stack}-{p}" for p in PIPELINES}
