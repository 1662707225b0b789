"""tools/query.py without a network: a scripted fake API behind an injected transport, fake stack outputs."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
from datetime import UTC, datetime

import pytest
from botocore.credentials import Credentials
from botocore.stub import Stubber

from tests.functions import archive
from tests.infra import ROOT
from tools import query as client

URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/"
EXECUTION = "6f1d8a5e-1c2b-4d3e-9f00-0123456789ab"
COLUMNS = [{"name": "store", "type": "varchar"}, {"name": "rating_count", "type": "bigint"}]


class FakeApi:
    """Answers (method, path) in order from a script, and records what was sent."""

    def __init__(self, script: list[tuple[str, str, int, object]]):
        self.script = list(script)
        self.sent: list[dict] = []

    def __call__(self, method, url, headers, body):
        self.sent.append({"method": method, "url": url, "headers": dict(headers), "body": body})
        expected_method, expected_url, status, answer = self.script.pop(0)
        assert (method, url) == (expected_method, expected_url)
        return status, json.dumps(answer).encode()


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self):
        return self.now


@pytest.fixture
def outputs(tmp_path):
    def write(**values):
        path = tmp_path / "outputs.json"
        path.write_text(json.dumps({"api_url": URL, "api_auth": "api_key", "api_key_id": "k1", **values}))
        return str(path)

    return write


def run(argv, api, clock=None, **kwargs):
    clock = clock or Clock()
    kwargs.setdefault("fetch_key", lambda key_id, region: f"value-of-{key_id}-in-{region}")
    kwargs.setdefault("environ", {})  # a developer's own DATALAKE_API_URL must not leak into the tests
    return client.main(argv, transport=api, sleep=clock.sleep, clock=clock, **kwargs)


def page(rows, next_token=None):
    return {"execution_id": EXECUTION, "state": "SUCCEEDED", "columns": COLUMNS, "rows": rows, "next_token": next_token}


def test_starts_waits_follows_pages_and_prints_the_table(outputs, capsys):
    api = FakeApi(
        [
            ("POST", URL + "queries/top_stores", 202, {"execution_id": EXECUTION}),
            ("GET", URL + f"executions/{EXECUTION}?max_results=2", 200, {"state": "QUEUED"}),
            ("GET", URL + f"executions/{EXECUTION}?max_results=2", 200, {"state": "RUNNING"}),
            (
                "GET",
                URL + f"executions/{EXECUTION}?max_results=2",
                200,
                page([{"store": "Tor", "rating_count": 300}, {"store": "Zoë's", "rating_count": None}], "a/b+c="),
            ),
            (
                "GET",
                URL + f"executions/{EXECUTION}?max_results=2&next_token=a%2Fb%2Bc%3D",
                200,
                page([{"store": "Penguin", "rating_count": 150}]),
            ),
        ]
    )
    clock = Clock()
    assert run(["top_stores", "min_items=2", "--outputs", outputs(), "--page-size", "2"], api, clock) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "store   | rating_count",
        "--------+-------------",
        "Tor     |          300",
        "Zoë's   |         NULL",
        "Penguin |          150",
        "(3 rows)",
    ]
    assert f"execution {EXECUTION}" in err
    assert json.loads(api.sent[0]["body"]) == {"parameters": {"min_items": "2"}}
    assert api.sent[0]["headers"]["x-api-key"] == "value-of-k1-in-eu-west-1"
    assert api.sent[0]["headers"]["Content-Type"] == "application/json"
    assert all(s["headers"]["x-api-key"] == "value-of-k1-in-eu-west-1" for s in api.sent)
    assert clock.sleeps == [0.5, 0.75]
    assert api.script == []


def test_http_errors_are_printed_with_the_api_message(outputs, capsys):
    message = "parameter user_id: '1 OR 1=1' is not a string of at most 10 characters matching ^[0-9]{1,10}$"
    api = FakeApi([("POST", URL + "queries/user_songplays", 400, {"error": message, "parameter": "user_id"})])
    assert run(["user_songplays", "user_id=1 OR 1=1", "--outputs", outputs()], api) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"error: HTTP 400 from POST /queries/user_songplays: {message}\n"  # nothing started, nothing else
    api = FakeApi([("POST", URL + "queries/nope", 404, {"error": "unknown query 'nope'; GET /queries lists them"})])
    assert run(["nope", "--outputs", outputs()], api) == 1
    assert "HTTP 404 from POST /queries/nope: unknown query 'nope'" in capsys.readouterr().err


def test_a_failed_query_prints_athena_reason(outputs, capsys):
    reason = "COLUMN_NOT_FOUND: line 2:5: Column 'store' cannot be resolved"
    api = FakeApi(
        [
            ("POST", URL + "queries/top_stores", 202, {"execution_id": EXECUTION}),
            ("GET", URL + f"executions/{EXECUTION}", 200, {"state": "FAILED", "reason": reason}),
        ]
    )
    assert run(["top_stores", "--outputs", outputs()], api) == 1
    assert capsys.readouterr().err.endswith(f"error: query failed: {reason}\n")


def test_polling_is_bounded_by_the_timeout(outputs, capsys):
    running = ("GET", URL + f"executions/{EXECUTION}", 200, {"state": "RUNNING"})
    api = FakeApi([("POST", URL + "queries/top_stores", 202, {"execution_id": EXECUTION}), *[running] * 20])
    clock = Clock()
    assert run(["top_stores", "--outputs", outputs(), "--timeout", "10"], api, clock) == 1
    assert capsys.readouterr().err.endswith(f"error: execution {EXECUTION} still RUNNING after 10 s; try again later\n")
    assert clock.sleeps == [0.5, 0.75, 1.125, 1.6875, 2.53125, 3.40625]  # the last one stops at the deadline
    assert sum(clock.sleeps) == 10


def test_an_existing_execution_can_be_fetched(outputs, capsys):
    api = FakeApi([("GET", URL + f"executions/{EXECUTION}", 200, page([{"store": "Tor", "rating_count": 1}]))])
    assert run(["--execution", EXECUTION, "--outputs", outputs()], api) == 0
    assert "Tor   |            1" in capsys.readouterr().out


def test_list_prints_queries_and_parameters(outputs, capsys):
    listed = {
        "queries": [
            {
                "name": "top_stores",
                "pipeline": "kindle",
                "description": "Stores.",
                "parameters": [
                    {"name": "min_items", "type": "int", "required": False, "default": 1, "description": "Min."}
                ],
            }
        ]
    }
    api = FakeApi([("GET", URL + "queries", 200, listed)])
    assert run(["--list", "--outputs", outputs()], api) == 0
    assert capsys.readouterr().out == "top_stores (kindle): Stores.\n    min_items int, default 1: Min.\n"


def test_iam_auth_signs_with_sigv4_for_execute_api(outputs):
    api = FakeApi([("POST", URL + "queries/top_stores", 202, {"execution_id": EXECUTION})])
    api.script.append(("GET", URL + f"executions/{EXECUTION}", 200, page([])))
    credentials = Credentials("AKIDEXAMPLE", "secret", "session-token")
    assert run(["top_stores", "--outputs", outputs(api_auth="iam", api_key_id=None)], api, credentials=credentials) == 0
    headers = api.sent[0]["headers"]
    today = headers["X-Amz-Date"][:8]
    assert abs((datetime.strptime(today, "%Y%m%d").replace(tzinfo=UTC) - datetime.now(UTC)).days) <= 1
    assert headers["Authorization"].startswith(
        f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{today}/eu-west-1/execute-api/aws4_request, SignedHeaders="
    )
    assert "content-type" in headers["Authorization"]
    assert headers["X-Amz-Security-Token"] == "session-token"
    assert "x-api-key" not in headers


def test_default_api_key_fetch_asks_api_gateway_for_the_value():
    import boto3

    apigateway = boto3.client("apigateway", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(apigateway) as stub:
        stub.add_response("get_api_key", {"id": "k1", "value": "s3cret"}, {"apiKey": "k1", "includeValue": True})
        assert client.fetch_api_key("k1", "eu-west-1", client=apigateway) == "s3cret"
        stub.add_client_error("get_api_key", "NotFoundException", "Invalid API Key identifier specified")
        with pytest.raises(client.CliError, match=r"cannot read the value of API key k2: .*NotFoundException"):
            client.fetch_api_key("k2", "eu-west-1", client=apigateway)
        stub.assert_no_pending_responses()


def test_outputs_come_from_pulumi_by_default(monkeypatch, capsys):
    calls = []

    def fake_run(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, 255, "", "error: no stack named 'dev' found")

    monkeypatch.setattr(client.subprocess, "run", fake_run)
    assert run(["top_stores", "--stack", "dev"], FakeApi([])) == 1
    assert calls == [["pulumi", "stack", "output", "--json", "--stack", "dev"]]
    assert "no stack named 'dev' found" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"api_url": ""}, "no api_url"),
        ({"api_key_id": None}, "no api_key_id"),
        ({"api_auth": "cognito"}, "unknown api_auth 'cognito'"),
    ],
)
def test_incomplete_outputs_are_explained(outputs, capsys, values, message):
    assert run(["top_stores", "--outputs", outputs(**values)], FakeApi([])) == 1
    assert message in capsys.readouterr().err


def test_unreachable_api_is_one_line(outputs, capsys):
    def down(method, url, headers, body):
        raise urllib.error.URLError("Name or service not known")

    assert run(["top_stores", "--outputs", outputs()], down) == 1
    assert capsys.readouterr().err.startswith(f"error: cannot reach {URL}queries/top_stores: ")


@pytest.mark.parametrize("argv", [["top_stores", "min_items"], ["top_stores", "a=1", "a=2"], []])
def test_bad_arguments_are_usage_errors(outputs, argv):
    with pytest.raises(SystemExit) as caught:
        run([*argv, "--outputs", outputs()], FakeApi([]))
    assert caught.value.code == 2


def test_the_default_transport_refuses_plain_http():
    with pytest.raises(client.CliError, match="non-https"):
        client.urllib_transport("GET", "http://example.com/queries", {}, None)


# --- an analyst with a URL and a key, and no Pulumi ------------------------------------------------------------------


def no_pulumi(monkeypatch):
    def refuse(command, **kwargs):
        raise AssertionError(f"ran {command}: the direct path must not need Pulumi")

    monkeypatch.setattr(client.subprocess, "run", refuse)


def test_api_url_and_key_need_no_stack(monkeypatch, capsys):
    no_pulumi(monkeypatch)
    api = FakeApi(
        [
            ("POST", URL + "queries/top_stores", 202, {"execution_id": EXECUTION}),
            ("GET", URL + f"executions/{EXECUTION}", 200, page([{"store": "Tor", "rating_count": 3}])),
        ]
    )

    def no_lookup(key_id, region):
        raise AssertionError("the key was given: nothing may look it up")

    assert run(["top_stores", "--api-url", URL, "--api-key", "handed-over"], api, fetch_key=no_lookup) == 0
    assert {s["headers"]["x-api-key"] for s in api.sent} == {"handed-over"}
    assert "Tor" in capsys.readouterr().out


def test_api_url_and_key_from_the_environment(monkeypatch):
    no_pulumi(monkeypatch)
    api = FakeApi([("GET", URL + "queries", 200, {"queries": []})])
    environ = {"DATALAKE_API_URL": URL, "DATALAKE_API_KEY": "from-env"}
    assert run(["--list"], api, environ=environ) == 0
    assert api.sent[0]["headers"]["x-api-key"] == "from-env"


def test_api_url_without_a_key_signs_with_aws_credentials(monkeypatch):
    no_pulumi(monkeypatch)
    api = FakeApi([("GET", URL + "queries", 200, {"queries": []})])
    credentials = Credentials("AKIDEXAMPLE", "secret")
    assert run(["--list", "--api-url", URL], api, credentials=credentials) == 0
    assert api.sent[0]["headers"]["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "x-api-key" not in api.sent[0]["headers"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["top_stores", "--api-key", "k"], "--api-key needs --api-url"),
        (["top_stores", "--api-url", URL, "--api-key", "k", "--stack", "dev"], "either --api-url or --outputs"),
    ],
)
def test_direct_arguments_that_do_not_fit_are_one_line(argv, message, capsys):
    assert run(argv, FakeApi([])) == 1
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


# --- --local: the lake make run wrote, through DuckDB ---------------------------------------------------------------


@pytest.fixture
def lake(tmp_path, spark):
    from pipelines.kindle import ITEMS
    from tests.local import iceberg
    from tests.local.test_duck import KINDLE_ITEMS

    iceberg.write(spark, tmp_path / "curated", ITEMS, KINDLE_ITEMS)
    return tmp_path


def test_local_runs_a_named_query_on_the_lake(lake, capsys):
    assert run(["--local", "--lake", str(lake), "top_stores", "min_items=1"], FakeApi([])) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split(" | ")[0].strip() == "store"
    assert "Penguin" in out


def api_refusal(name: str, parameters: dict) -> str:
    """The 400 message the deployed API answers for these values (before it would call Athena)."""
    from functions import query_api

    event = {
        "httpMethod": "POST",
        "resource": "/queries/{name}",
        "path": f"/queries/{name}",
        "pathParameters": {"name": name},
        "body": json.dumps({"parameters": parameters}),
    }
    answer = query_api.handler(event, None)
    assert answer["statusCode"] == 400
    return json.loads(answer["body"])["error"]


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("top_stores", {"min_items": "0"}),
        ("top_stores", {"min_items": "many"}),
        ("top_stores", {"bogus": "1"}),
        ("daily_revenue", {"from_date": "2024-01-01"}),
        ("daily_revenue", {"from_date": "2024-02-30", "to_date": "2024-03-01"}),
    ],
)
def test_local_refuses_what_the_api_refuses_with_the_same_words(lake, capsys, monkeypatch, name, values):
    monkeypatch.setenv("WORKGROUP", "wg")
    monkeypatch.setenv("DATABASE", "db")
    archive.use_shipped_queries(monkeypatch)
    argv = ["--local", "--lake", str(lake), name, *(f"{k}={v}" for k, v in values.items())]
    assert run(argv, FakeApi([])) == 1
    assert capsys.readouterr().err == f"error: {api_refusal(name, values)}\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--local", "nope"], "unknown query 'nope'; --list shows them: customer_orders,"),
        (["--local", "songplays_per_hour"], "reads sparkify_songplays, which have no data yet: run its pipeline"),
        (["--local", "top_stores", "--execution", EXECUTION], "--local runs on this machine"),
    ],
)
def test_local_errors_are_one_line(lake, capsys, argv, message):
    assert run([*argv, "--lake", str(lake)], FakeApi([])) == 1
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def test_local_without_a_lake_says_to_run_make_run(tmp_path, capsys):
    assert run(["--local", "top_stores", "--lake", str(tmp_path / "none")], FakeApi([])) == 1
    assert "no local lake at" in capsys.readouterr().err


def test_local_list_needs_no_lake(capsys):
    assert run(["--local", "--list", "--lake", "/nonexistent"], FakeApi([])) == 0
    assert "top_stores (kindle):" in capsys.readouterr().out


def test_the_documented_command_line_is_one_line_and_non_zero(tmp_path):
    done = subprocess.run(
        [sys.executable, "tools/query.py", "--local", "top_stores", "min_items=0", "--lake", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr == "error: parameter min_items: '0' is not an integer from 1 to 1000000\n"
