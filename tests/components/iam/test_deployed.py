"""Every IAM document the stacks deploy (the whole program, per stack): linted by parliament, no `*` action, no data
action on `*`, trust for one service, dependent actions granted, within the IAM size quotas."""

import json
import re
from pathlib import Path

import parliament
import pytest

from components.iam.state_machines import UNSCOPED_ACTIONS
from components.iam.statements import SENDS_SOURCE_ACCOUNT
from tests.infra import run_program

# Services whose actions read or change data: never on every resource.
DATA_SERVICES = {"s3", "kms", "glue", "athena", "sqs", "lambda", "dynamodb", "secretsmanager", "ssm"}
FORBIDDEN_MANAGED = ("FullAccess", "AdministratorAccess", "PowerUserAccess", "EMR_EC2_DefaultRole")


@pytest.fixture(params=["dev", "prod"])
def run(request, stack_run):
    return stack_run(request.param)


def policy_documents(run) -> dict[str, dict]:
    return {r.name: json.loads(r.inputs["policy"]) for r in run.of_type("aws:iam/rolePolicy:RolePolicy")}


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def test_parliament_finds_nothing(run):
    for name, document in policy_documents(run).items():
        findings = parliament.analyze_policy_string(json.dumps(document)).findings
        assert [f"{f.issue}: {f.detail}" for f in findings] == [], name


def test_no_wildcard_actions_and_no_data_actions_on_every_resource(run):
    for name, document in policy_documents(run).items():
        for statement in document["Statement"]:
            actions, resources = as_list(statement["Action"]), as_list(statement["Resource"])
            assert not [a for a in actions if "*" in a], f"{name}: wildcard actions"
            if "*" in resources:
                data = [a for a in actions if a.split(":")[0] in DATA_SERVICES and a not in UNSCOPED_ACTIONS]
                assert data == [], f"{name}: data actions on *: {data}"
                assert set(actions) <= UNSCOPED_ACTIONS, f"{name}: undocumented actions on *: {actions}"


def test_roles_trust_one_service_for_this_account_only_where_the_service_says_which_account(run):
    services = set()
    for role in run.of_type("aws:iam/role:Role"):
        trust = json.loads(role.inputs["assumeRolePolicy"])
        (statement,) = trust["Statement"]
        assert statement["Action"] == ["sts:AssumeRole"]
        assert list(statement["Principal"]) == ["Service"], role.name
        service = statement["Principal"]["Service"]
        services.add(service)
        if service in SENDS_SOURCE_ACCOUNT:
            assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}, role.name
        else:
            # A condition on a key the service never sends is false: EC2 nodes would get no credentials.
            assert "Condition" not in statement, role.name
    expected = {"glue.amazonaws.com", "lambda.amazonaws.com", "states.amazonaws.com"}
    expected |= (
        {"ec2.amazonaws.com", "elasticmapreduce.amazonaws.com"}
        if run.stack == "prod"
        else {"emr-serverless.amazonaws.com"}
    )
    assert expected <= services


def test_managed_policies_are_named_in_the_stacks_partition():
    for stack in ("dev", "prod"):
        run = run_program(stack, partition="aws-us-gov")
        assert run.error is None, run.error
        arns = [a.inputs["policyArn"] for a in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")]
        assert arns
        assert all(arn.startswith("arn:aws-us-gov:iam::aws:policy/") for arn in arns), arns
        for machine in run.of_type("aws:sfn/stateMachine:StateMachine"):
            resources = re.findall(r'"Resource": "([^"]+)"', machine.inputs["definition"])
            assert resources, machine.name
            assert all(r.startswith("arn:aws-us-gov:states:::") for r in resources), resources


def test_no_broad_managed_policies(run):
    for attachment in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        assert not any(word in attachment.inputs["policyArn"] for word in FORBIDDEN_MANAGED), attachment.name


def _service_authorization_reference() -> dict[str, dict[str, dict]]:
    """prefix -> action (lower case) -> its entry in the Service Authorization Reference, as parliament ships it."""
    data = json.loads((Path(parliament.__file__).parent / "iam_definition.json").read_text())
    return {s["prefix"]: {p["privilege"].lower(): p for p in s["privileges"]} for s in data}


def test_every_action_a_role_needs_for_another_is_granted_to_it_too(run):
    # "Dependent actions" (Service Authorization Reference): the other permissions a call may need, such as
    # iam:PassRole for elasticmapreduce:RunJobFlow and emr-serverless:StartJobRun. Neither glue:StartTrigger (the
    # trigger starts its job itself) nor RunJobFlow with Tags (no elasticmapreduce:AddTags) lists more.
    reference = _service_authorization_reference()
    granted: dict[str, set[str]] = {}
    for policy in run.of_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            granted.setdefault(policy.inputs["role"], set()).update(as_list(statement["Action"]))
    for role, actions in granted.items():
        for action in sorted(actions):
            prefix, name = action.split(":")
            entry = reference.get(prefix, {}).get(name.lower())
            assert entry is not None, f"{role}: {action} is not an action of the Service Authorization Reference"
            needed = {d for resource in entry["resource_types"] for d in resource["dependent_actions"]}
            assert needed <= actions, f"{role}: {action} also needs {sorted(needed - actions)}"


def test_each_roles_policies_fit_the_iam_size_quotas(run):
    # "IAM and AWS STS quotas" (IAM User Guide): a role's inline policies may total 10,240 characters and its trust
    # policy 2,048 (the default quota), whitespace not counted. The mocks' ARNs are as long as real ones, but for
    # the KMS key id (a 36-character UUID in AWS): a margin of 10% covers that.
    def size(document: str) -> int:
        return len(re.sub(r"\s", "", document))

    inline: dict[str, int] = {}
    for policy in run.of_type("aws:iam/rolePolicy:RolePolicy"):
        inline[policy.inputs["role"]] = inline.get(policy.inputs["role"], 0) + size(policy.inputs["policy"])
    assert inline
    assert max(inline.values()) <= 10_240 * 0.9, inline
    for role in run.of_type("aws:iam/role:Role"):
        assert size(role.inputs["assumeRolePolicy"]) <= 2_048 * 0.9, role.name
