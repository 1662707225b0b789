"""RawEvents: the raw bucket's one S3 notification configuration, invoking each Lambda on its own prefix."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class RawEventTarget:
    id: str
    function_arn: pulumi.Input[str]
    function_name: pulumi.Input[str]
    prefix: str
    suffix: str = ""


@dataclass(frozen=True)
class RawEventsArgs:
    bucket: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    targets: tuple[RawEventTarget, ...]

    def __post_init__(self) -> None:
        # S3 refuses two notifications whose prefixes overlap for the same event type.
        prefixes = sorted(t.prefix for t in self.targets)
        for first, second in itertools.pairwise(prefixes):
            if second.startswith(first):
                raise ValueError(f"RawEventsArgs: notification prefixes overlap: {first!r} and {second!r}")


class RawEvents(pulumi.ComponentResource):
    """Creates, per target, a Lambda permission scoped to the raw bucket's ARN and this account, then one
    BucketNotification (S3 keeps a single notification configuration per bucket) that depends on them."""

    def __init__(self, name: str, args: RawEventsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("datalake:components:RawEvents", name, None, opts)
        permissions = [
            aws.lambda_.Permission(
                f"{name}-{target.id}-invoke",
                action="lambda:InvokeFunction",
                function=target.function_name,
                principal="s3.amazonaws.com",
                source_arn=args.bucket_arn,
                source_account=args.account_id,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for target in args.targets
        ]
        self.notification = aws.s3.BucketNotification(
            f"{name}-notification",
            bucket=args.bucket,
            lambda_functions=[
                aws.s3.BucketNotificationLambdaFunctionArgs(
                    id=target.id,
                    lambda_function_arn=target.function_arn,
                    events=["s3:ObjectCreated:*"],
                    filter_prefix=target.prefix,
                    filter_suffix=target.suffix or None,
                )
                for target in args.targets
            ],
            # S3 tests the invoke permission when the configuration is saved.
            opts=pulumi.ResourceOptions(parent=self, depends_on=permissions),
        )
        self.register_outputs({})
