"""EMR clusters, including those a state machine creates (createCluster.sync): secured, and ended on every path.

The clusters of this project are not Pulumi resources, so these checks read the state machine definitions.
"""

from __future__ import annotations

from collections.abc import Iterator

from guardrails import documents
from guardrails.props import get, is_unknown

STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
EMR_CLUSTER = "aws:emr/cluster:Cluster"
EMR_SERVERLESS = "aws:emrserverless/application:Application"


def check_security_configuration(type_: str, name: str, props: dict) -> Iterator[str]:
    fix = "name the stack's aws.emr.SecurityConfiguration (at-rest encryption with the lake key)"
    if type_ == EMR_CLUSTER:
        if props.get("securityConfiguration") is None:
            yield f"EMR cluster {name} has no security_configuration; {fix}"
        return
    for state_name in documents.clusters_created_without(props, "SecurityConfiguration"):
        yield f"state machine {name}: state '{state_name}' creates a cluster with no SecurityConfiguration; {fix}"


def check_clusters_terminate(type_: str, name: str, props: dict) -> Iterator[str]:
    if type_ == EMR_CLUSTER:
        keep_alive, idle = props.get("keepJobFlowAliveWhenNoSteps"), get(props, "autoTerminationPolicy", "idleTimeout")
        if keep_alive is not False and not is_unknown(keep_alive) and idle is None:
            yield (
                f"EMR cluster {name} keeps running when its steps are done; set "
                "keep_job_flow_alive_when_no_steps=False or an auto_termination_policy idle_timeout"
            )
        return
    definition = documents.state_machine_definition(props)
    for state_name, state, states in documents.create_cluster_states(definition):
        for leak in documents.cluster_leaks(state, states):
            yield (
                f"state machine {name}: after '{state_name}' creates a cluster, {leak}; route every path, and a Catch "
                "for States.ALL on each state that can fail, to an elasticmapreduce:terminateCluster task"
            )
