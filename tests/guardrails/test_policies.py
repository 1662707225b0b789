"""The pack's policies on the recorded dev and prod stacks, on the same stacks as a first preview sees them,
and on one deliberately broken resource per policy (whose message must say what to change)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE as UNKNOWN

from components.policies import SENDS_SOURCE_ACCOUNT as PROGRAM_SENDS_SOURCE_ACCOUNT
from components.step_functions import UNSCOPED_ACTIONS as PROGRAM_UNSCOPED_ACTIONS
from guardrails import documents, service_contracts
from guardrails.rules import RULES, Rule
from tests.guardrails.analyzer import at_first_preview, property_dependencies, run_all, run_rule
from tests.infra import Recorded

STACKS = ("dev", "prod")
MANDATORY = [rule for rule in RULES if rule.mandatory]
ADVISORY = [rule for rule in RULES if not rule.mandatory]
RULE = {rule.name: rule for rule in RULES}
BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
VERSIONING_FIX = "add aws.s3.BucketVersioning with versioning_configuration status 'Enabled'"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
STATE_MACHINE = "aws:sfn/stateMachine:StateMachine"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
EMR_CLUSTER = "aws:emr/cluster:Cluster"


def rule_id(rule: Rule) -> str:
    return rule.name


@pytest.fixture(params=STACKS)
def stack(request, stack_run) -> list[Recorded]:
    return stack_run(request.param).resources


# The recorded stacks -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", MANDATORY, ids=rule_id)
def test_mandatory_policy_passes_on_the_recorded_stack(stack, rule):
    assert run_rule(rule, stack) == []


def test_advisory_policies_find_nothing_to_advise_on_the_recorded_stacks(stack):
    # Both stacks set auto-termination (or auto-stop), a scan cutoff and full lifecycles, so no advice.
    assert run_all(stack, lambda rule: not rule.mandatory) == {rule.name: [] for rule in ADVISORY}


@pytest.mark.parametrize("rule", RULES, ids=rule_id)
def test_every_policy_reads_resources_the_stacks_have(stack_run, rule):
    """A policy that applies to nothing in either stack would pass the tests above without checking anything."""
    types = {r.type for stack in STACKS for r in stack_run(stack).resources}
    assert rule.types & types, f"{rule.name} reads {sorted(rule.types)}, none of which either stack creates"


def test_prod_state_machines_create_clusters_so_the_emr_policies_walk_real_graphs(stack_run):
    definitions = [json.loads(r.inputs["definition"]) for r in stack_run("prod").of_type(STATE_MACHINE)]
    created = [name for d in definitions for name, _state, _states in documents.create_cluster_states(d)]
    assert created == ["CreateCluster"] * len(definitions)


def test_the_pack_allows_on_every_resource_at_least_what_the_program_documents_as_unscoped():
    assert PROGRAM_UNSCOPED_ACTIONS <= documents.UNSCOPED_ACTIONS


def test_the_pack_and_the_program_agree_on_who_sends_aws_source_account():
    assert service_contracts.SENDS_SOURCE_ACCOUNT == PROGRAM_SENDS_SOURCE_ACCOUNT


def test_a_standalone_emr_cluster_must_carry_the_managed_policy_tag():
    rule = RULE["emr-managed-policy-tag"]
    tagged = emr_cluster(tags={"for-use-with-amazon-emr-managed-policies": "true"})
    assert run_rule(rule, [tagged]) == []
    (finding,) = run_rule(rule, [emr_cluster(tags={"team": "data"})])
    assert "EMR cluster datalake-prod-adhoc is not tagged for the managed EMR policies" in finding[0]


# The first preview: values built from generated outputs are unknown ------------------------------------------------


def test_policies_neither_fire_nor_fail_on_values_unknown_at_the_first_preview(stack):
    previewed = at_first_preview(stack)
    unknown = {
        r.name
        for r in previewed
        if r.type in (BUCKET_POLICY, STATE_MACHINE, ROLE_POLICY) and UNKNOWN in json.dumps(r.inputs, default=str)
    }
    # The documents the policies parse are all unknown, so this run checks the unknown paths, not the known ones.
    assert unknown == {r.name for r in stack if r.type in (BUCKET_POLICY, STATE_MACHINE, ROLE_POLICY)}
    assert run_all(previewed) == {rule.name: [] for rule in RULES}


def test_a_bucket_without_versioning_is_still_found_when_every_bucket_reference_is_unknown(stack):
    previewed = at_first_preview(stack)
    dropped = next(r for r in previewed if r.type == VERSIONING and r.name.endswith("-raw-versioning"))
    assert dropped.inputs["bucket"] == UNKNOWN
    remaining = [r for r in previewed if r is not dropped]
    findings = run_rule(RULE["s3-versioning"], remaining, property_dependencies(stack))
    raw = next(r for r in stack if r.type == BUCKET and r.name.endswith("-raw"))
    assert findings == [(f"bucket {raw.name} has no versioning configuration; {VERSIONING_FIX}", raw.urn)]


def test_a_configuration_that_cannot_be_linked_at_preview_makes_missing_ones_undecidable(stack):
    """Without property dependencies an unknown `bucket` could be any bucket: nothing may be reported."""
    previewed = at_first_preview(stack)
    without_raw = [r for r in previewed if not (r.type == VERSIONING and r.name.endswith("-raw-versioning"))]
    assert run_rule(RULE["s3-versioning"], without_raw, dependencies={}) == []


# One deliberately broken resource per policy ------------------------------------------------------------------------


REMOVE = "remove the resource"  # a change that deletes the resource itself
DELETE = object()  # a value that deletes the key it is set at


@dataclass(frozen=True)
class Broken:
    """Break the resource `datalake-<stack><resource>` with `change`; `policy` must fire and say `fix`."""

    policy: str
    stack: str
    resource: str
    change: Callable[[dict], object] | str
    fix: str
    bucket: str | None = None  # stack policies report on this bucket, not on the broken configuration

    def __str__(self) -> str:
        return f"{self.policy}:{self.stack}{self.resource}"


def edit_json(key: str, edit: Callable[[dict], object]) -> Callable[[dict], None]:
    def change(inputs: dict) -> None:
        doc = json.loads(inputs[key])
        edit(doc)
        inputs[key] = json.dumps(doc)

    return change


def edit_definition(edit: Callable[[dict], object]) -> Callable[[dict], None]:
    return edit_json("definition", lambda definition: edit(definition["States"]))


def set_path(*path: str | int, value: object) -> Callable[[dict], None]:
    def change(inputs: dict) -> None:
        target = inputs
        for key in path[:-1]:
            target = target[key]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return change


def add_statement(statement: dict) -> Callable[[dict], None]:
    return edit_json("policy", lambda doc: doc["Statement"].append(statement))


def first_wave_catches_into_failure(states: dict) -> None:
    first = states["CreateCluster"]["Next"]
    states[first]["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "PipelineFailed"}]


CASES = [
    Broken(
        "s3-kms-encryption",
        "dev",
        "-raw-encryption",
        set_path("rules", 0, "applyServerSideEncryptionByDefault", value={"sseAlgorithm": "AES256"}),
        "uses sse_algorithm 'AES256'; set 'aws:kms' with kms_master_key_id the lake key's ARN",
        bucket="-raw",
    ),
    Broken(
        "s3-kms-encryption",
        "prod",
        "-curated-encryption",
        REMOVE,
        "has no default encryption configuration; add aws.s3.BucketServerSideEncryptionConfiguration",
        bucket="-curated",
    ),
    Broken(
        "s3-versioning",
        "prod",
        "-curated-versioning",
        set_path("versioningConfiguration", "status", value="Suspended"),
        "has versioning status 'Suspended'; set it to 'Enabled'",
        bucket="-curated",
    ),
    Broken("s3-versioning", "dev", "-logs-versioning", REMOVE, VERSIONING_FIX, bucket="-logs"),
    Broken(
        "s3-public-access-blocked",
        "prod",
        "-raw-public-access",
        set_path("restrictPublicBuckets", value=False),
        "public access block leaves restrict_public_buckets off; add aws.s3.BucketPublicAccessBlock",
        bucket="-raw",
    ),
    Broken(
        "s3-public-access-blocked",
        "dev",
        "-curated-policy",
        add_statement({"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}),
        "policy statement Open allows everyone (Principal '*') without a condition; name the principals",
        bucket="-curated",
    ),
    Broken(
        "s3-tls-only",
        "prod",
        "-scripts-policy",
        edit_json("policy", lambda doc: doc["Statement"].pop(0)),
        "its policy does not refuse requests without TLS; add aws.s3.BucketPolicy with a statement that denies",
        bucket="-scripts",
    ),
    Broken(
        "s3-access-logging",
        "dev",
        "-athena-results-access-logging",
        REMOVE,
        "has no server access logging; add aws.s3.BucketLogging with target_bucket the logs bucket",
        bucket="-athena-results",
    ),
    Broken(
        "s3-owner-enforced",
        "prod",
        "-raw-ownership",
        set_path("rule", "objectOwnership", value="ObjectWriter"),
        "has object_ownership 'ObjectWriter'; add aws.s3.BucketOwnershipControls with rule object_ownership "
        "'BucketOwnerEnforced'",
        bucket="-raw",
    ),
    Broken(
        "s3-owner-enforced",
        "dev",
        "-logs",
        set_path("acl", value="public-read"),
        "sets an ACL; remove it",
        bucket="-logs",
    ),
    Broken(
        "kms-key-rotation", "prod", "-key", set_path("enableKeyRotation", value=False), "set enable_key_rotation=True"
    ),
    Broken(
        "iam-no-wildcard-actions",
        "dev",
        "-athena-handler-policy",
        edit_json("policy", lambda doc: doc["Statement"][0]["Action"].append("s3:*")),
        "statement RunQueriesInThisWorkgroup allows s3:*; list the exact actions it needs",
    ),
    Broken(
        "iam-no-actions-on-every-resource",
        "prod",
        "-emr-emr-instance-data",
        add_statement({"Sid": "ReadAll", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}),
        "statement ReadAll allows s3:GetObject on every resource ('*'); name the ARNs they act on",
    ),
    Broken(
        "iam-no-admin-attachments",
        "dev",
        "-athena-handler-xray",
        set_path("policyArn", value="arn:aws:iam::aws:policy/AdministratorAccess"),
        "attaches arn:aws:iam::aws:policy/AdministratorAccess; attach a policy with the actions and resources",
    ),
    Broken(
        "iam-trust-conditions-match-the-service",
        "prod",
        "-emr-emr-instance",
        edit_json(
            "assumeRolePolicy",
            lambda doc: doc["Statement"][0].update(Condition={"StringEquals": {"aws:SourceAccount": "123456789012"}}),
        ),
        "trusts ec2.amazonaws.com only with aws:SourceAccount, which ec2.amazonaws.com does not send",
    ),
    Broken(
        "iam-trust-conditions-match-the-service",
        "dev",
        "-emr-states-kindle",
        edit_json("assumeRolePolicy", lambda doc: doc["Statement"][0].pop("Condition")),
        "lets states.amazonaws.com assume it on behalf of any account; add a StringEquals aws:SourceAccount",
    ),
    Broken(
        "iam-instance-profile-named-as-role",
        "prod",
        "-emr-emr-instance-profile",
        set_path("name", value=DELETE),
        "is not named as its role",
    ),
    Broken(
        "emr-managed-policy-tag",
        "prod",
        "-emr-pipeline-orders",
        edit_definition(
            lambda states: states["CreateCluster"]["Parameters"].update(Tags=[{"Key": "pipeline", "Value": "orders"}])
        ),
        "state 'CreateCluster' creates a cluster that is not tagged; tag it for-use-with-amazon-emr-managed-policies",
    ),
    Broken(
        "ec2-valid-descriptions",
        "prod",
        "-emr-sg-core",
        set_path("description", value="EMR core nodes — no inbound"),
        "has characters EC2 refuses or is over 255 long",
    ),
    Broken(
        "ec2-valid-descriptions",
        "prod",
        "-emr-sg-primary-egress",
        set_path("description", value="Outbound: S3 & EMR <all>"),
        "has characters EC2 refuses",
    ),
    Broken(
        "emr-security-configuration",
        "prod",
        "-emr-pipeline-rentals",
        edit_definition(lambda states: states["CreateCluster"]["Parameters"].pop("SecurityConfiguration")),
        "state 'CreateCluster' creates a cluster with no SecurityConfiguration; name the stack's "
        "aws.emr.SecurityConfiguration",
    ),
    Broken(
        "emr-clusters-terminate",
        "prod",
        "-emr-pipeline-sparkify",
        edit_definition(first_wave_catches_into_failure),
        "after 'CreateCluster' creates a cluster, 'FailWithCause' ends the execution; route every path",
    ),
    Broken(
        "emr-clusters-terminate",
        "prod",
        "-emr-pipeline-orders",
        edit_definition(lambda states: states[states["CreateCluster"]["Next"]].pop("Catch")),
        "can fail without a Catch for States.ALL; route every path",
    ),
    Broken(
        "athena-workgroup-enforced-encrypted",
        "dev",
        "-athena-workgroup",
        set_path("configuration", "enforceWorkgroupConfiguration", value=False),
        "lets clients override its settings; set enforce_workgroup_configuration=True",
    ),
    Broken(
        "athena-workgroup-enforced-encrypted",
        "prod",
        "-athena-workgroup",
        set_path(
            "configuration", "resultConfiguration", "encryptionConfiguration", value={"encryptionOption": "SSE_S3"}
        ),
        "encrypts results with 'SSE_S3'; set configuration.result_configuration.encryption_configuration "
        "encryption_option 'SSE_KMS'",
    ),
    Broken(
        "lambda-tracing",
        "dev",
        "-ingest-handler-function",
        set_path("tracingConfig", value=DELETE),
        "is not traced; set tracing_config mode 'Active'",
    ),
    Broken(
        "lambda-scoped-permissions",
        "prod",
        "-raw-events-orders-ingest-invoke",
        set_path("sourceAccount", value=DELETE),
        "trusts S3 without an account; set source_account to the bucket owner's account",
    ),
    Broken(
        "lambda-scoped-permissions",
        "dev",
        "-athena-invoke",
        set_path("principal", value="*"),
        "lets any principal ('*') invoke; name the service or account that calls it",
    ),
    Broken(
        "lambda-async-failure-destination",
        "dev",
        "-catalog-starter-async",
        set_path("destinationConfig", value=DELETE),
        "drops events that still fail after the retries; set destination_config on_failure destination",
    ),
    Broken(
        "lambda-async-failure-destination",
        "prod",
        "-ingest-handler-async",
        set_path("destinationConfig", "onFailure", "destination", value="arn:aws:sqs:eu-west-1:123456789012:q.fifo"),
        "sends failures to a FIFO queue, which Lambda cannot deliver to",
    ),
    Broken(
        "sqs-encrypted",
        "prod",
        "-ingest-handler-failures",
        set_path("sqsManagedSseEnabled", value=False),
        "is not encrypted at rest; set sqs_managed_sse_enabled=True (or kms_master_key_id)",
    ),
    Broken(
        "glue-security-configuration",
        "dev",
        "-catalog-etl-job",
        set_path("securityConfiguration", value=DELETE),
        "Glue job datalake-dev-catalog-etl-job has no security_configuration; name the stack's",
    ),
    Broken(
        "glue-security-configuration",
        "prod",
        "-catalog-crawler-orders",
        set_path("securityConfiguration", value=""),
        "Glue crawler datalake-prod-catalog-crawler-orders has no security_configuration",
    ),
    Broken(
        "lambda-no-reserved-environment",
        "prod",
        "-ingest-handler-function",
        set_path("environment", "variables", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", value="2048"),
        "sets AWS_LAMBDA_FUNCTION_MEMORY_SIZE, which Lambda reserves and sets itself",
    ),
    Broken(
        "api-methods-authorised",
        "prod",
        "-athena-method-post-queries-name",
        set_path("apiKeyRequired", value=False),
        "can be called by anyone; set authorization 'AWS_IAM' (or an authorizer), or api_key_required=True",
    ),
    Broken(
        "api-stages-logged",
        "dev",
        "-athena-stage",
        set_path("accessLogSettings", value=DELETE),
        "keeps no access log; set access_log_settings with destination_arn a log group",
    ),
    Broken(
        "state-machines-logged",
        "dev",
        "-emr-pipeline-kindle",
        set_path("loggingConfiguration", "level", value="OFF"),
        "logs nothing; set logging_configuration level 'ALL'",
    ),
    Broken(
        "log-groups-retention",
        "prod",
        "-emr-states-logs",
        set_path("retentionInDays", value=DELETE),
        "keeps its logs forever; set retention_in_days",
    ),
    Broken(
        "no-ingress-from-anywhere",
        "prod",
        "-emr-sg-primary",
        set_path("ingress", value=[{"protocol": "tcp", "fromPort": 22.0, "toPort": 22.0, "cidrBlocks": ["0.0.0.0/0"]}]),
        "admits 0.0.0.0/0 on ports 22-22; allow only the security groups or CIDRs that need it",
    ),
    Broken(
        "cost-emr-auto-termination",
        "prod",
        "-emr-pipeline-kindle",
        edit_definition(lambda states: states["CreateCluster"]["Parameters"].pop("AutoTerminationPolicy")),
        "state 'CreateCluster' creates a cluster without an AutoTerminationPolicy; set {'IdleTimeout': seconds}",
    ),
    Broken(
        "cost-emr-auto-termination",
        "dev",
        "-emr-spark",
        set_path("autoStopConfiguration", "enabled", value=False),
        "never stops; set auto_stop_configuration enabled=True",
    ),
    Broken(
        "cost-athena-scan-cutoff",
        "prod",
        "-athena-workgroup",
        set_path("configuration", "bytesScannedCutoffPerQuery", value=DELETE),
        "has no scan cutoff, so one query can scan the whole lake; set configuration.bytes_scanned_cutoff_per_query",
    ),
    Broken(
        "cost-s3-lifecycle",
        "dev",
        "-scripts-lifecycle",
        set_path("rules", value=[{"id": "x", "status": "Enabled", "filter": {"prefix": ""}}]),
        "no enabled lifecycle rule to abort incomplete multipart uploads (abort_incomplete_multipart_upload)",
        bucket="-scripts",
    ),
]


def broken_stack(case: Broken, records: list[Recorded]) -> tuple[list[Recorded], Recorded]:
    """A copy of the stack with the case's resource changed (or removed), and that resource as changed."""
    name = f"datalake-{case.stack}{case.resource}"
    (index,) = [i for i, r in enumerate(records) if r.name == name]
    target = records[index]
    if case.change == REMOVE:
        return records[:index] + records[index + 1 :], target
    broken = copy.deepcopy(target)
    case.change(broken.inputs)
    # Stack policies read outputs: the provider would report the changed inputs.
    broken.state = {key: value for key, value in broken.state.items() if key not in target.inputs}
    broken.state.update(broken.inputs)
    return [*records[:index], broken, *records[index + 1 :]], broken


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_broken_resource_makes_its_policy_fire_and_say_what_to_change(stack_run, case):
    records = stack_run(case.stack).resources
    broken, target = broken_stack(case, records)
    rule = RULE[case.policy]
    findings = run_rule(rule, broken)
    expected_urn = target.urn
    if case.bucket:
        expected_urn = next(r.urn for r in records if r.name == f"datalake-{case.stack}{case.bucket}")
    assert findings, f"{case.policy} did not fire"
    assert all(urn == expected_urn for _message, urn in findings), findings
    assert any(case.fix in message for message, _urn in findings), findings
    # Only the policy under test objects to this change (each policy guards one thing).
    others = run_all(broken, lambda other: other.mandatory and other.name != case.policy)
    assert {name: found for name, found in others.items() if found} == {}


def emr_cluster(**inputs) -> Recorded:
    name = "datalake-prod-adhoc"
    urn = f"urn:pulumi:prod::datalake::aws:emr/cluster:Cluster::{name}"
    return Recorded(
        type=EMR_CLUSTER,
        name=name,
        inputs=inputs,
        urn=urn,
        parent="",
        protect=False,
        retain_on_delete=False,
        dependencies=[],
        custom=True,
        provider="",
        state=dict(inputs),
    )


def test_a_standalone_emr_cluster_must_be_secured_and_end_itself():
    emr_rules = [RULE[name] for name in ("emr-security-configuration", "emr-clusters-terminate")]
    advisory = RULE["cost-emr-auto-termination"]
    safe = emr_cluster(
        releaseLabel="emr-7.12.0",
        securityConfiguration="datalake-prod-at-rest",
        autoTerminationPolicy={"idleTimeout": 900.0},
    )
    assert {rule.name: run_rule(rule, [safe]) for rule in [*emr_rules, advisory]} == {
        "emr-security-configuration": [],
        "emr-clusters-terminate": [],
        "cost-emr-auto-termination": [],
    }
    # A cluster that ends after its steps needs no auto-termination to terminate, but is still advised one.
    stepping = emr_cluster(releaseLabel="emr-7.12.0", securityConfiguration="x", keepJobFlowAliveWhenNoSteps=False)
    assert run_rule(RULE["emr-clusters-terminate"], [stepping]) == []
    bare = emr_cluster(releaseLabel="emr-7.12.0")
    assert [[message for message, _ in run_rule(rule, [bare])] for rule in [*emr_rules, advisory]] == [
        [
            "EMR cluster datalake-prod-adhoc has no security_configuration; name the stack's "
            "aws.emr.SecurityConfiguration (at-rest encryption with the lake key)"
        ],
        [
            "EMR cluster datalake-prod-adhoc keeps running when its steps are done; set "
            "keep_job_flow_alive_when_no_steps=False or an auto_termination_policy idle_timeout"
        ],
        ["EMR cluster datalake-prod-adhoc has no auto_termination_policy; set idle_timeout (seconds)"],
    ]


def test_every_policy_has_a_broken_resource_that_makes_it_fire():
    assert {rule.name for rule in RULES} == {case.policy for case in CASES}


def test_the_readme_lists_every_policy_with_its_level():
    from pathlib import Path

    from guardrails.rules import RULES

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for rule in RULES:
        level = "mandatory" if rule.mandatory else "advisory"
        assert f"| `{rule.name}` | {level} |" in readme, f"README's policy table misses {rule.name}"
