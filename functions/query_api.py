"""The query API behind API Gateway: lists the named queries, starts one in Athena, pages its results.

There is no endpoint that takes SQL: only queries/*.sql run, with values checked against their declarations. The
function parses no SQL: it reads the queries as the program parsed and checked them at deploy time, a JSON
document in its archive (components/assets.py builds it from queries/*.sql).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from functions.query_parameters import render_parameters
from pipelines.query_model import ParameterError, Query, from_document

# Where the archive holds the queries document (the archive's root, beside functions/ and pipelines/).
QUERIES_DOCUMENT = Path(__file__).resolve().parents[1] / "queries.json"

DEFAULT_PAGE_SIZE = 100
# Athena's GetQueryResults takes MaxResults <= 1000, and the first page spends one row on the column header.
ATHENA_MAX_RESULTS = 1000
EXECUTION_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Athena's NextToken: at most 1024 characters, base64-like; nothing else is passed on.
NEXT_TOKEN = re.compile(r"[A-Za-z0-9+/=_.:-]{1,1024}")
CLIENT_TOKEN = re.compile(r"[A-Za-z0-9_.:-]{32,128}")
THROTTLED = {"TooManyRequestsException", "ThrottlingException"}
# GetQueryExecution's answers for an id this API cannot show: unknown (InvalidRequestException), or run in another
# workgroup, which IAM refuses because Athena authorises the call against the execution's own workgroup
# (Athena User Guide, "Use IAM policies to control workgroup access"; the role may act in this workgroup only).
NOT_OURS = {"InvalidRequestException", "AccessDeniedException"}
_INTEGERS = {"tinyint", "smallint", "integer", "int", "bigint"}
_FLOATS = {"double", "float", "real"}


class HttpError(Exception):
    """An answer other than success: the status and the JSON body the caller gets."""

    def __init__(self, status: int, message: str, **details: object):
        super().__init__(message)
        self.status = status
        self.body = {"error": message, **details}
        self.headers: dict[str, str] = {}


@dataclass(frozen=True)
class ApiConfig:
    """What the function's environment sets: its workgroup, the database queries run in, the largest page."""

    workgroup: str
    database: str
    max_page_size: int

    @classmethod
    def from_env(cls) -> ApiConfig:
        try:
            workgroup, database = os.environ["WORKGROUP"], os.environ["DATABASE"]
            max_page_size = int(os.environ.get("MAX_PAGE_SIZE", "500"))
        except (KeyError, ValueError) as error:
            raise RuntimeError(f"query API misconfigured: {error!r}") from None
        return cls(workgroup, database, min(max(max_page_size, 1), ATHENA_MAX_RESULTS - 1))


@dataclass
class Request:
    """One API Gateway (REST, Lambda proxy, payload 1.0) event, and what the log line says about it."""

    event: Mapping[str, object]
    path: dict[str, str]
    config: ApiConfig
    log: dict[str, object] = field(default_factory=dict)

    @property
    def query_string(self) -> dict[str, str]:
        return dict(self.event.get("queryStringParameters") or {})  # type: ignore[call-overload]

    def json_body(self) -> dict[str, object]:
        body = self.event.get("body")
        if body is None or body == "":
            return {}
        try:
            raw = base64.b64decode(str(body), validate=True) if self.event.get("isBase64Encoded") else str(body)
            parsed = json.loads(raw)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise HttpError(400, "the body is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise HttpError(400, 'the body must be a JSON object: {"parameters": {...}}')
        return parsed


@functools.cache
def queries() -> dict[str, Query]:
    """The named queries, read once per container from the document shipped with the function."""
    return from_document(QUERIES_DOCUMENT.read_text(encoding="utf-8"))


@functools.cache
def athena():
    # Fail fast: API Gateway gives up after 29 s, so retries must fit well inside that.
    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)
    return boto3.client("athena", config=config)


# --- routes ---------------------------------------------------------------------------------------------------------


def list_queries(request: Request) -> tuple[int, object]:
    return 200, {"queries": [q.describe() for q in queries().values()]}


def start_query(request: Request) -> tuple[int, object]:
    name = request.path.get("name", "")
    request.log["query"] = name
    query = queries().get(name)
    if query is None:
        raise HttpError(404, f"unknown query {name!r}; GET /queries lists them", query=name)
    body = request.json_body()
    unknown = sorted(set(body) - {"parameters", "client_request_token"})
    if unknown:
        raise HttpError(400, f"unknown field(s) in the body: {', '.join(unknown)}")
    values = body.get("parameters", {})
    if not isinstance(values, dict):
        raise HttpError(400, '"parameters" must be an object of name: value', parameter="parameters")
    request.log["parameters"] = sorted(values)  # names only: values may be personal data
    try:
        literals = render_parameters(query, values)
    except ParameterError as error:
        raise HttpError(400, str(error), parameter=error.parameter) from None
    arguments: dict[str, object] = {
        "QueryString": query.sql,
        "QueryExecutionContext": {"Database": request.config.database},
        "WorkGroup": request.config.workgroup,
    }
    if literals:  # Athena refuses an empty ExecutionParameters list
        arguments["ExecutionParameters"] = literals
    token = body.get("client_request_token")
    if token is not None:
        if not isinstance(token, str) or not CLIENT_TOKEN.fullmatch(token):
            raise HttpError(400, "client_request_token must be 32 to 128 letters, digits or _.:-")
        arguments["ClientRequestToken"] = token
    execution_id = athena().start_query_execution(**arguments)["QueryExecutionId"]
    request.log["execution_id"] = execution_id
    return 202, {"execution_id": execution_id, "query": name}


def get_execution(request: Request) -> tuple[int, object]:
    execution_id = request.path.get("id", "")
    if not EXECUTION_ID.fullmatch(execution_id):
        raise HttpError(400, "the execution id must be a lower-case UUID, as returned by POST /queries/{name}")
    request.log["execution_id"] = execution_id
    page_size, next_token = _paging(request)
    execution = _execution(execution_id, request.config.workgroup, request.log)
    status = execution["Status"]
    answer: dict[str, object] = {"execution_id": execution_id, "state": status["State"]}
    request.log["state"] = status["State"]
    if status["State"] in {"FAILED", "CANCELLED"}:
        answer["reason"] = status.get("StateChangeReason") or f"the query was {status['State'].lower()}"
    elif status["State"] == "SUCCEEDED":
        answer.update(_results(execution_id, page_size, next_token))
    return 200, answer


def _paging(request: Request) -> tuple[int, str | None]:
    query_string = request.query_string
    unknown = sorted(set(query_string) - {"max_results", "next_token"})
    if unknown:
        raise HttpError(400, f"unknown query string parameter(s): {', '.join(unknown)}", parameter=unknown[0])
    size_text = query_string.get("max_results", str(min(DEFAULT_PAGE_SIZE, request.config.max_page_size)))
    if not re.fullmatch(r"[0-9]{1,4}", size_text) or not 1 <= int(size_text) <= request.config.max_page_size:
        message = f"max_results must be an integer from 1 to {request.config.max_page_size}"
        raise HttpError(400, message, parameter="max_results")
    next_token = query_string.get("next_token")
    if next_token is not None and not NEXT_TOKEN.fullmatch(next_token):
        raise HttpError(400, "next_token is not a token this API returned", parameter="next_token")
    return int(size_text), next_token


def _execution(execution_id: str, workgroup: str, log: dict[str, object]) -> dict:
    try:
        execution = athena().get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code not in NOT_OURS:
            raise
        log["aws_error"] = code  # a 404 to the caller; the log still tells an operator which one it was
        execution = None
    # Whether another workgroup's execution is refused (IAM) or readable, it is not ours to show.
    if execution is None or execution.get("WorkGroup") != workgroup:
        raise HttpError(404, f"no execution {execution_id} in this API")
    return execution


def _results(execution_id: str, page_size: int, next_token: str | None) -> dict[str, object]:
    arguments: dict[str, object] = {"QueryExecutionId": execution_id, "MaxResults": page_size}
    if next_token:
        arguments["NextToken"] = next_token
    else:
        arguments["MaxResults"] = page_size + 1  # room for the header row Athena puts first
    try:
        response = athena().get_query_results(**arguments)
    except ClientError as error:
        if next_token and error.response["Error"]["Code"] == "InvalidRequestException":
            raise HttpError(400, "next_token does not belong to this execution", parameter="next_token") from None
        raise
    result_set = response["ResultSet"]
    columns = result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])
    names = [c["Name"] for c in columns]
    rows = [[d.get("VarCharValue") for d in row.get("Data", [])] for row in result_set.get("Rows", [])]
    # A SELECT's first page starts with the column names as a row.
    if not next_token and rows and rows[0] == names:
        rows = rows[1:]
    types = [c.get("Type", "varchar") for c in columns]
    return {
        "columns": [{"name": n, "type": t} for n, t in zip(names, types, strict=True)],
        "rows": [{n: convert(v, t) for n, v, t in zip(names, row, types, strict=True)} for row in rows],
        "next_token": response.get("NextToken"),
    }


def convert(value: str | None, athena_type: str) -> object:
    """An Athena result cell (always text) as JSON: integers, doubles and booleans typed, decimals kept as text."""
    if value is None:
        return None
    try:
        if athena_type in _INTEGERS:
            return int(value)
        if athena_type in _FLOATS:
            number = float(value)
            return number if math.isfinite(number) else value  # JSON has no NaN or Infinity
    except ValueError:
        return value
    if athena_type == "boolean":
        return {"true": True, "false": False}.get(value, value)
    return value


# --- dispatch -------------------------------------------------------------------------------------------------------

Route = Callable[[Request], tuple[int, object]]
ROUTES: dict[str, dict[str, Route]] = {
    "/queries": {"GET": list_queries},
    "/queries/{name}": {"POST": start_query},
    "/executions/{id}": {"GET": get_execution},
}
_TEMPLATE_PATTERNS = {
    template: re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$")
    for template in ROUTES
}


def _route(event: Mapping[str, object]) -> tuple[str, dict[str, str]]:
    """The route template and path parameters: the API Gateway resource, or the path under a `{proxy+}` resource."""
    resource = str(event.get("resource") or "")
    if resource in ROUTES:
        parameters = event.get("pathParameters") or {}
        return resource, {str(k): str(v) for k, v in parameters.items()}  # type: ignore[union-attr]
    path = "/" + str(event.get("path") or "").strip("/")
    for template, pattern in _TEMPLATE_PATTERNS.items():
        found = pattern.match(path)
        if found:
            return template, found.groupdict()
    raise HttpError(404, f"no route {path}; the routes are {', '.join(ROUTES)}")


def _respond(status: int, body: object, headers: Mapping[str, str] | None = None) -> dict[str, object]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": json.dumps(body),
    }


def handler(event: Mapping[str, object], context: object) -> dict[str, object]:
    started = time.monotonic()
    request_id = getattr(context, "aws_request_id", None)
    log: dict[str, object] = {"request_id": request_id, "method": event.get("httpMethod"), "path": event.get("path")}
    headers: dict[str, str] = {}
    try:
        template, path = _route(event)
        log["route"] = template
        methods = ROUTES[template]
        method = str(event.get("httpMethod") or "")
        if method not in methods:
            error = HttpError(405, f"{method or 'this method'} is not allowed on {template}")
            error.headers["Allow"] = ", ".join(methods)
            raise error
        status, body = methods[method](Request(event, path, ApiConfig.from_env(), log))
    except HttpError as error:
        status, body, headers = error.status, error.body, error.headers
        log["error"] = error.body["error"]
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Unknown")
        log["aws_error"] = code
        throttled = code in THROTTLED
        status = 429 if throttled else 502
        message = "too many queries at once; retry shortly" if throttled else "the query service failed; retry later"
        body = {"error": message, "request_id": request_id}
    except BotoCoreError as error:
        log["aws_error"] = type(error).__name__
        status, body = 502, {"error": "the query service is unreachable; retry later", "request_id": request_id}
    except Exception as error:  # a bug: the caller gets an id to quote, the log gets the details
        log["exception"] = f"{type(error).__name__}: {error}"
        status, body = 500, {"error": "internal error", "request_id": request_id}
    log.update(status=status, duration_ms=round((time.monotonic() - started) * 1000, 1))
    print(json.dumps(log, default=str), file=sys.stdout, flush=True)
    return _respond(status, body, headers)
