"""Every IAM document the stacks deploy: linted by parliament, no `*` action, no data action on `*`."""

import json

import parliament
import pytest

from components.step_functions import UNSCOPED_ACTIONS

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


def test_roles_trust_one_service_for_this_account_only(run):
    for role in run.of_type("aws:iam/role:Role"):
        trust = json.loads(role.inputs["assumeRolePolicy"])
        (statement,) = trust["Statement"]
        assert statement["Action"] == ["sts:AssumeRole"]
        assert list(statement["Principal"]) == ["Service"], role.name
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}, role.name


def test_no_broad_managed_policies(run):
    for attachment in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        assert not any(word in attachment.inputs["policyArn"] for word in FORBIDDEN_MANAGED), attachment.name
