"""The IAM policy of the role that runs a pipeline's state machine: what its states call (components/step_functions.py
and components/emr_states.py build them), and nothing else."""

from __future__ import annotations

from collections.abc import Sequence

from components.emr_states import PIPELINE_TAG
from components.iam.statements import ATHENA_RESULTS_OBJECT_ACTIONS, catalog_arns, document, objects, statement
from components.step_functions import Runtime, report_location
from pipelines.model import Pipeline

# Rules Step Functions creates in the account's default bus to learn that a .sync job ended.
EMR_SYNC_RULES = (
    "StepFunctionsGetEventForEMRRunJobFlowRule",
    "StepFunctionsGetEventForEMRAddJobFlowStepsRule",
    "StepFunctionsGetEventForEMRTerminateJobFlowsRule",
)
SERVERLESS_SYNC_RULES = ("StepFunctionsGetEventsForEMRServerlessJobRule",)

# Actions IAM cannot scope to a resource, so their statements must name "*" (Service Authorization Reference):
# RunJobFlow creates a cluster that has no ARN yet (scoped instead by the pipeline tag it must carry);
# X-Ray's trace and sampling calls; the CloudWatch Logs vended-delivery calls Step Functions makes.
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets")
LOG_DELIVERY_ACTIONS = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)
UNSCOPED_ACTIONS = frozenset({"elasticmapreduce:RunJobFlow", *XRAY_ACTIONS, *LOG_DELIVERY_ACTIONS})


def _dns_suffix(partition: str) -> str:
    return "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"


def _event_rules(partition: str, region: str, account_id: str, rules: Sequence[str]) -> dict:
    arns = [f"arn:{partition}:events:{region}:{account_id}:rule/{rule}" for rule in rules]
    return statement("SyncEventRules", ["events:PutTargets", "events:PutRule", "events:DescribeRule"], arns)


def _cluster_statements(
    *, partition: str, region: str, account_id: str, pipeline: Pipeline, emr_role_arns: Sequence[str]
) -> list[dict]:
    tag = {PIPELINE_TAG: pipeline.name}
    return [
        statement(
            "CreatePipelineClusters",
            ["elasticmapreduce:RunJobFlow"],
            ["*"],
            condition={"StringEquals": {f"aws:RequestTag/{key}": value for key, value in tag.items()}},
        ),
        statement(
            "DrivePipelineClusters",
            [
                "elasticmapreduce:DescribeCluster",
                "elasticmapreduce:TerminateJobFlows",
                "elasticmapreduce:AddJobFlowSteps",
                "elasticmapreduce:DescribeStep",
                "elasticmapreduce:CancelSteps",
            ],
            [f"arn:{partition}:elasticmapreduce:{region}:{account_id}:cluster/*"],
            condition={"StringEquals": {f"aws:ResourceTag/{key}": value for key, value in tag.items()}},
        ),
        statement(
            "PassClusterRoles",
            ["iam:PassRole"],
            list(emr_role_arns),
            condition={
                "StringLike": {"iam:PassedToService": ["elasticmapreduce.amazonaws.com*", "ec2.amazonaws.com*"]}
            },
        ),
        # createCluster fails in an account that never ran EMR unless the caller may create EMR's cleanup role.
        statement(
            "CreateEmrCleanupRole",
            ["iam:CreateServiceLinkedRole"],
            [
                f"arn:{partition}:iam::{account_id}:role/aws-service-role/elasticmapreduce.amazonaws.com*/AWSServiceRoleForEMRCleanup*"
            ],
            condition={"StringLike": {"iam:AWSServiceName": "elasticmapreduce.amazonaws.com*"}},
        ),
        _event_rules(partition, region, account_id, EMR_SYNC_RULES),
    ]


def _serverless_statements(
    *, partition: str, region: str, account_id: str, application_arn: str | None, emr_role_arns: Sequence[str]
) -> list[dict]:
    if not application_arn:
        raise ValueError("runtime serverless needs serverless_application_arn")
    return [
        statement("StartJobRuns", ["emr-serverless:StartJobRun"], [application_arn]),
        statement(
            "WatchJobRuns",
            ["emr-serverless:GetJobRun", "emr-serverless:CancelJobRun"],
            [f"{application_arn}/jobruns/*"],
        ),
        statement(
            "PassJobRole",
            ["iam:PassRole"],
            list(emr_role_arns),
            condition={"StringEquals": {"iam:PassedToService": "emr-serverless.amazonaws.com"}},
        ),
        _event_rules(partition, region, account_id, SERVERLESS_SYNC_RULES),
    ]


def _query_statements(
    *,
    partition: str,
    region: str,
    account_id: str,
    pipeline: Pipeline,
    workgroup_arn: str,
    glue_database: str,
    results_bucket_arn: str,
    results_prefix: str,
    curated_bucket_arn: str,
    kms_key_arn: str,
) -> list[dict]:
    """Athena runs the check query with the caller's permissions: the catalog entries and data it reads."""
    tables = [table.glue_name for table in pipeline.tables]
    table_prefixes = sorted(table.location.prefix for table in pipeline.tables)
    suffix = _dns_suffix(partition)
    return [
        statement(
            "RunCheckQuery",
            [
                "athena:StartQueryExecution",
                "athena:GetQueryExecution",
                "athena:StopQueryExecution",
                "athena:GetQueryResults",
            ],
            [workgroup_arn],
        ),
        statement(
            "UseDefaultDataCatalog",
            ["athena:GetDataCatalog"],
            [f"arn:{partition}:athena:{region}:{account_id}:datacatalog/AwsDataCatalog"],
        ),
        statement(
            "ReadPipelineTables",
            ["glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"],
            catalog_arns(partition, region, account_id, glue_database, tables),
        ),
        statement("LocateQueryBuckets", ["s3:GetBucketLocation"], [curated_bucket_arn, results_bucket_arn]),
        # Athena reads an Iceberg table's metadata and data files under the table's own location.
        statement(
            "ListPipelineData",
            ["s3:ListBucket"],
            [curated_bucket_arn],
            condition={"StringLike": {"s3:prefix": [f"{p}*" for p in table_prefixes]}},
        ),
        statement("ReadPipelineData", ["s3:GetObject"], [objects(curated_bucket_arn, p) for p in table_prefixes]),
        statement("ListQueryResults", ["s3:ListBucket", "s3:ListBucketMultipartUploads"], [results_bucket_arn]),
        statement("WriteQueryResults", ATHENA_RESULTS_OBJECT_ACTIONS, [objects(results_bucket_arn, results_prefix)]),
        # The lake key encrypts curated data and query results; only S3 and Athena may use it on our behalf.
        statement(
            "UseLakeKeyThroughS3AndAthena",
            ["kms:Decrypt", "kms:GenerateDataKey"],
            [kms_key_arn],
            condition={"StringEquals": {"kms:ViaService": [f"s3.{region}.{suffix}", f"athena.{region}.{suffix}"]}},
        ),
    ]


def state_machine_policy(
    *,
    partition: str,
    region: str,
    account_id: str,
    pipeline: Pipeline,
    runtime: Runtime,
    emr_role_arns: Sequence[str],
    serverless_application_arn: str | None,
    workgroup_arn: str,
    glue_database: str,
    results_bucket_arn: str,
    curated_bucket_arn: str,
    kms_key_arn: str,
    results_prefix: str = "",
    log_delivery: bool = True,
    tracing: bool = True,
) -> dict:
    """The IAM policy of the role that runs `pipeline`'s state machine: what its states call, and nothing else.

    `emr_role_arns`: the roles the jobs run as (cluster: EMR service role and EC2 instance role; serverless: the
    job execution role). Statements name "*" only for the actions in UNSCOPED_ACTIONS.
    """
    if not emr_role_arns:
        raise ValueError("emr_role_arns: the jobs' roles are required (they are passed to EMR)")
    where = {"partition": partition, "region": region, "account_id": account_id}
    if runtime == "cluster":
        statements = _cluster_statements(**where, pipeline=pipeline, emr_role_arns=emr_role_arns)
    else:
        statements = _serverless_statements(
            **where, application_arn=serverless_application_arn, emr_role_arns=emr_role_arns
        )
    statements += [
        # A failed step's run report (components/step_functions.py reads it for the failure's cause); the lake key
        # decrypts it through S3 (UseLakeKeyThroughS3AndAthena).
        statement(
            "ReadRunReports",
            ["s3:GetObject"],
            sorted({objects(curated_bucket_arn, report_location(step).prefix) for step in pipeline.steps}),
        ),
        *_query_statements(
            **where,
            pipeline=pipeline,
            workgroup_arn=workgroup_arn,
            glue_database=glue_database,
            results_bucket_arn=results_bucket_arn,
            results_prefix=results_prefix,
            curated_bucket_arn=curated_bucket_arn,
            kms_key_arn=kms_key_arn,
        ),
    ]
    if tracing:
        statements.append(statement("XRayTracing", XRAY_ACTIONS, ["*"]))
    if log_delivery:
        statements.append(statement("CloudWatchLogsDelivery", LOG_DELIVERY_ACTIONS, ["*"]))
    return document(statements)
