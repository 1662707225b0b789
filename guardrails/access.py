"""Who may call in: Lambda invoke permissions and function URLs, API Gateway methods, security-group ingress."""

from __future__ import annotations

from collections.abc import Iterator

from guardrails.props import as_list, is_unknown

PERMISSION = "aws:lambda/permission:Permission"
FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl"


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


METHOD = "aws:apigateway/method:Method"
ROUTE = "aws:apigatewayv2/route:Route"


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
