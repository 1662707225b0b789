"""AwsContext: where a component deploys, looked up through its provider, and the service roles it makes: each one
trusted by one service, for this account only where the service says which account it acts for."""

import json

import pulumi
import pytest

from components.context import AwsContext
from tests.infra import ACCOUNT_ID, run_component


class Roles(pulumi.ComponentResource):
    def __init__(self, name: str):
        super().__init__("test:index:Roles", name, None, None)
        context = AwsContext.of(self)
        self.lambda_role = context.service_role(f"{name}-lambda", "lambda.amazonaws.com", "for Lambda", self)
        self.ec2_role = context.service_role(f"{name}-ec2", "ec2.amazonaws.com", "for EC2", self, retain_on_delete=True)
        self.managed = context.managed_policy("service-role/AWSGlueServiceRole")
        self.register_outputs({})


@pytest.fixture(scope="module", params=["aws", "aws-cn"])
def run(request):
    run = run_component(lambda: Roles("roles"), partition=request.param)
    assert run.error is None, run.error
    run.partition = request.param
    return run


def trust(run, name: str) -> dict:
    (statement,) = json.loads(run.named(name).inputs["assumeRolePolicy"])["Statement"]
    return statement


def test_a_service_that_sends_the_source_account_may_act_for_this_account_only(run):
    statement = trust(run, "roles-lambda")
    assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    assert run.named("roles-lambda").inputs["description"] == "for Lambda"


def test_a_service_that_does_not_send_it_gets_no_condition_it_could_never_meet(run):
    assert "Condition" not in trust(run, "roles-ec2")
    assert run.named("roles-ec2").retain_on_delete is True
    assert run.named("roles-lambda").retain_on_delete is False


def test_managed_policies_and_lookups_follow_the_stacks_partition(run):
    expected = f"arn:{run.partition}:iam::aws:policy/service-role/AWSGlueServiceRole"
    assert run.resolve(run.component.managed) == expected
    assert {"aws:index/getCallerIdentity:getCallerIdentity", "aws:index/getPartition:getPartition"} <= set(run.invokes)
