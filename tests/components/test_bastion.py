"""Bastion alone, with Args built here: reachable through Session Manager only, IMDSv2, an encrypted disk, and an SSH
key pair only when given one; then in the stacks: off unless the settings turn it on."""

import json

import pytest

from components.bastion import Bastion, BastionArgs
from tests.infra import LAKE_KEY, PROD_SUBNET, PROD_VPC, run_component, run_program

INSTANCE = "aws:ec2/instance:Instance"
PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIbastion test"


def bastion(**overrides):
    values = {
        "instance_type": "t3.micro",
        "vpc_id": PROD_VPC,
        "subnet_id": PROD_SUBNET,
        "public_ip": False,
        "key_arn": LAKE_KEY,
        "name_tag": "datalake-test-bastion",
    }
    run = run_component(lambda: Bastion("bastion", BastionArgs(**{**values, **overrides})))
    assert run.error is None, run.error
    return run


@pytest.fixture(scope="module")
def run():
    return bastion()


def test_the_instance_requires_imdsv2_and_encrypts_its_disk_with_the_lake_key(run):
    (instance,) = run.of_type(INSTANCE)
    assert instance.inputs["metadataOptions"] == {"httpEndpoint": "enabled", "httpTokens": "required"}
    assert instance.inputs["rootBlockDevice"] == {
        "encrypted": True,
        "kmsKeyId": LAKE_KEY,
        "volumeSize": 16,
        "volumeType": "gp3",
    }
    assert (instance.inputs["subnetId"], instance.inputs["instanceType"]) == (PROD_SUBNET, "t3.micro")
    assert instance.inputs["ami"] == "ami-0123456789abcdef0"  # the latest Amazon Linux 2023, from SSM
    assert instance.inputs["tags"] == {"Name": "datalake-test-bastion"}
    assert "aws:ssm/getParameter:getParameter" in run.invokes


def test_nothing_comes_in_and_only_https_goes_out(run):
    (group,) = run.of_type("aws:ec2/securityGroup:SecurityGroup")
    assert not group.inputs.get("ingress")
    assert run.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") == []
    (egress,) = run.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert (egress.inputs["ipProtocol"], egress.inputs["fromPort"], egress.inputs["toPort"]) == ("tcp", 443, 443)
    assert run.of_type(INSTANCE)[0].inputs["vpcSecurityGroupIds"] == [f"{group.name}-id"]


def test_its_role_may_use_session_manager_only(run):
    (role,) = run.of_type("aws:iam/role:Role")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": "ec2.amazonaws.com"}
    (attachment,) = run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    assert run.of_type("aws:iam/rolePolicy:RolePolicy") == []
    (profile,) = run.of_type("aws:iam/instanceProfile:InstanceProfile")
    assert profile.inputs == {"name": role.state["name"], "role": role.state["name"]}
    assert run.of_type(INSTANCE)[0].inputs["iamInstanceProfile"] == role.state["name"]


def test_a_key_pair_only_when_given_a_public_key(run):
    assert run.of_type("aws:ec2/keyPair:KeyPair") == []
    assert "keyName" not in run.of_type(INSTANCE)[0].inputs
    keyed = bastion(public_key=PUBLIC_KEY)
    (pair,) = keyed.of_type("aws:ec2/keyPair:KeyPair")
    assert pair.inputs["publicKey"] == PUBLIC_KEY
    assert keyed.of_type(INSTANCE)[0].inputs["keyName"] == pair.state["keyName"]


def test_a_public_ip_only_where_the_subnet_has_no_other_way_out(run):
    assert run.of_type(INSTANCE)[0].inputs["associatePublicIpAddress"] is False
    assert bastion(public_ip=True).of_type(INSTANCE)[0].inputs["associatePublicIpAddress"] is True


# In the stacks ------------------------------------------------------------------------------------------------------


def test_the_settings_turn_it_on_in_the_clusters_subnet():
    on = run_program("prod", overrides={"bastion": {"enabled": True, "public_key": PUBLIC_KEY}})
    assert on.error is None, on.error
    (instance,) = on.of_type(INSTANCE)
    assert instance.inputs["subnetId"] == PROD_SUBNET
    assert instance.inputs["tags"] == {"Name": "datalake-prod-bastion"}
    assert len(on.of_type("aws:ec2/keyPair:KeyPair")) == 1
