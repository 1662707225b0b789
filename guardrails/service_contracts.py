"""What an AWS service requires of a resource before it will use it: values any mock accepts and AWS refuses at run
time (a role the service can never assume, a profile EMR rejects, a cluster its managed policy cannot launch).

Each check cites the AWS page its rule comes from. The pack keeps its own lists rather than importing the program's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from guardrails import documents
from guardrails.props import as_list, document, is_unknown

ROLE = "aws:iam/role:Role"
INSTANCE_PROFILE = "aws:iam/instanceProfile:InstanceProfile"
STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
EMR_CLUSTER = "aws:emr/cluster:Cluster"

# Services documented to send aws:SourceAccount when they assume a role (the program's list is checked against
# this one): "Working with AWS managed policies in the execution role" (Lambda Developer Guide); "Cross-service
# confused deputy prevention" (Step Functions Developer Guide); "Service role for Amazon EMR (EMR role)" (EMR
# Management Guide); "Job runtime roles for Amazon EMR Serverless" (EMR Serverless User Guide).
SENDS_SOURCE_ACCOUNT = frozenset(
    {"lambda.amazonaws.com", "states.amazonaws.com", "elasticmapreduce.amazonaws.com", "emr-serverless.amazonaws.com"}
)
_CONFUSED_DEPUTY_KEYS = ("aws:sourceaccount", "aws:sourcearn")

# "Tagging resources to use managed policies" / "IAM managed policy for full access (v2 managed default policy)"
# (EMR Management Guide): a cluster passes this tag, EMR propagates it to what it launches, and
# AmazonEMRServicePolicy_v2 acts only on resources that carry it.
EMR_MANAGED_TAG = ("for-use-with-amazon-emr-managed-policies", "true")


def _condition_keys(condition: dict) -> set[str]:
    """Every condition key of a statement, lower-cased (IAM compares condition keys case-insensitively)."""
    return {key.lower() for block in condition.values() if isinstance(block, dict) for key in block}


def check_trust_conditions(_type: str, name: str, props: dict) -> Iterator[str]:
    try:
        trust = document(props.get("assumeRolePolicy"))
    except ValueError:
        return  # IAM refuses the document itself
    if not isinstance(trust, dict):
        return
    for statement in (s for s in documents.statements(trust) if s.allows):
        principal = statement.principal if isinstance(statement.principal, dict) else {}
        if is_unknown(principal.get("Service")):
            continue
        keys = _condition_keys(statement.condition)
        for service in as_list(principal.get("Service")):
            if service not in SENDS_SOURCE_ACCOUNT and "aws:sourceaccount" in keys:
                yield (
                    f"role {name} trusts {service} only with aws:SourceAccount, which {service} does not send, so "
                    "the service can never assume it; drop the condition for this principal"
                )
            elif service in SENDS_SOURCE_ACCOUNT and not keys & set(_CONFUSED_DEPUTY_KEYS):
                yield (
                    f"role {name} lets {service} assume it on behalf of any account; add a StringEquals "
                    "aws:SourceAccount condition (confused-deputy protection)"
                )


def check_instance_profile_name(_type: str, name: str, props: dict) -> Iterator[str]:
    # "Customize IAM roles with Amazon EMR" (EMR Management Guide): EMR refuses an instance profile whose name is
    # not its role's ("invalid instance profile").
    profile, role = props.get("name"), props.get("role")
    if is_unknown(profile) or is_unknown(role):
        return
    if profile is None or profile != role:
        yield f"instance profile {name} is not named as its role {role!r}; set name to the role's name"


def _tags(value: object) -> dict | None:
    """An EMR tag list ([{Key, Value}]) or a Pulumi tags map as a dict; None when not known yet."""
    if is_unknown(value):
        return None
    if isinstance(value, dict):
        return value
    return {t.get("Key"): t.get("Value") for t in as_list(value) if isinstance(t, dict)}


def check_emr_managed_tag(type_: str, name: str, props: dict) -> Iterator[str]:
    key, value = EMR_MANAGED_TAG
    fix = f"tag it {key}={value} (AmazonEMRServicePolicy_v2 launches nothing untagged)"
    if type_ == EMR_CLUSTER:
        tags = _tags(props.get("tags"))
        if tags is not None and tags.get(key) != value:
            yield f"EMR cluster {name} is not tagged for the managed EMR policies; {fix}"
        return
    definition = documents.state_machine_definition(props)
    for state_name, state, _states in documents.create_cluster_states(definition):
        arguments = documents.task_arguments(state)
        if "Tags.$" in arguments:
            continue  # the execution's input decides
        tags = _tags(arguments.get("Tags"))
        if tags is not None and tags.get(key) != value:
            yield f"state machine {name}: state '{state_name}' creates a cluster that is not tagged; {fix}"


# EC2 ------------------------------------------------------------------------------------------------------------

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_RULES = frozenset(
    {
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    }
)
# "CreateSecurityGroup" and "IpRange" (Amazon EC2 API Reference): a group's or a rule's description is at most 255
# characters of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*; EC2 refuses anything else.
_EC2_DESCRIPTION = re.compile(r"^[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{0,255}$")


def check_ec2_descriptions(type_: str, name: str, props: dict) -> Iterator[str]:
    descriptions = [("description", props.get("description"))]
    if type_ == SECURITY_GROUP:
        for direction in ("ingress", "egress"):
            rules = props.get(direction)
            if not is_unknown(rules):
                descriptions += [
                    (f"{direction} rule", r.get("description")) for r in as_list(rules) if isinstance(r, dict)
                ]
    for where, text in descriptions:
        if isinstance(text, str) and not _EC2_DESCRIPTION.match(text):
            yield (
                f"{name}: {where} {text!r} has characters EC2 refuses or is over 255 long; use a-z, A-Z, 0-9, spaces "
                "and ._-:/()#,@[]+=&;{}!$* only"
            )


# Lambda ---------------------------------------------------------------------------------------------------------

FUNCTION = "aws:lambda/function:Function"
# "Defined runtime environment variables" (Lambda Developer Guide, docs.aws.amazon.com/lambda/latest/dg/
# configuration-envvars.html#configuration-envvars-runtime): Lambda sets these itself and refuses a function whose
# configuration sets one ("reserved keys"). functions/orders_ingest.py reads AWS_LAMBDA_FUNCTION_MEMORY_SIZE from it.
LAMBDA_RESERVED_ENVIRONMENT = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "TZ",
    }
)


def check_lambda_environment(_type: str, name: str, props: dict) -> Iterator[str]:
    environment = props.get("environment")
    variables = environment.get("variables") if isinstance(environment, dict) else None
    if not isinstance(variables, dict):
        return
    reserved = sorted(set(variables) & LAMBDA_RESERVED_ENVIRONMENT)
    if reserved:
        yield (
            f"function {name} sets {', '.join(reserved)}, which Lambda reserves and sets itself (it refuses the "
            "function); rename the variable"
        )
