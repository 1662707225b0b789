"""JobCode: the jobs/ code shipped to the scripts bucket under content-hashed keys, for EMR and Glue to run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import assets
from components.moves import MovedFrom, child_options
from pipelines import lake


@dataclass(frozen=True)
class ShippedCode:
    """Where the shipped code is, as s3:// URIs: what EmrEtl and GlueEtl take to run the jobs."""

    script_uris: Mapping[str, pulumi.Input[str]]  # job -> its script
    py_files_uri: pulumi.Input[str]  # the `--py-files` archive: jobs/_*.py and pipelines/
    bootstrap_uri: pulumi.Input[str]  # what EMR runs on every node before Spark starts


@dataclass(frozen=True)
class JobCodeArgs:
    scripts_bucket: pulumi.Input[str]
    # Before issue 11 these objects were EmrEtl's children.
    moved_from: MovedFrom | None = None


class JobCode(pulumi.ComponentResource):
    """Creates, under lake.JOB_CODE in the scripts bucket, an S3 object per jobs/<job>.py, the `--py-files` archive
    of the modules they share, and the EMR bootstrap script; each key changes with its content, so a running
    pipeline never reads half-deployed code."""

    def __init__(self, name: str, args: JobCodeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("datalake:components:JobCode", name, None, opts)
        self._name, self._args = name, args
        scripts = {
            job: self._upload(f"job-{job}", job, {path.name: path}, ".py", pulumi.FileAsset(str(path)))
            for job, path in assets.job_scripts().items()
        }
        deps = assets.job_dependencies()
        archive = pulumi.AssetArchive({archived: pulumi.FileAsset(str(path)) for archived, path in deps.items()})
        bootstrap = assets.JOBS / "bootstrap.sh"
        self.shipped = ShippedCode(
            script_uris=scripts,
            py_files_uri=self._upload("job-deps", "deps", deps, ".zip", archive),
            bootstrap_uri=self._upload(
                "job-bootstrap", "bootstrap", {bootstrap.name: bootstrap}, ".sh", pulumi.FileAsset(str(bootstrap))
            ),
        )
        self.register_outputs(
            {
                "script_uris": self.shipped.script_uris,
                "py_files_uri": self.shipped.py_files_uri,
                "bootstrap_uri": self.shipped.bootstrap_uri,
            }
        )

    def _upload(self, role: str, name: str, files: dict, suffix: str, source: pulumi.Asset | pulumi.Archive):
        key = assets.hashed_key(lake.JOB_CODE, name, files, suffix)
        child = f"{self._name}-{role}"
        aws.s3.BucketObjectv2(
            child,
            bucket=self._args.scripts_bucket,
            key=key,
            source=source,
            opts=child_options(self, self._name, child, self._args.moved_from),
        )
        return pulumi.Output.concat("s3://", self._args.scripts_bucket, "/", key)
