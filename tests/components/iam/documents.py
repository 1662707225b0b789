"""Reading IAM documents in tests: the statements by Sid, and the actions each resource is granted."""


def by_sid(policy: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in policy["Statement"]}


def grants(policy: dict) -> dict[str, set[str]]:
    """Resource -> the actions the policy allows on it (conditioned or not)."""
    found: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        for resource in statement["Resource"]:
            found.setdefault(resource, set()).update(statement["Action"])
    return found
