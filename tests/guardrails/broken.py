"""One deliberately broken resource per policy: break a resource of a recorded stack, and check that its policy
fires on it, says what to change, and that no other mandatory policy objects to the change.

Each tests/guardrails/test_<module>.py holds the CASES for the policies guardrails/<module>.py checks.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass

from guardrails.rules import RULES
from tests.guardrails.analyzer import run_all, run_rule
from tests.infra import Recorded

RULE = {rule.name: rule for rule in RULES}
REMOVE = "remove the resource"  # a change that deletes the resource itself
DELETE = object()  # a value that deletes the key it is set at


@dataclass(frozen=True)
class Broken:
    """Break the resource `datalake-<stack><resource>` with `change`; `policy` must fire and say `fix`."""

    policy: str
    stack: str
    resource: str
    change: Callable[[dict], object] | str
    fix: str
    bucket: str | None = None  # stack policies report on this bucket, not on the broken configuration

    def __str__(self) -> str:
        return f"{self.policy}:{self.stack}{self.resource}"


def edit_json(key: str, edit: Callable[[dict], object]) -> Callable[[dict], None]:
    def change(inputs: dict) -> None:
        doc = json.loads(inputs[key])
        edit(doc)
        inputs[key] = json.dumps(doc)

    return change


def edit_definition(edit: Callable[[dict], object]) -> Callable[[dict], None]:
    return edit_json("definition", lambda definition: edit(definition["States"]))


def set_path(*path: str | int, value: object) -> Callable[[dict], None]:
    def change(inputs: dict) -> None:
        target = inputs
        for key in path[:-1]:
            target = target[key]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return change


def add_statement(statement: dict) -> Callable[[dict], None]:
    return edit_json("policy", lambda doc: doc["Statement"].append(statement))


def broken_stack(case: Broken, records: list[Recorded]) -> tuple[list[Recorded], Recorded]:
    """A copy of the stack with the case's resource changed (or removed), and that resource as changed."""
    name = f"datalake-{case.stack}{case.resource}"
    (index,) = [i for i, r in enumerate(records) if r.name == name]
    target = records[index]
    if case.change == REMOVE:
        return records[:index] + records[index + 1 :], target
    broken = copy.deepcopy(target)
    case.change(broken.inputs)
    # Stack policies read outputs: the provider would report the changed inputs.
    broken.state = {key: value for key, value in broken.state.items() if key not in target.inputs}
    broken.state.update(broken.inputs)
    return [*records[:index], broken, *records[index + 1 :]], broken


def assert_fires(case: Broken, records: list[Recorded]) -> None:
    """The case's policy fires on the broken stack, on the broken resource (or its bucket), and says the fix."""
    broken, target = broken_stack(case, records)
    findings = run_rule(RULE[case.policy], broken)
    expected_urn = target.urn
    if case.bucket:
        expected_urn = next(r.urn for r in records if r.name == f"datalake-{case.stack}{case.bucket}")
    assert findings, f"{case.policy} did not fire"
    assert all(urn == expected_urn for _message, urn in findings), findings
    assert any(case.fix in message for message, _urn in findings), findings
    # Only the policy under test objects to this change (each policy guards one thing).
    others = run_all(broken, lambda other: other.mandatory and other.name != case.policy)
    assert {name: found for name, found in others.items() if found} == {}


def emr_cluster(**inputs) -> Recorded:
    """A standalone EMR cluster (the stacks create theirs from state machines) with these inputs."""
    name = "datalake-prod-adhoc"
    urn = f"urn:pulumi:prod::datalake::aws:emr/cluster:Cluster::{name}"
    return Recorded(
        type="aws:emr/cluster:Cluster",
        name=name,
        inputs=inputs,
        urn=urn,
        parent="",
        protect=False,
        retain_on_delete=False,
        dependencies=[],
        custom=True,
        provider="",
        state=dict(inputs),
    )
