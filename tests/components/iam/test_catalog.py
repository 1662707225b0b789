"""components/iam/catalog.py: the Glue catalog documents (Iceberg commits, the optimizers, the deployer's PassRole)."""

from __future__ import annotations

from components.iam import catalog

ARGS = {"partition": "aws", "region": "eu-west-1", "account_id": "123456789012"}


def test_an_iceberg_commit_may_read_and_update_tables_but_never_create_or_delete_one():
    found = catalog.iceberg_commit_statement(**ARGS, database="datalake_dev", tables=["orders_orders"])
    assert sorted(found["Action"]) == ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:UpdateTable"]
    resources = found["Resource"]
    assert "arn:aws:glue:eu-west-1:123456789012:catalog" in resources
    assert "arn:aws:glue:eu-west-1:123456789012:database/datalake_dev" in resources
    assert "arn:aws:glue:eu-west-1:123456789012:table/datalake_dev/orders_orders" in resources
    assert not [r for r in resources if r.endswith("/*")]


def test_the_deployer_may_pass_the_optimizer_role_to_glue_only():
    # "Table optimization prerequisites" (AWS Glue Developer Guide): the caller needs iam:PassRole on the role.
    (found,) = catalog.deployer_pass_role_policy(partition="aws", account_id="123456789012", role_name="r")["Statement"]
    assert (found["Effect"], found["Action"]) == ("Allow", ["iam:PassRole"])
    assert found["Resource"] == ["arn:aws:iam::123456789012:role/r"]
    assert found["Condition"] == {"StringEquals": {"iam:PassedToService": "glue.amazonaws.com"}}


def test_the_optimizers_log_only_to_their_own_log_groups():
    assert catalog.OPTIMIZER_LOG_GROUPS == "log-group:/aws-glue/iceberg-*"
