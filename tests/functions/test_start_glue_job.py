"""The Glue starter Lambda under moto: a landing fires the job's on-demand trigger, unless a queued run will read it."""

import importlib

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.functions import archive

JOB, TRIGGER = "datalake-dev-orders", "datalake-dev-orders-on-upload"
EVENT = {
    "Records": [
        {"s3": {"bucket": {"name": "raw-bucket"}, "object": {"key": "orders/glue/exports/new+export%C3%A9.json"}}}
    ]
}
FILES = ["s3://raw-bucket/orders/glue/exports/new exporté.json"]


@pytest.fixture
def glue(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("JOB_NAME", JOB)
    monkeypatch.setenv("TRIGGER_NAME", TRIGGER)
    with mock_aws():
        client = boto3.client("glue", region_name="eu-west-1")
        client.create_job(
            Name=JOB,
            Role="arn:aws:iam::123456789012:role/glue",
            Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/jobs/orders.py"},
            ExecutionProperty={"MaxConcurrentRuns": 1},
        )
        client.create_trigger(Name=TRIGGER, Type="ON_DEMAND", Actions=[{"JobName": JOB}])
        module = importlib.import_module("functions.start_glue_job")
        monkeypatch.setattr(module, "_glue", None)
        fired = []
        original = module.glue_client().start_trigger
        monkeypatch.setattr(module.glue_client(), "start_trigger", lambda **kw: fired.append(kw) or original(**kw))
        yield module, client, fired


def test_a_landed_file_fires_the_jobs_on_demand_trigger(glue):
    module, _, fired = glue
    result = module.handler(EVENT, None)
    assert result == {"job": JOB, "started": True, "waiting_run": None, "files": FILES}
    assert fired == [{"Name": TRIGGER}]


def test_a_run_still_waiting_in_the_queue_will_read_the_file_so_nothing_new_starts(glue, monkeypatch):
    module, _, fired = glue
    runs = {"JobRuns": [{"Id": "jr_running", "JobRunState": "RUNNING"}, {"Id": "jr_queued", "JobRunState": "WAITING"}]}
    monkeypatch.setattr(module.glue_client(), "get_job_runs", lambda **_: runs)
    result = module.handler(EVENT, None)
    assert (result["started"], result["waiting_run"], fired) == (False, "jr_queued", [])


def test_a_running_run_does_not_stop_a_new_start(glue, monkeypatch):
    """A running job may have listed its input already: the new file needs a run of its own (queued by Glue)."""
    module, _, fired = glue
    monkeypatch.setattr(
        module.glue_client(), "get_job_runs", lambda **_: {"JobRuns": [{"Id": "jr_1", "JobRunState": "RUNNING"}]}
    )
    assert module.handler(EVENT, None)["started"] is True
    assert fired == [{"Name": TRIGGER}]


def test_errors_fail_the_invocation_so_lambda_retries_then_dead_letters(glue, monkeypatch):
    module, _, _ = glue
    monkeypatch.setenv("TRIGGER_NAME", "no-such-trigger")
    with pytest.raises(ClientError, match="EntityNotFoundException"):
        module.handler(EVENT, None)


def test_an_event_without_records_starts_nothing(glue):
    module, _, fired = glue
    result = module.handler({}, None)
    assert (result["started"], result["reason"], fired) == (False, "no S3 records in the event", [])


def test_the_shipped_archive_alone_fires_the_trigger(tmp_path):
    code = archive.unpack("start_glue_job", tmp_path)
    script = f"""
import json
import boto3
from moto import mock_aws
with mock_aws():
    glue = boto3.client("glue")
    glue.create_job(Name="{JOB}", Role="arn:aws:iam::123456789012:role/glue", Command={{"Name": "glueetl"}})
    glue.create_trigger(Name="{TRIGGER}", Type="ON_DEMAND", Actions=[{{"JobName": "{JOB}"}}])
    print(json.dumps(handler({EVENT!r}, None)))
"""
    env = {"JOB_NAME": JOB, "TRIGGER_NAME": TRIGGER, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "x"}
    assert archive.run_alone(code, "start_glue_job", script, env) == {
        "job": JOB,
        "started": True,
        "waiting_run": None,
        "files": FILES,
    }
