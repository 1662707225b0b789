"""guardrails/emr.py: the clusters the prod state machines create, a standalone cluster, and one broken state
machine per policy."""

from __future__ import annotations

import json

import pytest

from guardrails import documents
from tests.guardrails.analyzer import run_rule
from tests.guardrails.broken import RULE, Broken, assert_fires, edit_definition, emr_cluster

STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"


def test_prod_state_machines_create_clusters_so_the_emr_policies_walk_real_graphs(stack_run):
    definitions = [json.loads(r.inputs["definition"]) for r in stack_run("prod").of_type(STATE_MACHINE)]
    created = [name for d in definitions for name, _state, _states in documents.create_cluster_states(d)]
    assert created == ["CreateCluster"] * len(definitions)


def test_a_standalone_emr_cluster_must_be_secured_and_end_itself():
    emr_rules = [RULE[name] for name in ("emr-security-configuration", "emr-clusters-terminate")]
    advisory = RULE["cost-emr-auto-termination"]
    safe = emr_cluster(
        releaseLabel="emr-7.12.0",
        securityConfiguration="datalake-prod-at-rest",
        autoTerminationPolicy={"idleTimeout": 900.0},
    )
    assert {rule.name: run_rule(rule, [safe]) for rule in [*emr_rules, advisory]} == {
        "emr-security-configuration": [],
        "emr-clusters-terminate": [],
        "cost-emr-auto-termination": [],
    }
    # A cluster that ends after its steps needs no auto-termination to terminate, but is still advised one.
    stepping = emr_cluster(releaseLabel="emr-7.12.0", securityConfiguration="x", keepJobFlowAliveWhenNoSteps=False)
    assert run_rule(RULE["emr-clusters-terminate"], [stepping]) == []
    bare = emr_cluster(releaseLabel="emr-7.12.0")
    assert [[message for message, _ in run_rule(rule, [bare])] for rule in [*emr_rules, advisory]] == [
        [
            "EMR cluster datalake-prod-adhoc has no security_configuration; name the stack's "
            "aws.emr.SecurityConfiguration (at-rest encryption with the lake key)"
        ],
        [
            "EMR cluster datalake-prod-adhoc keeps running when its steps are done; set "
            "keep_job_flow_alive_when_no_steps=False or an auto_termination_policy idle_timeout"
        ],
        ["EMR cluster datalake-prod-adhoc has no auto_termination_policy; set idle_timeout (seconds)"],
    ]


def first_wave_catches_into_failure(states: dict) -> None:
    first = states["CreateCluster"]["Next"]
    states[first]["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "PipelineFailed"}]


CASES = [
    Broken(
        "emr-security-configuration",
        "prod",
        "-emr-pipeline-rentals",
        edit_definition(lambda states: states["CreateCluster"]["Parameters"].pop("SecurityConfiguration")),
        "state 'CreateCluster' creates a cluster with no SecurityConfiguration; name the stack's "
        "aws.emr.SecurityConfiguration",
    ),
    Broken(
        "emr-clusters-terminate",
        "prod",
        "-emr-pipeline-sparkify",
        edit_definition(first_wave_catches_into_failure),
        "after 'CreateCluster' creates a cluster, 'FailWithCause' ends the execution; route every path",
    ),
    Broken(
        "emr-clusters-terminate",
        "prod",
        "-emr-pipeline-orders",
        edit_definition(lambda states: states[states["CreateCluster"]["Next"]].pop("Catch")),
        "can fail without a Catch for States.ALL; route every path",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_broken_resource_makes_its_policy_fire_and_say_what_to_change(stack_run, case):
    assert_fires(case, stack_run(case.stack).resources)
