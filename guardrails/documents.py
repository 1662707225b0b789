"""Pure readers of the JSON documents resources carry: IAM policy statements and Step Functions definitions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from guardrails.props import as_list, document

# Actions IAM offers no resource-level scoping for, so a statement granting them must name "*" (Service
# Authorization Reference). This pack keeps its own list rather than trusting the program it guards; the tests
# check that components/step_functions.py's UNSCOPED_ACTIONS stays inside it.
UNSCOPED_ACTIONS = frozenset(
    {
        # Creates a cluster that has no ARN yet; the program scopes it by the tag the cluster must carry.
        "elasticmapreduce:RunJobFlow",
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:GetSamplingStatisticSummaries",
        # The CloudWatch Logs vended-delivery calls Step Functions and API Gateway make for their logs.
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
    }
)


@dataclass(frozen=True)
class Statement:
    label: str  # Sid, or the statement's position
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    principal: object
    condition: dict

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"


def statements(doc: dict) -> list[Statement]:
    found = []
    for index, raw in enumerate(as_list(doc.get("Statement"))):
        if not isinstance(raw, dict):
            continue
        found.append(
            Statement(
                label=str(raw.get("Sid") or f"#{index + 1}"),
                effect=str(raw.get("Effect", "")),
                actions=tuple(str(a) for a in as_list(raw.get("Action"))),
                not_actions=tuple(str(a) for a in as_list(raw.get("NotAction"))),
                resources=tuple(str(r) for r in as_list(raw.get("Resource"))),
                not_resources=tuple(str(r) for r in as_list(raw.get("NotResource"))),
                principal=raw.get("Principal"),
                condition=raw.get("Condition") or {},
            )
        )
    return found


def is_every_resource(resource: str) -> bool:
    """True for "*" and for an ARN whose resource part is "*" (every bucket, every key of the account)."""
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    return resource.startswith("arn:") and len(parts) == 6 and parts[5] == "*"


def is_everyone(principal: object) -> bool:
    if principal == "*":
        return True
    return isinstance(principal, dict) and "*" in as_list(principal.get("AWS"))


# Step Functions ---------------------------------------------------------------------------------------------------


def state_machine_definition(props: dict) -> dict:
    """A state machine's definition, parsed; {} when it is absent, not known yet, or not a JSON object (which Step
    Functions refuses itself)."""
    try:
        parsed = document(props.get("definition"))
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


_CREATE_CLUSTER = re.compile(r":states:::(elasticmapreduce:createCluster(\.sync)?|aws-sdk:emr:runJobFlow)$")
_TERMINATE_CLUSTER = re.compile(
    r":states:::(elasticmapreduce:terminateCluster(\.sync)?|aws-sdk:emr:terminateJobFlows)$"
)
# States whose work can fail; Pass, Wait and Choice only route.
_CAN_FAIL = {"Task", "Parallel", "Map"}


def state_maps(definition: dict) -> Iterator[dict]:
    """The definition's States, then those of every Parallel branch and Map iterator, however deep."""
    pending = [definition]
    while pending:
        machine = pending.pop()
        states = machine.get("States")
        if not isinstance(states, dict):
            continue
        yield states
        for state in states.values():
            if not isinstance(state, dict):
                continue
            pending.extend(b for b in as_list(state.get("Branches")) if isinstance(b, dict))
            for key in ("ItemProcessor", "Iterator"):
                if isinstance(state.get(key), dict):
                    pending.append(state[key])


def _resource(state: dict) -> str:
    return str(state.get("Resource", "")) if state.get("Type") == "Task" else ""


def is_create_cluster(state: dict) -> bool:
    return bool(_CREATE_CLUSTER.search(_resource(state)))


def is_terminate_cluster(state: dict) -> bool:
    return bool(_TERMINATE_CLUSTER.search(_resource(state)))


def task_arguments(state: dict) -> dict:
    """What a Task passes to the service: Parameters (JSONPath) or Arguments (JSONata)."""
    arguments = state.get("Parameters", state.get("Arguments"))
    return arguments if isinstance(arguments, dict) else {}


def has_argument(arguments: dict, name: str) -> bool:
    """Set literally, or from the execution's input with `Name.$` (whose value only the run knows)."""
    return bool(arguments.get(name)) or bool(arguments.get(f"{name}.$"))


def create_cluster_states(definition: dict) -> Iterator[tuple[str, dict, dict]]:
    """(name, state, the States map it lives in) of every state that creates an EMR cluster."""
    for states in state_maps(definition):
        for name, state in states.items():
            if isinstance(state, dict) and is_create_cluster(state):
                yield name, state, states


def clusters_created_without(props: dict, argument: str) -> Iterator[str]:
    """The names of a state machine's states that create an EMR cluster without passing `argument`."""
    for name, state, _states in create_cluster_states(state_machine_definition(props)):
        if not has_argument(task_arguments(state), argument):
            yield name


def _catches_everything(state: dict) -> bool:
    return any(
        "States.ALL" in as_list(catch.get("ErrorEquals"))
        for catch in as_list(state.get("Catch"))
        if isinstance(catch, dict)
    )


def _successors(state: dict) -> list[str]:
    targets = [state.get("Next"), state.get("Default")]
    targets += [choice.get("Next") for choice in as_list(state.get("Choices")) if isinstance(choice, dict)]
    targets += [catch.get("Next") for catch in as_list(state.get("Catch")) if isinstance(catch, dict)]
    return [str(t) for t in targets if t]


def _leak(name: str, state: dict | None) -> str | None:
    """Why the execution may stop at this state with the cluster still running, or None."""
    if state is None:
        return f"'{name}' is not a state of the definition"
    kind = state.get("Type")
    if kind in ("Succeed", "Fail") or state.get("End"):
        return f"'{name}' ends the execution"
    if kind in _CAN_FAIL and not _catches_everything(state):
        return f"'{name}' can fail without a Catch for States.ALL"
    if kind == "Choice" and not state.get("Default"):
        return f"'{name}' has no Default, so an unmatched choice fails the execution"
    return None


def cluster_leaks(create: dict, states: dict) -> list[str]:
    """Every way an execution can end after `create` made a cluster without a terminateCluster task on the way.

    Walks every path from the state after `create` (Next, Choices, Default and every Catch) until a
    terminateCluster task; a path that reaches an end, or a state that can fail uncaught, first is a leak.
    """
    leaks: list[str] = []
    seen: set[str] = set()
    pending = [str(create["Next"])] if create.get("Next") else []
    if not pending:
        leaks.append("the state that creates the cluster ends the execution")
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        state = states.get(name)
        if isinstance(state, dict) and is_terminate_cluster(state):
            continue
        reason = _leak(name, state if isinstance(state, dict) else None)
        if reason:
            leaks.append(reason)
        if isinstance(state, dict):
            pending.extend(_successors(state))
    return sorted(set(leaks))
