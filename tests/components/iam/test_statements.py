"""The vocabulary of the IAM documents: statements, ARNs, trust policies that only the right caller can satisfy."""

import pytest

from components.iam.statements import (
    SENDS_SOURCE_ACCOUNT,
    assume_role,
    catalog_arns,
    document,
    managed_policy_arn,
    objects,
    pass_role,
    statement,
    use_key,
)


def test_a_statement_sorts_and_dedupes_its_actions_and_leaves_out_what_is_not_given():
    assert statement("S", ["s3:PutObject", "s3:GetObject", "s3:GetObject"], ["arn:aws:s3:::b"]) == {
        "Sid": "S",
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": ["arn:aws:s3:::b"],
    }
    deny = statement("D", ["s3:*"], ["*"], effect="Deny", principal="*", condition={"Bool": {"k": "v"}})
    assert (deny["Effect"], deny["Principal"], deny["Condition"]) == ("Deny", "*", {"Bool": {"k": "v"}})
    assert document([deny]) == {"Version": "2012-10-17", "Statement": [deny]}


def test_object_and_catalog_arns():
    assert objects("arn:aws:s3:::b") == "arn:aws:s3:::b/*"
    assert objects("arn:aws:s3:::b", "orders/") == "arn:aws:s3:::b/orders/*"
    assert catalog_arns("aws-cn", "cn-north-1", "123456789012", "db", ["t"]) == [
        "arn:aws-cn:glue:cn-north-1:123456789012:catalog",
        "arn:aws-cn:glue:cn-north-1:123456789012:database/db",
        "arn:aws-cn:glue:cn-north-1:123456789012:table/db/t",
    ]


def test_a_trust_policy_names_one_service_and_no_resource():
    (trust,) = assume_role("glue.amazonaws.com")["Statement"]
    assert trust == {
        "Sid": "TrustService",
        "Effect": "Allow",
        "Action": ["sts:AssumeRole"],
        "Principal": {"Service": "glue.amazonaws.com"},
    }


def test_a_trust_policy_may_require_this_account_only_of_a_service_that_sends_it():
    (trust,) = assume_role("states.amazonaws.com", account_id="123456789012", source_arn="arn:x")["Statement"]
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnLike": {"aws:SourceArn": "arn:x"},
    }
    assert "states.amazonaws.com" in SENDS_SOURCE_ACCOUNT
    with pytest.raises(ValueError, match=r"ec2\.amazonaws\.com does not send aws:SourceAccount"):
        assume_role("ec2.amazonaws.com", account_id="123456789012")


def test_managed_policies_are_named_in_the_partition():
    assert (
        managed_policy_arn("aws-cn", "AWSXRayDaemonWriteAccess")
        == "arn:aws-cn:iam::aws:policy/AWSXRayDaemonWriteAccess"
    )


def test_the_key_and_pass_role_statements():
    assert use_key("arn:k")["Action"] == ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
    assert pass_role(["arn:r"], "ec2.amazonaws.com") == {
        "Sid": "PassOwnRoles",
        "Effect": "Allow",
        "Action": ["iam:PassRole"],
        "Resource": ["arn:r"],
        "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
    }
