"""Starts the Glue job named by JOB_NAME when a file lands in its raw landing prefix (S3 notification).

A run already in progress will read the new file too, so "too many concurrent runs" is not an error.
"""

from __future__ import annotations

import json
import logging
import os
from urllib.parse import unquote_plus

import boto3
from botocore.exceptions import ClientError

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)
_glue = None


def glue_client():
    global _glue  # noqa: PLW0603  (one client per container, created on first use so tests can patch AWS)
    if _glue is None:
        _glue = boto3.client("glue")
    return _glue


def handler(event: dict, context: object) -> dict:
    job_name = os.environ["JOB_NAME"]
    keys = [
        f"s3://{r['s3']['bucket']['name']}/{unquote_plus(r['s3']['object']['key'])}" for r in event.get("Records", [])
    ]
    if not keys:
        LOG.info(json.dumps({"job": job_name, "started": False, "reason": "no S3 records in the event"}))
        return {"started": False, "run_id": None, "files": []}
    try:
        run_id = glue_client().start_job_run(JobName=job_name)["JobRunId"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConcurrentRunsExceededException":
            raise
        LOG.info(
            json.dumps({"job": job_name, "started": False, "reason": "a run is already in progress", "files": keys})
        )
        return {"started": False, "run_id": None, "files": keys}
    LOG.info(json.dumps({"job": job_name, "started": True, "run_id": run_id, "files": keys}))
    return {"started": True, "run_id": run_id, "files": keys}
