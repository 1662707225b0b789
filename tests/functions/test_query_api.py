"""functions/query_api.py against moto's Athena, in process: every route, refusals before Athena, results paging."""

from __future__ import annotations

import base64
import functools
import json
from types import SimpleNamespace

import boto3
import duckdb
import pytest
import requests
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.athena.models import AthenaBackend, athena_backends
from moto.athena.responses import AthenaResponse
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.exceptions import JsonRESTError
from moto.moto_api import state_manager

from functions import query_api
from pipelines.queries import load_queries
from tests.functions import archive

REGION = "eu-west-1"
WORKGROUP = "datalake-api"
DATABASE = "datalake_curated"
QUERIES = load_queries()
EXECUTION_ID = "6f1d8a5e-1c2b-4d3e-9f00-0123456789ab"


@pytest.fixture(autouse=True)
def athena_gaps(monkeypatch):
    """What real Athena does and moto 5 does not: page results, say why a query failed, 400 on an unknown id."""
    calls: list[dict] = []
    original_results = AthenaResponse.get_query_results
    original_execution = AthenaResponse.get_query_execution

    def paged_results(self):
        answer = json.loads(original_results(self))
        token, size = self._get_param("NextToken"), self._get_param("MaxResults") or 1000
        calls.append({"NextToken": token, "MaxResults": size})
        if token is not None and not token.startswith("page-"):
            raise JsonRESTError("InvalidRequestException", "The next token is invalid")
        start = int(token.removeprefix("page-")) if token else 0
        rows = answer["ResultSet"]["Rows"]
        answer["ResultSet"]["Rows"] = rows[start : start + size]
        if start + size < len(rows):
            answer["NextToken"] = f"page-{start + size}"
        return json.dumps(answer)

    def execution_with_reason(self):
        execution_id = self._get_param("QueryExecutionId")
        if execution_id not in self.athena_backend.executions:
            raise JsonRESTError("InvalidRequestException", f"QueryExecution {execution_id} was not found")
        answer = json.loads(original_execution(self))
        reason = getattr(self.athena_backend.executions[execution_id], "state_change_reason", None)
        if reason:
            answer["QueryExecution"]["Status"]["StateChangeReason"] = reason
        return json.dumps(answer)

    monkeypatch.setattr(AthenaResponse, "get_query_results", paged_results)
    monkeypatch.setattr(AthenaResponse, "get_query_execution", execution_with_reason)
    return calls


@pytest.fixture(scope="module", autouse=True)
def shipped_queries():
    """The handler reads the document the program ships in its archive, as in AWS."""
    with pytest.MonkeyPatch.context() as patch:
        archive.use_shipped_queries(patch)
        yield
    query_api.queries.cache_clear()


@pytest.fixture(scope="module", autouse=True)
def aws():
    """One moto account for the module (boto3 clients are slow to build); `backend` empties Athena per test."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "WORKGROUP": WORKGROUP,
            "DATABASE": DATABASE,
            "MAX_PAGE_SIZE": "50",
        }.items():
            patch.setenv(name, value)
        query_api.athena.cache_clear()
        with mock_aws():
            boto3.client("athena").create_work_group(Name=WORKGROUP, Configuration={})
            yield
        query_api.athena.cache_clear()


@pytest.fixture(autouse=True)
def backend() -> AthenaBackend:
    athena = athena_backends[DEFAULT_ACCOUNT_ID][REGION]
    athena.executions.clear()
    athena.query_results.clear()
    athena.query_results_queue.clear()
    return athena


def call(method, path, *, resource=None, path_parameters=None, body=None, query=None, base64_body=False):
    """One API Gateway REST (proxy, payload 1.0) event through the handler; the JSON body parsed."""
    raw = body if body is None or isinstance(body, str) else json.dumps(body)
    if base64_body and raw is not None:
        raw = base64.b64encode(raw.encode()).decode()
    event = {
        "httpMethod": method,
        "resource": resource,
        "path": path,
        "pathParameters": path_parameters,
        "queryStringParameters": query,
        "body": raw,
        "isBase64Encoded": base64_body,
    }
    response = query_api.handler(event, SimpleNamespace(aws_request_id="req-1"))
    assert response["headers"]["Content-Type"] == "application/json"
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def start(name, body=None, **kwargs):
    return call(
        "POST", f"/queries/{name}", resource="/queries/{name}", path_parameters={"name": name}, body=body, **kwargs
    )


def execution(execution_id, query=None):
    return call(
        "GET",
        f"/executions/{execution_id}",
        resource="/executions/{id}",
        path_parameters={"id": execution_id},
        query=query,
    )


# --- GET /queries ---------------------------------------------------------------------------------------------------


def test_list_queries_declares_every_query_and_its_parameters():
    status, body, _ = call("GET", "/queries", resource="/queries")
    assert status == 200
    listed = {q["name"]: q for q in body["queries"]}
    assert sorted(listed) == sorted(QUERIES)
    assert listed["user_songplays"]["pipeline"] == "sparkify"
    assert listed["user_songplays"]["parameters"][0] == {
        "name": "user_id",
        "type": "string",
        "description": "The user's id as in the event logs (digits)",
        "required": True,
        "example": "327",
        "pattern": "^[0-9]{1,10}$",
        "max_length": 10,
    }
    assert "sql" not in listed["user_songplays"]


def test_a_proxy_resource_is_routed_by_path():
    status, body, _ = call("GET", "/queries/", resource="/{proxy+}", path_parameters={"proxy": "queries"})
    assert status == 200
    assert len(body["queries"]) == len(QUERIES)


# --- POST /queries/{name} -------------------------------------------------------------------------------------------


def test_start_runs_the_named_sql_with_rendered_parameters(backend):
    status, body, _ = start(
        "user_songplays", {"parameters": {"user_id": "26", "from_date": "2018-11-01", "to_date": "2018-11-30"}}
    )
    assert status == 202
    assert body == {"execution_id": body["execution_id"], "query": "user_songplays"}
    recorded = backend.executions[body["execution_id"]]
    assert recorded.query == QUERIES["user_songplays"].sql
    assert recorded.context == {"Database": DATABASE}
    assert recorded.workgroup.name == WORKGROUP
    assert recorded.execution_parameters == ["'26'", "DATE '2018-11-01'", "DATE '2018-11-30'"]


def test_defaults_fill_in_and_no_parameters_means_no_execution_parameters(backend):
    _, body, _ = start("top_stores")
    assert backend.executions[body["execution_id"]].execution_parameters == ["1"]
    _, body, _ = start("songplays_per_hour", {"parameters": {}})
    assert backend.executions[body["execution_id"]].execution_parameters is None


def test_client_request_token_is_passed_on(backend):
    sent: list[dict] = []
    events = query_api.athena().meta.events

    def record(params, **_):
        sent.append(dict(params))

    events.register("before-parameter-build.athena.StartQueryExecution", record)
    try:
        token = "a" * 32
        status, _, _ = start("top_stores", {"parameters": {"min_items": 2}, "client_request_token": token})
        assert status == 202
        assert sent[0]["ClientRequestToken"] == token
        status, body, _ = start("top_stores", {"client_request_token": "short"})
        assert status == 400
        assert "client_request_token" in body["error"]
        assert len(sent) == 1
    finally:
        events.unregister("before-parameter-build.athena.StartQueryExecution", record)


def test_a_base64_body_is_decoded(backend):
    status, body, _ = start("vehicle_type_revenue", {"parameters": {"vehicle_type": "premium"}}, base64_body=True)
    assert status == 202
    assert backend.executions[body["execution_id"]].execution_parameters == ["'premium'"]


def test_an_apostrophe_reaches_athena_as_one_quoted_literal(backend):
    hostile = "Children's eBooks' OR 'a' LIKE 'a"
    status, body, _ = start("items_in_category", {"parameters": {"category": hostile, "min_rating": 4.5}})
    assert status == 202
    literal, rating = backend.executions[body["execution_id"]].execution_parameters
    assert literal == "'Children''s eBooks'' OR ''a'' LIKE ''a'"
    assert rating == "4.5"
    # Parsed as SQL, the literal is exactly one string value: the one sent.
    assert duckdb.sql(f"SELECT {literal}").fetchall() == [(hostile,)]


@pytest.mark.parametrize(
    ("name", "body", "parameter", "message"),
    [
        (
            "user_songplays",
            {"parameters": {"user_id": "1' OR '1'='1", "from_date": "2018-11-01", "to_date": "2018-11-30"}},
            "user_id",
            "is not a string of at most 10 characters matching ^[0-9]{1,10}$",
        ),
        (
            "user_songplays",
            {"parameters": {"user_id": "26", "from_date": "2018-11-01"}},
            "to_date",
            "missing parameter 'to_date'",
        ),
        (
            "user_songplays",
            {
                "parameters": {
                    "user_id": "26",
                    "from_date": "2018-11-01",
                    "to_date": "2018-11-30",
                    "sql": "DROP TABLE x",
                }
            },
            "sql",
            "unknown parameter 'sql'",
        ),
        ("top_stores", {"parameters": {"min_items": True}}, "min_items", "True is not an integer from 1 to 1000000"),
        ("top_stores", {"parameters": {"min_items": "1e3"}}, "min_items", "'1e3' is not an integer"),
        ("top_stores", {"parameters": {"min_items": "1; DROP TABLE kindle_items"}}, "min_items", "is not an integer"),
        ("top_stores", {"parameters": {"min_items": 0}}, "min_items", "0 is not an integer from 1 to 1000000"),
        ("top_stores", {"parameters": {"min_items": None}}, "min_items", "None is not an integer"),
        (
            "daily_revenue",
            {"parameters": {"from_date": "2024-01-01", "to_date": "2024-13-01"}},
            "to_date",
            "is not a date YYYY-MM-DD",
        ),
        (
            "daily_revenue",
            {"parameters": {"from_date": "2024-01-01", "to_date": "2024-02-01", "min_revenue": "NaN"}},
            "min_revenue",
            "is not a decimal number from 0 to 1000000000",
        ),
        (
            "vehicle_type_revenue",
            {"parameters": {"vehicle_type": "luxury"}},
            "vehicle_type",
            "'luxury' is not one of high_end, premium, basic",
        ),
        (
            "customer_orders",
            {"parameters": {"customer_id": "x" * 10_000}},
            "customer_id",
            "is not a string of at most 64",
        ),
        ("top_stores", {"parameters": ["min_items", 1]}, "parameters", '"parameters" must be an object'),
    ],
)
def test_refused_values_answer_400_naming_the_parameter_and_never_reach_athena(backend, name, body, parameter, message):
    status, answer, _ = start(name, body)
    assert status == 400
    assert answer["parameter"] == parameter
    assert message in answer["error"]
    assert len(answer["error"]) < 300
    assert backend.executions == {}


@pytest.mark.parametrize(
    ("body", "is_base64", "message"),
    [
        ("{not json", False, "not valid JSON"),
        ("[1, 2]", False, "must be a JSON object"),
        ("%%%", True, "not valid JSON"),
        (base64.b64encode(b"\xff\xfe").decode(), True, "not valid JSON"),
        (json.dumps({"parameters": {}, "query": "SELECT 1"}), False, "unknown field(s) in the body: query"),
    ],
)
def test_bad_bodies_answer_400(backend, body, is_base64, message):
    event = {
        "httpMethod": "POST",
        "resource": "/queries/{name}",
        "path": "/queries/top_stores",
        "pathParameters": {"name": "top_stores"},
        "body": body,
        "isBase64Encoded": is_base64,
    }
    response = query_api.handler(event, None)
    assert response["statusCode"] == 400
    assert message in json.loads(response["body"])["error"]
    assert backend.executions == {}


def test_unknown_query_is_404(backend):
    status, body, _ = start("drop_everything", {"parameters": {}})
    assert status == 404
    assert body == {"error": "unknown query 'drop_everything'; GET /queries lists them", "query": "drop_everything"}
    assert backend.executions == {}


def test_wrong_method_is_405_and_unknown_route_404():
    status, body, headers = call(
        "DELETE", "/queries/top_stores", resource="/queries/{name}", path_parameters={"name": "top_stores"}
    )
    assert (status, headers["Allow"]) == (405, "POST")
    assert "DELETE is not allowed on /queries/{name}" in body["error"]
    status, _, headers = call("POST", "/queries", resource="/queries")
    assert (status, headers["Allow"]) == (405, "GET")
    status, body, _ = call(
        "POST", "/sql", resource="/{proxy+}", path_parameters={"proxy": "sql"}, body={"sql": "SELECT 1"}
    )
    assert status == 404
    assert body["error"].startswith("no route /sql")


# --- GET /executions/{id} -------------------------------------------------------------------------------------------

COLUMNS = [
    {"Name": "store", "Type": "varchar"},
    {"Name": "item_count", "Type": "bigint"},
    {"Name": "rating", "Type": "double"},
    {"Name": "paid", "Type": "boolean"},
    {"Name": "revenue", "Type": "decimal"},
    {"Name": "day", "Type": "date"},
]


def athena_row(*values):
    return {"Data": [{} if v is None else {"VarCharValue": v} for v in values]}


def queue_results(rows):
    """Moto's documented way to give the next execution its results (it runs no SQL)."""
    header = athena_row(*(c["Name"] for c in COLUMNS))
    results = {"region": REGION, "results": [{"rows": [header, *rows], "column_info": COLUMNS}]}
    response = requests.post("http://motoapi.amazonaws.com/moto-api/static/athena/query-results", json=results)
    assert response.status_code == 201


def test_succeeded_rows_are_typed_and_paged_with_next_token(athena_gaps):
    queue_results(
        [
            athena_row("Tor", "2", "3.0", "true", "230.75", "2024-01-10"),
            athena_row("Penguin", "9007199254740993", "NaN", "false", "0.10", None),
            athena_row(None, None, None, None, None, None),
            athena_row("Zoë's", "0", "-1.5E-7", "true", "-1.00", "1970-01-01"),
            athena_row("last", "1", "Infinity", "false", "1.00", "2100-12-31"),
        ]
    )
    _, started, _ = start("top_stores")
    execution_id = started["execution_id"]
    status, page, _ = execution(execution_id, {"max_results": "2"})
    assert status == 200
    assert page["state"] == "SUCCEEDED"
    assert page["columns"] == [{"name": c["Name"], "type": c["Type"]} for c in COLUMNS]
    assert page["rows"] == [
        {"store": "Tor", "item_count": 2, "rating": 3.0, "paid": True, "revenue": "230.75", "day": "2024-01-10"},
        {
            "store": "Penguin",
            "item_count": 9007199254740993,
            "rating": "NaN",
            "paid": False,
            "revenue": "0.10",
            "day": None,
        },
    ]
    rows = page["rows"]
    while page["next_token"]:
        _, page, _ = execution(execution_id, {"max_results": "2", "next_token": page["next_token"]})
        rows += page["rows"]
    assert [r["store"] for r in rows] == ["Tor", "Penguin", None, "Zoë's", "last"]
    assert rows[2] == dict.fromkeys(rows[2])
    assert rows[3]["rating"] == -1.5e-7
    assert rows[4]["rating"] == "Infinity"
    # The first request asks for one more row than the page: Athena spends it on the header.
    assert athena_gaps == [
        {"NextToken": None, "MaxResults": 3},
        {"NextToken": "page-3", "MaxResults": 2},
        {"NextToken": "page-5", "MaxResults": 2},
    ]


def test_page_size_defaults_and_bounds():
    queue_results([athena_row("Tor", "2", "3.0", "true", "1.00", "2024-01-10")])
    _, started, _ = start("top_stores")
    status, page, _ = execution(started["execution_id"])
    assert (status, len(page["rows"]), page["next_token"]) == (200, 1, None)
    for bad in ("0", "51", "-1", "ten", "1.5"):
        status, body, _ = execution(started["execution_id"], {"max_results": bad})
        assert status == 400, bad
        assert body == {"error": "max_results must be an integer from 1 to 50", "parameter": "max_results"}
    status, body, _ = execution(started["execution_id"], {"page": "2"})
    assert (status, body["parameter"]) == (400, "page")


def test_bad_next_tokens_answer_400(athena_gaps):
    _, started, _ = start("top_stores")
    status, body, _ = execution(started["execution_id"], {"next_token": "not a token!"})
    assert (status, body["parameter"]) == (400, "next_token")
    assert athena_gaps == []
    status, body, _ = execution(started["execution_id"], {"next_token": "forged"})
    assert status == 400
    assert body == {"error": "next_token does not belong to this execution", "parameter": "next_token"}


def test_running_then_succeeded():
    state_manager.set_transition(model_name="athena::execution", transition={"progression": "manual", "times": 1})
    try:
        _, started, _ = start("songplays_per_hour")
        status, body, _ = execution(started["execution_id"])
        assert (status, body) == (200, {"execution_id": started["execution_id"], "state": "RUNNING"})
        status, body, _ = execution(started["execution_id"])
        assert (status, body["state"], body["rows"]) == (200, "SUCCEEDED", [])
    finally:
        state_manager.unset_transition(model_name="athena::execution")


def test_failed_query_answers_athena_reason(backend):
    _, started, _ = start("top_stores")
    recorded = backend.executions[started["execution_id"]]
    recorded.status = "FAILED"
    recorded.state_change_reason = "COLUMN_NOT_FOUND: line 2:5: Column 'store' cannot be resolved"
    status, body, _ = execution(started["execution_id"])
    assert status == 200
    assert body == {
        "execution_id": started["execution_id"],
        "state": "FAILED",
        "reason": "COLUMN_NOT_FOUND: line 2:5: Column 'store' cannot be resolved",
    }
    recorded.status, recorded.state_change_reason = "CANCELLED", None
    assert execution(started["execution_id"])[1]["reason"] == "the query was cancelled"


def test_execution_ids_are_checked_then_looked_up_in_this_workgroup_only():
    status, body, _ = execution("../../queries")
    assert status == 400
    assert "lower-case UUID" in body["error"]
    assert execution(EXECUTION_ID.upper())[0] == 400
    status, body, _ = execution(EXECUTION_ID)
    assert (status, body) == (404, {"error": f"no execution {EXECUTION_ID} in this API"})
    athena = boto3.client("athena")
    athena.create_work_group(Name="analysts", Configuration={})
    foreign = athena.start_query_execution(QueryString="SELECT * FROM secrets", WorkGroup="analysts")[
        "QueryExecutionId"
    ]
    status, body, _ = execution(foreign)
    assert (status, body) == (404, {"error": f"no execution {foreign} in this API"})


def test_an_execution_of_another_workgroup_refused_by_iam_answers_404_like_an_unknown_one(monkeypatch, capsys):
    """Real Athena authorises GetQueryExecution against the execution's own workgroup (Athena User Guide, "Use IAM
    policies to control workgroup access"), and the API's role may act in its workgroup only: another workgroup's
    id raises AccessDeniedException, which moto (no IAM) never does. The caller must not learn the id exists."""

    class Refusing:
        def get_query_execution(self, QueryExecutionId):
            raise ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "not authorized on workgroup analysts"}},
                "GetQueryExecution",
            )

    monkeypatch.setattr(query_api, "athena", functools.cache(Refusing))
    capsys.readouterr()
    assert execution(EXECUTION_ID)[:2] == (404, {"error": f"no execution {EXECUTION_ID} in this API"})
    log = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (log["status"], log["aws_error"]) == (404, "AccessDeniedException")


def test_access_denied_elsewhere_is_still_a_service_failure(monkeypatch):
    """Only GetQueryExecution's refusal means "not ours": a role that cannot start queries is a deploy problem."""

    class Refusing:
        def start_query_execution(self, **_):
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "StartQueryExecution")

    monkeypatch.setattr(query_api, "athena", functools.cache(Refusing))
    assert start("top_stores")[0] == 502


# --- failures and logging -------------------------------------------------------------------------------------------


def test_aws_errors_answer_502_without_internals(monkeypatch, backend):
    monkeypatch.setenv("WORKGROUP", "no-such-workgroup")
    status, body, _ = start("top_stores")
    assert status == 502
    assert body == {"error": "the query service failed; retry later", "request_id": "req-1"}


def test_throttling_answers_429(monkeypatch):
    class Throttled:
        def start_query_execution(self, **_):
            raise ClientError(
                {"Error": {"Code": "TooManyRequestsException", "Message": "slow down"}}, "StartQueryExecution"
            )

    monkeypatch.setattr(query_api, "athena", functools.cache(Throttled))
    status, body, _ = start("top_stores")
    assert status == 429
    assert "retry" in body["error"]


def test_missing_configuration_is_500(monkeypatch):
    monkeypatch.delenv("DATABASE")
    status, body, _ = start("top_stores")
    assert (status, body) == (500, {"error": "internal error", "request_id": "req-1"})


def test_one_json_log_line_per_request_without_values(capsys):
    start("customer_orders", {"parameters": {"customer_id": "secret-customer-42"}})
    start("customer_orders", {"parameters": {"customer_id": "bad id"}})
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["status"] == 202
    assert first["route"] == "/queries/{name}"
    assert first["query"] == "customer_orders"
    assert first["parameters"] == ["customer_id"]
    assert first["execution_id"]
    assert first["request_id"] == "req-1"
    assert second["status"] == 400
    assert "secret-customer-42" not in lines[0]


@pytest.mark.parametrize(
    ("value", "athena_type", "expected"),
    [
        ("42", "integer", 42),
        ("-7", "tinyint", -7),
        ("2.5", "double", 2.5),
        ("-Infinity", "real", "-Infinity"),
        ("true", "boolean", True),
        ("12345678901234567890.12", "decimal", "12345678901234567890.12"),
        ("2024-01-01 10:00:00.000", "timestamp", "2024-01-01 10:00:00.000"),
        ("[a, b]", "array", "[a, b]"),
        (None, "bigint", None),
        ("oops", "bigint", "oops"),
    ],
)
def test_convert(value, athena_type, expected):
    assert query_api.convert(value, athena_type) == expected


# --- the shipped archive, alone -------------------------------------------------------------------------------------


def test_the_shipped_archive_alone_lists_and_checks_the_queries(tmp_path):
    """The archive the program uploads answers from its own queries document: in a fresh interpreter with nothing
    but it (no sqlglot, no queries/*.sql), GET /queries lists every query and a refused value is a 400, both before
    any call to Athena."""
    code = archive.unpack("query_api", tmp_path, with_queries=True)
    assert not (code / "queries").exists()
    assert not (code / "pipelines" / "queries.py").exists()
    script = """
import json
listed = handler({"httpMethod": "GET", "resource": "/queries", "path": "/queries"}, None)
refused = handler({"httpMethod": "POST", "resource": "/queries/{name}", "path": "/queries/top_stores",
                   "pathParameters": {"name": "top_stores"}, "body": '{"parameters": {"min_items": "0"}}'}, None)
print(json.dumps([listed, refused]))
"""
    listed, refused = archive.run_alone(code, "query_api", script, {"WORKGROUP": WORKGROUP, "DATABASE": DATABASE})
    assert listed["statusCode"] == 200
    assert json.loads(listed["body"]) == {"queries": [q.describe() for q in QUERIES.values()]}
    assert refused["statusCode"] == 400
    assert json.loads(refused["body"])["error"] == "parameter min_items: '0' is not an integer from 1 to 1000000"
