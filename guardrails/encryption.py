"""Data at rest under a key: KMS keys that rotate, Athena results encrypted with KMS in a workgroup clients cannot
override, encrypted SQS queues, and Glue jobs and crawlers with a security configuration."""

from __future__ import annotations

from collections.abc import Iterator

from guardrails.props import get, is_unknown

KMS_KEY = "aws:kms/key:Key"


def check_key_rotation(_type: str, name: str, props: dict) -> Iterator[str]:
    spec, rotation = props.get("customerMasterKeySpec"), props.get("enableKeyRotation")
    # Only symmetric encryption keys can rotate; asymmetric and HMAC keys are exempt.
    if spec not in (None, "SYMMETRIC_DEFAULT") or is_unknown(rotation):
        return
    if rotation is not True:
        yield f"KMS key {name} does not rotate; set enable_key_rotation=True"


WORKGROUP = "aws:athena/workgroup:Workgroup"
KMS_RESULT_ENCRYPTION = ("SSE_KMS", "CSE_KMS")


def check_workgroup(_type: str, name: str, props: dict) -> Iterator[str]:
    configuration = props.get("configuration")
    fix = (
        "set configuration.result_configuration.encryption_configuration encryption_option 'SSE_KMS' with "
        "kms_key_arn the lake key's ARN"
    )
    if is_unknown(configuration):
        return
    if configuration is None:
        yield f"workgroup {name} has no configuration, so its results are unencrypted; {fix}"
        return
    if configuration.get("enforceWorkgroupConfiguration") is False:
        yield f"workgroup {name} lets clients override its settings; set enforce_workgroup_configuration=True"
    encryption = get(configuration, "resultConfiguration", "encryptionConfiguration")
    option = get(encryption, "encryptionOption")
    if is_unknown(option):
        return
    if option not in KMS_RESULT_ENCRYPTION:
        yield f"workgroup {name} encrypts results with {option!r}; {fix}"
    elif get(encryption, "kmsKeyArn") is None:
        yield f"workgroup {name} encrypts results with {option} but names no key; {fix}"


QUEUE = "aws:sqs/queue:Queue"


def check_queue_encryption(_type: str, name: str, props: dict) -> Iterator[str]:
    """Failed events carry the data that failed: a queue states its encryption at rest ("Encryption at rest in
    Amazon SQS"): SSE-SQS, or a KMS key the senders may use."""
    sse, key = props.get("sqsManagedSseEnabled"), props.get("kmsMasterKeyId")
    if is_unknown(sse) or is_unknown(key):
        return
    if sse is not True and not key:
        yield f"queue {name} is not encrypted at rest; set sqs_managed_sse_enabled=True (or kms_master_key_id)"


GLUE_SECURED = frozenset({"aws:glue/crawler:Crawler", "aws:glue/job:Job"})


def check_glue_security_configuration(type_: str, name: str, props: dict) -> Iterator[str]:
    """Without a security configuration a job writes S3 objects, bookmarks and logs, and a crawler its logs,
    without the lake's key ("Encrypting data written by AWS Glue")."""
    configuration = props.get("securityConfiguration")
    if not is_unknown(configuration) and not configuration:
        kind = "crawler" if type_.endswith("Crawler") else "job"
        yield f"Glue {kind} {name} has no security_configuration; name the stack's aws.glue.SecurityConfiguration"
