"""guardrails/rules.py, the pack's catalogue: every policy passes on the recorded dev and prod stacks, and on the same
stacks as a first preview sees them; each reads resources the stacks have; each has a broken resource, in the tests
of the module that checks it; the README lists each with its level."""

from __future__ import annotations

import importlib
import json

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE as UNKNOWN

from guardrails.rules import RULES, Rule
from tests.guardrails.analyzer import at_first_preview, run_all, run_rule
from tests.infra import ROOT, Recorded

STACKS = ("dev", "prod")
MANDATORY = [rule for rule in RULES if rule.mandatory]
ADVISORY = [rule for rule in RULES if not rule.mandatory]
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def rule_id(rule: Rule) -> str:
    return rule.name


@pytest.fixture(params=STACKS)
def stack(request, stack_run) -> list[Recorded]:
    return stack_run(request.param).resources


@pytest.mark.parametrize("rule", MANDATORY, ids=rule_id)
def test_mandatory_policy_passes_on_the_recorded_stack(stack, rule):
    assert run_rule(rule, stack) == []


def test_advisory_policies_find_nothing_to_advise_on_the_recorded_stacks(stack):
    # Both stacks set auto-termination (or auto-stop), a scan cutoff and full lifecycles, so no advice.
    assert run_all(stack, lambda rule: not rule.mandatory) == {rule.name: [] for rule in ADVISORY}


@pytest.mark.parametrize("rule", RULES, ids=rule_id)
def test_every_policy_reads_resources_the_stacks_have(stack_run, rule):
    """A policy that applies to nothing in either stack would pass the tests above without checking anything."""
    types = {r.type for stack in STACKS for r in stack_run(stack).resources}
    assert rule.types & types, f"{rule.name} reads {sorted(rule.types)}, none of which either stack creates"


def test_policies_neither_fire_nor_fail_on_values_unknown_at_the_first_preview(stack):
    previewed = at_first_preview(stack)
    unknown = {
        r.name
        for r in previewed
        if r.type in (BUCKET_POLICY, STATE_MACHINE, ROLE_POLICY) and UNKNOWN in json.dumps(r.inputs, default=str)
    }
    # The documents the policies parse are all unknown, so this run checks the unknown paths, not the known ones.
    assert unknown == {r.name for r in stack if r.type in (BUCKET_POLICY, STATE_MACHINE, ROLE_POLICY)}
    assert run_all(previewed) == {rule.name: [] for rule in RULES}


def test_every_policy_has_a_broken_resource_that_makes_it_fire():
    """Each policy's broken resource sits in tests/guardrails/test_<module>.py of the module whose check it runs."""
    checked_in = {(rule.check.__module__.removeprefix("guardrails."), rule.name) for rule in RULES}
    cases = {
        (module, case.policy)
        for module in {module for module, _name in checked_in}
        for case in importlib.import_module(f"tests.guardrails.test_{module}").CASES
    }
    assert cases == checked_in


def test_the_readme_lists_every_policy_with_its_level():
    readme = (ROOT / "README.md").read_text()
    for rule in RULES:
        level = "mandatory" if rule.mandatory else "advisory"
        assert f"| `{rule.name}` | {level} |" in readme, f"README's policy table misses {rule.name}"
