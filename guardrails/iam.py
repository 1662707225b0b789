"""Least privilege: what the identity policies and managed-policy attachments of roles, users and groups allow.

A document not known yet (at a first preview) is skipped; one that is not a JSON object is reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from guardrails import documents
from guardrails.props import as_list, document, is_unknown

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
