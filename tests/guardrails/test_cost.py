"""guardrails/cost.py (advisory): EMR clusters and applications that never end themselves, Athena without a cutoff."""

from __future__ import annotations

import pytest

from tests.guardrails.broken import DELETE, Broken, assert_fires, edit_definition, set_path

CASES = [
    Broken(
        "cost-emr-auto-termination",
        "prod",
        "-emr-pipeline-kindle",
        edit_definition(lambda states: states["CreateCluster"]["Parameters"].pop("AutoTerminationPolicy")),
        "state 'CreateCluster' creates a cluster without an AutoTerminationPolicy; set {'IdleTimeout': seconds}",
    ),
    Broken(
        "cost-emr-auto-termination",
        "dev",
        "-emr-spark",
        set_path("autoStopConfiguration", "enabled", value=False),
        "never stops; set auto_stop_configuration enabled=True",
    ),
    Broken(
        "cost-athena-scan-cutoff",
        "prod",
        "-analytics-workgroup",
        set_path("configuration", "bytesScannedCutoffPerQuery", value=DELETE),
        "has no scan cutoff, so one query can scan the whole lake; set configuration.bytes_scanned_cutoff_per_query",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_broken_resource_makes_its_policy_fire_and_say_what_to_change(stack_run, case):
    assert_fires(case, stack_run(case.stack).resources)
