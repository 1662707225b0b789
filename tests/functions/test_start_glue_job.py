"""The Glue starter Lambda under moto: one run per landing, a run in progress is not an error."""

import importlib

import boto3
import pytest
from moto import mock_aws

EVENT = {
    "Records": [{"s3": {"bucket": {"name": "raw-bucket"}, "object": {"key": "orders/exports/new+export%C3%A9.json"}}}]
}


@pytest.fixture
def glue(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("JOB_NAME", "datalake-dev-orders")
    with mock_aws():
        client = boto3.client("glue", region_name="eu-west-1")
        client.create_job(
            Name="datalake-dev-orders",
            Role="arn:aws:iam::123456789012:role/glue",
            Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/jobs/orders.py"},
            ExecutionProperty={"MaxConcurrentRuns": 1},
        )
        module = importlib.import_module("functions.start_glue_job")
        monkeypatch.setattr(module, "_glue", None)
        yield module, client


def test_a_landed_file_starts_one_run_of_the_job(glue):
    module, client = glue
    result = module.handler(EVENT, None)
    assert result["started"] is True
    assert result["files"] == ["s3://raw-bucket/orders/exports/new exporté.json"]
    runs = client.get_job_runs(JobName="datalake-dev-orders")["JobRuns"]
    assert [r["Id"] for r in runs] == [result["run_id"]]


def test_a_run_in_progress_is_not_an_error(glue, monkeypatch):
    module, _ = glue
    from botocore.exceptions import ClientError

    def busy(**_):
        raise ClientError({"Error": {"Code": "ConcurrentRunsExceededException", "Message": "busy"}}, "StartJobRun")

    monkeypatch.setattr(module.glue_client(), "start_job_run", busy)
    assert module.handler(EVENT, None) == {
        "started": False,
        "run_id": None,
        "files": ["s3://raw-bucket/orders/exports/new exporté.json"],
    }


def test_other_errors_fail_the_invocation_so_lambda_retries(glue, monkeypatch):
    module, _ = glue
    monkeypatch.setenv("JOB_NAME", "no-such-job")
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError):
        module.handler(EVENT, None)


def test_an_event_without_records_starts_nothing(glue):
    module, client = glue
    assert module.handler({}, None)["started"] is False
    assert client.get_job_runs(JobName="datalake-dev-orders")["JobRuns"] == []
