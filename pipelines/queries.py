"""The analysts' queries read from queries/*.sql: each file's header of declarations, and its SQL checked with sqlglot.

The program (named queries, the Step Functions checks, the query Lambda's document), `make run` and the query
client read queries here; the declarations they become are pipelines/query_model.py's.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import get_args

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from pipelines.query_model import (
    BIGINT_MAX,
    BIGINT_MIN,
    MAX_STRING_LENGTH,
    Parameter,
    ParameterError,
    ParamType,
    Query,
    to_date,
    to_int,
    to_number,
    to_text,
)

QUERIES_DIR = Path(__file__).resolve().parents[1] / "queries"
# Athena runs SELECTs on Trino (engine version 3). Not sqlglot's "athena" dialect: its tokenizer reads `\'` as an
# escaped quote (Hive rules), where Trino has a backslash as an ordinary character.
DIALECT = "trino"

_NAME = re.compile(r"[a-z][a-z0-9_]*")
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
# Athena substitutes values into the text, and not every engine takes a parameter there.
_NO_PLACEHOLDER_AFTER = {TokenType.LIMIT, TokenType.OFFSET, TokenType.FETCH}
_UNTERMINATED = {"'": "unterminated '...'", '"': 'unterminated "..."', "/*": "unterminated /* comment"}


class QueryFileError(ValueError):
    """A queries/*.sql file that does not follow the header syntax; the message starts with `file:line:`."""

    def __init__(self, path: Path, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line


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
    return _parse_text(path, path.read_text(encoding="utf-8"))


# A file's parse is a function of its path and text, and the Query is immutable: a program run (and the test
# suite's hundreds of them, in one process) parses each text once: it was a fifth of a mock deploy's time.
@functools.lru_cache(maxsize=256)
def _parse_text(path: Path, text: str) -> Query:
    name = path.stem
    if not _NAME.fullmatch(name):
        raise QueryFileError(path, 1, f"query name {name!r} must match [a-z][a-z0-9_]*")
    header = _Header(path, text.splitlines())
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
        sql = text[offset:].rstrip().removesuffix(";").rstrip()
        tokens = _tokens(self.path, text, offset)
        if not tokens:
            raise QueryFileError(self.path, len(self.lines), "no SQL after the header")
        _check_statement(self.path, tokens)
        placeholders = [t for t in tokens if t.token_type == TokenType.PLACEHOLDER]
        self._check_placeholders(placeholders)
        return Query(
            name=name,
            description=" ".join(self.description),
            pipeline=self.pipeline[0],
            sql=sql,
            parameters=tuple(p for p, _ in self.parameters.values()),
            tables=_tables(self.path, text),
            placeholders=tuple(t.start - offset for t in placeholders),
        )

    def _check_placeholders(self, placeholders: list[Token]) -> None:
        declared = list(self.parameters.values())
        if len(placeholders) == len(declared):
            return
        # Point at the first placeholder without a declaration, or the first declaration without a placeholder.
        extra = len(placeholders) > len(declared)
        line = placeholders[len(declared)].line if extra else declared[len(placeholders)][1]
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
    fields = _bounds(options, to_int)
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
    if any(not c or to_text(c) is None or len(c) > MAX_STRING_LENGTH for c in choices):
        raise ValueError(f"choices {options['choices']!r} must be non-empty, comma-separated plain text")
    if len(set(choices)) != len(choices):
        raise ValueError(f"choices {options['choices']!r} repeat a value")
    return {"choices": choices}


_TYPE_FIELDS = {
    "int": _int_fields,
    "number": lambda options: _bounds(options, to_number),
    "date": lambda options: _bounds(options, to_date),
    "string": _string_fields,
    "enum": _enum_fields,
}


# --- the SQL, read by sqlglot ---------------------------------------------------------------------------------------


def _tokens(path: Path, text: str, offset: int) -> list[Token]:
    """The file's SQL tokens (the header is comments, which sqlglot drops); a file:line error where it stops."""
    tokenizer = Dialect.get_or_raise(DIALECT).tokenizer()
    try:
        return tokenizer.tokenize(text)
    except TokenError:
        # sqlglot stops at a token it cannot finish; it starts after the last one it did.
        done = tokenizer.tokens
        at = done[-1].end + 1 if done else offset
        rest = text[at:].lstrip()
        start = len(text) - len(rest)
        opened = next((o for o in _UNTERMINATED if rest.startswith(o)), None)
        message = _UNTERMINATED[opened] if opened else "the SQL cannot be read from here"
        raise QueryFileError(path, text.count("\n", 0, start) + 1, message) from None


def _check_statement(path: Path, tokens: list[Token]) -> None:
    if tokens[0].token_type not in {TokenType.SELECT, TokenType.WITH}:
        raise QueryFileError(path, tokens[0].line, "a query must be one SELECT (or WITH ... SELECT)")
    for index, token in enumerate(tokens):
        if token.token_type == TokenType.SEMICOLON and index != len(tokens) - 1:
            raise QueryFileError(path, token.line, "one statement per file")
        following = tokens[index + 1 : index + 3]
        if token.token_type in _NO_PLACEHOLDER_AFTER and any(t.token_type == TokenType.PLACEHOLDER for t in following):
            raise QueryFileError(path, token.line, f"no '?' in {token.text.upper()}")


def _tables(path: Path, text: str) -> tuple[str, ...]:
    """The tables the query reads (FROM and JOIN, in any subquery), without the names its WITH defines."""
    try:
        tree = sqlglot.parse_one(text, read=DIALECT)
    except ParseError as error:
        problem = error.errors[0] if error.errors else {}
        line = problem.get("line") or 1
        raise QueryFileError(path, line, f"not a query sqlglot can read: {problem.get('description', error)}") from None
    if not isinstance(tree, exp.Query):
        raise QueryFileError(path, 1, "a query must be one SELECT (or WITH ... SELECT)")
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    tables = set()
    for table in tree.find_all(exp.Table):
        if table.db or table.catalog:
            line = table.this.meta.get("line", 1)
            raise QueryFileError(path, line, "tables are unqualified: the database comes from the execution")
        tables.add(table.name if table.this.quoted else table.name.lower())
    return tuple(sorted(tables - ctes))
