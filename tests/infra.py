"""Run the whole Pulumi program, or one component alone, under mocks, recording every resource and output; and
replay Pulumi's alias matching, to tell which resources of a deployed stack an upgrade keeps.

No CLI, no credentials, no network: the mock monitor answers every registration and invoke.
"""

from __future__ import annotations

import copy
import json
import runpy
from collections.abc import Callable, Iterable
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

# Plain values for a component's Args in a test of that component alone: what DataLake would output.
LAKE_BUCKETS = {zone: f"test-{zone}" for zone in ("raw", "curated", "scripts", "athena-results", "logs")}
LAKE_ARNS = {zone: f"arn:aws:s3:::{bucket}" for zone, bucket in LAKE_BUCKETS.items()}
LAKE_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/lake"


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
    # The aliases it was registered with, as the SDK sends them: {"urn": ...} or an alias spec's fields.
    aliases: list[dict] = field(default_factory=list)


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
            extra = {}
            if args.typ == "aws:sqs/queue:Queue":
                extra = {"url": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}"}
            if args.typ == "aws:lambda/function:Function":
                path = f"2015-03-31/functions/{arns[args.typ]}/invocations"
                extra = {"invokeArn": f"arn:aws:apigateway:{REGION}:lambda:path/{path}"}
            return {"arn": arns[args.typ], **extra}
        if args.typ == "aws:apigateway/restApi:RestApi":
            return {
                "executionArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{args.name}-id",
                "rootResourceId": f"{args.name}-root",
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


def _alias(alias) -> dict:
    if alias.WhichOneof("alias") == "urn":
        return {"urn": alias.urn}
    spec = alias.spec
    fields = {"name": spec.name, "type": spec.type, "stack": spec.stack, "project": spec.project}
    if spec.WhichOneof("parent") == "noParent":
        fields["noParent"] = spec.noParent
    elif spec.WhichOneof("parent") == "parentUrn":
        fields["parentUrn"] = spec.parentUrn
    return {key: value for key, value in fields.items() if value not in ("", None)}


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
                    aliases=[_alias(alias) for alias in request.aliases],
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

    @property
    def component(self) -> Any:
        """What run_component's `build` returned."""
        return self.namespace["component"]

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
    namespace: dict[str, Any] = {}

    def program() -> None:
        namespace.update(runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"))

    return _run(stack, config, program, namespace, preview=preview, partition=partition)


def run_component(
    build: Callable[[], pulumi.Resource],
    *,
    stack: str = "dev",
    config: dict | None = None,
    preview: bool = False,
    partition: str = "aws",
) -> ProgramRun:
    """Run `build` (which makes one component from Args built in the test) as a program of its own, under mocks.

    The run's `component` is what `build` returned; `error` the exception it raised, if any."""
    namespace: dict[str, Any] = {}

    def program() -> None:
        namespace["component"] = build()

    return _run(
        stack, {"aws:region": REGION, **(config or {})}, program, namespace, preview=preview, partition=partition
    )


def _run(
    stack: str, config: dict, program: Callable[[], None], namespace: dict, *, preview: bool, partition: str
) -> ProgramRun:
    mocks = RecordingMocks(partition)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    # set_mocks makes a root Stack of its own; run_in_stack makes the one that collects pulumi.export.
    pulumi.runtime.settings.set_root_resource(None)
    pulumi.runtime.set_all_config(
        {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}
    )
    error: BaseException | None = None
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


# Upgrades -----------------------------------------------------------------------------------------------------------
# The mock monitor makes URNs of its own (the parent's last type only, the root stack included); the engine's carry
# the parent's whole type chain and leave the root stack out. A deployed stack's state holds the engine's, so the
# replay below computes those, then matches aliases as the engine's step generator does (generateAliases,
# collapseAliasToUrn and inheritedChildAlias in pkg/resource/deploy/step_generator.go, pulumi/pulumi).

ROOT_STACK = "pulumi:pulumi:Stack"


def _urn(stack: str, name: str, type_: str, parent: str) -> str:
    chain = f"{parent.split('::')[2]}${type_}" if parent else type_
    return f"urn:pulumi:{stack}::{PROJECT}::{chain}::{name}"


def engine_urns(run: ProgramRun) -> dict[str, str]:
    """Mock URN -> the URN the engine gives the same registration (what a deployed stack's state holds)."""
    urns: dict[str, str] = {}
    for record in run.resources:
        parent = urns.get(record.parent, "")
        urns[record.urn] = _urn(run.stack, record.name, record.type, parent)
    return urns


@dataclass
class Upgrade:
    """What `pulumi up` of `run` does to a stack whose state holds the `deployed` URNs, by identity only."""

    kept: dict[str, str]  # deployed URN -> the URN it now has (the same one, or a new one an alias led to)
    created: list[str]  # URNs nothing deployed matches: new resources
    deleted: list[str]  # deployed URNs nothing matches: deleted (a replacement, if something new took its place)
    conflicts: list[str]  # deployed URNs two registrations claim (the engine refuses the update)

    @property
    def renamed(self) -> dict[str, str]:
        return {old: new for old, new in self.kept.items() if old != new}


def upgrade(run: ProgramRun, deployed: Iterable[str]) -> Upgrade:
    olds, urns = set(deployed), engine_urns(run)
    by_urn = {urns[r.urn]: r for r in run.resources}
    matched: dict[str, str] = {}  # new URN -> the deployed URN it matched through an alias (the engine's sg.aliases)
    claimed: dict[str, str] = {}
    created, conflicts = [], []

    def collapse(record: Recorded, alias: dict) -> str:
        if "urn" in alias:
            return urns.get(alias["urn"], alias["urn"])
        parent = urns.get(record.parent, "")
        if "parentUrn" in alias:
            parent = urns.get(alias["parentUrn"], alias["parentUrn"])
            parent = matched.get(parent, parent)
        if alias.get("noParent") or ROOT_STACK in parent.split("::")[2:3]:
            parent = ""
        stack = alias.get("stack", run.stack)
        return _urn(stack, alias.get("name", record.name), alias.get("type", record.type), parent)

    def inherited(type_: str, name: str, parent_name: str, parent_alias: str) -> str:
        if name.startswith(parent_name):
            name = parent_alias.rsplit("::", 1)[1] + name[len(parent_name) :]
        return _urn(run.stack, name, type_, parent_alias)

    for record in run.resources:
        urn = urns[record.urn]
        aliases = [collapse(record, alias) for alias in record.aliases]
        parent = urns.get(record.parent, "")
        if parent in matched:
            # A child of a matched parent is also known by its name under the parent's old URN.
            old_parent, parent_name = matched[parent], by_urn[parent].name
            own = [
                (record.type, record.name),
                *((a.split("::")[2].split("$")[-1], a.rsplit("::", 1)[1]) for a in aliases),
            ]
            aliases += [inherited(type_, name, parent_name, old_parent) for type_, name in own]
        found = next((candidate for candidate in [urn, *aliases] if candidate in olds), None)
        if found is None:
            created.append(urn)
            continue
        if found in claimed:
            conflicts.append(found)
        claimed[found] = urn
        if found != urn:
            matched[urn] = found
    return Upgrade(kept=claimed, created=created, deleted=sorted(olds - set(claimed)), conflicts=conflicts)


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
