"""One place for limits: every bounded setting at its minimum and maximum, and the combinations the builders care
about, either deploy under mocks or are refused at the settings door with the key named, never by a builder."""

from __future__ import annotations

import json
import multiprocessing
import os
import typing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import pytest
from pydantic import BaseModel

from settings import CONFIG_KEY, Settings, SettingsError, load_settings
from tests.infra import ACCOUNT_CONFIG, REGION, ProgramRun, deep_merge, run_program, stack_config

# Fields with no maximum are also tried far above their minimum.
LARGE = 10**6


@dataclass(frozen=True)
class Probe:
    path: tuple[str, ...]
    value: float

    def __str__(self) -> str:
        return f"{'.'.join(self.path)}={self.value}"

    def override(self) -> dict:
        change: dict = {self.path[-1]: self.value}
        for key in reversed(self.path[:-1]):
            change = {key: change}
        return change


def _number_type(annotation) -> type | None:
    """int or float, also inside `int | None`; None for anything else (bool is not a bounded number)."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if candidate in (int, float):
            return candidate
    return None


def bounded_numbers(model: type[BaseModel] = Settings, path: tuple[str, ...] = ()) -> Iterator[Probe]:
    """Every numeric field with a ge/gt/le/lt constraint, at its smallest and largest allowed value."""
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from bounded_numbers(annotation, (*path, name))
            continue
        kind = _number_type(annotation)
        bounds = {key: getattr(m, key) for m in field.metadata for key in ("ge", "gt", "le", "lt") if hasattr(m, key)}
        if kind is None or not bounds:
            continue
        step = 1 if kind is int else 0.01
        low = bounds.get("ge", bounds["gt"] + step if "gt" in bounds else None)
        high = bounds.get("le", bounds["lt"] - step if "lt" in bounds else None)
        if low is not None:
            yield Probe((*path, name), low)
        if high is not None:
            yield Probe((*path, name), high)
        elif low is not None:
            yield Probe((*path, name), kind(LARGE))


PROBES = list(bounded_numbers())
# The cluster runtime (prod) builds from every emr.* number; EMR Serverless (dev) from these too.
SERVERLESS_NUMBERS = {"step_timeout_minutes", "pipeline_timeout_minutes"}
CASES = [("prod", probe) for probe in PROBES] + [
    ("dev", probe)
    for probe in PROBES
    if probe.path[0] == "emr" and (probe.path[1] in SERVERLESS_NUMBERS or probe.path[1].startswith("serverless_"))
]


def stack_settings(stack: str, change: dict) -> dict:
    committed = stack_config(stack)[CONFIG_KEY]
    return deep_merge(deep_merge(committed, ACCOUNT_CONFIG.get(stack, {})), change)


def refusal(raw: dict) -> str | None:
    """The settings error's message, or None when the settings accept `raw`."""
    try:
        load_settings(raw, region=REGION)
    except SettingsError as error:
        return str(error)
    return None


def deploys_or_is_refused_by_key(stack: str, change: dict, section: str) -> tuple[str, ProgramRun | None]:
    """('deployed', run) if the settings accept `change` and the program then registers every pipeline; ('refused',
    None) if the settings refuse it naming a key of `section`. Anything else (a builder's trace) fails the test."""
    raw = stack_settings(stack, change)
    message = refusal(raw)
    if message is not None:
        lines = message.splitlines()
        assert lines[0] == "invalid stack settings:", message
        assert any(line.strip().startswith(f"{CONFIG_KEY}.{section}") for line in lines[1:]), message
        return "refused", None
    run = run_program(stack, settings=raw)
    assert run.error is None, f"settings accepted {json.dumps(change)} but the program failed: {run.error}"
    assert len(run.of_type("aws:sfn/stateMachine:StateMachine")) == 4
    return "deployed", run


def test_the_walk_covers_every_section_and_the_limits_the_builders_enforced():
    walked = {str(p).split("=")[0] for p in PROBES}
    assert {"emr.step_timeout_minutes", "emr.pipeline_timeout_minutes", "emr.core_instance_count"} <= walked
    assert {path.split(".")[0] for path in walked} >= {"lake", "emr", "glue", "athena", "api", "ingest"}


CASE_IDS = [f"{stack}:{probe}" for stack, probe in CASES]


def walk_case(stack: str, probe: Probe) -> str | None:
    """One case of the walk, in a worker process: None when it deploys or is refused by its key, else what failed."""
    try:
        deploys_or_is_refused_by_key(stack, probe.override(), ".".join(probe.path[:-1]))
    except Exception as error:  # reported by the case's own test, in the main process
        return f"{type(error).__name__}: {error}"
    return None


@pytest.fixture(scope="module")
def walked(request) -> dict[str, str | None]:
    """The selected cases of the walk, each a whole program run under mocks (about a second of pure Python, over a
    hundred of them), run in one process per core: the walk was the suite's longest module. Spawned, not forked:
    the suite's process holds a JVM and its threads."""
    selected = {
        item.callspec.id
        for item in request.session.items
        if item.originalname == "test_every_bounded_number_at_its_limits_deploys_or_is_refused_with_its_key"
    }
    cases = {case_id: case for case_id, case in zip(CASE_IDS, CASES, strict=True) if case_id in selected}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(len(cases), os.cpu_count() or 1), mp_context=context) as pool:
        futures = {case_id: pool.submit(walk_case, *case) for case_id, case in cases.items()}
        return {case_id: future.result() for case_id, future in futures.items()}


@pytest.mark.parametrize(("stack", "probe"), CASES, ids=CASE_IDS)
def test_every_bounded_number_at_its_limits_deploys_or_is_refused_with_its_key(walked, stack, probe):
    assert walked[f"{stack}:{probe}"] is None, walked[f"{stack}:{probe}"]


def create_cluster(run) -> dict:
    machine = run.of_type("aws:sfn/stateMachine:StateMachine")[0]
    return json.loads(machine.inputs["definition"])["States"]["CreateCluster"]["Parameters"]


# (core_instance_count, spot_share) -> spot nodes after rounding half to even; at most core - 1 deploys.
SPOT_CASES = {(1, 0.5): 0, (1, 0.75): 1, (2, 0.25): 0, (2, 0.5): 1, (2, 0.75): 2, (3, 0.8): 2, (10, 0.8): 8}


@pytest.mark.parametrize(("core", "share"), SPOT_CASES, ids=[f"{c}x{s}" for c, s in SPOT_CASES])
def test_spot_share_and_core_count_leave_an_on_demand_core_node_or_are_refused(core, share):
    spot = SPOT_CASES[(core, share)]
    outcome, run = deploys_or_is_refused_by_key(
        "prod", {"emr": {"core_instance_count": core, "spot_share": share}}, "emr"
    )
    # The issue's example (2 x 0.75) rounds to 2 spot nodes, which the cluster spec refused with a trace.
    assert outcome == ("refused" if spot >= core else "deployed")
    if run:
        groups = {g["InstanceRole"]: g for g in create_cluster(run)["Instances"]["InstanceGroups"]}
        assert (groups["CORE"]["Market"], groups["CORE"]["InstanceCount"]) == ("ON_DEMAND", core - spot)
        assert groups.get("TASK", {"InstanceCount": 0})["InstanceCount"] == spot


@pytest.mark.parametrize("stack", ["prod", "dev"])
@pytest.mark.parametrize("step", [30, 1440])
def test_step_and_pipeline_timeouts_deploy_together_or_are_refused(stack, step):
    # Two dependent steps (rentals), plus 30 minutes to create a cluster on prod.
    outcomes = {
        pipeline: deploys_or_is_refused_by_key(
            stack, {"emr": {"step_timeout_minutes": step, "pipeline_timeout_minutes": pipeline}}, "emr"
        )[0]
        for pipeline in (2 * step, 2 * step + 1, 2 * step + 31)
    }
    assert outcomes == {
        2 * step: "refused",
        2 * step + 1: "refused" if stack == "prod" else "deployed",
        2 * step + 31: "deployed",
    }


def test_the_issues_examples_are_refused_with_their_keys_named():
    cases = {
        "emr.pipeline_timeout_minutes: 480 must exceed 510 minutes on the cluster runtime": {
            "step_timeout_minutes": 240
        },
        "emr.spot_share: 0.75 x core_instance_count 2 rounds to 2 spot nodes": {
            "core_instance_count": 2,
            "spot_share": 0.75,
        },
    }
    for expected, emr in cases.items():
        message = refusal(stack_settings("prod", {"emr": emr}))
        assert message is not None
        assert f"{CONFIG_KEY}.{expected}" in message


NETWORK = {"vpc_id": "vpc-0123456789abcdef0", "subnet_id": "subnet-0123456789abcdef0"}
NO_NETWORK = {"vpc_id": None, "subnet_id": None}
NETWORK_CASES = [
    ("cluster", NO_NETWORK, False, "refused"),
    ("cluster", NETWORK, False, "deployed"),
    ("cluster", {**NO_NETWORK, "subnet_id": NETWORK["subnet_id"]}, False, "refused"),
    ("cluster", NO_NETWORK, True, "deployed"),
    ("cluster", NETWORK, True, "refused"),
    ("serverless", NO_NETWORK, False, "deployed"),
    ("serverless", NETWORK, False, "deployed"),
    ("serverless", NO_NETWORK, True, "refused"),
]


@pytest.mark.parametrize(("runtime", "network", "default_vpc", "expected"), NETWORK_CASES)
def test_network_choices_deploy_or_are_refused_by_key(runtime, network, default_vpc, expected):
    raw = stack_config("prod")[CONFIG_KEY]
    raw["emr"] = {**raw["emr"], "runtime": runtime, **network, "use_default_vpc": default_vpc}
    message = refusal(raw)
    if message is None:
        run = run_program("prod", settings=raw)
        assert run.error is None, run.error
    else:
        assert f"{CONFIG_KEY}.emr." in message
    assert ("deployed" if message is None else "refused") == expected


def test_every_broken_rule_of_a_model_is_named_in_the_one_message():
    """Pydantic stops at the first model validator that raises; settings.rule reports the model's other rules too."""
    emr = {"core_instance_count": 2, "max_core_instances": 1, "spot_share": 0.75, "step_timeout_minutes": 240}
    message = refusal({"environment": "prod", "owner": "o", "cost_centre": "c", "emr": {"runtime": "cluster", **emr}})
    assert message is not None
    named = [line.split(":")[1].strip() for line in message.splitlines()[1:]]
    assert named == [
        "settings.emr.core_instance_count",
        "settings.emr.spot_share",
        "settings.emr.pipeline_timeout_minutes",
        "settings.emr.subnet_id",
    ]
