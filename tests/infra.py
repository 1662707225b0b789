"""Run the whole Pulumi program under mocks with a stack file's config, recording every resource and output.

No CLI, no credentials, no network: the mock monitor answers every registration and invoke.
"""

from __future__ import annotations

import copy
import json
import runpy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "datalake"
ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
DEFAULT_VPC = "vpc-0defa017defa017de"
DEFAULT_SUBNET = "subnet-0aaaaaaaaaaaaaaaa"
# What a committed stack file leaves to the user's account: prod's private subnet. run_program injects it, as the
# user's `pulumi config set` would, unless a test runs the file as committed.
PROD_VPC = "vpc-0123456789abcdef0"
PROD_SUBNET = "subnet-0123456789abcdef0"
ACCOUNT_CONFIG = {"prod": {"emr": {"vpc_id": PROD_VPC, "subnet_id": PROD_SUBNET}}}


@dataclass
class Recorded:
    """One registered resource: what the program asked for, and the options it asked with."""

    type: str
    name: str
    inputs: dict
    urn: str
    parent: str
    protect: bool
    retain_on_delete: bool
    dependencies: list[str]
    custom: bool
    provider: str
    state: dict = field(default_factory=dict)
    # Input name -> URNs of the resources its value came from (what the policy pack sees at preview).
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)


class RecordingMocks(pulumi_mocks.Mocks):
    """Outputs a provider would compute (ids, ARNs, names) in a stable, recognisable form."""

    def __init__(self, partition: str = "aws"):
        self.partition = partition
        self.invokes: list[str] = []

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict]:
        state = dict(args.inputs)
        token = args.typ.split(":")
        service = token[1].split("/")[0] if len(token) > 1 else "unknown"
        state.setdefault("arn", f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{args.name}")
        if args.typ == "aws:s3/bucket:Bucket":
            state.setdefault("bucket", f"{args.name}-0a1b2c3")
            state["arn"] = f"arn:aws:s3:::{state['bucket']}"
        if args.typ == "aws:kms/key:Key":
            state["keyId"] = f"key-{args.name}"
            state["arn"] = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/key-{args.name}"
        state.setdefault("name", args.inputs.get("name", f"{args.name}-0a1b2c3"))
        state.update(self._computed(args, state))
        return f"{args.name}-id", state

    @staticmethod
    def _computed(args: pulumi_mocks.MockResourceArgs, state: dict) -> dict:
        """Attributes only the provider knows, which the program reads (ARNs of invocation, URLs, root ids)."""
        name = state["name"]
        arns = {
            "aws:iam/role:Role": f"arn:aws:iam::{ACCOUNT_ID}:role/{name}",
            "aws:cloudwatch/logGroup:LogGroup": f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}",
            "aws:lambda/function:Function": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}",
            "aws:sqs/queue:Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name}",
            "aws:glue/crawler:Crawler": f"arn:aws:glue:{REGION}:{ACCOUNT_ID}:crawler/{name}",
            "aws:athena/workgroup:Workgroup": f"arn:aws:athena:{REGION}:{ACCOUNT_ID}:workgroup/{name}",
            "aws:sfn/stateMachine:StateMachine": f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{name}",
            "aws:emrserverless/application:Application": (
                f"arn:aws:emr-serverless:{REGION}:{ACCOUNT_ID}:/applications/{args.name}-id"
            ),
        }
        if args.typ in arns:
            queue = args.typ == "aws:sqs/queue:Queue"
            return {
                "arn": arns[args.typ],
                **({"url": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}"} if queue else {}),
            }
        if args.typ == "aws:apigateway/restApi:RestApi":
            return {
                "executionArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{args.name}-id",
                "rootResourceId": f"{args.name}-root",
            }
        if args.typ == "aws:lambda/function:Function":
            return {
                "invokeArn": f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{state['arn']}/invocations"
            }
        if args.typ == "aws:apigateway/stage:Stage":
            api = args.inputs["restApi"]
            return {"invokeUrl": f"https://{api}.execute-api.{REGION}.amazonaws.com/{args.inputs['stageName']}"}
        if args.typ == "aws:ec2/keyPair:KeyPair":
            return {"keyName": f"{args.name}-0a1b2c3"}
        return {}

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict, list]:
        self.invokes.append(args.token)
        answers = {
            "aws:index/getCallerIdentity:getCallerIdentity": {
                "accountId": ACCOUNT_ID,
                "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/test",
                "userId": "AIDTEST",
                "id": ACCOUNT_ID,
            },
            "aws:index/getPartition:getPartition": {
                "partition": self.partition,
                "dnsSuffix": "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com",
                "id": self.partition,
            },
            "aws:index/getRegion:getRegion": {"region": REGION, "name": REGION, "id": REGION},
            "aws:ec2/getVpc:getVpc": {"id": DEFAULT_VPC, "default": True, "cidrBlock": "172.31.0.0/16"},
            "aws:ec2/getSubnets:getSubnets": {"id": REGION, "ids": ["subnet-0bbbbbbbbbbbbbbbb", DEFAULT_SUBNET]},
            "aws:ssm/getParameter:getParameter": {
                "id": args.args.get("name", ""),
                "name": args.args.get("name", ""),
                "type": "String",
                "value": "ami-0123456789abcdef0",
                "insecureValue": "ami-0123456789abcdef0",
            },
        }
        if args.token not in answers:
            raise LookupError(f"no mock answer for invoke {args.token}: add one to RecordingMocks.call")
        return answers[args.token], []


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: RecordingMocks):
        super().__init__(mocks)
        self.recorded: list[Recorded] = []
        self.stack_outputs: dict[str, Any] = {}

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.recorded.append(
                Recorded(
                    type=request.type,
                    name=request.name,
                    inputs=rpc.deserialize_properties(request.object),
                    urn=response.urn,
                    parent=request.parent,
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    dependencies=list(request.dependencies),
                    custom=bool(request.custom),
                    provider=request.provider,
                    state=self.resources[response.urn].state,
                    property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                )
            )
        return response

    def RegisterResourceOutputs(self, request):
        if "::pulumi:pulumi:Stack::" in request.urn:
            self.stack_outputs = rpc.deserialize_properties(request.outputs)
        return super().RegisterResourceOutputs(request)


@dataclass
class ProgramRun:
    """What one run of the program registered, exported, or the error it stopped with."""

    stack: str
    resources: list[Recorded]
    outputs: dict[str, Any]
    error: BaseException | None
    # The tokens of the data sources it invoked (aws:ec2/getVpc:getVpc ...), in call order.
    invokes: list[str] = field(default_factory=list)
    # The program's globals (its components), for tests that follow an Output through `apply`.
    namespace: dict[str, Any] = field(default_factory=dict)

    def resolve(self, output: pulumi.Output) -> Any:
        """The value of an Output of the finished program (runs any pending `apply` callbacks)."""
        return _sync_await(output.future())

    def of_type(self, type_: str) -> list[Recorded]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> Recorded:
        found = [r for r in self.resources if r.name == name]
        assert len(found) == 1, f"expected one resource named {name}, found {len(found)}"
        return found[0]

    def children_of(self, parent: Recorded, type_: str | None = None) -> list[Recorded]:
        return [r for r in self.resources if r.parent == parent.urn and (type_ is None or r.type == type_)]

    def by_urn(self, urn: str) -> Recorded:
        return next(r for r in self.resources if r.urn == urn)

    def referencing(self, type_: str, key: str, value: Any) -> list[Recorded]:
        """Resources of `type_` whose input `key` equals `value` (e.g. the bucket a configuration applies to)."""
        return [r for r in self.of_type(type_) if r.inputs.get(key) == value]


def stack_config(stack: str) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    return dict(data.get("config") or {})


def deep_merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def run_program(
    stack: str = "dev",
    *,
    settings: dict | object | None = ...,
    overrides: dict | None = None,
    preview: bool = False,
    partition: str = "aws",
    as_committed: bool = False,
) -> ProgramRun:
    """Run __main__.py with `Pulumi.<stack>.yaml`'s config; `settings` replaces (None: removes), `overrides` merges.

    The account's part of the config (ACCOUNT_CONFIG) is merged in first, unless `as_committed` or `settings`."""
    config = stack_config(stack)
    if settings is None:
        del config["datalake:settings"]
    elif settings is not ...:
        config["datalake:settings"] = settings
    elif not as_committed and stack in ACCOUNT_CONFIG:
        config["datalake:settings"] = deep_merge(config["datalake:settings"], ACCOUNT_CONFIG[stack])
    if overrides:
        config["datalake:settings"] = deep_merge(config.get("datalake:settings") or {}, overrides)
    mocks = RecordingMocks(partition)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    # set_mocks makes a root Stack of its own; run_in_stack makes the one that collects pulumi.export.
    pulumi.runtime.settings.set_root_resource(None)
    pulumi.runtime.set_all_config(
        {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}
    )
    error: BaseException | None = None
    namespace: dict[str, Any] = {}

    def program() -> None:
        namespace.update(runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"))

    try:
        _sync_await(run_in_stack(program))
    except Exception as exc:  # the tests assert on the error the program stopped with
        error = exc
    return ProgramRun(
        stack=stack,
        resources=monitor.recorded,
        outputs=monitor.stack_outputs,
        error=error,
        invokes=mocks.invokes,
        namespace=namespace,
    )


class ApplyGuard:
    """Wraps callbacks that hold assertions; `verify` fails the test if one of them never ran.

    An `Output.apply` whose output is never awaited, or whose value stays unknown, skips its callback
    silently, and with it every assertion inside: the guard turns that silence into a failure.
    """

    def __init__(self) -> None:
        self._pending: dict[int, str] = {}

    def check(self, output: pulumi.Output, callback: Callable[[Any], Any], label: str = "") -> pulumi.Output:
        token = len(self._pending)
        self._pending[token] = label or getattr(callback, "__name__", "callback")

        def run(value: Any) -> Any:
            result = callback(value)
            self._pending.pop(token, None)
            return result

        return output.apply(run)

    def verify(self) -> None:
        if self._pending:
            raise AssertionError(f"apply callbacks never ran, so their assertions were skipped: {self._pending}")
