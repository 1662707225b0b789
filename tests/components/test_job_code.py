"""JobCode alone: every job script, the shared --py-files archive and the bootstrap script ship to the scripts bucket
under keys that change with their content, and the URIs it hands EmrEtl and GlueEtl name those objects."""

import re

import pytest

from components import assets
from components.job_code import JobCode, JobCodeArgs
from components.moves import MovedFrom
from tests.infra import run_component, upgrade

OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"


@pytest.fixture(scope="module")
def run():
    run = run_component(lambda: JobCode("code", JobCodeArgs(scripts_bucket="test-scripts")))
    assert run.error is None, run.error
    return run


def test_job_scripts_ship_under_content_hashed_keys(run):
    objects = {o.inputs["key"]: o.inputs for o in run.of_type(OBJECT)}
    for job, path in assets.job_scripts().items():
        assert f"jobs/{job}-{assets.content_hash({path.name: path})}.py" in objects
    deps = assets.job_dependencies()
    assert f"jobs/deps-{assets.content_hash(deps)}.zip" in objects
    assert "_job.py" in deps
    assert "pipelines/model.py" in deps
    assert "pipelines/lake.py" in deps
    assert all(re.fullmatch(r"jobs/[a-z_]+-[0-9a-f]{16}\.(py|zip|sh)", key) for key in objects)
    assert {o["bucket"] for o in objects.values()} == {"test-scripts"}
    assert len(objects) == len(assets.job_scripts()) + 2  # and the archive and the bootstrap script


def test_the_uris_name_the_objects_it_ships(run):
    keys = {o.inputs["key"] for o in run.of_type(OBJECT)}
    shipped = run.component.shipped
    uris = [run.resolve(shipped.py_files_uri), run.resolve(shipped.bootstrap_uri)]
    uris += [run.resolve(uri) for uri in shipped.script_uris.values()]
    assert {uri.removeprefix("s3://test-scripts/") for uri in uris} == keys
    assert sorted(shipped.script_uris) == sorted(assets.job_scripts())


def test_moved_objects_answer_to_their_old_urns():
    before = [
        "urn:pulumi:dev::datalake::datalake:components:EmrEtl$aws:s3/bucketObjectv2:BucketObjectv2::emr-job-orders"
    ]
    moved = MovedFrom.component("emr", "datalake:components:EmrEtl")
    run = run_component(lambda: JobCode("code", JobCodeArgs(scripts_bucket="test-scripts", moved_from=moved)))
    assert upgrade(run, before).renamed == {
        before[
            0
        ]: "urn:pulumi:dev::datalake::datalake:components:JobCode$aws:s3/bucketObjectv2:BucketObjectv2::code-job-orders"
    }
