"""Run a named query and print its rows: `python tools/query.py NAME key=value ...`.

Through the deployed query API: from the stack outputs (api_url, api_auth, api_key_id), or from just a URL and a
key (--api-url, --api-key or DATALAKE_API_URL, DATALAKE_API_KEY) for an analyst without Pulumi access. It waits
with backoff for the execution and follows every page. With --local, against the lake `make run` wrote, in DuckDB.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from functions.query_parameters import render_parameters  # noqa: E402  (the path above makes the checkout importable)
from local.cli import OneLineParser  # noqa: E402
from local.duck import format_table  # noqa: E402
from pipelines.queries import ParameterError, Query, load_queries  # noqa: E402

# (method, url, headers, body) -> (status, body): urllib by default, a fake in tests.
Transport = Callable[[str, str, Mapping[str, str], bytes | None], tuple[int, bytes]]
# (method, url, headers, body) -> the headers to send, authentication included.
Auth = Callable[[str, str, dict[str, str], bytes | None], dict[str, str]]

TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED"}
URL_VARIABLE, KEY_VARIABLE = "DATALAKE_API_URL", "DATALAKE_API_KEY"
DEFAULT_LAKE = ROOT / ".lake"
FIRST_DELAY, BACKOFF, MAX_DELAY = 0.5, 1.5, 5.0
_REGION = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com")


class CliError(Exception):
    """Something the user must see as one line (an HTTP error, a failed query, a timeout); exit code 1."""


def urllib_transport(method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> tuple[int, bytes]:
    if not url.startswith("https://"):
        raise CliError(f"refusing to send credentials to a non-https URL: {url}")
    request = urllib.request.Request(url, data=body, headers=dict(headers), method=method)  # noqa: S310 (https only)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (https only, checked above)
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def api_key_auth(key: str) -> Auth:
    def add_key(method: str, url: str, headers: dict[str, str], body: bytes | None) -> dict[str, str]:
        return {**headers, "x-api-key": key}

    return add_key


def iam_auth(credentials, region: str) -> Auth:
    """SigV4 for API Gateway (service execute-api), signing exactly the URL, headers and body that are sent."""
    from botocore.auth import SigV4Auth  # noqa: PLC0415  (only IAM-authenticated stacks need botocore)
    from botocore.awsrequest import AWSRequest  # noqa: PLC0415

    def sign(method: str, url: str, headers: dict[str, str], body: bytes | None) -> dict[str, str]:
        request = AWSRequest(method=method, url=url, data=body or b"", headers=headers)
        SigV4Auth(credentials, "execute-api", region).add_auth(request)
        return dict(request.headers.items())

    return sign


def fetch_api_key(key_id: str, region: str | None, client=None) -> str:
    """The key's value: the stack exports only its id, so the secret never sits in the stack outputs."""
    import boto3  # noqa: PLC0415  (only API-key stacks need boto3)
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    try:
        client = client or boto3.client("apigateway", region_name=region)
        return client.get_api_key(apiKey=key_id, includeValue=True)["value"]
    except (BotoCoreError, ClientError) as error:
        raise CliError(f"cannot read the value of API key {key_id}: {error}") from None


def load_outputs(path: Path | None, stack: str | None) -> dict[str, object]:
    if path is not None:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CliError(f"cannot read stack outputs from {path}: {error}") from None
    command = ["pulumi", "stack", "output", "--json", *(["--stack", stack] if stack else [])]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (fixed argv)
    except FileNotFoundError:
        raise CliError("pulumi is not installed: pass --outputs FILE with the stack outputs as JSON") from None
    if done.returncode != 0:
        raise CliError(f"`{' '.join(command)}` failed: {done.stderr.strip() or done.returncode}")
    return json.loads(done.stdout)


@dataclass
class Api:
    base_url: str
    transport: Transport
    auth: Auth

    def call(self, method: str, path: str, query: Mapping[str, str] | None = None, body: object = None) -> dict:
        url = self.base_url.rstrip("/") + path
        if query:
            # %20, never '+': SigV4 signs the query string in its canonical, percent-encoded form.
            url += "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote, safe="")
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"} | ({"Content-Type": "application/json"} if data else {})
        try:
            status, raw = self.transport(method, url, self.auth(method, url, headers, data), data)
        except (OSError, urllib.error.URLError) as error:
            raise CliError(f"cannot reach {url}: {error}") from None
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            answer = {"error": raw.decode("utf-8", "replace")[:500]}
        if status >= 400:
            message = answer.get("error") or answer.get("message") or answer
            raise CliError(f"HTTP {status} from {method} {path}: {message}")
        return answer


def wait(api: Api, execution_id: str, *, timeout: float, page: Mapping[str, str], sleep, clock) -> dict:
    """Poll the execution until it ends, sleeping 0.5 s, 0.75 s, ... up to 5 s between polls, at most `timeout` s."""
    deadline = clock() + timeout
    delay = FIRST_DELAY
    while True:
        answer = api.call("GET", f"/executions/{urllib.parse.quote(execution_id, safe='')}", page)
        if answer["state"] in TERMINAL:
            return answer
        remaining = deadline - clock()
        if remaining <= 0:
            raise CliError(f"execution {execution_id} still {answer['state']} after {timeout:g} s; try again later")
        sleep(min(delay, remaining))
        delay = min(delay * BACKOFF, MAX_DELAY)


def fetch_rows(api: Api, execution_id: str, *, timeout: float, page: Mapping[str, str], sleep, clock):
    answer = wait(api, execution_id, timeout=timeout, page=page, sleep=sleep, clock=clock)
    if answer["state"] != "SUCCEEDED":
        raise CliError(f"query {answer['state'].lower()}: {answer.get('reason', 'no reason given')}")
    columns = [c["name"] for c in answer["columns"]]
    rows = [tuple(r[c] for c in columns) for r in answer["rows"]]
    while answer.get("next_token"):
        path = f"/executions/{urllib.parse.quote(execution_id, safe='')}"
        answer = api.call("GET", path, {**page, "next_token": answer["next_token"]})
        rows += [tuple(r[c] for c in columns) for r in answer["rows"]]
    return columns, rows


def parse_values(pairs: list[str], parser: argparse.ArgumentParser) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            parser.error(f"expected key=value, got {pair!r}")
        if key in values:
            parser.error(f"{key} is given twice")
        values[key] = value  # sent as text: the API converts and validates against the declaration
    return values


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python tools/query.py", description=__doc__.splitlines()[0])
    parser.add_argument("name", nargs="?", help="the query (file stem under queries/)")
    parser.add_argument("values", nargs="*", metavar="key=value", help="parameter values")
    parser.add_argument("--list", action="store_true", help="list the queries and their parameters")
    stack = parser.add_argument_group("the API of a stack you can read with Pulumi")
    stack.add_argument("--outputs", type=Path, help="stack outputs as JSON (default: `pulumi stack output --json`)")
    stack.add_argument("--stack", help="the Pulumi stack to read outputs from")
    direct = parser.add_argument_group("an API you were given the address of (no Pulumi needed)")
    direct.add_argument("--api-url", help=f"the API's base URL (or ${URL_VARIABLE})")
    direct.add_argument(
        "--api-key",
        help=f"its API key (or ${KEY_VARIABLE}, which keeps the key out of your shell history); "
        "without a key, requests are signed with your AWS credentials (api.auth: iam)",
    )
    api = parser.add_argument_group("either API")
    api.add_argument("--execution", help="print the rows of an execution already started")
    api.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the query (default 300)")
    api.add_argument("--page-size", type=int, help="rows per API page (default: the API's)")
    local = parser.add_argument_group("no API: the lake `make run` wrote, queried with DuckDB")
    local.add_argument("--local", action="store_true", help="run the query locally, with the API's parameter checks")
    local.add_argument("--lake", type=Path, default=DEFAULT_LAKE, help="the local lake (default .lake)")
    return parser


def direct_target(args: argparse.Namespace, environ: Mapping[str, str]) -> dict[str, object] | None:
    """Outputs-shaped settings from --api-url/--api-key or the environment; None when no URL is given that way."""
    url = args.api_url or environ.get(URL_VARIABLE)
    key = args.api_key or environ.get(KEY_VARIABLE)
    if not url:
        if args.api_key:
            raise CliError(f"--api-key needs --api-url (or ${URL_VARIABLE}): the key alone says nowhere to go")
        return None
    if args.outputs or args.stack:
        raise CliError("give either --api-url or --outputs/--stack, not both")
    return {"api_url": url, "api_auth": "api_key" if key else "iam", "api_key_value": key}


def connect(outputs: Mapping[str, object], transport: Transport, fetch_key, credentials) -> Api:
    url = str(outputs.get("api_url") or "")
    if not url:
        raise CliError("the stack outputs have no api_url: is the query API deployed?")
    found = _REGION.search(url)
    region = found.group(1) if found else None
    auth = outputs.get("api_auth", "api_key")
    if auth == "api_key" and outputs.get("api_key_value"):
        return Api(url, transport, api_key_auth(str(outputs["api_key_value"])))
    if auth == "api_key":
        key_id = outputs.get("api_key_id")
        if not key_id:
            raise CliError("api_auth is api_key but the stack outputs have no api_key_id")
        return Api(url, transport, api_key_auth(fetch_key(str(key_id), region)))
    if auth == "iam":
        if credentials is None:
            import boto3  # noqa: PLC0415

            session = boto3.Session()
            credentials, region = session.get_credentials(), region or session.region_name
        if credentials is None or region is None:
            raise CliError(
                "IAM auth needs AWS credentials and a region (from the URL or AWS_REGION); "
                f"an API that takes keys needs --api-key or ${KEY_VARIABLE}"
            )
        return Api(url, transport, iam_auth(credentials, region))
    raise CliError(f"unknown api_auth {auth!r} in the stack outputs (expected api_key or iam)")


def _print_queries(queries: list[dict]) -> None:
    for query in queries:
        print(f"{query['name']} ({query['pipeline']}): {query['description']}")
        for p in query["parameters"]:
            required = "required" if p["required"] else f"default {p['default']}"
            print(f"    {p['name']} {p['type']}, {required}: {p['description']}")


def run_local(name: str, values: Mapping[str, str], lake: Path) -> tuple[list[str], list[tuple]]:
    """The query on `lake` through DuckDB, its values checked exactly as the API checks them (and sent as text)."""
    from local import duck  # noqa: PLC0415  (DuckDB and sqlglot only for --local)
    from local.duck_extensions import MissingExtension  # noqa: PLC0415

    query = _named(name)
    try:
        render_parameters(query, values)  # the API's own check: unknown, missing and invalid values
    except ParameterError as error:
        raise CliError(str(error)) from None
    curated = lake / "curated"
    if not curated.is_dir():
        raise CliError(f"no local lake at {lake}: run `make run` first, or pass --lake DIR")
    try:
        connection = duck.connect(curated)
    except MissingExtension as error:
        raise CliError(str(error)) from None
    try:
        return duck.run_query(connection, query, values)
    except LookupError as error:
        raise CliError(f"{error}: run its pipeline first (make run ARGS='--pipelines {query.pipeline}')") from None
    except duck.duckdb.Error as error:
        raise CliError(f"DuckDB could not run {name}: {str(error).splitlines()[0]}") from None


def _named(name: str) -> Query:
    queries = load_queries()
    if name not in queries:
        raise CliError(f"unknown query {name!r}; --list shows them: {', '.join(sorted(queries))}")
    return queries[name]


@dataclass(frozen=True)
class Seams:
    """What the client reaches outside itself (the network, AWS, time, the environment); tests pass fakes."""

    transport: Transport
    fetch_key: Callable[[str, str | None], str]
    credentials: object
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    environ: Mapping[str, str]


def _run_api(args, values: Mapping[str, str], seams: Seams) -> tuple[list[str], list[tuple]] | None:
    target = direct_target(args, seams.environ)
    outputs = target if target is not None else load_outputs(args.outputs, args.stack)
    api = connect(outputs, seams.transport, seams.fetch_key, seams.credentials)
    if args.list:
        _print_queries(api.call("GET", "/queries")["queries"])
        return None
    execution_id = args.execution
    if execution_id is None:
        path = f"/queries/{urllib.parse.quote(args.name, safe='')}"
        execution_id = api.call("POST", path, body={"parameters": values})["execution_id"]
        print(f"started {args.name}: execution {execution_id}", file=sys.stderr)
    page = {"max_results": str(args.page_size)} if args.page_size else {}
    return fetch_rows(api, execution_id, timeout=args.timeout, page=page, sleep=seams.sleep, clock=seams.clock)


def _run_local(args, values) -> tuple[list[str], list[tuple]] | None:
    if args.execution or args.api_url or args.outputs or args.stack:
        raise CliError("--local runs on this machine: it takes no --execution, --api-url, --outputs or --stack")
    if args.list:
        _print_queries([q.describe() for q in load_queries().values()])
        return None
    return run_local(args.name, values, args.lake)


def main(
    argv: list[str] | None = None,
    *,
    transport: Transport = urllib_transport,
    fetch_key=fetch_api_key,
    credentials=None,
    sleep=time.sleep,
    clock=time.monotonic,
    environ: Mapping[str, str] | None = None,
) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not (args.name or args.list or args.execution):
        parser.error("give a query NAME (or --list, or --execution ID)")
    values = parse_values(args.values, parser)
    seams = Seams(transport, fetch_key, credentials, sleep, clock, os.environ if environ is None else environ)
    try:
        result = _run_local(args, values) if args.local else _run_api(args, values, seams)
    except CliError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if result is not None:
        columns, rows = result
        print(format_table(columns, rows, max_rows=len(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
