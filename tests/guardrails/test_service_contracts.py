"""guardrails/service_contracts.py: values any mock accepts and AWS refuses, kept in step with the program's own
list of who sends aws:SourceAccount; a standalone cluster, and one broken resource per policy."""

from __future__ import annotations

import pytest

from components.iam.statements import SENDS_SOURCE_ACCOUNT as PROGRAM_SENDS_SOURCE_ACCOUNT
from guardrails import service_contracts
from tests.guardrails.analyzer import run_rule
from tests.guardrails.broken import (
    DELETE,
    RULE,
    Broken,
    assert_fires,
    edit_definition,
    edit_json,
    emr_cluster,
    set_path,
)


def test_the_pack_and_the_program_agree_on_who_sends_aws_source_account():
    assert service_contracts.SENDS_SOURCE_ACCOUNT == PROGRAM_SENDS_SOURCE_ACCOUNT


def test_a_standalone_emr_cluster_must_carry_the_managed_policy_tag():
    rule = RULE["emr-managed-policy-tag"]
    tagged = emr_cluster(tags={"for-use-with-amazon-emr-managed-policies": "true"})
    assert run_rule(rule, [tagged]) == []
    (finding,) = run_rule(rule, [emr_cluster(tags={"team": "data"})])
    assert "EMR cluster datalake-prod-adhoc is not tagged for the managed EMR policies" in finding[0]


CASES = [
    Broken(
        "iam-trust-conditions-match-the-service",
        "prod",
        "-emr-emr-instance",
        edit_json(
            "assumeRolePolicy",
            lambda doc: doc["Statement"][0].update(Condition={"StringEquals": {"aws:SourceAccount": "123456789012"}}),
        ),
        "trusts ec2.amazonaws.com only with aws:SourceAccount, which ec2.amazonaws.com does not send",
    ),
    Broken(
        "iam-trust-conditions-match-the-service",
        "dev",
        "-emr-states-kindle",
        edit_json("assumeRolePolicy", lambda doc: doc["Statement"][0].pop("Condition")),
        "lets states.amazonaws.com assume it on behalf of any account; add a StringEquals aws:SourceAccount",
    ),
    Broken(
        "iam-instance-profile-named-as-role",
        "prod",
        "-emr-emr-instance-profile",
        set_path("name", value=DELETE),
        "is not named as its role",
    ),
    Broken(
        "emr-managed-policy-tag",
        "prod",
        "-emr-pipeline-orders",
        edit_definition(
            lambda states: states["CreateCluster"]["Parameters"].update(Tags=[{"Key": "pipeline", "Value": "orders"}])
        ),
        "state 'CreateCluster' creates a cluster that is not tagged; tag it for-use-with-amazon-emr-managed-policies",
    ),
    Broken(
        "ec2-valid-descriptions",
        "prod",
        "-emr-sg-core",
        set_path("description", value="EMR core nodes — no inbound"),
        "has characters EC2 refuses or is over 255 long",
    ),
    Broken(
        "ec2-valid-descriptions",
        "prod",
        "-emr-sg-primary-egress",
        set_path("description", value="Outbound: S3 & EMR <all>"),
        "has characters EC2 refuses",
    ),
    Broken(
        "lambda-no-reserved-environment",
        "prod",
        "-ingest-handler-function",
        set_path("environment", "variables", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", value="2048"),
        "sets AWS_LAMBDA_FUNCTION_MEMORY_SIZE, which Lambda reserves and sets itself",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_broken_resource_makes_its_policy_fire_and_say_what_to_change(stack_run, case):
    assert_fires(case, stack_run(case.stack).resources)
