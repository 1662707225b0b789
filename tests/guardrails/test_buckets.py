"""guardrails/buckets.py: each bucket with its configuration resources, linked through the engine's property
dependencies even when every reference to a bucket is unknown (a first preview); one broken resource per policy."""

from __future__ import annotations

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE as UNKNOWN

from tests.guardrails.analyzer import at_first_preview, property_dependencies, run_rule
from tests.guardrails.broken import REMOVE, RULE, Broken, add_statement, assert_fires, edit_json, set_path
from tests.infra import Recorded

BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
VERSIONING_FIX = "add aws.s3.BucketVersioning with versioning_configuration status 'Enabled'"


@pytest.fixture(params=("dev", "prod"))
def stack(request, stack_run) -> list[Recorded]:
    return stack_run(request.param).resources


def test_a_bucket_without_versioning_is_still_found_when_every_bucket_reference_is_unknown(stack):
    previewed = at_first_preview(stack)
    dropped = next(r for r in previewed if r.type == VERSIONING and r.name.endswith("-raw-versioning"))
    assert dropped.inputs["bucket"] == UNKNOWN
    remaining = [r for r in previewed if r is not dropped]
    findings = run_rule(RULE["s3-versioning"], remaining, property_dependencies(stack))
    raw = next(r for r in stack if r.type == BUCKET and r.name.endswith("-raw"))
    assert findings == [(f"bucket {raw.name} has no versioning configuration; {VERSIONING_FIX}", raw.urn)]


def test_a_configuration_that_cannot_be_linked_at_preview_makes_missing_ones_undecidable(stack):
    """Without property dependencies an unknown `bucket` could be any bucket: nothing may be reported."""
    previewed = at_first_preview(stack)
    without_raw = [r for r in previewed if not (r.type == VERSIONING and r.name.endswith("-raw-versioning"))]
    assert run_rule(RULE["s3-versioning"], without_raw, dependencies={}) == []


CASES = [
    Broken(
        "s3-kms-encryption",
        "dev",
        "-raw-encryption",
        set_path("rules", 0, "applyServerSideEncryptionByDefault", value={"sseAlgorithm": "AES256"}),
        "uses sse_algorithm 'AES256'; set 'aws:kms' with kms_master_key_id the lake key's ARN",
        bucket="-raw",
    ),
    Broken(
        "s3-kms-encryption",
        "prod",
        "-curated-encryption",
        REMOVE,
        "has no default encryption configuration; add aws.s3.BucketServerSideEncryptionConfiguration",
        bucket="-curated",
    ),
    Broken(
        "s3-versioning",
        "prod",
        "-curated-versioning",
        set_path("versioningConfiguration", "status", value="Suspended"),
        "has versioning status 'Suspended'; set it to 'Enabled'",
        bucket="-curated",
    ),
    Broken("s3-versioning", "dev", "-logs-versioning", REMOVE, VERSIONING_FIX, bucket="-logs"),
    Broken(
        "s3-public-access-blocked",
        "prod",
        "-raw-public-access",
        set_path("restrictPublicBuckets", value=False),
        "public access block leaves restrict_public_buckets off; add aws.s3.BucketPublicAccessBlock",
        bucket="-raw",
    ),
    Broken(
        "s3-public-access-blocked",
        "dev",
        "-curated-policy",
        add_statement({"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}),
        "policy statement Open allows everyone (Principal '*') without a condition; name the principals",
        bucket="-curated",
    ),
    Broken(
        "s3-tls-only",
        "prod",
        "-scripts-policy",
        edit_json("policy", lambda doc: doc["Statement"].pop(0)),
        "its policy does not refuse requests without TLS; add aws.s3.BucketPolicy with a statement that denies",
        bucket="-scripts",
    ),
    Broken(
        "s3-access-logging",
        "dev",
        "-athena-results-access-logging",
        REMOVE,
        "has no server access logging; add aws.s3.BucketLogging with target_bucket the logs bucket",
        bucket="-athena-results",
    ),
    Broken(
        "s3-owner-enforced",
        "prod",
        "-raw-ownership",
        set_path("rule", "objectOwnership", value="ObjectWriter"),
        "has object_ownership 'ObjectWriter'; add aws.s3.BucketOwnershipControls with rule object_ownership "
        "'BucketOwnerEnforced'",
        bucket="-raw",
    ),
    Broken(
        "s3-owner-enforced",
        "dev",
        "-logs",
        set_path("acl", value="public-read"),
        "sets an ACL; remove it",
        bucket="-logs",
    ),
    Broken(
        "cost-s3-lifecycle",
        "dev",
        "-scripts-lifecycle",
        set_path("rules", value=[{"id": "x", "status": "Enabled", "filter": {"prefix": ""}}]),
        "no enabled lifecycle rule to abort incomplete multipart uploads (abort_incomplete_multipart_upload)",
        bucket="-scripts",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_broken_resource_makes_its_policy_fire_and_say_what_to_change(stack_run, case):
    assert_fires(case, stack_run(case.stack).resources)
