"""Bastion: an instance in the EMR clusters' subnet to reach them through Session Manager, and nothing else."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.context import AwsContext
from components.moves import MovedFrom, child_options

SSM_CORE_POLICY = "AmazonSSMManagedInstanceCore"  # an AWS managed policy, in the stack's partition
AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"


@dataclass(frozen=True)
class BastionArgs:
    instance_type: str
    vpc_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    # Session Manager needs a route out: a private subnet has its NAT or endpoints, the default VPC a public IP.
    public_ip: bool
    key_arn: pulumi.Input[str]  # encrypts the root volume
    name_tag: str
    public_key: str | None = None  # an SSH key pair for the instance, besides Session Manager
    # Before issue 11 these resources were EmrEtl's children.
    moved_from: MovedFrom | None = None


class Bastion(pulumi.ComponentResource):
    """Creates a security group with no inbound rule and HTTPS out only (the Systems Manager endpoints), a role with
    AmazonSSMManagedInstanceCore and its instance profile, an optional key pair, and an Amazon Linux 2023 instance
    with IMDSv2 required and an encrypted gp3 root volume."""

    def __init__(self, name: str, args: BastionArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("datalake:components:Bastion", name, None, opts)
        self._name, self._args = name, args
        context = AwsContext.of(self)
        group = aws.ec2.SecurityGroup(
            self._child("sg"),
            vpc_id=args.vpc_id,
            description="Bastion: Session Manager only, no inbound rule",
            opts=self._opts("sg"),
        )
        aws.vpc.SecurityGroupEgressRule(
            self._child("sg-egress"),
            security_group_id=group.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
            description="HTTPS to the Systems Manager endpoints",
            opts=self._opts("sg-egress"),
        )
        role = context.service_role(
            self._child("role"),
            "ec2.amazonaws.com",
            "Bastion: Session Manager only",
            self,
            aliases=self._opts("role").aliases,
        )
        # Named as its role, like the EMR nodes' profile.
        profile = aws.iam.InstanceProfile(
            self._child("profile"), name=role.name, role=role.name, opts=self._opts("profile")
        )
        aws.iam.RolePolicyAttachment(
            self._child("ssm"),
            role=role.name,
            policy_arn=context.managed_policy(SSM_CORE_POLICY),
            opts=self._opts("ssm"),
        )
        key_name = None
        if args.public_key:
            key_name = aws.ec2.KeyPair(self._child("key"), public_key=args.public_key, opts=self._opts("key")).key_name
        ami = aws.ssm.get_parameter_output(name=AMI_PARAMETER, opts=pulumi.InvokeOutputOptions(parent=self))
        self.instance = aws.ec2.Instance(
            self._child("instance"),
            ami=ami.value,
            instance_type=args.instance_type,
            subnet_id=args.subnet_id,
            vpc_security_group_ids=[group.id],
            iam_instance_profile=profile.name,
            key_name=key_name,
            # The security group still admits nothing inbound.
            associate_public_ip_address=args.public_ip,
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(http_endpoint="enabled", http_tokens="required"),
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(
                encrypted=True, kms_key_id=args.key_arn, volume_size=16, volume_type="gp3"
            ),
            tags={"Name": args.name_tag},
            opts=self._opts("instance"),
        )
        self.register_outputs({"instance_id": self.instance.id})

    def _child(self, role: str) -> str:
        return f"{self._name}-{role}"

    def _opts(self, role: str) -> pulumi.ResourceOptions:
        return child_options(self, self._name, self._child(role), self._args.moved_from)
