"""The analysts' named queries as data: each query's Athena SQL and the parameters it declares, with what each
parameter accepts.

Plain Python, no SQL parsing: pipelines/queries.py reads queries/*.sql into these, and the query API Lambda gets
them as a JSON document built at deploy time (`to_document`, `from_document`).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

ParamType = Literal["int", "number", "date", "string", "enum"]
Value = int | Decimal | date | str

# Athena refuses an ExecutionParameters item longer than 1024 characters; a string of N quotes renders as 2N + 2.
ATHENA_PARAMETER_MAX = 1024
MAX_STRING_LENGTH = 500
# Trino's DECIMAL holds at most 38 digits: a longer literal cannot be one.
MAX_NUMBER_DIGITS = 38
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1

_INT_TEXT = re.compile(r"-?[0-9]{1,19}")
_NUMBER_TEXT = re.compile(r"-?[0-9]{1,38}(\.[0-9]{1,38})?")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class ParameterError(ValueError):
    """A value refused by its declaration (or an unknown or missing parameter); `parameter` names it."""

    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter


def _show(value: object) -> str:
    """The value as the caller sent it, cut short so that a megabyte of input does not become a megabyte of error."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


# --- values -------------------------------------------------------------------------------------------------------


def to_int(value: object) -> int | None:
    # bool is an int subclass: True would otherwise pass as 1.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INT_TEXT.fullmatch(value):
        return int(value)
    return None


def to_number(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        # repr is the shortest text that round-trips, so 0.1 stays 0.1 rather than its binary expansion.
        number = Decimal(repr(value))
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
        number = Decimal(value)
    else:
        return None
    if not number.is_finite():
        return None
    digits = plain(number).lstrip("-").replace(".", "")
    return number if len(digits) <= MAX_NUMBER_DIGITS else None


def to_date(value: object) -> date | None:
    if isinstance(value, date):
        # A datetime is a date too, but its time part would be dropped without a word.
        return None if hasattr(value, "hour") else value
    if isinstance(value, str) and _DATE_TEXT.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def to_text(value: object) -> str | None:
    # Control characters and lone surrogates have no business in a filter value, whatever a pattern allows.
    if not isinstance(value, str) or any(unicodedata.category(c) in {"Cc", "Cs"} for c in value):
        return None
    return value


CONVERTERS = {"int": to_int, "number": to_number, "date": to_date, "string": to_text, "enum": to_text}


def plain(value: object) -> str:
    """Decimal without exponent (`1E+3` -> `1000`), date as ISO, anything else as str."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# --- declarations -------------------------------------------------------------------------------------------------

# The declaration's values as JSON: the keys GET /queries shows, in this order, and how each is read back.
_DESCRIBED = ("default", "minimum", "maximum", "pattern", "max_length", "example")


@dataclass(frozen=True)
class Parameter:
    """One `?` of a query: its type, bounds and default as declared by a `-- @param` line."""

    name: str
    type: ParamType
    description: str
    default: Value | None = None
    minimum: int | Decimal | date | None = None
    maximum: int | Decimal | date | None = None
    pattern: str | None = None
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    # A valid value shown to callers (GET /queries) and used by `make run`; every deployed required param has one.
    example: Value | None = None

    @property
    def required(self) -> bool:
        return self.default is None

    def allowed(self) -> str:
        """What the declaration accepts, in words, for error messages."""
        if self.type == "string":
            return f"a string of at most {self.max_length} characters matching {self.pattern}"
        if self.type == "enum":
            return f"one of {', '.join(self.choices)}"
        kind = {"int": "an integer", "number": "a decimal number", "date": "a date YYYY-MM-DD"}[self.type]
        return f"{kind} from {plain(self.minimum)} to {plain(self.maximum)}"

    def validate(self, value: object) -> Value:
        """The typed value, or a ParameterError naming this parameter, the value and what is allowed."""
        converted = CONVERTERS[self.type](value)
        if converted is None or not self._within(converted):
            raise ParameterError(self.name, f"parameter {self.name}: {_show(value)} is not {self.allowed()}")
        return converted

    def describe(self) -> dict[str, object]:
        """The declaration as JSON-ready data (GET /queries)."""
        described: dict[str, object] = {"name": self.name, "type": self.type, "description": self.description}
        described["required"] = self.required
        for key in _DESCRIBED:
            value = getattr(self, key)
            if value is not None:
                described[key] = value if isinstance(value, int | str) else plain(value)
        if self.choices:
            described["choices"] = list(self.choices)
        return described

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Parameter:
        """The parameter `describe()` gave."""
        convert = CONVERTERS[data["type"]]
        values = {key: data[key] for key in ("pattern", "max_length") if key in data}
        values |= {key: convert(data[key]) for key in ("default", "minimum", "maximum", "example") if key in data}
        return cls(data["name"], data["type"], data["description"], choices=tuple(data.get("choices", ())), **values)

    def _within(self, value: Value) -> bool:
        if self.type == "string":
            text = str(value)
            return len(text) <= (self.max_length or 0) and re.fullmatch(self.pattern or "", text) is not None
        if self.type == "enum":
            return value in self.choices
        return self.minimum <= value <= self.maximum  # type: ignore[operator]


@dataclass(frozen=True)
class Query:
    """One queries/<name>.sql: `sql` is exactly what Athena runs, with one positional `?` per parameter."""

    name: str
    description: str
    pipeline: str
    sql: str
    parameters: tuple[Parameter, ...]
    # The Glue tables (glue_name) the query reads.
    tables: tuple[str, ...]
    # Where each parameter's `?` is in `sql` (character offsets, in order): Step Functions and DuckDB get the
    # values written in, Athena gets them as ExecutionParameters.
    placeholders: tuple[int, ...] = ()

    def parameter(self, name: str) -> Parameter:
        return next(p for p in self.parameters if p.name == name)

    @property
    def examples(self) -> dict[str, Value]:
        """Values that run the query: each required parameter's example (the others take their defaults)."""
        return {p.name: p.example for p in self.parameters if p.required and p.example is not None}

    def describe(self) -> dict[str, object]:
        return {
            "name": self.name,
            "description": self.description,
            "pipeline": self.pipeline,
            "parameters": [p.describe() for p in self.parameters],
        }

    def to_data(self) -> dict[str, object]:
        """The whole query as JSON-ready data: what the query API Lambda is shipped."""
        return self.describe() | {"sql": self.sql, "tables": list(self.tables), "placeholders": list(self.placeholders)}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Query:
        """The query `to_data()` gave."""
        return cls(
            name=data["name"],
            description=data["description"],
            pipeline=data["pipeline"],
            sql=data["sql"],
            parameters=tuple(Parameter.from_data(p) for p in data["parameters"]),
            tables=tuple(data["tables"]),
            placeholders=tuple(data["placeholders"]),
        )


def to_document(queries: Mapping[str, Query]) -> str:
    """The queries as one JSON document, by name: what the query API Lambda is shipped."""
    return json.dumps({name: q.to_data() for name, q in queries.items()}, ensure_ascii=False, indent=1, sort_keys=True)


def from_document(text: str) -> dict[str, Query]:
    """The queries of a to_document() document, by name."""
    return {name: Query.from_data(data) for name, data in json.loads(text).items()}
