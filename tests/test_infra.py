"""The mock harness itself: it records options, exports, and refuses to let an unrun apply pass silently."""

import pulumi
import pytest
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from tests.infra import ApplyGuard


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
