"""Recorded mock resources handed to the pack's policies the way the Pulumi engine's analyzer hands them over.

Resource policies get a resource's inputs, stack policies every resource's outputs with its parent,
dependencies and per-property dependencies, all behind pulumi_policy's unknown-checking proxy. The mock
harness records no per-property dependencies, so they are rebuilt here: a property depends on each declared
dependency whose generated outputs (id, ARN, generated name) appear in its value.

`at_first_preview` rewrites a run as the first `pulumi preview` of a new stack sees it: every value built from
an output the provider generates is unknown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

from guardrails.rules import RULES, Rule
from tests.infra import Recorded

Dependencies = dict[str, dict[str, list[str]]]  # urn -> property -> urns it depends on


def _options(record: Recorded) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=record.protect,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=record.parent or None,
    )


def outputs(record: Recorded) -> dict:
    """What the provider reports: the inputs, the generated outputs and the id (the mocks answer `<name>-id`)."""
    return {"id": f"{record.name}-id", **record.state}


def generated(record: Recorded) -> set[str]:
    """The output values only the provider knows, so unknown at a first preview (ARN, id, generated name)."""
    values = {value for key, value in outputs(record).items() if key not in record.inputs and isinstance(value, str)}
    return {value for value in values if value}


def property_dependencies(records: list[Recorded]) -> Dependencies:
    """Input name -> URNs it came from, per resource, as the mock monitor recorded them from the SDK."""
    return {record.urn: dict(record.property_dependencies) for record in records}


def _unknown_where(value: Any, needles: set[str]) -> Any:
    if isinstance(value, str):
        return UNKNOWN_STRING_VALUE if any(needle in value for needle in needles) else value
    if isinstance(value, dict):
        return {k: _unknown_where(v, needles) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_unknown_where(v, needles) for v in value]
    return value


def _leaves(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_leaves(v) for v in value.values()))
    if isinstance(value, list | tuple):
        return set().union(*(_leaves(v) for v in value))
    return set()


def at_first_preview(records: list[Recorded]) -> list[Recorded]:
    """The resources as the first preview of a new stack sees them (same URNs, so dependencies still hold).

    Records come in registration order, so a resource's dependencies are rewritten before it: an input that
    passes an unknown value through (an object's `bucket`) is unknown in turn for whatever reads it.
    """
    unknown_of: dict[str, set[str]] = {}
    previewed = []
    for record in records:
        needles = set().union(*(unknown_of.get(urn, set()) for urn in record.dependencies))
        inputs = _unknown_where(record.inputs, needles)
        passed_through = {v for v in _leaves(record.inputs) if any(n in v for n in needles)}
        unknown_of[record.urn] = generated(record) | passed_through
        state = {**inputs, **{key: UNKNOWN_STRING_VALUE for key in outputs(record) if key not in record.inputs}}
        previewed.append(dataclasses.replace(record, inputs=inputs, state=state))
    return previewed


def resource_args(record: Recorded) -> ResourceValidationArgs:
    # The proxy builds containers of its own, so the recorded inputs are never touched.
    props = unknown_checking_proxy(record.inputs)
    return ResourceValidationArgs(record.type, props, record.urn, record.name, _options(record), None)


def stack_args(records: list[Recorded], dependencies: Dependencies | None = None) -> StackValidationArgs:
    """`dependencies`: per-property dependencies (by default rebuilt from these records' own values)."""
    dependencies = property_dependencies(records) if dependencies is None else dependencies
    resources = {
        r.urn: PolicyResource(
            r.type, unknown_checking_proxy(outputs(r)), r.urn, r.name, _options(r), None, None, [], {}
        )
        for r in records
    }
    for record in records:
        resource = resources[record.urn]
        resource.parent = resources.get(record.parent)
        resource.dependencies = [resources[u] for u in record.dependencies if u in resources]
        resource.property_dependencies = {
            key: [resources[u] for u in urns if u in resources]
            for key, urns in dependencies.get(record.urn, {}).items()
        }
    return StackValidationArgs(list(resources.values()))


Finding = tuple[str, str | None]  # (message, urn)


def run_rules(
    rules: Iterable[Rule], records: Iterable[Recorded], dependencies: Dependencies | None = None
) -> dict[str, list[Finding]]:
    """Every violation each rule reports on these resources, as the engine runs them: each resource policy on
    every resource, each stack policy once on the whole stack. Resource findings carry the resource's URN."""
    records = list(records)
    per_resource = [(record, resource_args(record)) for record in records]
    stack = None
    found: dict[str, list[Finding]] = {}
    for rule in rules:
        findings: list[Finding] = []
        found[rule.name] = findings
        if isinstance(rule.policy, StackValidationPolicy):
            stack = stack or stack_args(records, dependencies)
            rule.policy.validate(stack, lambda message, urn=None, into=findings: into.append((message, urn)))
            continue
        for record, args in per_resource:
            rule.policy.validate(
                args, lambda message, _urn=None, into=findings, urn=record.urn: into.append((message, urn))
            )
    return found


def run_rule(rule: Rule, records: Iterable[Recorded], dependencies: Dependencies | None = None) -> list[Finding]:
    return run_rules([rule], records, dependencies)[rule.name]


def run_all(records: list[Recorded], select: Callable[[Rule], bool] = lambda rule: True) -> dict[str, list[Finding]]:
    return run_rules([rule for rule in RULES if select(rule)], records)
