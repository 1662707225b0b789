"""DataLake under mocks with each stack file: every bucket hardened, lifecycle from settings, prod protected."""

import json

import pytest
import yaml

from components.data_lake import LOGS, ZONES
from tests.infra import ACCOUNT_ID, ROOT

STACKS = ("dev", "prod")
BUCKET = "aws:s3/bucket:Bucket"


def settings_of(stack: str) -> dict:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]["datalake:settings"]


def bucket(run, zone: str):
    return run.named(f"datalake-{run.stack}-{zone}")


def config_for(run, type_: str, zone: str) -> dict:
    """The one configuration resource of `type_` that applies to the zone's bucket."""
    found = run.referencing(f"aws:s3/{type_}", "bucket", f"datalake-{run.stack}-{zone}-id")
    assert len(found) == 1, f"{zone}: expected one {type_}, found {len(found)}"
    return found[0].inputs


@pytest.fixture(params=STACKS)
def run(request, stack_run):
    return stack_run(request.param)


@pytest.mark.parametrize("zone", [*ZONES, LOGS])
def test_every_bucket_blocks_public_access_and_enforces_ownership(run, zone):
    block = config_for(run, "bucketPublicAccessBlock:BucketPublicAccessBlock", zone)
    assert {
        k: block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    } == {
        "blockPublicAcls": True,
        "blockPublicPolicy": True,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    }
    ownership = config_for(run, "bucketOwnershipControls:BucketOwnershipControls", zone)
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    versioning = config_for(run, "bucketVersioning:BucketVersioning", zone)
    assert versioning["versioningConfiguration"]["status"] == "Enabled"


@pytest.mark.parametrize("zone", [*ZONES, LOGS])
def test_every_bucket_denies_requests_without_tls(run, zone):
    policy = json.loads(config_for(run, "bucketPolicy:BucketPolicy", zone)["policy"])
    arn = bucket(run, zone).state["arn"]
    deny = next(s for s in policy["Statement"] if s["Sid"] == "DenyInsecureTransport")
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == "*"
    assert deny["Action"] == ["s3:*"]
    assert sorted(deny["Resource"]) == [arn, f"{arn}/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # Nothing in a bucket policy may grant anything to everyone.
    assert all(s["Effect"] == "Deny" for s in policy["Statement"] if s.get("Principal") == "*")


@pytest.mark.parametrize("zone", ZONES)
def test_zone_buckets_use_the_lake_key_with_a_bucket_key(run, zone):
    rule = config_for(run, "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", zone)[
        "rules"
    ][0]
    key = run.named(f"datalake-{run.stack}-key")
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key.state["arn"]}
    assert rule["bucketKeyEnabled"] is True


@pytest.mark.parametrize("zone", ZONES)
def test_zone_buckets_log_access_to_the_logs_bucket_under_their_own_prefix(run, zone):
    logging = config_for(run, "bucketLogging:BucketLogging", zone)
    assert logging["targetBucket"] == f"datalake-{run.stack}-logs-id"
    assert logging["targetPrefix"] == f"s3-access/{zone}/"


def test_logs_bucket_uses_s3_managed_keys_and_accepts_only_the_lake_access_logs(run):
    rule = config_for(run, "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", LOGS)[
        "rules"
    ][0]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    assert run.referencing("aws:s3/bucketLogging:BucketLogging", "bucket", f"datalake-{run.stack}-logs-id") == []
    policy = json.loads(config_for(run, "bucketPolicy:BucketPolicy", LOGS)["policy"])
    delivery = next(s for s in policy["Statement"] if s["Sid"] == "S3ServerAccessLogsDelivery")
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Action"] == ["s3:PutObject"]
    assert delivery["Resource"] == [f"{bucket(run, LOGS).state['arn']}/s3-access/*"]
    assert sorted(delivery["Condition"]["ArnLike"]["aws:SourceArn"]) == sorted(
        bucket(run, zone).state["arn"] for zone in ZONES
    )
    assert delivery["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT_ID}


def rules_by_id(run, zone: str) -> dict:
    return {
        r["id"]: r for r in config_for(run, "bucketLifecycleConfiguration:BucketLifecycleConfiguration", zone)["rules"]
    }


@pytest.mark.parametrize("zone", [*ZONES, LOGS])
def test_every_bucket_aborts_uploads_and_expires_noncurrent_versions(run, zone):
    lake = settings_of(run.stack)["lake"]
    rules = rules_by_id(run, zone)
    assert rules["abort-incomplete-multipart-uploads"]["abortIncompleteMultipartUpload"] == {
        "daysAfterInitiation": lake.get("abort_multipart_upload_days", 7)
    }
    assert rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"] == {
        "noncurrentDays": lake["noncurrent_version_expiration_days"]
    }
    assert all(r["status"] == "Enabled" for r in rules.values())


def test_zones_tier_after_the_configured_days(run):
    lake = settings_of(run.stack)["lake"]
    defaults = {"raw_transition_days": 30, "raw_archive_days": 365, "scripts_transition_days": 90}
    lake = {**defaults, **lake}
    assert rules_by_id(run, "raw")["raw-tiering"]["transitions"] == [
        {"days": lake["raw_transition_days"], "storageClass": "STANDARD_IA"},
        {"days": lake["raw_archive_days"], "storageClass": "GLACIER"},
    ]
    assert rules_by_id(run, "curated")["curated-tiering"]["transitions"] == [
        {"days": lake["curated_transition_days"], "storageClass": "INTELLIGENT_TIERING"}
    ]
    assert rules_by_id(run, "scripts")["scripts-tiering"]["transitions"] == [
        {"days": lake["scripts_transition_days"], "storageClass": "INTELLIGENT_TIERING"}
    ]
    assert rules_by_id(run, "athena-results")["athena-results-tiering"]["expiration"] == {
        "days": lake["athena_results_expiration_days"]
    }
    assert rules_by_id(run, LOGS)[f"{LOGS}-tiering"]["expiration"] == {"days": lake["access_log_expiration_days"]}


def test_lake_key_rotates_and_has_an_alias(run):
    key = run.named(f"datalake-{run.stack}-key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == settings_of(run.stack)["lake"]["kms_deletion_window_days"]
    alias = run.named(f"datalake-{run.stack}-key-alias")
    assert alias.inputs == {"name": f"alias/datalake-{run.stack}", "targetKeyId": f"key-datalake-{run.stack}-key"}


def test_provider_default_tags(run):
    provider = run.named("aws")
    tags = json.loads(provider.inputs["defaultTags"])["tags"]
    settings = settings_of(run.stack)
    assert tags == {
        "project": "datalake",
        "environment": run.stack,
        "owner": settings["owner"],
        "cost-centre": settings["cost_centre"],
        "managed-by": "pulumi",
    }
    assert provider.inputs["region"] == "eu-west-1"
    assert all(
        r.provider.startswith("urn:pulumi:") for r in run.resources if r.custom and r.type != "pulumi:providers:aws"
    )


def test_outputs_name_every_bucket_the_key_and_the_region(run):
    outputs = run.outputs
    for zone in ZONES:
        assert outputs[f"{zone.replace('-', '_')}_bucket"] == bucket(run, zone).state["bucket"]
    assert outputs["logs_bucket"] == bucket(run, LOGS).state["bucket"]
    assert outputs["kms_key_arn"] == run.named(f"datalake-{run.stack}-key").state["arn"]
    assert outputs["region"] == "eu-west-1"


def test_prod_protects_and_retains_buckets_and_key_and_never_force_destroys(stack_run):
    run = stack_run("prod")
    protected = [bucket(run, zone) for zone in (*ZONES, LOGS)] + [run.named("datalake-prod-key")]
    for resource in protected:
        assert resource.protect, resource.name
        assert resource.retain_on_delete, resource.name
    assert all(r.inputs.get("forceDestroy") is not True for r in run.of_type(BUCKET))


def test_dev_force_destroys_so_pulumi_destroy_works(stack_run):
    run = stack_run("dev")
    for zone in (*ZONES, LOGS):
        assert bucket(run, zone).inputs["forceDestroy"] is True
        assert not bucket(run, zone).protect
    assert not run.named("datalake-dev-key").protect


def test_no_deprecated_inline_bucket_arguments_or_v2_resources(run):
    inline = {
        "acl",
        "grants",
        "loggings",
        "logging",
        "lifecycleRules",
        "policy",
        "versioning",
        "serverSideEncryptionConfiguration",
        "website",
        "corsRules",
        "replicationConfiguration",
    }
    for resource in run.of_type(BUCKET):
        assert inline.isdisjoint(resource.inputs), resource.name
    assert not [r.type for r in run.resources if r.type.split(":")[-1].endswith("V2")]
