"""PythonFunction: one Lambda handler from functions/, shipped to the scripts bucket, with its own role and logs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components import assets, policies
from components.context import AwsContext

RUNTIME = "python3.12"
XRAY_WRITE_POLICY = "AWSXRayDaemonWriteAccess"  # an AWS managed policy, in the stack's partition


@dataclass(frozen=True)
class PythonFunctionArgs:
    module: str  # functions/<module>.py, entry point `handler`
    function_name: str
    description: str
    scripts_bucket: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    log_retention_days: int
    # The role's permissions beyond its own logs and X-Ray: a JSON IAM policy document.
    policy: pulumi.Input[str]
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    memory_mb: int = 256
    timeout_seconds: int = 30
    reserved_concurrency: int | None = None
    layers: Sequence[pulumi.Input[str]] = ()
    with_queries: bool = False


class PythonFunction(pulumi.ComponentResource):
    """Creates a log group (retention, lake key), a role trusted by Lambda for this account only (its policy, its
    own log group, X-Ray writes), the code archive under a content-hashed key in the scripts bucket, the function
    (active tracing, JSON logs, environment encrypted with the lake key) and its recursive-loop guard."""

    def __init__(self, name: str, args: PythonFunctionArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("datalake:components:PythonFunction", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{args.function_name}",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.key_arn,
            opts=child,
        )
        context = AwsContext.of(self)
        self.role = context.service_role(f"{name}-role", "lambda.amazonaws.com", args.description, self)
        role_policy = aws.iam.RolePolicy(f"{name}-policy", role=self.role.id, policy=args.policy, opts=child)
        log_policy = aws.iam.RolePolicy(
            f"{name}-base-policy",
            role=self.role.id,
            policy=pulumi.Output.all(self.log_group.arn, args.key_arn).apply(
                lambda v: json.dumps(
                    policies.document(
                        [
                            policies.statement(
                                "WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{v[0]}:*"]
                            ),
                            # The environment is encrypted with the lake key.
                            policies.statement("DecryptEnvironment", ["kms:Decrypt"], [v[1]]),
                        ]
                    )
                )
            ),
            opts=child,
        )
        xray = aws.iam.RolePolicyAttachment(
            f"{name}-xray", role=self.role.name, policy_arn=context.managed_policy(XRAY_WRITE_POLICY), opts=child
        )
        files = assets.lambda_files(args.module, with_queries=args.with_queries)
        key = assets.hashed_key("functions", args.module, files, ".zip")
        code = aws.s3.BucketObjectv2(
            f"{name}-code",
            bucket=args.scripts_bucket,
            key=key,
            source=pulumi.AssetArchive({archived: pulumi.FileAsset(str(path)) for archived, path in files.items()}),
            opts=child,
        )
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=args.function_name,
            description=args.description,
            runtime=RUNTIME,
            handler=f"{args.module}.handler",
            role=self.role.arn,
            s3_bucket=code.bucket,
            s3_key=code.key,
            memory_size=args.memory_mb,
            timeout=args.timeout_seconds,
            reserved_concurrent_executions=args.reserved_concurrency,
            layers=list(args.layers) or None,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=dict(args.environment))
            if args.environment
            else None,
            kms_key_arn=args.key_arn,
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=self.log_group.name),
            # The role must carry its permissions before the first invocation.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy, log_policy, xray]),
        )
        aws.lambda_.FunctionRecursionConfig(
            f"{name}-recursion",
            function_name=self.function.name,
            recursive_loop="Terminate",
            opts=child,
        )
        self.arn = self.function.arn
        self.name = self.function.name
        self.register_outputs({"arn": self.arn, "name": self.name})
