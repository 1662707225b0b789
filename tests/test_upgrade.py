"""A stack deployed before the redesign of issue 11 upgrades in place: every resource it holds is still in the
program, under its old URN or behind an alias to it, so `pulumi up` replaces nothing (a replaced bucket object is
deleted after its replacement is written to the same key; a replaced Glue job or workgroup collides with its own
name)."""

import json

import pytest

from tests.infra import ROOT, run_program, upgrade

DEPLOYED = json.loads((ROOT / "tests" / "deployed_urns.json").read_text())["stacks"]


@pytest.fixture(scope="module", params=sorted(DEPLOYED))
def deployed(request) -> tuple[dict, object]:
    variant = DEPLOYED[request.param]
    run = run_program(variant["stack"], overrides=variant["overrides"])
    assert run.error is None, run.error
    return variant, upgrade(run, variant["urns"])


def test_every_deployed_resource_is_kept(deployed):
    variant, plan = deployed
    assert plan.deleted == [], "these deployed resources would be deleted (or replaced): add an alias"
    assert plan.conflicts == []
    assert sorted(plan.kept) == variant["urns"]


# Jobs added since the deployed release: each ships its script as one new object (new code, nothing replaced).
ADDED_JOBS = ("orders_ingest_merge",)


def test_the_upgrade_creates_no_aws_resource(deployed):
    """Only the components that now hold the moved resources are new: they are Pulumi's, nothing in AWS (but the
    scripts of jobs added since)."""
    _, plan = deployed
    created = [urn for urn in plan.created if not urn.endswith(tuple(f"-code-job-{job}" for job in ADDED_JOBS))]
    assert {urn.split("::")[2] for urn in created} <= {
        "datalake:components:JobCode",
        "datalake:components:AthenaWorkgroup",
        "datalake:components:GlueEtl",
        "datalake:components:EmrEtl$datalake:components:Bastion",
    }


def test_a_moved_resource_keeps_its_type(deployed):
    _, plan = deployed
    for old, new in plan.renamed.items():
        assert old.split("::")[2].split("$")[-1] == new.split("::")[2].split("$")[-1], (old, new)
