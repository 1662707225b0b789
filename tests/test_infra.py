"""The mock harness itself: it records options, exports, runs a component alone, replays the engine's alias matching,
and refuses to let an unrun apply pass silently."""

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from tests.infra import ApplyGuard, engine_urns, run_component, upgrade


def test_apply_guard_passes_when_the_callback_ran(stack_run, apply_guard):
    run = stack_run("dev")
    seen = []
    checked = apply_guard.check(run.namespace["lake"].key_arn, lambda arn: seen.append(arn) or arn, "key arn")
    assert run.resolve(checked) == run.outputs["kms_key_arn"]
    assert seen == [run.outputs["kms_key_arn"]]


def unknown_output() -> pulumi.Output:
    """An Output whose value is unknown, as during a preview: `apply` skips its callback."""
    loop = _ensure_event_loop()
    value, known = loop.create_future(), loop.create_future()
    value.set_result(None)
    known.set_result(False)
    return pulumi.Output(set(), value, known)


def test_apply_guard_fails_when_a_callback_never_ran():
    guard = ApplyGuard()
    checked = guard.check(unknown_output(), lambda value: pytest.fail("an unknown value reached the callback"), "arn")
    assert _sync_await(checked.is_known()) is False
    with pytest.raises(AssertionError, match=r"apply callbacks never ran.*arn"):
        guard.verify()


def test_recorder_sees_resource_options(stack_run):
    run = stack_run("prod")
    key = run.named("datalake-prod-key")
    assert (key.protect, key.retain_on_delete, key.custom) == (True, True, True)
    component = run.named("datalake-prod")
    assert component.type == "datalake:components:DataLake"
    assert key.parent == component.urn


class Part(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("test:index:Part", name, None, opts)
        self.queue = aws.sqs.Queue(f"{name}-queue", opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})


def engine(name: str, *chain: str) -> str:
    return f"urn:pulumi:dev::datalake::{'$'.join(chain)}::{name}"


def test_engine_urns_carry_the_whole_parent_chain_and_leave_the_root_stack_out():
    run = run_component(lambda: Part("outer", pulumi.ResourceOptions()))
    urns = engine_urns(run)
    assert set(urns.values()) == {
        engine("outer", "test:index:Part"),
        engine("outer-queue", "test:index:Part", "aws:sqs/queue:Queue"),
    }


def test_an_upgrade_follows_aliases_and_the_children_they_imply():
    before = engine_urns(run_component(lambda: Part("old")))
    moved = run_component(lambda: Part("new", pulumi.ResourceOptions(aliases=[pulumi.Alias(name="old")])))
    plan = upgrade(moved, before.values())
    assert (plan.deleted, plan.created, plan.conflicts) == ([], [], [])
    assert plan.renamed == {
        engine("old", "test:index:Part"): engine("new", "test:index:Part"),
        engine("old-queue", "test:index:Part", "aws:sqs/queue:Queue"): engine(
            "new-queue", "test:index:Part", "aws:sqs/queue:Queue"
        ),
    }


def test_an_upgrade_without_an_alias_deletes_and_creates():
    before = engine_urns(run_component(lambda: Part("old")))
    plan = upgrade(run_component(lambda: Part("new")), before.values())
    assert len(plan.deleted) == len(plan.created) == 2
    assert plan.kept == {}


def test_an_alias_to_another_parent_names_it_by_urn():
    """A child that moves from one component to another: the alias gives the old parent's URN and old name."""
    before = engine_urns(run_component(lambda: Part("old")))

    def build():
        part = Part("new")
        old_parent = pulumi.create_urn("old", "test:index:Part")
        aws.sqs.Queue("moved", opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="old-queue", parent=old_parent)]))
        return part

    plan = upgrade(run_component(build), before.values())
    assert plan.kept[engine("old-queue", "test:index:Part", "aws:sqs/queue:Queue")] == engine(
        "moved", "aws:sqs/queue:Queue"
    )
    assert plan.deleted == [engine("old", "test:index:Part")]
