"""Resource properties as the analyzer hands them over, with values not known at preview kept as markers.

pulumi_policy wraps props in proxies that raise on an unknown value; the checks read the raw values instead
and skip only the part they cannot know yet, so one unknown ARN never hides the rest of a resource.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import Secret
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
)

# The engine sends a value that depends on an output not yet known (an ARN, a name Pulumi generates) as one
# of these sentinel strings, whatever the property's type.
UNKNOWN_VALUES = frozenset(
    {
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)


class Unknown:
    """The placeholder `plain` leaves where the engine sent an unknown value (falsy, equal to no real value)."""

    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "<unknown until the update>"


UNKNOWN = Unknown()


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


def plain(value: Any) -> Any:
    """`value` as plain dicts and lists, each unknown replaced by UNKNOWN, secrets by their value."""
    if isinstance(value, Secret):
        return plain(value.value)
    if isinstance(value, str):
        return UNKNOWN if value in UNKNOWN_VALUES else value
    if not isinstance(value, (dict, list)) and isinstance(value, (Mapping, Sequence)):
        # pulumi_policy's read-only proxies give their raw contents under this key.
        value = value["__target"]
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def get(props: Any, *path: str) -> Any:
    """props[path[0]][path[1]]...: None where a level is missing, UNKNOWN where a level is not known yet."""
    for key in path:
        if is_unknown(props):
            return UNKNOWN
        if not isinstance(props, Mapping):
            return None
        props = props.get(key)
    return props


def as_list(value: Any) -> list:
    """IAM and ASL fields take one value or a list of them."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def document(value: Any) -> dict | Unknown | None:
    """A JSON document property (IAM policy, state machine definition): parsed, UNKNOWN, or None if absent.

    Raises ValueError for text that is not a JSON object, which AWS would refuse anyway.
    """
    if value is None or is_unknown(value):
        return value
    if isinstance(value, Mapping):
        return dict(value)
    try:
        parsed = json.loads(value)
    except (TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"is not valid JSON ({error})") from None
    if not isinstance(parsed, dict):
        raise ValueError("is not a JSON object")
    return parsed
