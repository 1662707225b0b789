"""Every policy of the pack: what the lake's resources must never lose (mandatory) and cost advice (advisory).

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

from guardrails import buckets, documents, service_contracts
from guardrails.props import as_list, document, get, is_unknown, plain

PACK_NAME = "datalake-guardrails"
MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY


@dataclass(frozen=True)
class Rule:
    """A policy of the pack and the resource types it reads (the tests check that each applies to something)."""

    policy: ResourceValidationPolicy | StackValidationPolicy
    types: frozenset[str]

    @property
    def name(self) -> str:
        return self.policy.name

    @property
    def mandatory(self) -> bool:
        return self.policy.enforcement_level == MANDATORY


ResourceCheck = Callable[[str, str, dict], Iterable[str]]  # (type, name, props) -> messages


def resource_rule(
    name: str, description: str, types: Iterable[str], check: ResourceCheck, level: EnforcementLevel = MANDATORY
) -> Rule:
    applies_to = frozenset(types)

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type in applies_to:
            for message in check(args.resource_type, args.name, plain(args.props)):
                report(message, None)

    policy = ResourceValidationPolicy(name=name, description=description, validate=validate, enforcement_level=level)
    return Rule(policy, applies_to)


def stack_rule(
    name: str,
    description: str,
    check: Callable[[buckets.StackBuckets], Iterator[buckets.Finding]],
    level: EnforcementLevel = MANDATORY,
) -> Rule:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        for urn, message in check(buckets.stack_buckets(list(args.resources))):
            report(message, urn)

    policy = StackValidationPolicy(name=name, description=description, validate=validate, enforcement_level=level)
    return Rule(policy, buckets.BUCKET_TYPES)


# KMS -------------------------------------------------------------------------------------------------------------

KMS_KEY = "aws:kms/key:Key"


def check_key_rotation(_type: str, name: str, props: dict) -> Iterator[str]:
    spec, rotation = props.get("customerMasterKeySpec"), props.get("enableKeyRotation")
    # Only symmetric encryption keys can rotate; asymmetric and HMAC keys are exempt.
    if spec not in (None, "SYMMETRIC_DEFAULT") or is_unknown(rotation):
        return
    if rotation is not True:
        yield f"KMS key {name} does not rotate; set enable_key_rotation=True"


# IAM -------------------------------------------------------------------------------------------------------------

POLICY_DOCUMENT_TYPES = frozenset(
    {
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/userPolicy:UserPolicy",
        "aws:iam/groupPolicy:GroupPolicy",
        "aws:iam/policy:Policy",
    }
)
ROLE = "aws:iam/role:Role"
IAM_DOCUMENT_TYPES = POLICY_DOCUMENT_TYPES | {ROLE}
ATTACHMENT_TYPES = frozenset(
    {
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
        "aws:iam/policyAttachment:PolicyAttachment",
    }
)
EXCLUSIVE_ATTACHMENT_TYPES = frozenset(
    {
        "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
        "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
        "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
    }
)


def _iam_documents(type_: str, name: str, props: dict) -> Iterator[tuple[str, dict | ValueError]]:
    """(label, parsed document or the parse error) of each identity policy the resource carries."""
    raw: list[tuple[str, object]] = []
    if type_ in POLICY_DOCUMENT_TYPES:
        raw.append((f"policy {name}", props.get("policy")))
    elif type_ == ROLE and not is_unknown(props.get("inlinePolicies")):
        for inline in as_list(props.get("inlinePolicies")):
            if isinstance(inline, dict):
                raw.append((f"role {name} inline policy {inline.get('name')}", inline.get("policy")))
    for label, value in raw:
        try:
            parsed = document(value)
        except ValueError as error:
            yield label, error
            continue
        if isinstance(parsed, dict):
            yield label, parsed


def check_wildcard_actions(type_: str, name: str, props: dict) -> Iterator[str]:
    for label, doc in _iam_documents(type_, name, props):
        if isinstance(doc, ValueError):
            yield f"{label} {doc}; write it as a JSON policy document"
            continue
        for statement in (s for s in documents.statements(doc) if s.allows):
            wild = [a for a in statement.actions if "*" in a]
            if wild:
                yield (
                    f"{label}: statement {statement.label} allows {', '.join(wild)}; list the exact actions it needs "
                    "(for example s3:GetObject), never '*' or 'service:*'"
                )
            if statement.not_actions:
                yield (
                    f"{label}: statement {statement.label} allows every action but {', '.join(statement.not_actions)}"
                    " (NotAction); list the actions it needs under Action"
                )


def check_actions_on_every_resource(type_: str, name: str, props: dict) -> Iterator[str]:
    for label, doc in _iam_documents(type_, name, props):
        if isinstance(doc, ValueError):
            continue
        for statement in (s for s in documents.statements(doc) if s.allows):
            if statement.not_resources:
                yield (
                    f"{label}: statement {statement.label} applies to every resource but "
                    f"{', '.join(statement.not_resources)} (NotResource); name the resources under Resource"
                )
                continue
            if not any(documents.is_every_resource(r) for r in statement.resources):
                continue
            scopable = sorted(set(statement.actions) - documents.UNSCOPED_ACTIONS)
            if scopable:
                yield (
                    f"{label}: statement {statement.label} allows {', '.join(scopable)} on every resource ('*'); "
                    "name the ARNs they act on (only actions IAM cannot scope, listed in guardrails/documents.py "
                    "UNSCOPED_ACTIONS, may use '*')"
                )


def _broad_managed_policy(arn: str) -> bool:
    policy = arn.rsplit("/", 1)[-1]
    return policy.startswith("AdministratorAccess") or policy == "PowerUserAccess" or "FullAccess" in policy


def check_admin_attachments(type_: str, name: str, props: dict) -> Iterator[str]:
    if type_ in ATTACHMENT_TYPES:
        arns = [props.get("policyArn")]
    elif type_ in EXCLUSIVE_ATTACHMENT_TYPES:
        arns = props.get("policyArns")
    else:
        arns = props.get("managedPolicyArns")
    if is_unknown(arns):
        return
    for arn in as_list(arns):
        if isinstance(arn, str) and _broad_managed_policy(arn):
            yield (
                f"{name} attaches {arn}; attach a policy with the actions and resources it needs instead "
                "(no AdministratorAccess, PowerUserAccess or *FullAccess)"
            )


# EMR -------------------------------------------------------------------------------------------------------------

STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
EMR_CLUSTER = "aws:emr/cluster:Cluster"
EMR_SERVERLESS = "aws:emrserverless/application:Application"


def _definition(props: dict) -> dict | None:
    try:
        parsed = document(props.get("definition"))
    except ValueError:
        return None  # Step Functions refuses the definition itself
    return parsed if isinstance(parsed, dict) else None


def check_security_configuration(type_: str, name: str, props: dict) -> Iterator[str]:
    fix = "name the stack's aws.emr.SecurityConfiguration (at-rest encryption with the lake key)"
    if type_ == EMR_CLUSTER:
        if props.get("securityConfiguration") is None:
            yield f"EMR cluster {name} has no security_configuration; {fix}"
        return
    definition = _definition(props)
    for state_name, state, _states in documents.create_cluster_states(definition or {}):
        if not documents.has_argument(documents.task_arguments(state), "SecurityConfiguration"):
            yield f"state machine {name}: state '{state_name}' creates a cluster with no SecurityConfiguration; {fix}"


def check_clusters_terminate(type_: str, name: str, props: dict) -> Iterator[str]:
    if type_ == EMR_CLUSTER:
        keep_alive, idle = props.get("keepJobFlowAliveWhenNoSteps"), get(props, "autoTerminationPolicy", "idleTimeout")
        if keep_alive is not False and not is_unknown(keep_alive) and idle is None:
            yield (
                f"EMR cluster {name} keeps running when its steps are done; set "
                "keep_job_flow_alive_when_no_steps=False or an auto_termination_policy idle_timeout"
            )
        return
    definition = _definition(props)
    for state_name, state, states in documents.create_cluster_states(definition or {}):
        for leak in documents.cluster_leaks(state, states):
            yield (
                f"state machine {name}: after '{state_name}' creates a cluster, {leak}; route every path, and a Catch "
                "for States.ALL on each state that can fail, to an elasticmapreduce:terminateCluster task"
            )


def check_auto_termination(type_: str, name: str, props: dict) -> Iterator[str]:
    if type_ == EMR_SERVERLESS:
        if get(props, "autoStopConfiguration", "enabled") is False:
            yield f"EMR Serverless application {name} never stops; set auto_stop_configuration enabled=True"
        return
    if type_ == EMR_CLUSTER:
        if props.get("autoTerminationPolicy") is None:
            yield f"EMR cluster {name} has no auto_termination_policy; set idle_timeout (seconds)"
        return
    definition = _definition(props)
    for state_name, state, _states in documents.create_cluster_states(definition or {}):
        if not documents.has_argument(documents.task_arguments(state), "AutoTerminationPolicy"):
            yield (
                f"state machine {name}: state '{state_name}' creates a cluster without an AutoTerminationPolicy; set "
                "{'IdleTimeout': seconds}: it ends the clusters no Catch reaches (a stopped or timed-out execution)"
            )


# Athena ----------------------------------------------------------------------------------------------------------

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


def check_scan_cutoff(_type: str, name: str, props: dict) -> Iterator[str]:
    configuration = props.get("configuration")
    if not is_unknown(configuration) and get(configuration, "bytesScannedCutoffPerQuery") is None:
        yield (
            f"workgroup {name} has no scan cutoff, so one query can scan the whole lake; set "
            "configuration.bytes_scanned_cutoff_per_query (settings: athena.bytes_scanned_cutoff_mb)"
        )


# Lambda ----------------------------------------------------------------------------------------------------------

FUNCTION = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl"


def check_tracing(_type: str, name: str, props: dict) -> Iterator[str]:
    mode = get(props, "tracingConfig", "mode")
    if not is_unknown(mode) and mode != "Active":
        yield f"function {name} is not traced; set tracing_config mode 'Active'"


def _permission_problems(name: str, props: dict) -> Iterator[str]:
    action, principal = props.get("action"), props.get("principal")
    if isinstance(action, str) and "*" in action:
        yield f"permission {name} grants {action}; grant lambda:InvokeFunction only"
    if principal == "*" and props.get("principalOrgId") is None:
        yield f"permission {name} lets any principal ('*') invoke; name the service or account that calls it"
    if isinstance(principal, str) and principal.endswith(".amazonaws.com"):
        if props.get("sourceArn") is None:
            yield (
                f"permission {name} lets {principal} invoke on behalf of anyone; set source_arn to the resource that "
                "calls it (the bucket's ARN, the API's execution ARN)"
            )
        if principal == "s3.amazonaws.com" and props.get("sourceAccount") is None:
            # A bucket ARN carries no account: a deleted bucket's name can be taken by another account.
            yield f"permission {name} trusts S3 without an account; set source_account to the bucket owner's account"


def check_permissions(type_: str, name: str, props: dict) -> Iterator[str]:
    if type_ == FUNCTION_URL:
        if props.get("authorizationType") == "NONE":
            yield f"function URL {name} is open to anyone; set authorization_type 'AWS_IAM'"
        return
    yield from _permission_problems(name, props)


INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"


def check_failure_destination(_type: str, name: str, props: dict) -> Iterator[str]:
    """Lambda drops an asynchronous event once its retries are spent unless a destination keeps it, and it cannot
    deliver to a FIFO queue or topic ("Capturing records of Lambda asynchronous invocations")."""
    destination = get(props, "destinationConfig", "onFailure", "destination")
    if is_unknown(destination):
        return
    if not destination:
        yield (
            f"asynchronous invoke config {name} drops events that still fail after the retries; set "
            "destination_config on_failure destination to a standard SQS queue"
        )
    elif str(destination).endswith(".fifo"):
        yield f"asynchronous invoke config {name} sends failures to a FIFO queue, which Lambda cannot deliver to"


# SQS -------------------------------------------------------------------------------------------------------------

QUEUE = "aws:sqs/queue:Queue"


def check_queue_encryption(_type: str, name: str, props: dict) -> Iterator[str]:
    """Failed events carry the data that failed: a queue states its encryption at rest ("Encryption at rest in
    Amazon SQS"): SSE-SQS, or a KMS key the senders may use."""
    sse, key = props.get("sqsManagedSseEnabled"), props.get("kmsMasterKeyId")
    if is_unknown(sse) or is_unknown(key):
        return
    if sse is not True and not key:
        yield f"queue {name} is not encrypted at rest; set sqs_managed_sse_enabled=True (or kms_master_key_id)"


# Glue ------------------------------------------------------------------------------------------------------------

GLUE_SECURED = frozenset({"aws:glue/crawler:Crawler", "aws:glue/job:Job"})


def check_glue_security_configuration(type_: str, name: str, props: dict) -> Iterator[str]:
    """Without a security configuration a job writes S3 objects, bookmarks and logs, and a crawler its logs,
    without the lake's key ("Encrypting data written by AWS Glue")."""
    configuration = props.get("securityConfiguration")
    if not is_unknown(configuration) and not configuration:
        kind = "crawler" if type_.endswith("Crawler") else "job"
        yield f"Glue {kind} {name} has no security_configuration; name the stack's aws.glue.SecurityConfiguration"


# API Gateway -----------------------------------------------------------------------------------------------------

METHOD = "aws:apigateway/method:Method"
ROUTE = "aws:apigatewayv2/route:Route"
STAGES = frozenset({"aws:apigateway/stage:Stage", "aws:apigatewayv2/stage:Stage"})


def check_methods_authorised(type_: str, name: str, props: dict) -> Iterator[str]:
    if type_ == METHOD:
        authorization, verb = props.get("authorization"), props.get("httpMethod")
    else:
        authorization, verb = props.get("authorizationType"), str(props.get("routeKey", "")).split(" ")[0]
    api_key = props.get("apiKeyRequired")
    # Browsers send CORS preflight requests without credentials.
    if verb == "OPTIONS" or is_unknown(authorization) or is_unknown(api_key):
        return
    if authorization in (None, "NONE") and api_key is not True:
        yield (
            f"method {name} can be called by anyone; set authorization 'AWS_IAM' (or an authorizer), or "
            "api_key_required=True with a usage plan"
        )


def check_stage_logging(_type: str, name: str, props: dict) -> Iterator[str]:
    settings = props.get("accessLogSettings")
    if is_unknown(settings):
        return
    if not settings or get(settings, "destinationArn") is None or get(settings, "format") is None:
        yield (
            f"stage {name} keeps no access log; set access_log_settings with destination_arn a log group with "
            "retention and a JSON format"
        )


# Step Functions, CloudWatch Logs ---------------------------------------------------------------------------------

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def check_state_machine_logging(_type: str, name: str, props: dict) -> Iterator[str]:
    logging = props.get("loggingConfiguration")
    if is_unknown(logging):
        return
    level, destination = get(logging, "level"), get(logging, "logDestination")
    fix = "set logging_configuration level 'ALL' (or 'ERROR') and log_destination '<log group ARN>:*'"
    if level in (None, "OFF"):
        yield f"state machine {name} logs nothing; {fix}"
    elif destination is None:
        yield f"state machine {name} logs to no log group; {fix}"


def check_log_retention(_type: str, name: str, props: dict) -> Iterator[str]:
    days = props.get("retentionInDays")
    if not is_unknown(days) and not days:
        yield f"log group {name} keeps its logs forever; set retention_in_days (settings: log_retention_days)"


# EC2 -------------------------------------------------------------------------------------------------------------

GROUPS = frozenset({"aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"})
GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ANYWHERE = frozenset({"0.0.0.0/0", "::/0"})


def _open_cidrs(rule: dict) -> list[str]:
    blocks = [rule.get("cidrIpv4"), rule.get("cidrIpv6")]
    for key in ("cidrBlocks", "ipv6CidrBlocks"):
        if not is_unknown(rule.get(key)):
            blocks += as_list(rule.get(key))
    return sorted({b for b in blocks if b in ANYWHERE})


def _port(value: object) -> str:
    # The engine sends every number as a float.
    return str(int(value)) if isinstance(value, int | float) else "all"


def check_open_ingress(type_: str, name: str, props: dict) -> Iterator[str]:
    if type_ in GROUPS:
        rules = [] if is_unknown(props.get("ingress")) else as_list(props.get("ingress"))
    elif type_ == GROUP_RULE:
        rules = [props] if props.get("type") == "ingress" else []
    else:
        rules = [props]
    for rule in (r for r in rules if isinstance(r, dict)):
        for cidr in _open_cidrs(rule):
            ports = "-".join(_port(rule.get(key)) for key in ("fromPort", "toPort"))
            yield (
                f"{name} admits {cidr} on ports {ports}; allow only the security groups or CIDRs that need it "
                "(Session Manager needs no inbound rule)"
            )


# The pack ---------------------------------------------------------------------------------------------------------

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
        {KMS_KEY},
        check_key_rotation,
    ),
    resource_rule(
        "iam-no-wildcard-actions",
        "IAM policies allow named actions only: no '*', 'service:*', partial wildcard or NotAction.",
        IAM_DOCUMENT_TYPES,
        check_wildcard_actions,
    ),
    resource_rule(
        "iam-no-actions-on-every-resource",
        "IAM policies allow actions on Resource '*' only where IAM offers no resource scoping (X-Ray, CloudWatch "
        "Logs delivery, elasticmapreduce:RunJobFlow); every data action names its resources.",
        IAM_DOCUMENT_TYPES,
        check_actions_on_every_resource,
    ),
    resource_rule(
        "iam-no-admin-attachments",
        "No role, user or group gets AdministratorAccess, PowerUserAccess or an AWS *FullAccess managed policy.",
        ATTACHMENT_TYPES | EXCLUSIVE_ATTACHMENT_TYPES | {ROLE},
        check_admin_attachments,
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
        {STATE_MACHINE, EMR_CLUSTER},
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
        {STATE_MACHINE, EMR_CLUSTER},
        check_security_configuration,
    ),
    resource_rule(
        "emr-clusters-terminate",
        "A state machine that creates an EMR cluster terminates it on success and on failure; a standalone cluster "
        "does not stay up once its steps are done.",
        {STATE_MACHINE, EMR_CLUSTER},
        check_clusters_terminate,
    ),
    resource_rule(
        "athena-workgroup-enforced-encrypted",
        "Athena workgroups enforce their configuration and encrypt query results with KMS.",
        {WORKGROUP},
        check_workgroup,
    ),
    resource_rule("lambda-tracing", "Lambda functions run with active X-Ray tracing.", {FUNCTION}, check_tracing),
    resource_rule(
        "lambda-scoped-permissions",
        "Lambda invoke permissions name their caller (service with source ARN, and account for S3); no function URL "
        "without authentication.",
        {PERMISSION, FUNCTION_URL},
        check_permissions,
    ),
    resource_rule(
        "lambda-async-failure-destination",
        "Asynchronous invoke configurations keep what still fails in a standard (not FIFO) queue or topic.",
        {INVOKE_CONFIG},
        check_failure_destination,
    ),
    resource_rule(
        "sqs-encrypted",
        "SQS queues are encrypted at rest (SSE-SQS or a KMS key).",
        {QUEUE},
        check_queue_encryption,
    ),
    resource_rule(
        "glue-security-configuration",
        "Glue jobs and crawlers run with a security configuration (the lake's key for S3, bookmarks and logs).",
        GLUE_SECURED,
        check_glue_security_configuration,
    ),
    resource_rule(
        "api-methods-authorised",
        "API Gateway methods and routes require IAM, an authorizer or an API key (CORS preflight OPTIONS exempt).",
        {METHOD, ROUTE},
        check_methods_authorised,
    ),
    resource_rule("api-stages-logged", "API Gateway stages write access logs.", STAGES, check_stage_logging),
    resource_rule(
        "state-machines-logged",
        "Step Functions state machines log executions to CloudWatch Logs.",
        {STATE_MACHINE},
        check_state_machine_logging,
    ),
    resource_rule("log-groups-retention", "CloudWatch log groups expire their logs.", {LOG_GROUP}, check_log_retention),
    resource_rule(
        "no-ingress-from-anywhere",
        "No security group admits traffic from 0.0.0.0/0 or ::/0 (outbound rules are not checked).",
        GROUPS | {GROUP_RULE, INGRESS_RULE},
        check_open_ingress,
    ),
    resource_rule(
        "cost-emr-auto-termination",
        "Cost: EMR clusters end themselves when idle (AutoTerminationPolicy) and EMR Serverless applications "
        "auto-stop, covering what no Catch reaches.",
        {STATE_MACHINE, EMR_CLUSTER, EMR_SERVERLESS},
        check_auto_termination,
        ADVISORY,
    ),
    resource_rule(
        "cost-athena-scan-cutoff",
        "Cost: Athena workgroups cancel queries that scan more than a set number of bytes.",
        {WORKGROUP},
        check_scan_cutoff,
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
