"""guardrails/iam.py: identity policies that allow wildcards, act on every resource, or attach admin policies."""

from __future__ import annotations

import pytest

from tests.guardrails.broken import Broken, add_statement, assert_fires, edit_json, set_path

CASES = [
    Broken(
        "iam-no-wildcard-actions",
        "dev",
        "-athena-handler-policy",
        edit_json("policy", lambda doc: doc["Statement"][0]["Action"].append("s3:*")),
        "statement RunQueriesInThisWorkgroup allows s3:*; list the exact actions it needs",
    ),
    Broken(
        "iam-no-actions-on-every-resource",
        "prod",
        "-emr-emr-instance-data",
        add_statement({"Sid": "ReadAll", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}),
        "statement ReadAll allows s3:GetObject on every resource ('*'); name the ARNs they act on",
    ),
    Broken(
        "iam-no-admin-attachments",
        "dev",
        "-athena-handler-xray",
        set_path("policyArn", value="arn:aws:iam::aws:policy/AdministratorAccess"),
        "attaches arn:aws:iam::aws:policy/AdministratorAccess; attach a policy with the actions and resources",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_broken_resource_makes_its_policy_fire_and_say_what_to_change(stack_run, case):
    assert_fires(case, stack_run(case.stack).resources)
