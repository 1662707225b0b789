"""The analysts' queries (queries/*.sql): their declared parameters, and values rendered as safe Athena literals.

Plain Python: the query API Lambda, the Step Functions check and `make run` all read queries through this module.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal, get_args

QUERIES_DIR = Path(__file__).resolve().parents[1] / "queries"

ParamType = Literal["int", "number", "date", "string", "enum"]
Value = int | Decimal | date | str

# Athena refuses an ExecutionParameters item longer than 1024 characters; a string of N quotes renders as 2N + 2.
ATHENA_PARAMETER_MAX = 1024
MAX_STRING_LENGTH = 500
# Trino's DECIMAL holds at most 38 digits: a longer literal cannot be one.
MAX_NUMBER_DIGITS = 38
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_INT_TEXT = re.compile(r"-?[0-9]{1,19}")
_NUMBER_TEXT = re.compile(r"-?[0-9]{1,38}(\.[0-9]{1,38})?")
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DIRECTIVE = re.compile(r"--\s*@(\w+)(?:\s+(.*))?")
_OPTION = re.compile(r"([a-z_]+)=")
_OPTIONS: dict[str, set[str]] = {
    "int": {"min", "max", "default", "example"},
    "number": {"min", "max", "default", "example"},
    "date": {"min", "max", "default", "example"},
    "string": {"pattern", "max_length", "default", "example"},
    "enum": {"choices", "default", "example"},
}
_REQUIRED_OPTIONS: dict[str, set[str]] = {
    "int": {"min", "max"},
    "number": {"min", "max"},
    "date": {"min", "max"},
    "string": {"pattern", "max_length"},
    "enum": {"choices"},
}


class QueryFileError(ValueError):
    """A queries/*.sql file that does not follow the header syntax; the message starts with `file:line:`."""

    def __init__(self, path: Path, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line


class ParameterError(ValueError):
    """A value refused by its declaration (or an unknown or missing parameter); `parameter` names it."""

    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter


def _show(value: object) -> str:
    """The value as the caller sent it, cut short so that a megabyte of input does not become a megabyte of error."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


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
        return f"{kind} from {_plain(self.minimum)} to {_plain(self.maximum)}"

    def validate(self, value: object) -> Value:
        """The typed value, or a ParameterError naming this parameter, the value and what is allowed."""
        converted = _CONVERTERS[self.type](value)
        if converted is None or not self._within(converted):
            raise ParameterError(self.name, f"parameter {self.name}: {_show(value)} is not {self.allowed()}")
        return converted

    def render(self, value: object) -> str:
        """`value` validated, then written as the Athena literal that replaces this parameter's `?`."""
        literal = _literal(self.validate(value))
        if len(literal) > ATHENA_PARAMETER_MAX:  # unreachable with a valid declaration; kept as the last guard
            raise ParameterError(self.name, f"parameter {self.name}: the value is too long for Athena")
        return literal

    def describe(self) -> dict[str, object]:
        """The declaration as JSON-ready data (GET /queries)."""
        described: dict[str, object] = {"name": self.name, "type": self.type, "description": self.description}
        described["required"] = self.required
        for key, value in (
            ("default", self.default),
            ("minimum", self.minimum),
            ("maximum", self.maximum),
            ("pattern", self.pattern),
            ("max_length", self.max_length),
            ("example", self.example),
        ):
            if value is not None:
                described[key] = value if isinstance(value, int | str) else _plain(value)
        if self.choices:
            described["choices"] = list(self.choices)
        return described

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


# --- values -------------------------------------------------------------------------------------------------------


def _to_int(value: object) -> int | None:
    # bool is an int subclass: True would otherwise pass as 1.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INT_TEXT.fullmatch(value):
        return int(value)
    return None


def _to_number(value: object) -> Decimal | None:
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
    digits = _plain(number).lstrip("-").replace(".", "")
    return number if len(digits) <= MAX_NUMBER_DIGITS else None


def _to_date(value: object) -> date | None:
    if isinstance(value, date):
        # A datetime is a date too, but its time part would be dropped without a word.
        return None if hasattr(value, "hour") else value
    if isinstance(value, str) and _DATE_TEXT.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _to_text(value: object) -> str | None:
    # Control characters and lone surrogates have no business in a filter value, whatever a pattern allows.
    if not isinstance(value, str) or any(unicodedata.category(c) in {"Cc", "Cs"} for c in value):
        return None
    return value


_CONVERTERS = {"int": _to_int, "number": _to_number, "date": _to_date, "string": _to_text, "enum": _to_text}


def _plain(value: object) -> str:
    """Decimal without exponent (`1E+3` -> `1000`), date as ISO, anything else as str."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _literal(value: Value) -> str:
    """The Trino literal of a validated value: Athena pastes it into the SQL text in place of a `?`."""
    if isinstance(value, str):
        # Trino strings have one escape, the doubled quote; a backslash is an ordinary character.
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return _plain(value)


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
            literals.append(parameter.render(values[parameter.name]))
        elif parameter.required:
            raise ParameterError(parameter.name, f"missing parameter {parameter.name!r}: {parameter.allowed()}")
        else:
            literals.append(parameter.render(parameter.default))
    return literals


def inline_parameters(query: Query, values: Mapping[str, object] | None = None) -> str:
    """The Athena SQL with each `?` replaced by its literal (defaults where no value is given).

    What Athena itself runs after substitution; for callers that cannot pass ExecutionParameters, such as the
    Step Functions check of a pipeline.
    """
    literals = iter(render_parameters(query, values or {}))
    pieces = []
    position = 0
    for token in _tokens(query.sql, Path(query.name)):
        if token.kind == "?":
            pieces += [query.sql[position : token.start], next(literals)]
            position = token.start + 1
    pieces.append(query.sql[position:])
    return "".join(pieces)


def to_duckdb(query: Query, values: Mapping[str, object] | None = None) -> str:
    """The query with its literals in place, translated to DuckDB SQL by sqlglot (only `make run` needs sqlglot)."""
    import sqlglot  # noqa: PLC0415  (the Lambda package does not ship sqlglot)

    # "trino", not "athena": sqlglot's Athena tokenizer reads `\'` as an escaped quote (Hive rules), so the literal
    # 'C:\' would be misread, while Athena runs SELECTs on Trino, where a backslash is an ordinary character.
    return sqlglot.transpile(inline_parameters(query, values), read="trino", write="duckdb")[0]


# --- query files ----------------------------------------------------------------------------------------------------


def load_queries(directory: Path = QUERIES_DIR) -> dict[str, Query]:
    """Every `<directory>/*.sql`, parsed and checked, by name (the file stem)."""
    queries = {}
    for path in sorted(directory.glob("*.sql")):
        query = parse_query(path)
        queries[query.name] = query
    return queries


def parse_query(path: Path) -> Query:
    """Parse one query file: a header of `--` comment lines, then one SELECT statement.

    Header directives, one per line, before any SQL (other `--` lines are free comments):

        -- @description <text>                (required; repeated lines are joined with spaces)
        -- @pipeline <name>                   (required; the pipeline whose tables it reads)
        -- @param <name> <type> [<key>=<value> ...] "<description>"

    Types and their keys: `int` and `number` (min, max: required; decimal text, no exponent), `date` (min, max:
    required; YYYY-MM-DD), `string` (pattern: a Python regex the whole value must match, max_length <= 500: both
    required), `enum` (choices: comma-separated, required). Any type takes `default=`; a parameter without a
    default is required. A value is bare text up to the next space, taken literally (`pattern=^[0-9]{1,10}$`), or
    a JSON string when it contains spaces (`default="Kindle Store"`); the description is a JSON string and comes
    last. Parameters are declared in the order of their `?` placeholders, one `?` each; `?` is refused in LIMIT,
    OFFSET and FETCH (Athena substitutes values into the text, and not every engine takes a parameter there).
    """
    name = path.stem
    if not _NAME.fullmatch(name):
        raise QueryFileError(path, 1, f"query name {name!r} must match [a-z][a-z0-9_]*")
    header = _Header(path, path.read_text(encoding="utf-8").splitlines())
    for number, raw in enumerate(header.lines, start=1):
        line = raw.strip()
        found = _DIRECTIVE.fullmatch(line)
        if header.body_start < len(header.lines):
            if found:
                raise QueryFileError(path, number, "header directives must come before the SQL")
        elif line and not line.startswith("--"):
            header.body_start = number - 1
        elif found:
            header.add(number, found.group(1), (found.group(2) or "").strip())
    return header.query(name)


@dataclass
class _Header:
    """What a query file's header declared so far, and where its SQL starts."""

    path: Path
    lines: list[str]
    body_start: int = -1
    description: list[str] = field(default_factory=list)
    pipeline: list[str] = field(default_factory=list)
    # name -> (declaration, line number), in declaration order.
    parameters: dict[str, tuple[Parameter, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.body_start = len(self.lines)

    def add(self, number: int, directive: str, rest: str) -> None:
        if directive == "param":
            parameter = _parse_param(self.path, number, rest)
            if parameter.name in self.parameters:
                raise QueryFileError(self.path, number, f"parameter {parameter.name} is declared twice")
            self.parameters[parameter.name] = (parameter, number)
        elif directive in {"description", "pipeline"}:
            if not rest:
                raise QueryFileError(self.path, number, f"@{directive} needs a value")
            if directive == "pipeline" and (self.pipeline or not _NAME.fullmatch(rest)):
                raise QueryFileError(self.path, number, f"@pipeline must be given once, as a name: {rest!r}")
            getattr(self, directive).append(rest)
        else:
            message = f"unknown directive @{directive} (expected @description, @pipeline, @param)"
            raise QueryFileError(self.path, number, message)

    def query(self, name: str) -> Query:
        for directive in ("description", "pipeline"):
            if not getattr(self, directive):
                raise QueryFileError(self.path, 1, f"missing @{directive} in the header")
        text = "\n".join(self.lines)
        offset = sum(len(line) + 1 for line in self.lines[: self.body_start])
        body = [t for t in _tokens(text, self.path) if t.start >= offset]
        if not body:
            raise QueryFileError(self.path, len(self.lines), "no SQL after the header")
        _check_statement(self.path, text, body)
        self._check_placeholders(text, [t for t in body if t.kind == "?"])
        return Query(
            name=name,
            description=" ".join(self.description),
            pipeline=self.pipeline[0],
            sql=text[offset:].rstrip().removesuffix(";").rstrip(),
            parameters=tuple(p for p, _ in self.parameters.values()),
            tables=_tables(self.path, text, body),
        )

    def _check_placeholders(self, text: str, placeholders: list[_Token]) -> None:
        declared = list(self.parameters.values())
        if len(placeholders) == len(declared):
            return
        # Point at the first placeholder without a declaration, or the first declaration without a placeholder.
        if len(placeholders) > len(declared):
            line = _line_of(text, placeholders[len(declared)].start)
        else:
            line = declared[len(placeholders)][1]
        message = f"{len(placeholders)} '?' placeholders but {len(declared)} declared parameters"
        raise QueryFileError(self.path, line, message)


def _split_param(path: Path, number: int, text: str) -> tuple[list[str], dict[str, str], str]:
    """`name type key=value ... "description"` -> ([name, type], options, description)."""
    decoder = json.JSONDecoder()
    words: list[str] = []
    options: dict[str, str] = {}
    description: str | None = None
    position = 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        if description is not None:
            raise QueryFileError(path, number, "the quoted description must come last")
        option = _OPTION.match(text, position)
        start = option.end() if option else position
        if start < len(text) and text[start] == '"':
            try:
                value, position = decoder.raw_decode(text, start)
            except json.JSONDecodeError as error:
                raise QueryFileError(path, number, f"bad quoted string: {error.msg}") from None
        else:
            end = start
            while end < len(text) and not text[end].isspace():
                end += 1
            value, position = text[start:end], end
        if option:
            key = option.group(1)
            if key in options:
                raise QueryFileError(path, number, f"option {key} given twice")
            options[key] = value
        elif text[start] == '"':
            description = value
        else:
            words.append(value)
    if description is None or not description.strip():
        raise QueryFileError(path, number, 'a parameter needs a quoted description at the end: "..."')
    return words, options, description


def _parse_param(path: Path, number: int, text: str) -> Parameter:
    words, options, description = _split_param(path, number, text)
    if len(words) != 2:
        raise QueryFileError(path, number, f"expected '@param <name> <type> ...', got {' '.join(words)!r}")
    name, type_ = words
    if not _NAME.fullmatch(name):
        raise QueryFileError(path, number, f"parameter name {name!r} must match [a-z][a-z0-9_]*")
    if type_ not in get_args(ParamType):
        raise QueryFileError(path, number, f"unknown type {type_!r} (expected one of {', '.join(get_args(ParamType))})")
    unknown = set(options) - _OPTIONS[type_]
    if unknown:
        raise QueryFileError(path, number, f"{type_} takes {sorted(_OPTIONS[type_])}, not {sorted(unknown)}")
    missing = _REQUIRED_OPTIONS[type_] - set(options)
    if missing:
        raise QueryFileError(path, number, f"{type_} parameter {name} needs {sorted(missing)}")
    try:
        fields = _TYPE_FIELDS[type_](options)
    except ValueError as error:
        raise QueryFileError(path, number, f"parameter {name}: {error}") from None
    parameter = Parameter(name=name, type=type_, description=description, **fields)  # type: ignore[arg-type]
    for key in ("default", "example"):
        if key in options:
            try:
                parameter = replace(parameter, **{key: parameter.validate(options[key])})
            except ParameterError as error:
                raise QueryFileError(path, number, f"{key}: {error}") from None
    return parameter


def _bounds(options: dict[str, str], convert) -> dict[str, object]:
    low, high = convert(options["min"]), convert(options["max"])
    if low is None or high is None:
        raise ValueError(f"min={options['min']!r} and max={options['max']!r} must both be valid values of the type")
    if low > high:
        raise ValueError(f"min {options['min']} is greater than max {options['max']}")
    return {"minimum": low, "maximum": high}


def _int_fields(options: dict[str, str]) -> dict[str, object]:
    fields = _bounds(options, _to_int)
    if fields["minimum"] < BIGINT_MIN or fields["maximum"] > BIGINT_MAX:  # type: ignore[operator]
        raise ValueError("bounds must fit in a bigint")
    return fields


def _string_fields(options: dict[str, str]) -> dict[str, object]:
    try:
        re.compile(options["pattern"])
    except re.error as error:
        raise ValueError(f"pattern {options['pattern']!r} is not a valid regex: {error}") from None
    if not options["max_length"].isdigit() or not 1 <= int(options["max_length"]) <= MAX_STRING_LENGTH:
        raise ValueError(f"max_length must be an integer from 1 to {MAX_STRING_LENGTH}")
    return {"pattern": options["pattern"], "max_length": int(options["max_length"])}


def _enum_fields(options: dict[str, str]) -> dict[str, object]:
    choices = tuple(options["choices"].split(","))
    if any(not c or _to_text(c) is None or len(c) > MAX_STRING_LENGTH for c in choices):
        raise ValueError(f"choices {options['choices']!r} must be non-empty, comma-separated plain text")
    if len(set(choices)) != len(choices):
        raise ValueError(f"choices {options['choices']!r} repeat a value")
    return {"choices": choices}


_TYPE_FIELDS = {
    "int": _int_fields,
    "number": lambda options: _bounds(options, _to_number),
    "date": lambda options: _bounds(options, _to_date),
    "string": _string_fields,
    "enum": _enum_fields,
}


# --- SQL scanning ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "word", "ident" (double-quoted), "string", "number", "?", or the punctuation character itself
    text: str
    start: int


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?")


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _closing(text: str, start: int, quote: str, path: Path) -> int:
    """End of a quoted string or identifier opened at `start`; doubling the quote escapes it (Trino rules)."""
    position = start + 1
    while True:
        position = text.find(quote, position)
        if position < 0:
            raise QueryFileError(path, _line_of(text, start), f"unterminated {quote}...{quote}")
        if text.startswith(quote * 2, position):
            position += 2
            continue
        return position + 1


def _tokens(text: str, path: Path) -> Iterator[_Token]:
    """The SQL tokens outside comments: enough lexing to find placeholders and table names without a parser."""
    position = 0
    while position < len(text):
        char = text[position]
        if char.isspace():
            position += 1
        elif text.startswith("--", position):
            end = text.find("\n", position)
            position = len(text) if end < 0 else end
        elif text.startswith("/*", position):
            end = text.find("*/", position + 2)
            if end < 0:
                raise QueryFileError(path, _line_of(text, position), "unterminated /* comment")
            position = end + 2
        elif char in "'\"":
            end = _closing(text, position, char, path)
            yield _Token("string" if char == "'" else "ident", text[position:end], position)
            position = end
        elif found := _WORD.match(text, position) or _NUMBER.match(text, position):
            kind = "word" if char.isalpha() or char == "_" else "number"
            yield _Token(kind, found.group(), position)
            position = found.end()
        else:
            yield _Token(char, char, position)
            position += 1


def _is_word(token: _Token | None, *words: str) -> bool:
    return token is not None and token.kind == "word" and token.text.upper() in words


def _check_statement(path: Path, text: str, body: list[_Token]) -> None:
    if not _is_word(body[0], "SELECT", "WITH"):
        raise QueryFileError(path, _line_of(text, body[0].start), "a query must be one SELECT (or WITH ... SELECT)")
    for index, token in enumerate(body):
        if token.kind == ";" and index != len(body) - 1:
            raise QueryFileError(path, _line_of(text, token.start), "one statement per file")
        if _is_word(token, "LIMIT", "OFFSET", "FETCH"):
            following = body[index + 1 : index + 3]
            if any(t.kind == "?" for t in following):
                raise QueryFileError(path, _line_of(text, token.start), f"no '?' in {token.text.upper()}")


def _tables(path: Path, text: str, body: list[_Token]) -> tuple[str, ...]:
    """Names after FROM/JOIN in query scope (not EXTRACT(x FROM y)), minus the WITH names and function calls."""
    tables: set[str] = set()
    ctes: set[str] = set()
    scopes = [True]  # one entry per open parenthesis: does it hold a query?
    for index, token in enumerate(body):
        following = body[index + 1] if index + 1 < len(body) else None
        after = body[index + 2] if index + 2 < len(body) else None
        if token.kind == "(":
            scopes.append(_is_word(following, "SELECT", "WITH", "VALUES"))
        elif token.kind == ")" and len(scopes) > 1:
            scopes.pop()
        elif token.kind == "word" and _is_word(following, "AS") and after is not None and after.kind == "(":
            ctes.add(token.text.lower())
        elif _is_word(token, "FROM", "JOIN") and scopes[-1] and following and following.kind in {"word", "ident"}:
            if after is not None and after.kind == "(":
                continue  # UNNEST(...), TABLE(...): not a table
            if after is not None and after.kind == ".":
                line = _line_of(text, following.start)
                raise QueryFileError(path, line, "tables are unqualified: the database comes from the execution")
            tables.add(following.text.strip('"') if following.kind == "ident" else following.text.lower())
    return tuple(sorted(tables - ctes))
