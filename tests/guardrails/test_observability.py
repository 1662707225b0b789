"""guardrails/observability.py: untraced functions, unlogged stages and state machines, logs kept forever, failed
events dropped."""

from __future__ import annotations

import pytest

from tests.guardrails.broken import DELETE, Broken, assert_fires, set_path

CASES = [
    Broken(
        "lambda-tracing",
        "dev",
        "-ingest-handler-function",
        set_path("tracingConfig", value=DELETE),
        "is not traced; set tracing_config mode 'Active'",
    ),
    Broken(
        "lambda-async-failure-destination",
        "dev",
        "-glue-starter-async",
        set_path("destinationConfig", value=DELETE),
        "drops events that still fail after the retries; set destination_config on_failure destination",
    ),
    Broken(
        "lambda-async-failure-destination",
        "prod",
        "-ingest-handler-async",
        set_path("destinationConfig", "onFailure", "destination", value="arn:aws:sqs:eu-west-1:123456789012:q.fifo"),
        "sends failures to a FIFO queue, which Lambda cannot deliver to",
    ),
    Broken(
        "api-stages-logged",
        "dev",
        "-athena-stage",
        set_path("accessLogSettings", value=DELETE),
        "keeps no access log; set access_log_settings with destination_arn a log group",
    ),
    Broken(
        "state-machines-logged",
        "dev",
        "-emr-pipeline-kindle",
        set_path("loggingConfiguration", "level", value="OFF"),
        "logs nothing; set logging_configuration level 'ALL'",
    ),
    Broken(
        "log-groups-retention",
        "prod",
        "-emr-states-logs",
        set_path("retentionInDays", value=DELETE),
        "keeps its logs forever; set retention_in_days",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_broken_resource_makes_its_policy_fire_and_say_what_to_change(stack_run, case):
    assert_fires(case, stack_run(case.stack).resources)
