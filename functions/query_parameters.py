"""A named query's parameter values checked against their declarations and written as Athena (Trino) literals.

The query API sends the literals as ExecutionParameters; the Step Functions check of a pipeline and `make run`'s
DuckDB get them written into the SQL, at the places the declaration records.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from pipelines.query_model import ATHENA_PARAMETER_MAX, Parameter, ParameterError, Query, Value, plain


def literal(value: Value) -> str:
    """The Trino literal of a validated value: Athena pastes it into the SQL text in place of a `?`."""
    if isinstance(value, str):
        # Trino strings have one escape, the doubled quote; a backslash is an ordinary character.
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return plain(value)


def render(parameter: Parameter, value: object) -> str:
    """`value` validated, then written as the Athena literal that replaces the parameter's `?`."""
    written = literal(parameter.validate(value))
    if len(written) > ATHENA_PARAMETER_MAX:  # unreachable with a valid declaration; kept as the last guard
        raise ParameterError(parameter.name, f"parameter {parameter.name}: the value is too long for Athena")
    return written


def render_parameters(query: Query, values: Mapping[str, object]) -> list[str]:
    """The literals for Athena's ExecutionParameters, in placeholder order; ParameterError on any refused value."""
    if not isinstance(values, Mapping):
        raise ParameterError("parameters", "parameters must be an object of name: value")
    declared = [p.name for p in query.parameters]
    for name in sorted(values):
        if name not in declared:
            expected = ", ".join(declared) or "none"
            raise ParameterError(str(name), f"unknown parameter {name!r} for {query.name}; it takes: {expected}")
    literals = []
    for parameter in query.parameters:
        if parameter.name in values:
            literals.append(render(parameter, values[parameter.name]))
        elif parameter.required:
            raise ParameterError(parameter.name, f"missing parameter {parameter.name!r}: {parameter.allowed()}")
        else:
            literals.append(render(parameter, parameter.default))
    return literals


def inline_parameters(query: Query, values: Mapping[str, object] | None = None) -> str:
    """The Athena SQL with each `?` replaced by its literal (defaults where no value is given).

    What Athena itself runs after substitution; for callers that cannot pass ExecutionParameters, such as the
    Step Functions check of a pipeline.
    """
    pieces, position = [], 0
    for at, written in zip(query.placeholders, render_parameters(query, values or {}), strict=True):
        pieces += [query.sql[position:at], written]
        position = at + 1
    pieces.append(query.sql[position:])
    return "".join(pieces)
