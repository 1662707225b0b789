"""Every policy of the pack, with its enforcement level and what it guards: mandatory ones for what the lake's
resources must never lose, advisory ones for cost. The checks live beside what they protect (access, buckets, emr,
encryption, iam, observability, service_contracts; cost for the advice).

Each check reads the resource's properties as `pulumi preview` knows them: a value still unknown (an ARN, a
JSON document built from one) is skipped, never reported, and checked again when `pulumi up` knows it.
Each message names the resource and what to change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from guardrails import access, buckets, cost, emr, encryption, iam, lakehouse, observability, service_contracts
from guardrails.props import plain

PACK_NAME = "datalake-guardrails"
MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY

ResourceCheck = Callable[[str, str, dict], Iterable[str]]  # (type, name, props) -> messages
StackCheck = Callable[[buckets.StackBuckets], Iterator[buckets.Finding]]


@dataclass(frozen=True)
class Rule:
    """A policy of the pack, the resource types it reads (the tests check that each applies to something), and the
    function that checks them."""

    policy: ResourceValidationPolicy | StackValidationPolicy
    types: frozenset[str]
    check: ResourceCheck | StackCheck

    @property
    def name(self) -> str:
        return self.policy.name

    @property
    def mandatory(self) -> bool:
        return self.policy.enforcement_level == MANDATORY


def resource_rule(
    name: str, description: str, types: Iterable[str], check: ResourceCheck, level: EnforcementLevel = MANDATORY
) -> Rule:
    applies_to = frozenset(types)

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type in applies_to:
            for message in check(args.resource_type, args.name, plain(args.props)):
                report(message, None)

    policy = ResourceValidationPolicy(name=name, description=description, validate=validate, enforcement_level=level)
    return Rule(policy, applies_to, check)


def stack_rule(name: str, description: str, check: StackCheck, level: EnforcementLevel = MANDATORY) -> Rule:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        for urn, message in check(buckets.stack_buckets(list(args.resources))):
            report(message, urn)

    policy = StackValidationPolicy(name=name, description=description, validate=validate, enforcement_level=level)
    return Rule(policy, buckets.BUCKET_TYPES, check)


def resources_rule(
    name: str, description: str, types: Iterable[str], check: Callable, level: EnforcementLevel = MANDATORY
) -> Rule:
    """A stack policy over the stack's resources themselves (not its buckets), reported on the resource at fault."""

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        for urn, message in check(list(args.resources)):
            report(message, urn)

    policy = StackValidationPolicy(name=name, description=description, validate=validate, enforcement_level=level)
    return Rule(policy, frozenset(types), check)


_LOGS_BUCKET = f"the bucket tagged {buckets.ZONE_TAG}={buckets.LOGS_ZONE}"

RULES: tuple[Rule, ...] = (
    stack_rule(
        "s3-kms-encryption",
        f"Every S3 bucket has default encryption with a customer-managed KMS key, except {_LOGS_BUCKET}, which "
        "uses SSE-S3 (AES256): S3 server access logs can only be delivered to such a bucket.",
        buckets.check_encryption,
    ),
    stack_rule("s3-versioning", "Every S3 bucket has versioning enabled.", buckets.check_versioning),
    stack_rule(
        "s3-public-access-blocked",
        "Every S3 bucket blocks public access with all four switches, and no bucket policy allows everyone.",
        buckets.check_public_access,
    ),
    stack_rule(
        "s3-tls-only",
        "Every S3 bucket's policy denies requests made without TLS (aws:SecureTransport false).",
        buckets.check_tls_only,
    ),
    stack_rule(
        "s3-access-logging",
        f"Every S3 bucket logs server access to another bucket, except {_LOGS_BUCKET}, which receives those logs "
        "(logging its own access would log every delivery).",
        buckets.check_access_logging,
    ),
    stack_rule(
        "s3-owner-enforced",
        "Every S3 bucket enforces bucket-owner object ownership (ACLs disabled) and sets no ACL.",
        buckets.check_ownership,
    ),
    resource_rule(
        "kms-key-rotation",
        "KMS keys rotate their key material (asymmetric and HMAC keys, which cannot, are exempt).",
        {encryption.KMS_KEY},
        encryption.check_key_rotation,
    ),
    resource_rule(
        "iam-no-wildcard-actions",
        "IAM policies allow named actions only: no '*', 'service:*', partial wildcard or NotAction.",
        iam.IAM_DOCUMENT_TYPES,
        iam.check_wildcard_actions,
    ),
    resource_rule(
        "iam-no-actions-on-every-resource",
        "IAM policies allow actions on Resource '*' only where IAM offers no resource scoping (X-Ray, CloudWatch "
        "Logs delivery, elasticmapreduce:RunJobFlow); every data action names its resources.",
        iam.IAM_DOCUMENT_TYPES,
        iam.check_actions_on_every_resource,
    ),
    resource_rule(
        "iam-no-admin-attachments",
        "No role, user or group gets AdministratorAccess, PowerUserAccess or an AWS *FullAccess managed policy.",
        iam.ATTACHMENT_TYPES | iam.EXCLUSIVE_ATTACHMENT_TYPES | {iam.ROLE},
        iam.check_admin_attachments,
    ),
    resource_rule(
        "iam-trust-conditions-match-the-service",
        "Role trust policies require aws:SourceAccount (or aws:SourceArn) of the services documented to send it "
        "(Lambda, Step Functions, EMR, EMR Serverless), and never of a service that does not send it.",
        {service_contracts.ROLE},
        service_contracts.check_trust_conditions,
    ),
    resource_rule(
        "iam-instance-profile-named-as-role",
        "Instance profiles are named exactly as their role (EMR refuses any other).",
        {service_contracts.INSTANCE_PROFILE},
        service_contracts.check_instance_profile_name,
    ),
    resource_rule(
        "emr-managed-policy-tag",
        "Every EMR cluster, including those a state machine creates, carries the tag "
        "for-use-with-amazon-emr-managed-policies=true that AmazonEMRServicePolicy_v2 requires.",
        {emr.STATE_MACHINE, emr.EMR_CLUSTER},
        service_contracts.check_emr_managed_tag,
    ),
    resource_rule(
        "lambda-no-reserved-environment",
        "Lambda functions set none of the environment variables Lambda reserves (AWS_REGION, "
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE, ...): Lambda refuses such a function.",
        {service_contracts.FUNCTION},
        service_contracts.check_lambda_environment,
    ),
    resource_rule(
        "ec2-valid-descriptions",
        "Security group and rule descriptions use only the characters EC2 accepts, at most 255 of them.",
        {service_contracts.SECURITY_GROUP, *service_contracts.SECURITY_GROUP_RULES},
        service_contracts.check_ec2_descriptions,
    ),
    resource_rule(
        "emr-security-configuration",
        "Every EMR cluster, including those a state machine creates, runs with a security configuration.",
        {emr.STATE_MACHINE, emr.EMR_CLUSTER},
        emr.check_security_configuration,
    ),
    resource_rule(
        "emr-clusters-terminate",
        "A state machine that creates an EMR cluster terminates it on success and on failure; a standalone cluster "
        "does not stay up once its steps are done.",
        {emr.STATE_MACHINE, emr.EMR_CLUSTER},
        emr.check_clusters_terminate,
    ),
    resource_rule(
        "athena-workgroup-enforced-encrypted",
        "Athena workgroups enforce their configuration and encrypt query results with KMS.",
        {encryption.WORKGROUP},
        encryption.check_workgroup,
    ),
    resource_rule(
        "lambda-tracing",
        "Lambda functions run with active X-Ray tracing.",
        {observability.FUNCTION},
        observability.check_tracing,
    ),
    resource_rule(
        "lambda-scoped-permissions",
        "Lambda invoke permissions name their caller (service with source ARN, and account for S3); no function URL "
        "without authentication.",
        {access.PERMISSION, access.FUNCTION_URL},
        access.check_permissions,
    ),
    resource_rule(
        "lambda-async-failure-destination",
        "Asynchronous invoke configurations keep what still fails in a standard (not FIFO) queue or topic.",
        {observability.INVOKE_CONFIG},
        observability.check_failure_destination,
    ),
    resource_rule(
        "sqs-encrypted",
        "SQS queues are encrypted at rest (SSE-SQS or a KMS key).",
        {encryption.QUEUE},
        encryption.check_queue_encryption,
    ),
    resource_rule(
        "glue-security-configuration",
        "Glue jobs and crawlers run with a security configuration (the lake's key for S3, bookmarks and logs).",
        encryption.GLUE_SECURED,
        encryption.check_glue_security_configuration,
    ),
    resource_rule(
        "glue-tables-iceberg",
        "Every curated Glue table is an Iceberg v2 table created by CreateTable's IcebergInput (CREATE), with JSON "
        "field types, lower-case columns, partition field ids from 1000 and Iceberg transforms, and no Hive parts.",
        {lakehouse.TABLE},
        lakehouse.check_iceberg_table,
    ),
    resources_rule(
        "glue-tables-maintained",
        "Every Iceberg table has the three Glue table optimizers: compaction, snapshot retention and orphan-file "
        "deletion.",
        {lakehouse.TABLE, lakehouse.OPTIMIZER},
        lakehouse.check_tables_maintained,
    ),
    resource_rule(
        "glue-table-optimizers-valid",
        "Glue table optimizers are of a type Glue knows, name their role, and compact by bin-packing, the only "
        "strategy Glue's managed compaction runs.",
        {lakehouse.OPTIMIZER},
        lakehouse.check_optimizer,
    ),
    resource_rule(
        "api-methods-authorised",
        "API Gateway methods and routes require IAM, an authorizer or an API key (CORS preflight OPTIONS exempt).",
        {access.METHOD, access.ROUTE},
        access.check_methods_authorised,
    ),
    resource_rule(
        "api-stages-logged",
        "API Gateway stages write access logs.",
        observability.STAGES,
        observability.check_stage_logging,
    ),
    resource_rule(
        "state-machines-logged",
        "Step Functions state machines log executions to CloudWatch Logs.",
        {emr.STATE_MACHINE},
        observability.check_state_machine_logging,
    ),
    resource_rule(
        "log-groups-retention",
        "CloudWatch log groups expire their logs.",
        {observability.LOG_GROUP},
        observability.check_log_retention,
    ),
    resource_rule(
        "no-ingress-from-anywhere",
        "No security group admits traffic from 0.0.0.0/0 or ::/0 (outbound rules are not checked).",
        access.GROUPS | {access.GROUP_RULE, access.INGRESS_RULE},
        access.check_open_ingress,
    ),
    resource_rule(
        "cost-emr-auto-termination",
        "Cost: EMR clusters end themselves when idle (AutoTerminationPolicy) and EMR Serverless applications "
        "auto-stop, covering what no Catch reaches.",
        {emr.STATE_MACHINE, emr.EMR_CLUSTER, emr.EMR_SERVERLESS},
        cost.check_auto_termination,
        ADVISORY,
    ),
    resource_rule(
        "cost-athena-scan-cutoff",
        "Cost: Athena workgroups cancel queries that scan more than a set number of bytes.",
        {encryption.WORKGROUP},
        cost.check_scan_cutoff,
        ADVISORY,
    ),
    stack_rule(
        "cost-s3-lifecycle",
        "Cost: every S3 bucket has a lifecycle that aborts incomplete uploads, expires noncurrent versions and "
        "tiers or expires current objects.",
        buckets.check_lifecycle,
        ADVISORY,
    ),
)

POLICIES = [rule.policy for rule in RULES]
