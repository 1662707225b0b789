"""Aliases for resources that moved between components: each child answers to the URN it had under its old parent,
with its old name, so an upgrade moves it instead of replacing it."""

import pulumi
import pulumi_aws as aws
import pytest

from components.moves import MovedFrom, child_options
from tests.infra import engine_urns, run_component, upgrade


class Old(pulumi.ComponentResource):
    def __init__(self, name: str):
        super().__init__("test:index:Old", name, None, None)
        opts = pulumi.ResourceOptions(parent=self)
        aws.sqs.Queue(f"{name}-queue", opts=opts)
        aws.sqs.Queue(f"{name}-dead-letters", opts=opts)
        self.register_outputs({})


class New(pulumi.ComponentResource):
    def __init__(self, name: str, moved_from: MovedFrom | None):
        super().__init__("test:index:New", name, None, None)
        for role in ("queue", "failures"):
            aws.sqs.Queue(f"{name}-{role}", opts=child_options(self, name, f"{name}-{role}", moved_from))
        self.register_outputs({})


def test_each_moved_child_is_kept_under_its_new_name():
    before = engine_urns(run_component(lambda: Old("old"))).values()
    moved = MovedFrom.component("old", "test:index:Old")
    moved = MovedFrom(moved.parent, moved.name, roles={"failures": "dead-letters"})
    plan = upgrade(run_component(lambda: New("new", moved)), before)
    assert plan.renamed == {
        "urn:pulumi:dev::datalake::test:index:Old$aws:sqs/queue:Queue::old-queue": (
            "urn:pulumi:dev::datalake::test:index:New$aws:sqs/queue:Queue::new-queue"
        ),
        "urn:pulumi:dev::datalake::test:index:Old$aws:sqs/queue:Queue::old-dead-letters": (
            "urn:pulumi:dev::datalake::test:index:New$aws:sqs/queue:Queue::new-failures"
        ),
    }
    assert plan.deleted == ["urn:pulumi:dev::datalake::test:index:Old::old"]


def test_without_it_the_children_would_be_replaced():
    before = engine_urns(run_component(lambda: Old("old"))).values()
    plan = upgrade(run_component(lambda: New("new", None)), before)
    assert plan.kept == {}


def test_a_child_not_named_after_its_component_has_no_known_old_name():
    with pytest.raises(ValueError, match="is not named <new>-<role>"):
        MovedFrom("urn:x", "old").aliases("new", "other-queue")
