"""Starts the Glue job JOB_NAME when files land under its landing prefix (S3 notification), by firing its on-demand
trigger TRIGGER_NAME: a conditional trigger (crawl the output after a success) fires only for trigger-started runs.

The job runs one at a time with run queuing, so a start during a run waits instead of failing. A run still
waiting has not read its input yet and will see these files too: then nothing new is started.
"""

from __future__ import annotations

import json
import logging
import os
from urllib.parse import unquote_plus

import boto3

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)
_glue = None


def glue_client():
    global _glue  # noqa: PLW0603  (one client per container, created on first use so tests can patch AWS)
    if _glue is None:
        _glue = boto3.client("glue")
    return _glue


def _waiting_run(job_name: str) -> str | None:
    """The id of a run that is queued and has not started reading, if there is one."""
    runs = glue_client().get_job_runs(JobName=job_name, MaxResults=50)["JobRuns"]
    return next((run["Id"] for run in runs if run.get("JobRunState") == "WAITING"), None)


def handler(event: dict, context: object) -> dict:
    job_name, trigger_name = os.environ["JOB_NAME"], os.environ["TRIGGER_NAME"]
    keys = [
        f"s3://{r['s3']['bucket']['name']}/{unquote_plus(r['s3']['object']['key'])}" for r in event.get("Records", [])
    ]
    result: dict = {"job": job_name, "started": False, "waiting_run": None, "files": keys}
    if not keys:
        result["reason"] = "no S3 records in the event"
    elif waiting := _waiting_run(job_name):
        result.update(waiting_run=waiting, reason="a queued run has not started and will read these files")
    else:
        # Any error (throttling, a missing trigger) fails the invocation: Lambda retries it, then sends the event
        # to the function's failure queue, so no landing is dropped silently.
        glue_client().start_trigger(Name=trigger_name)
        result["started"] = True
    LOG.info(json.dumps(result))
    return result
