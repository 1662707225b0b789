"""Advice on cost (advisory policies): EMR clusters that end themselves when idle, Athena queries with a scan cutoff.

The S3 lifecycle advice needs the stack's buckets with their configurations, so it lives in buckets.py.
"""

from __future__ import annotations

from collections.abc import Iterator

from guardrails import documents
from guardrails.emr import EMR_CLUSTER, EMR_SERVERLESS
from guardrails.props import get, is_unknown


def check_auto_termination(type_: str, name: str, props: dict) -> Iterator[str]:
    if type_ == EMR_SERVERLESS:
        if get(props, "autoStopConfiguration", "enabled") is False:
            yield f"EMR Serverless application {name} never stops; set auto_stop_configuration enabled=True"
        return
    if type_ == EMR_CLUSTER:
        if props.get("autoTerminationPolicy") is None:
            yield f"EMR cluster {name} has no auto_termination_policy; set idle_timeout (seconds)"
        return
    for state_name in documents.clusters_created_without(props, "AutoTerminationPolicy"):
        yield (
            f"state machine {name}: state '{state_name}' creates a cluster without an AutoTerminationPolicy; set "
            "{'IdleTimeout': seconds}: it ends the clusters no Catch reaches (a stopped or timed-out execution)"
        )


def check_scan_cutoff(_type: str, name: str, props: dict) -> Iterator[str]:
    configuration = props.get("configuration")
    if not is_unknown(configuration) and get(configuration, "bytesScannedCutoffPerQuery") is None:
        yield (
            f"workgroup {name} has no scan cutoff, so one query can scan the whole lake; set "
            "configuration.bytes_scanned_cutoff_per_query (settings: athena.bytes_scanned_cutoff_mb)"
        )
