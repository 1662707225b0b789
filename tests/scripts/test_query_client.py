"""scripts/query.py without a network: a scripted fake API behind an injected transport, fake stack outputs."""

from __future__ import annotations

import json
import subprocess
import urllib.error
from datetime import UTC, datetime

import pytest
from botocore.credentials import Credentials
from botocore.stub import Stubber

from scripts import query as client

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
