"""How invalid stack settings are reported: a broken rule is a Problem at a key, every rule of a model reports at
once, and pydantic's errors become one line per bad key, `datalake:settings.<path>: <value> <what is allowed>`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

CONFIG_KEY = "datalake:settings"
_CROSS_FIELD = "cross_field"


class Strict(BaseModel):
    """Base of every settings model: unknown keys fail loudly, values never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SettingsError(ValueError):
    """Invalid stack settings: one line per bad key, each `datalake:settings.<path>: <value> <what is allowed>`."""


@dataclass(frozen=True)
class Problem:
    """A rule across fields broken at `path` (relative to the model that checks it) by `value`."""

    path: str
    value: Any
    message: str


Check = Callable[[Any, ValidationInfo], list[Problem]]


def rule(check: Check):
    """A cross-field rule of a settings model: its own `model_validator(mode="after")`, documented by `check`.

    `check(model, info)` returns the rule's problems. Pydantic stops at the first after-validator that raises, so the
    first rule that fails reports the problems of every rule of the model at once: one message names every bad key.
    """

    def validator(self, info: ValidationInfo):
        if check(self, info):
            problems = [p for other in rules_of(type(self)) for p in other(self, info)]
            raise PydanticCustomError(
                _CROSS_FIELD,
                "{count} cross-field problem(s)",
                {"count": len(problems), "problems": [(p.path, p.value, p.message) for p in problems]},
            )
        return self

    validator.__doc__, validator.__name__, validator.check = check.__doc__, check.__name__, check
    return model_validator(mode="after")(validator)


def rules_of(model: type[BaseModel]) -> list[Check]:
    """The model's rules, in the order they are declared."""
    validators = model.__pydantic_decorators__.model_validators.values()
    return [v.func.check for v in validators if hasattr(v.func, "check")]


def error_lines(error: ValidationError, root: type[BaseModel]) -> list[str]:
    """One line per problem pydantic found in settings validated against `root`, in the order it found them."""
    return [line for e in error.errors() for line in _format(e, root)]


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The settings model that holds the key at `loc` (to list the keys it allows)."""
    for part in loc:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _describe(error: dict) -> str:
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx", {})
    messages = {
        "greater_than_equal": lambda: f"{value!r} is below the minimum {ctx.get('ge')}",
        "greater_than": lambda: f"{value!r} must be greater than {ctx.get('gt')}",
        "less_than_equal": lambda: f"{value!r} is above the maximum {ctx.get('le')}",
        "less_than": lambda: f"{value!r} must be less than {ctx.get('lt')}",
        "literal_error": lambda: f"{value!r} is not allowed; allowed: {ctx.get('expected')}",
        "missing": lambda: "is required",
        "string_pattern_mismatch": lambda: f"{value!r} does not match the pattern {ctx.get('pattern')}",
    }
    if kind in messages:
        return messages[kind]()
    return f"{value!r} is invalid: {error['msg']}"


def _format(error: dict, root: type[BaseModel]) -> list[str]:
    loc = tuple(error["loc"])
    if error["type"] == _CROSS_FIELD:
        prefix = ".".join(str(p) for p in loc)
        return [
            f"{CONFIG_KEY}.{prefix + '.' if prefix else ''}{path}: {value!r} {message}"
            for path, value, message in error["ctx"]["problems"]
        ]
    path = f"{CONFIG_KEY}.{'.'.join(str(p) for p in loc)}"
    if error["type"] == "extra_forbidden":
        parent = _model_at(root, loc[:-1])
        allowed = ", ".join(sorted(parent.model_fields)) if parent else "none"
        return [f"{path}: is not a known setting; allowed here: {allowed}"]
    return [f"{path}: {_describe(error)}"]
