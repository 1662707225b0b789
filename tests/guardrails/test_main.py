"""guardrails/__main__.py, the pack as the Pulumi CLI runs it: `python -u -m pulumi.policy <engine> guardrails/`
serves the analyzer gRPC protocol; the tests speak it as the engine does, with properties as protobuf Structs and
unknowns as the engine's markers. PulumiPolicy.yaml gives the pack a virtualenv of its own."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
from collections.abc import Iterator

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc
from pulumi_policy.deserialize import serialize_properties
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from guardrails.rules import PACK_NAME, RULES
from tests.guardrails.analyzer import at_first_preview, outputs, property_dependencies
from tests.infra import ROOT, Recorded

START_SECONDS = 30
LEVELS = {True: proto.MANDATORY, False: proto.ADVISORY}


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    # -u as the CLI's pulumi-analyzer-policy-python runs it: the pack prints its port and never flushes.
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(ROOT / "guardrails")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # A pack that fails to start prints no port: don't let readline wait forever.
    timer = threading.Timer(START_SECONDS, process.kill)
    timer.start()
    port = process.stdout.readline().strip()
    timer.cancel()
    try:
        assert port.isdigit(), f"the pack did not start: {process.stderr.read() if process.poll() is not None else ''}"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.kill()
        process.wait(timeout=10)


def struct(props: dict) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(serialize_properties(props))
    return message


def analyze(stub, record: Recorded) -> list[tuple[str, str]]:
    request = proto.AnalyzeRequest(
        type=record.type,
        properties=struct(record.inputs),
        urn=record.urn,
        name=record.name,
        options=proto.AnalyzerResourceOptions(),
    )
    return [(d.policyName, d.message) for d in stub.Analyze(request).diagnostics]


def analyze_stack(stub, records: list[Recorded], dependencies: dict) -> list[tuple[str, str, str]]:
    resources = [
        proto.AnalyzerResource(
            type=r.type,
            properties=struct(outputs(r)),
            urn=r.urn,
            name=r.name,
            options=proto.AnalyzerResourceOptions(),
            parent=r.parent,
            dependencies=r.dependencies,
            propertyDependencies={
                key: proto.AnalyzerPropertyDependencies(urns=urns) for key, urns in dependencies[r.urn].items()
            },
        )
        for r in records
    ]
    response = stub.AnalyzeStack(proto.AnalyzeStackRequest(resources=resources))
    return [(d.policyName, d.urn, d.message) for d in response.diagnostics]


def test_the_pack_declares_every_policy_with_its_enforcement_level(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == PACK_NAME
    assert {p.name: p.enforcementLevel for p in info.policies} == {r.name: LEVELS[r.mandatory] for r in RULES}


def test_the_policy_project_file_runs_the_pack_in_its_own_virtualenv():
    project = yaml.safe_load((ROOT / "guardrails" / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": ".venv"}}
    requirements = (ROOT / "guardrails" / "requirements.txt").read_text()
    assert "pulumi-policy" in requirements


def test_a_resource_is_analysed_over_grpc_known_at_update_and_unknown_at_preview(analyzer, stack_run):
    records = stack_run("dev").resources
    function = next(r for r in records if r.name == "datalake-dev-ingest-handler-function")
    untraced = dataclasses.replace(function, inputs={**function.inputs, "tracingConfig": {"mode": "PassThrough"}})
    assert analyze(analyzer, function) == []
    (preview,) = [r for r in at_first_preview(records) if r.urn == function.urn]
    assert UNKNOWN_STRING_VALUE in preview.inputs.values()  # its role and key ARNs
    # No "can't run policy during preview" diagnostics either: the policies skip unknowns themselves.
    assert analyze(analyzer, preview) == []
    assert analyze(analyzer, untraced) == [
        (
            "lambda-tracing",
            "Lambda functions run with active X-Ray tracing.\n"
            "function datalake-dev-ingest-handler-function is not traced; set tracing_config mode 'Active'",
        )
    ]


def test_the_stack_is_analysed_over_grpc_with_every_bucket_reference_unknown(analyzer, stack_run):
    records = stack_run("dev").resources
    dependencies = property_dependencies(records)
    previewed = at_first_preview(records)
    assert analyze_stack(analyzer, previewed, dependencies) == []
    without = [r for r in previewed if r.name != "datalake-dev-raw-versioning"]
    raw = next(r for r in records if r.name == "datalake-dev-raw")
    assert [(policy, urn) for policy, urn, _ in analyze_stack(analyzer, without, dependencies)] == [
        ("s3-versioning", raw.urn)
    ]
