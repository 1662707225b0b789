"""The stack's S3 buckets with the separate configuration resources attached to each, and the checks on them.

A configuration resource (versioning, encryption, ...) names its bucket in `bucket`. At preview that value is
often unknown (the bucket's id), so the link is taken from the engine's property dependencies first and from
the value only when it is known; a configuration that cannot be linked either way makes a bucket that seems
to lack one undecidable, never a violation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pulumi_policy import PolicyResource

from guardrails import documents
from guardrails.props import UNKNOWN, as_list, document, get, is_unknown, plain

BUCKET_TYPES = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
ENCRYPTION = frozenset(
    {
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    }
)
VERSIONING = frozenset({"aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"})
PUBLIC_ACCESS_BLOCK = frozenset({"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"})
BUCKET_POLICY = frozenset({"aws:s3/bucketPolicy:BucketPolicy"})
LOGGING = frozenset({"aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2"})
OWNERSHIP = frozenset({"aws:s3/bucketOwnershipControls:BucketOwnershipControls"})
ACL = frozenset({"aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"})
LIFECYCLE = frozenset(
    {
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
    }
)
CONFIGURATION_TYPES = (
    ENCRYPTION | VERSIONING | PUBLIC_ACCESS_BLOCK | BUCKET_POLICY | LOGGING | OWNERSHIP | ACL | LIFECYCLE
)

ZONE_TAG = "datalake:zone"
# S3 server access logs can only be delivered to a bucket encrypted with S3-managed keys, and a bucket that
# logged its own access would log every log delivery: the logs zone is exempt from KMS and from access logging.
LOGS_ZONE = "logs"
KMS_ALGORITHMS = frozenset({"aws:kms", "aws:kms:dsse"})
PUBLIC_BLOCKS = {
    "blockPublicAcls": "block_public_acls",
    "blockPublicPolicy": "block_public_policy",
    "ignorePublicAcls": "ignore_public_acls",
    "restrictPublicBuckets": "restrict_public_buckets",
}


@dataclass
class Bucket:
    resource: PolicyResource
    props: dict
    configurations: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.resource.name

    @property
    def urn(self) -> str:
        return self.resource.urn

    @property
    def zone(self) -> object:
        """The `datalake:zone` tag, UNKNOWN while the tags are, None if untagged."""
        tags = self.props.get("tags")
        if is_unknown(tags):
            return UNKNOWN
        return (tags or {}).get(ZONE_TAG)

    def of(self, types: frozenset[str]) -> list[dict]:
        return [props for type_, found in self.configurations.items() if type_ in types for props in found]


@dataclass
class StackBuckets:
    buckets: list[Bucket]
    # Configuration types with at least one resource whose bucket could not be told at preview.
    unlinked: set[str]

    def undecided(self, types: frozenset[str]) -> bool:
        return bool(self.unlinked & types)


def _identities(props: dict) -> set[str]:
    """The values a configuration's `bucket` may hold for this bucket: its name or its id (the same for S3)."""
    return {v for v in (props.get("bucket"), props.get("id")) if isinstance(v, str) and v}


def _linked(configuration: PolicyResource, bucket_value: object, buckets: list[Bucket]) -> list[Bucket]:
    by_urn = {b.urn: b for b in buckets}
    through = [by_urn[d.urn] for d in configuration.property_dependencies.get("bucket", []) if d.urn in by_urn]
    if through:
        return through
    if isinstance(bucket_value, str):
        return [b for b in buckets if bucket_value in _identities(b.props)]
    return []


def stack_buckets(resources: list[PolicyResource]) -> StackBuckets:
    buckets = [Bucket(r, plain(r.props)) for r in resources if r.resource_type in BUCKET_TYPES]
    unlinked: set[str] = set()
    for resource in resources:
        if resource.resource_type not in CONFIGURATION_TYPES:
            continue
        props = plain(resource.props)
        linked = _linked(resource, props.get("bucket"), buckets)
        if not linked and is_unknown(props.get("bucket")):
            unlinked.add(resource.resource_type)
        for bucket in linked:
            bucket.configurations.setdefault(resource.resource_type, []).append(props)
    return StackBuckets(buckets, unlinked)


Finding = tuple[str, str]  # (urn, message)


def _missing(stack: StackBuckets, bucket: Bucket, types: frozenset[str], what: str, fix: str) -> Iterator[Finding]:
    if not bucket.of(types) and not stack.undecided(types):
        yield bucket.urn, f"bucket {bucket.name} has no {what}; {fix}"


# Mandatory -------------------------------------------------------------------------------------------------------


def _default_encryption(configuration: dict) -> list[dict]:
    rules = configuration.get("rules")
    if is_unknown(rules):
        return []
    return [r.get("applyServerSideEncryptionByDefault") or {} for r in as_list(rules) if isinstance(r, dict)]


def check_encryption(stack: StackBuckets) -> Iterator[Finding]:
    fix = (
        "add aws.s3.BucketServerSideEncryptionConfiguration with sse_algorithm 'aws:kms' and kms_master_key_id "
        "the lake key's ARN"
    )
    for bucket in stack.buckets:
        yield from _missing(stack, bucket, ENCRYPTION, "default encryption configuration", fix)
        for default in (d for c in bucket.of(ENCRYPTION) for d in _default_encryption(c)):
            algorithm, key = default.get("sseAlgorithm"), default.get("kmsMasterKeyId")
            if is_unknown(algorithm):
                continue
            if not algorithm:
                yield bucket.urn, f"bucket {bucket.name}: its encryption rule names no sse_algorithm; {fix}"
            elif algorithm in KMS_ALGORITHMS and key is None:
                yield (
                    bucket.urn,
                    (
                        f"bucket {bucket.name} uses {algorithm} with the AWS-managed key; set kms_master_key_id to the "
                        "lake key's ARN (a key this stack rotates and whose policy it controls)"
                    ),
                )
            elif algorithm not in KMS_ALGORITHMS and bucket.zone not in (LOGS_ZONE, UNKNOWN):
                yield (
                    bucket.urn,
                    (
                        f"bucket {bucket.name} uses sse_algorithm {algorithm!r}; set 'aws:kms' with kms_master_key_id "
                        f"the lake key's ARN (only the bucket tagged {ZONE_TAG}={LOGS_ZONE} may use AES256)"
                    ),
                )


def check_versioning(stack: StackBuckets) -> Iterator[Finding]:
    fix = "add aws.s3.BucketVersioning with versioning_configuration status 'Enabled'"
    for bucket in stack.buckets:
        yield from _missing(stack, bucket, VERSIONING, "versioning configuration", fix)
        for configuration in bucket.of(VERSIONING):
            status = get(configuration, "versioningConfiguration", "status")
            if not is_unknown(status) and status != "Enabled":
                yield bucket.urn, f"bucket {bucket.name} has versioning status {status!r}; set it to 'Enabled'"


def _policy_document(configuration: dict) -> dict | None:
    """The bucket policy, or None while it is unknown; invalid JSON reads as an empty policy."""
    try:
        policy = document(configuration.get("policy"))
    except ValueError:
        return {}
    return policy if isinstance(policy, dict) else None


def _public_grants(configuration: dict) -> list[str]:
    policy = _policy_document(configuration)
    if policy is None:
        return []
    return [
        s.label
        for s in documents.statements(policy)
        if s.allows and documents.is_everyone(s.principal) and not s.condition
    ]


def check_public_access(stack: StackBuckets) -> Iterator[Finding]:
    fix = f"add aws.s3.BucketPublicAccessBlock with {', '.join(PUBLIC_BLOCKS.values())} all True"
    for bucket in stack.buckets:
        yield from _missing(stack, bucket, PUBLIC_ACCESS_BLOCK, "public access block", fix)
        for configuration in bucket.of(PUBLIC_ACCESS_BLOCK):
            off = [
                argument
                for key, argument in PUBLIC_BLOCKS.items()
                if configuration.get(key) is not True and not is_unknown(configuration.get(key))
            ]
            if off:
                yield bucket.urn, f"bucket {bucket.name}: public access block leaves {', '.join(off)} off; {fix}"
        for configuration in bucket.of(BUCKET_POLICY):
            for label in _public_grants(configuration):
                yield (
                    bucket.urn,
                    (
                        f"bucket {bucket.name}: policy statement {label} allows everyone (Principal '*') without a "
                        "condition; name the principals that need access"
                    ),
                )


def _denies_plain_http(statement: documents.Statement) -> bool:
    secure = as_list((statement.condition.get("Bool") or {}).get("aws:SecureTransport"))
    covers_all = any(a in ("s3:*", "*") for a in statement.actions)
    resources = statement.resources
    covers_bucket_and_objects = "*" in resources or (
        any(not r.endswith("/*") for r in resources) and any(r.endswith("/*") for r in resources)
    )
    return (
        statement.effect == "Deny"
        and documents.is_everyone(statement.principal)
        and any(str(value).lower() == "false" for value in secure)
        and covers_all
        and covers_bucket_and_objects
    )


def check_tls_only(stack: StackBuckets) -> Iterator[Finding]:
    fix = (
        "add aws.s3.BucketPolicy with a statement that denies 's3:*' to Principal '*' on the bucket and "
        "its objects when aws:SecureTransport is 'false'"
    )
    for bucket in stack.buckets:
        yield from _missing(stack, bucket, BUCKET_POLICY, "bucket policy", fix)
        for configuration in bucket.of(BUCKET_POLICY):
            policy = _policy_document(configuration)
            if policy is None:
                continue  # unknown until the bucket's ARN is: checked again at `pulumi up`
            if not any(_denies_plain_http(s) for s in documents.statements(policy)):
                yield bucket.urn, f"bucket {bucket.name}: its policy does not refuse requests without TLS; {fix}"


def check_access_logging(stack: StackBuckets) -> Iterator[Finding]:
    fix = "add aws.s3.BucketLogging with target_bucket the logs bucket and target_prefix 's3-access/<zone>/'"
    for bucket in stack.buckets:
        if bucket.zone in (LOGS_ZONE, UNKNOWN):
            continue
        yield from _missing(stack, bucket, LOGGING, "server access logging", fix)
        for configuration in bucket.of(LOGGING):
            target = configuration.get("targetBucket")
            if not is_unknown(target) and (not target or target in _identities(bucket.props)):
                yield (
                    bucket.urn,
                    (
                        f"bucket {bucket.name} logs to {target!r}; set target_bucket to the logs bucket "
                        f"(tagged {ZONE_TAG}={LOGS_ZONE}), never the bucket itself"
                    ),
                )


def check_ownership(stack: StackBuckets) -> Iterator[Finding]:
    fix = "add aws.s3.BucketOwnershipControls with rule object_ownership 'BucketOwnerEnforced'"
    for bucket in stack.buckets:
        yield from _missing(stack, bucket, OWNERSHIP, "ownership controls", fix)
        for configuration in bucket.of(OWNERSHIP):
            ownership = get(configuration, "rule", "objectOwnership")
            if not is_unknown(ownership) and ownership != "BucketOwnerEnforced":
                yield bucket.urn, f"bucket {bucket.name} has object_ownership {ownership!r}; {fix}"
        acl = bucket.props.get("acl")
        if bucket.of(ACL) or (acl not in (None, "private") and not is_unknown(acl)):
            yield (
                bucket.urn,
                (
                    f"bucket {bucket.name} sets an ACL; remove it (BucketOwnerEnforced disables ACLs: grant access "
                    "with IAM and the bucket policy)"
                ),
            )


# Advisory --------------------------------------------------------------------------------------------------------


def _enabled_rules(configuration: dict) -> list[dict] | None:
    rules = configuration.get("rules")
    if is_unknown(rules):
        return None
    return [r for r in as_list(rules) if isinstance(r, dict) and r.get("status") in ("Enabled", UNKNOWN)]


def _versioned(bucket: Bucket) -> bool:
    return any(get(c, "versioningConfiguration", "status") == "Enabled" for c in bucket.of(VERSIONING))


def _lifecycle_gaps(bucket: Bucket, rules: list[dict]) -> list[str]:
    gaps = []
    if not any(r.get("abortIncompleteMultipartUpload") for r in rules):
        gaps.append("abort incomplete multipart uploads (abort_incomplete_multipart_upload)")
    if _versioned(bucket) and not any(r.get("noncurrentVersionExpiration") for r in rules):
        gaps.append("expire noncurrent versions (noncurrent_version_expiration)")
    if not any(r.get("transitions") or r.get("expiration") for r in rules):
        gaps.append("tier or expire current objects (transitions or expiration)")
    return gaps


def check_lifecycle(stack: StackBuckets) -> Iterator[Finding]:
    fix = "add aws.s3.BucketLifecycleConfiguration (abort uploads, expire noncurrent versions, tier or expire)"
    for bucket in stack.buckets:
        yield from _missing(stack, bucket, LIFECYCLE, "lifecycle configuration, so its storage only grows", fix)
        for configuration in bucket.of(LIFECYCLE):
            rules = _enabled_rules(configuration)
            if rules is None:
                continue
            for gap in _lifecycle_gaps(bucket, rules):
                yield bucket.urn, f"bucket {bucket.name}: no enabled lifecycle rule to {gap}"
