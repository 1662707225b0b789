"""PythonFunction: one Lambda handler from functions/, shipped to the scripts bucket, with its own role and logs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components import assets
from components.context import AwsContext, policy_json
from components.iam import lambdas
from pipelines import lake

RUNTIME = "python3.12"
XRAY_WRITE_POLICY = "AWSXRayDaemonWriteAccess"  # an AWS managed policy, in the stack's partition
# SQS keeps a message at most 14 days: the time an operator has to look at a failed event.
FAILURE_RETENTION_SECONDS = 14 * 24 * 3600


@dataclass(frozen=True)
class AsyncInvoke:
    """How Lambda treats the function's asynchronous invocations (an S3 notification is one): how often a failed
    one is retried and how old an event may get, before it goes to the function's failure queue. The defaults are
    Lambda's own ("Configuring error handling for asynchronous invocation")."""

    max_retries: int = 2  # Lambda allows 0 to 2
    max_event_age_seconds: int = 21600  # Lambda allows 60 to 21600


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
    # Set for a function invoked asynchronously: what fails after the retries goes to its failure queue.
    async_invoke: AsyncInvoke | None = None


class PythonFunction(pulumi.ComponentResource):
    """Creates a log group (retention, lake key), a role trusted by Lambda for this account only (its policy, its
    own log group, X-Ray writes), the code archive under a content-hashed key in the scripts bucket, the function
    (active tracing, JSON logs, environment encrypted with the lake key) and its recursive-loop guard; with
    `async_invoke`, an encrypted failure queue (14 days) the role may send to, and the asynchronous invoke
    configuration whose on-failure destination it is."""

    def __init__(self, name: str, args: PythonFunctionArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("datalake:components:PythonFunction", name, None, opts)
        self._name, self._args = name, args
        self.failures = self._create_failure_queue() if args.async_invoke else None
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{args.function_name}",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.key_arn,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.role, permissions = self._create_role()
        self.function = self._create_function(self._ship_code(), permissions)
        aws.lambda_.FunctionRecursionConfig(
            f"{name}-recursion",
            function_name=self.function.name,
            recursive_loop="Terminate",
            opts=pulumi.ResourceOptions(parent=self),
        )
        if args.async_invoke and self.failures:
            self._configure_async_invoke(args.async_invoke, self.failures)
        self.arn = self.function.arn
        self.name = self.function.name
        self.register_outputs(
            {"arn": self.arn, "name": self.name, "failures": self.failures.url if self.failures else None}
        )

    def _create_failure_queue(self) -> aws.sqs.Queue:
        return aws.sqs.Queue(
            f"{self._name}-failures",
            name=f"{self._args.function_name}-failures",
            message_retention_seconds=FAILURE_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_role(self) -> tuple[aws.iam.Role, list[pulumi.Resource]]:
        """The role, and what it must carry before the first invocation: its policy, its base policy, X-Ray."""
        name, args, child = self._name, self._args, pulumi.ResourceOptions(parent=self)
        context = AwsContext.of(self)
        role = context.service_role(f"{name}-role", "lambda.amazonaws.com", args.description, self)
        role_policy = aws.iam.RolePolicy(f"{name}-policy", role=role.id, policy=args.policy, opts=child)
        log_policy = aws.iam.RolePolicy(
            f"{name}-base-policy",
            role=role.id,
            policy=policy_json(
                lambdas.base_policy,
                log_group_arn=self.log_group.arn,
                key_arn=args.key_arn,
                failures_arn=self.failures.arn if self.failures else None,
            ),
            opts=child,
        )
        xray = aws.iam.RolePolicyAttachment(
            f"{name}-xray", role=role.name, policy_arn=context.managed_policy(XRAY_WRITE_POLICY), opts=child
        )
        return role, [role_policy, log_policy, xray]

    def _ship_code(self) -> aws.s3.BucketObjectv2:
        args = self._args
        files = assets.lambda_files(args.module, with_queries=args.with_queries)
        return aws.s3.BucketObjectv2(
            f"{self._name}-code",
            bucket=args.scripts_bucket,
            key=assets.hashed_key(lake.FUNCTION_CODE, args.module, files, ".zip"),
            source=pulumi.AssetArchive({archived: pulumi.FileAsset(str(path)) for archived, path in files.items()}),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _create_function(self, code: aws.s3.BucketObjectv2, permissions: list[pulumi.Resource]) -> aws.lambda_.Function:
        args = self._args
        return aws.lambda_.Function(
            f"{self._name}-function",
            name=args.function_name,
            description=args.description,
            runtime=RUNTIME,
            handler=assets.lambda_handler(args.module),
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
            opts=pulumi.ResourceOptions(parent=self, depends_on=permissions),
        )

    def _configure_async_invoke(self, async_invoke: AsyncInvoke, failures: aws.sqs.Queue) -> None:
        # Lambda checks the role may send to the destination when the configuration is saved; the function
        # already waits for the role's policies.
        aws.lambda_.FunctionEventInvokeConfig(
            f"{self._name}-async",
            function_name=self.function.name,
            maximum_retry_attempts=async_invoke.max_retries,
            maximum_event_age_in_seconds=async_invoke.max_event_age_seconds,
            destination_config=aws.lambda_.FunctionEventInvokeConfigDestinationConfigArgs(
                on_failure=aws.lambda_.FunctionEventInvokeConfigDestinationConfigOnFailureArgs(destination=failures.arn)
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
