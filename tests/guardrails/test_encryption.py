"""guardrails/encryption.py: keys that do not rotate, unencrypted Athena results, SQS queues or Glue runs."""

from __future__ import annotations

import pytest

from tests.guardrails.broken import DELETE, Broken, assert_fires, set_path

CASES = [
    Broken(
        "kms-key-rotation", "prod", "-key", set_path("enableKeyRotation", value=False), "set enable_key_rotation=True"
    ),
    Broken(
        "athena-workgroup-enforced-encrypted",
        "dev",
        "-analytics-workgroup",
        set_path("configuration", "enforceWorkgroupConfiguration", value=False),
        "lets clients override its settings; set enforce_workgroup_configuration=True",
    ),
    Broken(
        "athena-workgroup-enforced-encrypted",
        "prod",
        "-analytics-workgroup",
        set_path(
            "configuration", "resultConfiguration", "encryptionConfiguration", value={"encryptionOption": "SSE_S3"}
        ),
        "encrypts results with 'SSE_S3'; set configuration.result_configuration.encryption_configuration "
        "encryption_option 'SSE_KMS'",
    ),
    Broken(
        "sqs-encrypted",
        "prod",
        "-ingest-handler-failures",
        set_path("sqsManagedSseEnabled", value=False),
        "is not encrypted at rest; set sqs_managed_sse_enabled=True (or kms_master_key_id)",
    ),
    Broken(
        "glue-security-configuration",
        "dev",
        "-glue-etl-job",
        set_path("securityConfiguration", value=DELETE),
        "Glue job datalake-dev-glue-etl-job has no security_configuration; name the stack's",
    ),
    Broken(
        "glue-security-configuration",
        "prod",
        "-catalog-crawler-raw",
        set_path("securityConfiguration", value=""),
        "Glue crawler datalake-prod-catalog-crawler-raw has no security_configuration",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_broken_resource_makes_its_policy_fire_and_say_what_to_change(stack_run, case):
    assert_fires(case, stack_run(case.stack).resources)
