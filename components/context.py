"""Where a component deploys (account, partition, region), the roles it creates for AWS services, and the IAM
documents it hands AWS (components/iam/ builds them from resolved values)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.iam import statements


@dataclass(frozen=True)
class AwsContext:
    account_id: pulumi.Output[str]
    partition: pulumi.Output[str]
    region: pulumi.Output[str]

    @classmethod
    def of(cls, parent: pulumi.Resource) -> AwsContext:
        """Looked up through the parent's provider, so a component follows the stack's region and account."""
        invoke = pulumi.InvokeOutputOptions(parent=parent)
        return cls(
            account_id=aws.get_caller_identity_output(opts=invoke).account_id,
            partition=aws.get_partition_output(opts=invoke).partition,
            region=aws.get_region_output(opts=invoke).region,
        )

    @property
    def where(self) -> dict[str, pulumi.Output[str]]:
        """partition, region and account_id, the keyword arguments of the documents that name ARNs."""
        return {"partition": self.partition, "region": self.region, "account_id": self.account_id}

    def managed_policy(self, name: str) -> pulumi.Output[str]:
        """The ARN of the AWS managed policy `name` (e.g. `service-role/X`) in the stack's partition."""
        return self.partition.apply(lambda partition: statements.managed_policy_arn(partition, name))

    def service_role(
        self,
        name: str,
        service: str,
        description: str,
        parent: pulumi.Resource,
        *,
        retain_on_delete: bool = False,
        aliases: list[pulumi.Alias] | None = None,
    ) -> aws.iam.Role:
        """A role only `service` may assume; only on behalf of this account where the service says which account."""
        if service in statements.SENDS_SOURCE_ACCOUNT:
            trust = self.account_id.apply(
                lambda account: json.dumps(statements.assume_role(service, account_id=account))
            )
        else:
            trust = json.dumps(statements.assume_role(service))
        return aws.iam.Role(
            name,
            assume_role_policy=trust,
            description=description,
            opts=pulumi.ResourceOptions(parent=parent, retain_on_delete=retain_on_delete, aliases=aliases),
        )


def policy_json(build: Callable[..., dict], /, **inputs: pulumi.Input) -> pulumi.Output[str]:
    """`build(**inputs)` as the JSON string IAM takes, once every input has resolved (and depending on them all)."""
    return pulumi.Output.all(**inputs).apply(lambda values: json.dumps(build(**values)))
