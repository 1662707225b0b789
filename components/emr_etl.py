"""EmrEtl: the shipped jobs run by one Step Functions state machine per pipeline, on transient EMR clusters or on
EMR Serverless."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Literal

import pulumi
import pulumi_aws as aws

from components import step_functions as asl
from components.bastion import Bastion, BastionArgs
from components.context import AwsContext, policy_json
from components.emr_states import PIPELINE_TAG, ClusterSpec, ServerlessSpec
from components.iam import etl as etl_iam
from components.iam import state_machines
from components.job_code import ShippedCode
from components.moves import MovedFrom
from pipelines import PIPELINES, Pipeline, lake

# The AWS managed EMR service policy (in the stack's partition) acts only on network resources carrying this tag
# (its CreateInTaggedNetwork statement: "AmazonEMRServicePolicy_v2", AWS Managed Policy Reference).
EMR_SERVICE_POLICY = "service-role/AmazonEMRServicePolicy_v2"
EMR_MANAGED_TAG_KEY = etl_iam.EMR_MANAGED_TAG_KEY
EMR_MANAGED_TAG = {EMR_MANAGED_TAG_KEY: "true"}
# The bastion's children under their new roles -> their roles when they were EmrEtl's own.
BASTION_ROLES_BEFORE = {
    "sg": "sg-bastion",
    "sg-egress": "sg-bastion-egress",
    "role": "bastion",
    "profile": "bastion-profile",
    "ssm": "bastion-ssm",
    "key": "bastion-key",
    "instance": "bastion",
}


def _first_default_subnet(ids: list[str]) -> str:
    if not ids:
        raise ValueError(
            "emr.use_default_vpc: the default VPC has no default subnet; name a tagged subnet in emr.subnet_id instead"
        )
    return sorted(ids)[0]


@dataclass(frozen=True)
class ClusterSizing:
    primary_instance_type: str
    core_instance_type: str
    core_instance_count: int
    spot_core_instance_count: int
    ebs_volume_gb: int
    idle_timeout_minutes: int
    step_timeout_minutes: int


@dataclass(frozen=True)
class ServerlessCapacity:
    max_vcpu: int
    max_memory_gb: int
    idle_minutes: int
    job_timeout_minutes: int


@dataclass(frozen=True)
class EmrEtlArgs:
    prefix: str
    runtime: Literal["cluster", "serverless"]
    release_label: str
    # The jobs' scripts, `--py-files` archive and bootstrap script (JobCode.shipped).
    code: ShippedCode
    # Zone -> bucket name / ARN for raw, curated, scripts, logs.
    bucket_names: Mapping[str, pulumi.Input[str]]
    bucket_arns: Mapping[str, pulumi.Input[str]]
    key_arn: pulumi.Input[str]
    log_retention_days: int
    cluster: ClusterSizing
    serverless: ServerlessCapacity
    pipeline_timeout_minutes: int
    # After the jobs: each pipeline's check query in the workgroup (the jobs commit their tables: no crawler).
    check_queries: Mapping[str, str]
    glue_database: str
    athena_workgroup: pulumi.Input[str]
    athena_workgroup_arn: pulumi.Input[str]
    athena_results_bucket_arn: pulumi.Input[str]
    vpc_id: str | None = None
    subnet_id: str | None = None
    # Cluster runtime without a subnet of the user's: a default subnet of the default VPC, tagged by the program.
    use_default_vpc: bool = False
    # Cluster runtime: an SSM bastion of this instance type in the clusters' subnet (None: no bastion), with an
    # optional SSH key pair.
    bastion_instance_type: str | None = None
    bastion_public_key: str | None = None
    pipelines: tuple[Pipeline, ...] = tuple(PIPELINES.values())


class EmrEtl(pulumi.ComponentResource):
    """Creates, for the pipelines in pipelines/ and the code JobCode shipped:

    - an EMR security configuration (S3 SSE-KMS, local disk and EBS encryption with the lake key);
    - roles of its own: EMR service role, EC2 instance role and profile (or the EMR Serverless execution role),
      the state machines' role; each limited to the lake's buckets and key, the jobs' to Iceberg commits on the
      lake's tables in the Glue catalog;
    - cluster runtime: EMR-managed security groups with no inbound rule; serverless runtime: an application
      with auto-stop and maximum capacity;
    - one state machine per pipeline (logged with retention, traced with X-Ray), and optionally a Bastion.
    """

    def __init__(self, name: str, args: EmrEtlArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("datalake:components:EmrEtl", name, None, opts)
        self._name, self._args = name, args
        self._aws = AwsContext.of(self)

        self.security_configuration = self._create_security_configuration()
        if args.runtime == "cluster":
            self._network = self._create_network()
            self.service_role, self.instance_role, self.instance_profile = self._create_cluster_roles()
            self.job_role_arns = [self.service_role.arn, self.instance_role.arn]
            self.application = None
        else:
            self._network = None
            self.execution_role = self._create_serverless_role()
            self.application = self._create_application()
            self.job_role_arns = [self.execution_role.arn]
        self.log_group = aws.cloudwatch.LogGroup(
            self._child("states-logs"),
            name=f"/aws/vendedlogs/states/{args.prefix}",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.key_arn,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.state_machines = {p.name: self._create_state_machine(p) for p in args.pipelines}
        self.state_machine_arns = {name: sm.arn for name, sm in self.state_machines.items()}
        self.bastion = self._create_bastion() if args.bastion_instance_type and args.runtime == "cluster" else None
        self.register_outputs({"state_machine_arns": self.state_machine_arns})

    def _child(self, role: str) -> str:
        return f"{self._name}-{role}"

    def _create_security_configuration(self) -> aws.emr.SecurityConfiguration:
        configuration = pulumi.Output.from_input(self._args.key_arn).apply(
            lambda key: json.dumps(
                {
                    "EncryptionConfiguration": {
                        # In-transit TLS needs a certificate provider of the user's; data stays in the VPC and S3.
                        "EnableInTransitEncryption": False,
                        "EnableAtRestEncryption": True,
                        "AtRestEncryptionConfiguration": {
                            "S3EncryptionConfiguration": {"EncryptionMode": "SSE-KMS", "AwsKmsKey": key},
                            "LocalDiskEncryptionConfiguration": {
                                "EncryptionKeyProviderType": "AwsKms",
                                "AwsKmsKey": key,
                                "EnableEbsEncryption": True,
                            },
                        },
                    }
                }
            )
        )
        return aws.emr.SecurityConfiguration(
            self._child("security"),
            name=f"{self._args.prefix}-at-rest",
            configuration=configuration,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _network_ids(self) -> tuple[pulumi.Input[str], pulumi.Input[str], bool]:
        """(vpc id, subnet id, private?) from settings, or the default VPC and one of its default subnets, tagged.

        Only `use_default_vpc` looks the default VPC up: accounts without one (common under Control Tower) never do.
        """
        if self._args.vpc_id and self._args.subnet_id:
            return self._args.vpc_id, self._args.subnet_id, True
        if not self._args.use_default_vpc:
            raise ValueError("EmrEtlArgs: the cluster runtime needs vpc_id and subnet_id, or use_default_vpc")
        invoke = pulumi.InvokeOutputOptions(parent=self)
        vpc = aws.ec2.get_vpc_output(default=True, opts=invoke)
        subnets = aws.ec2.get_subnets_output(
            filters=[
                aws.ec2.GetSubnetsFilterArgs(name="vpc-id", values=[vpc.id]),
                aws.ec2.GetSubnetsFilterArgs(name="default-for-az", values=["true"]),
            ],
            opts=invoke,
        )
        # AmazonEMRServicePolicy_v2 runs instances only in tagged subnets (CreateInTaggedNetwork). The subnet is the
        # account's, shared, and may carry the tag for other stacks: the tag is retained on destroy rather than
        # pulled from under them. The clusters take the subnet id from the tag, so they never run before it.
        tag = aws.ec2.Tag(
            self._child("default-subnet-emr-tag"),
            resource_id=subnets.ids.apply(_first_default_subnet),
            key=EMR_MANAGED_TAG_KEY,
            value=EMR_MANAGED_TAG[EMR_MANAGED_TAG_KEY],
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        return vpc.id, tag.resource_id, False

    def _security_group(self, role: str, vpc_id: pulumi.Input[str], description: str) -> aws.ec2.SecurityGroup:
        group = aws.ec2.SecurityGroup(
            self._child(f"sg-{role}"),
            vpc_id=vpc_id,
            description=description,
            # EMR adds the rules its nodes need between these groups; they must go when the group does.
            revoke_rules_on_delete=True,
            tags=EMR_MANAGED_TAG,
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.vpc.SecurityGroupEgressRule(
            self._child(f"sg-{role}-egress"),
            security_group_id=group.id,
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
            description="Outbound to S3, EMR and KMS endpoints; nothing inbound is opened",
            opts=pulumi.ResourceOptions(parent=self),
        )
        return group

    def _create_network(self) -> dict:
        vpc_id, subnet_id, private = self._network_ids()
        network = {
            "vpc_id": vpc_id,
            "subnet_id": subnet_id,
            "primary": self._security_group("primary", vpc_id, "EMR primary node: no inbound from outside the cluster"),
            "core": self._security_group("core", vpc_id, "EMR core nodes: no inbound from outside the cluster"),
            "service": None,
            "private": private,
        }
        # EMR accepts a service access group only for private subnets.
        if private:
            network["service"] = self._security_group("service", vpc_id, "EMR service access (private subnet)")
        return network

    def _role(self, role: str, service: str, description: str) -> aws.iam.Role:
        return self._aws.service_role(self._child(role), service, description, self)

    def _instance_role(self, role: str, description: str) -> tuple[aws.iam.Role, aws.iam.InstanceProfile]:
        """An EC2 role and the instance profile that hands it to an instance."""
        iam_role = self._role(role, "ec2.amazonaws.com", description)
        # EMR refuses an instance profile named differently from its role ("invalid instance profile"): "Customize
        # IAM roles with Amazon EMR", Amazon EMR Management Guide (emr-iam-roles-custom.html).
        profile = aws.iam.InstanceProfile(
            self._child(f"{role}-profile"),
            name=iam_role.name,
            role=iam_role.name,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return iam_role, profile

    def _data_access(self, role: aws.iam.Role, name: str) -> None:
        buckets = self._args.bucket_arns
        document = policy_json(
            partial(
                etl_iam.job_data_access,
                logs=lake.EMR_LOGS,
                database=self._args.glue_database,
                tables=[t.glue_name for p in self._args.pipelines for t in p.tables],
            ),
            **self._aws.where,
            raw_arn=buckets["raw"],
            curated_arn=buckets["curated"],
            scripts_arn=buckets["scripts"],
            logs_arn=buckets["logs"],
            key_arn=self._args.key_arn,
        )
        aws.iam.RolePolicy(
            self._child(f"{name}-data"), role=role.id, policy=document, opts=pulumi.ResourceOptions(parent=self)
        )

    def _create_cluster_roles(self) -> tuple[aws.iam.Role, aws.iam.Role, aws.iam.InstanceProfile]:
        instance_role, profile = self._instance_role("emr-instance", "EMR nodes: the lake's data and key only")
        self._data_access(instance_role, "emr-instance")
        service_role = self._role("emr-service", "elasticmapreduce.amazonaws.com", "EMR service role of this stack")
        aws.iam.RolePolicyAttachment(
            self._child("emr-service-managed"),
            role=service_role.name,
            policy_arn=self._aws.managed_policy(EMR_SERVICE_POLICY),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # EMR launches the nodes' EBS volumes, encrypted by the security configuration with the lake key, as the
        # service role, and the managed policy has no kms: action ("Create keys and certificates for data encryption
        # with Amazon EMR", Amazon EMR Management Guide: the service role must be able to use the key for EBS).
        aws.iam.RolePolicy(
            self._child("emr-service-ebs-key"),
            role=service_role.id,
            policy=policy_json(etl_iam.emr_ebs_key_policy, key_arn=self._args.key_arn),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicy(
            self._child("emr-service-pass-role"),
            role=service_role.id,
            policy=policy_json(etl_iam.emr_pass_instance_role_policy, instance_role_arn=instance_role.arn),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return service_role, instance_role, profile

    def _create_serverless_role(self) -> aws.iam.Role:
        role = self._role("emr-serverless", "emr-serverless.amazonaws.com", "EMR Serverless jobs: lake data and key")
        self._data_access(role, "emr-serverless")
        return role

    def _create_application(self) -> aws.emrserverless.Application:
        capacity = self._args.serverless
        network = None
        if self._args.subnet_id:
            group = self._security_group("serverless", self._args.vpc_id, "EMR Serverless jobs: no inbound")
            network = aws.emrserverless.ApplicationNetworkConfigurationArgs(
                subnet_ids=[self._args.subnet_id], security_group_ids=[group.id]
            )
        return aws.emrserverless.Application(
            self._child("spark"),
            name=f"{self._args.prefix}-spark",
            release_label=self._args.release_label,
            type="spark",
            auto_start_configuration=aws.emrserverless.ApplicationAutoStartConfigurationArgs(enabled=True),
            auto_stop_configuration=aws.emrserverless.ApplicationAutoStopConfigurationArgs(
                enabled=True, idle_timeout_minutes=capacity.idle_minutes
            ),
            maximum_capacity=aws.emrserverless.ApplicationMaximumCapacityArgs(
                cpu=f"{capacity.max_vcpu} vCPU", memory=f"{capacity.max_memory_gb} GB"
            ),
            network_configuration=network,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _runtime_spec(self, pipeline: Pipeline) -> pulumi.Output:
        """The resolved ClusterSpec or ServerlessSpec of one pipeline's runs."""
        args = self._args
        log_uri = pulumi.Output.concat(
            "s3://", args.bucket_names["logs"], "/", lake.EMR_LOGS.child(pipeline.name).prefix
        )
        if args.runtime == "serverless":
            return pulumi.Output.all(self.application.id, self.execution_role.arn, log_uri).apply(
                lambda v: ServerlessSpec(
                    application_id=v[0],
                    execution_role_arn=v[1],
                    log_uri=v[2],
                    job_timeout_minutes=args.serverless.job_timeout_minutes,
                )
            )
        net, size = self._network, args.cluster
        service = net["service"].id if net["service"] else None
        return pulumi.Output.all(
            log_uri,
            self.service_role.name,
            self.instance_profile.name,
            self.security_configuration.name,
            net["subnet_id"],
            net["primary"].id,
            net["core"].id,
            service,
            args.code.bootstrap_uri,
        ).apply(
            lambda v: ClusterSpec(
                name=f"{args.prefix}-{pipeline.name}",
                release_label=args.release_label,
                log_uri=v[0],
                service_role=v[1],
                instance_profile=v[2],
                security_configuration=v[3],
                subnet_id=v[4],
                master_security_group=v[5],
                core_security_group=v[6],
                service_access_security_group=v[7],
                primary_instance_type=size.primary_instance_type,
                core_instance_type=size.core_instance_type,
                core_instance_count=size.core_instance_count,
                spot_core_instance_count=size.spot_core_instance_count,
                ebs_volume_gb=size.ebs_volume_gb,
                idle_timeout_seconds=size.idle_timeout_minutes * 60,
                step_timeout_seconds=size.step_timeout_minutes * 60,
                tags={PIPELINE_TAG: pipeline.name, **EMR_MANAGED_TAG},
                bootstrap_actions=(("python-dependencies", v[8]),),
            )
        )

    def _targets(self, pipeline: Pipeline) -> pulumi.Output:
        args = self._args
        jobs = sorted({step.job for step in pipeline.steps})
        return pulumi.Output.all(
            args.bucket_names["raw"],
            args.bucket_names["curated"],
            args.code.py_files_uri,
            args.athena_workgroup,
            *[args.code.script_uris[job] for job in jobs],
        ).apply(
            lambda v: asl.PipelineTargets(
                zone_uris={"raw": f"s3://{v[0]}", "curated": f"s3://{v[1]}"},
                script_uris=dict(zip(jobs, v[4:], strict=True)),
                py_files_uri=v[2],
                check_query_sql=args.check_queries[pipeline.name],
                athena_workgroup=v[3],
                glue_database=args.glue_database,
            )
        )

    def _create_state_machine(self, pipeline: Pipeline) -> aws.sfn.StateMachine:
        args = self._args
        definition = pulumi.Output.all(
            self._targets(pipeline), self._runtime_spec(pipeline), self._aws.partition
        ).apply(
            lambda v: json.dumps(
                asl.build_definition(
                    pipeline, v[0], v[1], timeout_seconds=args.pipeline_timeout_minutes * 60, partition=v[2]
                ),
                indent=2,
            )
        )
        role = self._role(f"states-{pipeline.name}", "states.amazonaws.com", f"Runs the {pipeline.name} pipeline")
        policy = aws.iam.RolePolicy(
            self._child(f"states-{pipeline.name}-policy"),
            role=role.id,
            policy=self._state_machine_policy(pipeline),
            opts=pulumi.ResourceOptions(parent=self),
        )
        return aws.sfn.StateMachine(
            self._child(f"pipeline-{pipeline.name}"),
            name=f"{args.prefix}-{pipeline.name}",
            role_arn=role.arn,
            type="STANDARD",
            definition=definition,
            logging_configuration=aws.sfn.StateMachineLoggingConfigurationArgs(
                log_destination=pulumi.Output.concat(self.log_group.arn, ":*"),
                include_execution_data=True,
                level="ALL",
            ),
            tracing_configuration=aws.sfn.StateMachineTracingConfigurationArgs(enabled=True),
            # The role's policy must exist before the first execution, and the log group before logging.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )

    def _state_machine_policy(self, pipeline: Pipeline) -> pulumi.Output[str]:
        args, where = self._args, self._aws.where
        return policy_json(
            partial(
                state_machines.state_machine_policy,
                pipeline=pipeline,
                runtime=args.runtime,
                glue_database=args.glue_database,
                results_prefix=lake.QUERY_RESULTS.prefix,
            ),
            **where,
            emr_role_arns=self.job_role_arns,
            serverless_application_arn=self.application.arn if self.application else None,
            workgroup_arn=args.athena_workgroup_arn,
            results_bucket_arn=args.athena_results_bucket_arn,
            curated_bucket_arn=args.bucket_arns["curated"],
            kms_key_arn=args.key_arn,
        )

    def _create_bastion(self) -> Bastion:
        args, net = self._args, self._network
        # Before issue 11 the bastion's resources were EmrEtl's own children, named <name>-<old role>.
        formerly = MovedFrom(self.urn, self._name, roles=BASTION_ROLES_BEFORE)
        return Bastion(
            self._child("bastion"),
            BastionArgs(
                instance_type=args.bastion_instance_type,
                vpc_id=net["vpc_id"],
                subnet_id=net["subnet_id"],
                public_ip=not net["private"],
                key_arn=args.key_arn,
                name_tag=f"{args.prefix}-bastion",
                public_key=args.bastion_public_key,
                moved_from=formerly,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
