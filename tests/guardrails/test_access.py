"""guardrails/access.py: Lambda permissions that name no caller, open API methods, ingress from anywhere."""

from __future__ import annotations

import pytest

from tests.guardrails.broken import DELETE, Broken, assert_fires, set_path

CASES = [
    Broken(
        "lambda-scoped-permissions",
        "prod",
        "-raw-events-orders-ingest-invoke",
        set_path("sourceAccount", value=DELETE),
        "trusts S3 without an account; set source_account to the bucket owner's account",
    ),
    Broken(
        "lambda-scoped-permissions",
        "dev",
        "-athena-invoke",
        set_path("principal", value="*"),
        "lets any principal ('*') invoke; name the service or account that calls it",
    ),
    Broken(
        "api-methods-authorised",
        "prod",
        "-athena-method-post-queries-name",
        set_path("apiKeyRequired", value=False),
        "can be called by anyone; set authorization 'AWS_IAM' (or an authorizer), or api_key_required=True",
    ),
    Broken(
        "no-ingress-from-anywhere",
        "prod",
        "-emr-sg-primary",
        set_path("ingress", value=[{"protocol": "tcp", "fromPort": 22.0, "toPort": 22.0, "cidrBlocks": ["0.0.0.0/0"]}]),
        "admits 0.0.0.0/0 on ports 22-22; allow only the security groups or CIDRs that need it",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_broken_resource_makes_its_policy_fire_and_say_what_to_change(stack_run, case):
    assert_fires(case, stack_run(case.stack).resources)
