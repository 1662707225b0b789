"""OrdersIngest: the Lambda that stages each new order file in the raw bucket as Parquet in the curated bucket, for
the orders pipeline's merge step to commit to the Iceberg table."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.context import policy_json
from components.iam import lambdas
from components.lambda_function import AsyncInvoke, PythonFunction, PythonFunctionArgs


@dataclass(frozen=True)
class OrdersIngestArgs:
    function_name: str
    raw_bucket: pulumi.Input[str]
    raw_bucket_arn: pulumi.Input[str]
    curated_bucket: pulumi.Input[str]
    curated_bucket_arn: pulumi.Input[str]
    scripts_bucket: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    watch_prefix: str
    # In the curated bucket, outside every table's location (pipelines/orders.py INGEST_STAGING).
    staging_prefix: str
    quarantine_prefix: str
    pandas_layer_arn: str
    log_retention_days: int
    memory_mb: int
    timeout_seconds: int
    reserved_concurrency: int | None
    max_retries: int
    max_event_age_seconds: int


class OrdersIngest(pulumi.ComponentResource):
    """Creates the ingest function (pyarrow from the AWS SDK for pandas layer, optional reserved concurrency,
    recursion guard) with a role that may read only the watched prefix and write only the staging and quarantine
    prefixes (no table, no catalog, no crawler); its asynchronous invocations (retries, event age) end in an
    encrypted failure queue (PythonFunction's async_invoke). The S3 notification itself is part of RawEvents, the
    raw bucket's single notification configuration."""

    def __init__(self, name: str, args: OrdersIngestArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("datalake:components:OrdersIngest", name, None, opts)
        self.function = PythonFunction(
            f"{name}-handler",
            PythonFunctionArgs(
                module="orders_ingest",
                function_name=args.function_name,
                description=f"Stages order files landing under {args.watch_prefix} as Parquet for the merge step",
                scripts_bucket=args.scripts_bucket,
                key_arn=args.key_arn,
                log_retention_days=args.log_retention_days,
                policy=self._policy(args),
                environment={
                    "CURATED_BUCKET": args.curated_bucket,
                    "STAGING_PREFIX": args.staging_prefix,
                    "QUARANTINE_PREFIX": args.quarantine_prefix,
                    "WATCHED_PREFIX": args.watch_prefix,
                },
                memory_mb=args.memory_mb,
                timeout_seconds=args.timeout_seconds,
                reserved_concurrency=args.reserved_concurrency,
                layers=[args.pandas_layer_arn],
                async_invoke=AsyncInvoke(args.max_retries, args.max_event_age_seconds),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        assert self.function.failures is not None
        self.dead_letters = self.function.failures
        self.register_outputs({"function_name": self.function.name, "dead_letter_queue": self.dead_letters.url})

    @staticmethod
    def _policy(args: OrdersIngestArgs) -> pulumi.Output[str]:
        return policy_json(
            lambdas.orders_ingest_policy,
            raw_arn=args.raw_bucket_arn,
            curated_arn=args.curated_bucket_arn,
            key_arn=args.key_arn,
            watch_prefix=args.watch_prefix,
            quarantine_prefix=args.quarantine_prefix,
            staging_prefix=args.staging_prefix,
        )
