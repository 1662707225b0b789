"""DataLake alone, with Args built here: every bucket hardened, the lifecycle it is given, the key, and what
`protect` changes; then in the stacks: the stack's settings reach it, prod protects and dev can be destroyed."""

import json

import pytest
import yaml

from components.data_lake import LOGS, ZONES, DataLake, DataLakeArgs, ZoneLifecycle
from tests.infra import ACCOUNT_ID, ROOT, run_component

BUCKET = "aws:s3/bucket:Bucket"

# A lake of each kind: disposable (dev-like) and protected (prod-like), with different lifecycle figures.
DISPOSABLE = DataLakeArgs(
    lifecycle={
        "raw": ZoneLifecycle(transitions=((30, "STANDARD_IA"),)),
        "curated": ZoneLifecycle(transitions=((45, "INTELLIGENT_TIERING"),)),
        "scripts": ZoneLifecycle(transitions=((90, "INTELLIGENT_TIERING"),)),
        "athena-results": ZoneLifecycle(expiration_days=7),
    },
    noncurrent_version_expiration_days=30,
    abort_multipart_upload_days=7,
    access_log_expiration_days=90,
    kms_deletion_window_days=7,
    protect=False,
    force_destroy=True,
)
PROTECTED = DataLakeArgs(
    lifecycle={
        "raw": ZoneLifecycle(transitions=((30, "STANDARD_IA"), (365, "GLACIER"))),
        "curated": ZoneLifecycle(transitions=((30, "INTELLIGENT_TIERING"),)),
        "athena-results": ZoneLifecycle(expiration_days=30),
    },
    noncurrent_version_expiration_days=90,
    abort_multipart_upload_days=3,
    access_log_expiration_days=730,
    kms_deletion_window_days=30,
)
KINDS = {"disposable": DISPOSABLE, "protected": PROTECTED}


@pytest.fixture(scope="module", params=sorted(KINDS))
def lake(request):
    args = KINDS[request.param]
    run = run_component(lambda: DataLake("lake", args))
    assert run.error is None, run.error
    run.args = args
    return run


def bucket(run, zone: str):
    return run.named(f"lake-{zone}")


def config_for(run, type_: str, zone: str) -> dict:
    """The one configuration resource of `type_` that applies to the zone's bucket."""
    found = run.referencing(f"aws:s3/{type_}", "bucket", f"lake-{zone}-id")
    assert len(found) == 1, f"{zone}: expected one {type_}, found {len(found)}"
    return found[0].inputs


def rules_by_id(run, zone: str) -> dict:
    return {
        r["id"]: r for r in config_for(run, "bucketLifecycleConfiguration:BucketLifecycleConfiguration", zone)["rules"]
    }


@pytest.mark.parametrize("zone", [*ZONES, LOGS])
def test_every_bucket_blocks_public_access_and_enforces_ownership(lake, zone):
    block = config_for(lake, "bucketPublicAccessBlock:BucketPublicAccessBlock", zone)
    assert {
        k: block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    } == {
        "blockPublicAcls": True,
        "blockPublicPolicy": True,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    }
    ownership = config_for(lake, "bucketOwnershipControls:BucketOwnershipControls", zone)
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    versioning = config_for(lake, "bucketVersioning:BucketVersioning", zone)
    assert versioning["versioningConfiguration"]["status"] == "Enabled"


@pytest.mark.parametrize("zone", [*ZONES, LOGS])
def test_every_bucket_denies_requests_without_tls(lake, zone):
    policy_resource = lake.referencing("aws:s3/bucketPolicy:BucketPolicy", "bucket", f"lake-{zone}-id")[0]
    policy = json.loads(policy_resource.inputs["policy"])
    arn = bucket(lake, zone).state["arn"]
    deny = next(s for s in policy["Statement"] if s["Sid"] == "DenyInsecureTransport")
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == "*"
    assert deny["Action"] == ["s3:*"]
    assert sorted(deny["Resource"]) == [arn, f"{arn}/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # Nothing in a bucket policy may grant anything to everyone.
    assert all(s["Effect"] == "Deny" for s in policy["Statement"] if s.get("Principal") == "*")
    # A bucket policy is refused while the public access block is still being applied.
    block = lake.referencing("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "bucket", f"lake-{zone}-id")
    assert block[0].urn in policy_resource.dependencies


@pytest.mark.parametrize("zone", ZONES)
def test_zone_buckets_use_the_lake_key_with_a_bucket_key(lake, zone):
    rule = config_for(lake, "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", zone)[
        "rules"
    ][0]
    key = lake.named("lake-key")
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key.state["arn"]}
    assert rule["bucketKeyEnabled"] is True


@pytest.mark.parametrize("zone", ZONES)
def test_zone_buckets_log_access_to_the_logs_bucket_under_their_own_prefix(lake, zone):
    logging = config_for(lake, "bucketLogging:BucketLogging", zone)
    assert logging["targetBucket"] == "lake-logs-id"
    assert logging["targetPrefix"] == f"s3-access/{zone}/"
    assert logging["targetObjectKeyFormat"] == {"partitionedPrefix": {"partitionDateSource": "EventTime"}}


def test_logs_bucket_uses_s3_managed_keys_and_accepts_only_the_lake_access_logs(lake):
    rule = config_for(lake, "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", LOGS)[
        "rules"
    ][0]
    # Server access logs can only be delivered to buckets encrypted with S3-managed keys.
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    assert lake.referencing("aws:s3/bucketLogging:BucketLogging", "bucket", "lake-logs-id") == []
    policy = json.loads(config_for(lake, "bucketPolicy:BucketPolicy", LOGS)["policy"])
    delivery = next(s for s in policy["Statement"] if s["Sid"] == "S3ServerAccessLogsDelivery")
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Action"] == ["s3:PutObject"]
    assert delivery["Resource"] == [f"{bucket(lake, LOGS).state['arn']}/s3-access/*"]
    assert sorted(delivery["Condition"]["ArnLike"]["aws:SourceArn"]) == sorted(
        bucket(lake, zone).state["arn"] for zone in ZONES
    )
    assert delivery["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT_ID}


@pytest.mark.parametrize("zone", [*ZONES, LOGS])
def test_every_bucket_aborts_uploads_and_expires_noncurrent_versions(lake, zone):
    rules = rules_by_id(lake, zone)
    assert rules["abort-incomplete-multipart-uploads"]["abortIncompleteMultipartUpload"] == {
        "daysAfterInitiation": lake.args.abort_multipart_upload_days
    }
    assert rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"] == {
        "noncurrentDays": lake.args.noncurrent_version_expiration_days
    }
    assert all(r["status"] == "Enabled" for r in rules.values())
    # S3 rejects lifecycle rules on noncurrent versions until versioning is on.
    versioning = lake.referencing("aws:s3/bucketVersioning:BucketVersioning", "bucket", f"lake-{zone}-id")[0]
    lifecycle = lake.referencing(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "bucket", f"lake-{zone}-id"
    )[0]
    assert versioning.urn in lifecycle.dependencies


@pytest.mark.parametrize("zone", ZONES)
def test_each_zone_tiers_or_expires_as_its_lifecycle_says(lake, zone):
    given = lake.args.lifecycle.get(zone, ZoneLifecycle())
    rule = rules_by_id(lake, zone).get(f"{zone}-tiering")
    if not (given.transitions or given.expiration_days):
        assert rule is None
        return
    assert rule.get("transitions", []) == [{"days": d, "storageClass": c} for d, c in given.transitions]
    assert rule.get("expiration") == ({"days": given.expiration_days} if given.expiration_days else None)


def test_the_logs_bucket_expires_access_logs(lake):
    assert rules_by_id(lake, LOGS)[f"{LOGS}-tiering"]["expiration"] == {"days": lake.args.access_log_expiration_days}


def test_lake_key_rotates_and_has_an_alias(lake):
    key = lake.named("lake-key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["deletionWindowInDays"] == lake.args.kms_deletion_window_days
    assert lake.named("lake-key-alias").inputs == {"name": "alias/lake", "targetKeyId": "key-lake-key"}
    policy = json.loads(key.inputs["policy"])
    assert {s["Sid"] for s in policy["Statement"]} == {"AccountAdministersThroughIam", "CloudWatchLogsEncryption"}


def test_protect_keeps_buckets_and_key_and_never_force_destroys(lake):
    buckets = [bucket(lake, zone) for zone in (*ZONES, LOGS)]
    for resource in [*buckets, lake.named("lake-key")]:
        assert (resource.protect, resource.retain_on_delete) == (lake.args.protect, lake.args.protect), resource.name
    for resource in buckets:
        assert resource.inputs.get("forceDestroy", False) is lake.args.force_destroy, resource.name


def test_no_deprecated_inline_bucket_arguments_or_v2_resources(lake):
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
    for resource in lake.of_type(BUCKET):
        assert inline.isdisjoint(resource.inputs), resource.name
    assert not [r.type for r in lake.resources if r.type.split(":")[-1].endswith("V2")]


def test_args_refuse_destroying_protected_data_and_unknown_zones():
    with pytest.raises(ValueError, match="force_destroy cannot be combined with protect"):
        DataLakeArgs({}, 1, 1, 1, 7, protect=True, force_destroy=True)
    with pytest.raises(ValueError, match=r"lifecycle for unknown zones \['cold'\]"):
        DataLakeArgs({"cold": ZoneLifecycle()}, 1, 1, 1, 7)


# In the stacks ------------------------------------------------------------------------------------------------------


def settings_of(stack: str) -> dict:
    return yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]["datalake:settings"]


@pytest.fixture(params=["dev", "prod"])
def run(request, stack_run):
    return stack_run(request.param)


def test_the_stack_settings_reach_the_lifecycle(run):
    lake = {"raw_transition_days": 30, "raw_archive_days": 365, "scripts_transition_days": 90}
    lake |= settings_of(run.stack)["lake"]

    def rules(zone):
        found = run.referencing(
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            "bucket",
            f"datalake-{run.stack}-{zone}-id",
        )
        return {r["id"]: r for r in found[0].inputs["rules"]}

    assert rules("raw")["raw-tiering"]["transitions"] == [
        {"days": lake["raw_transition_days"], "storageClass": "STANDARD_IA"},
        {"days": lake["raw_archive_days"], "storageClass": "GLACIER"},
    ]
    assert rules("curated")["curated-tiering"]["transitions"] == [
        {"days": lake["curated_transition_days"], "storageClass": "INTELLIGENT_TIERING"}
    ]
    assert rules("athena-results")["athena-results-tiering"]["expiration"] == {
        "days": lake["athena_results_expiration_days"]
    }
    assert rules(LOGS)["expire-noncurrent-versions"]["noncurrentVersionExpiration"] == {
        "noncurrentDays": lake["noncurrent_version_expiration_days"]
    }
    key = run.named(f"datalake-{run.stack}-key")
    assert key.inputs["deletionWindowInDays"] == lake["kms_deletion_window_days"]


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
        assert outputs[f"{zone.replace('-', '_')}_bucket"] == run.named(f"datalake-{run.stack}-{zone}").state["bucket"]
    assert outputs["logs_bucket"] == run.named(f"datalake-{run.stack}-{LOGS}").state["bucket"]
    assert outputs["kms_key_arn"] == run.named(f"datalake-{run.stack}-key").state["arn"]
    assert outputs["region"] == "eu-west-1"


def test_prod_protects_its_data_and_dev_can_be_destroyed(stack_run):
    for stack, protected in (("prod", True), ("dev", False)):
        run = stack_run(stack)
        for name in [*(f"datalake-{stack}-{zone}" for zone in (*ZONES, LOGS)), f"datalake-{stack}-key"]:
            resource = run.named(name)
            assert (resource.protect, resource.retain_on_delete) == (protected, protected), name
        assert all(r.inputs.get("forceDestroy", False) is not protected for r in run.of_type(BUCKET))
