"""guardrails/documents.py on small inline documents: the cluster-termination walk over a state machine graph,
IAM resource wildcards, and the actions IAM cannot scope, kept in step with the program's own list."""

from __future__ import annotations

import json

import pytest

from components.iam.state_machines import UNSCOPED_ACTIONS as PROGRAM_UNSCOPED_ACTIONS
from guardrails import documents
from guardrails.props import UNKNOWN

CREATE = {"Type": "Task", "Resource": "arn:aws:states:::elasticmapreduce:createCluster.sync"}
TERMINATE = {"Type": "Task", "Resource": "arn:aws-cn:states:::elasticmapreduce:terminateCluster.sync"}
ALL = [{"ErrorEquals": ["States.ALL"], "Next": "Cleanup"}]


def leaks(states: dict) -> list[str]:
    ((_name, create, found),) = documents.create_cluster_states({"StartAt": "Create", "States": states})
    return documents.cluster_leaks(create, found)


def test_a_graph_that_terminates_on_every_path_leaks_nothing():
    states = {
        "Create": {**CREATE, "Next": "Work"},
        "Work": {
            "Type": "Task",
            "Resource": "arn:aws:states:::elasticmapreduce:addStep.sync",
            "Catch": ALL,
            "Next": "Again?",
        },
        # A loop back to Work is walked once.
        "Again?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.again", "BooleanEquals": True, "Next": "Work"}],
            "Default": "Wait",
        },
        "Wait": {"Type": "Wait", "Seconds": 5, "Next": "Done"},
        "Done": {**TERMINATE, "Next": "Succeeded"},
        "Cleanup": {**TERMINATE, "Next": "Failed"},
        "Succeeded": {"Type": "Succeed"},
        "Failed": {"Type": "Fail"},
    }
    assert leaks(states) == []


def test_every_way_out_that_skips_termination_is_named():
    states = {
        "Create": {**CREATE, "Next": "Branch"},
        "Branch": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "Jobs"}]},
        "Jobs": {
            "Type": "Parallel",
            "Branches": [],
            "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Failed"}],
            "Next": "Report",
        },
        "Report": {"Type": "Pass", "End": True},
        "Failed": {"Type": "Fail"},
    }
    assert leaks(states) == [
        "'Branch' has no Default, so an unmatched choice fails the execution",
        "'Failed' ends the execution",
        "'Jobs' can fail without a Catch for States.ALL",
        "'Report' ends the execution",
    ]


def test_clusters_created_inside_a_parallel_branch_are_found_and_walked_there():
    branch = {"StartAt": "Create", "States": {"Create": {**CREATE, "Next": "Bye"}, "Bye": {"Type": "Succeed"}}}
    definition = {"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [branch], "End": True}}}
    ((name, create, states),) = documents.create_cluster_states(definition)
    assert (name, documents.cluster_leaks(create, states)) == ("Create", ["'Bye' ends the execution"])


@pytest.mark.parametrize(
    ("resource", "every"),
    [
        ("*", True),
        ("arn:aws:s3:::*", True),
        ("arn:aws:kms:*:*:*", True),
        ("arn:aws:s3:::datalake-dev-raw/*", False),
        ("arn:aws:elasticmapreduce:eu-west-1:123456789012:cluster/*", False),
    ],
)
def test_resources_that_mean_every_resource(resource, every):
    assert documents.is_every_resource(resource) is every


def test_the_pack_allows_on_every_resource_at_least_what_the_program_documents_as_unscoped():
    assert PROGRAM_UNSCOPED_ACTIONS <= documents.UNSCOPED_ACTIONS


def test_a_state_machine_definition_is_read_only_when_it_is_a_known_json_object():
    assert documents.state_machine_definition({"definition": '{"StartAt": "A"}'}) == {"StartAt": "A"}
    for unreadable in ({}, {"definition": UNKNOWN}, {"definition": "{"}, {"definition": "[]"}):
        assert documents.state_machine_definition(unreadable) == {}


def test_the_states_that_create_a_cluster_without_an_argument_are_named():
    create = {**CREATE, "Parameters": {"Name": "c", "SecurityConfiguration.$": "$.sc"}, "End": True}
    definition = {"StartAt": "A", "States": {"A": create, "B": {**CREATE, "Parameters": {"Name": "d"}, "End": True}}}
    props = {"definition": json.dumps(definition)}
    assert list(documents.clusters_created_without(props, "SecurityConfiguration")) == ["B"]
    assert list(documents.clusters_created_without(props, "AutoTerminationPolicy")) == ["A", "B"]
    assert list(documents.clusters_created_without({"definition": UNKNOWN}, "SecurityConfiguration")) == []
