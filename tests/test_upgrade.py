"""A stack deployed before the redesign of issue 11 upgrades in place: every resource it holds is still in the
program, under its old URN or behind an alias to it, so `pulumi up` replaces nothing (a replaced bucket object is
deleted after its replacement is written to the same key; a replaced Glue job or workgroup collides with its own
name). Issue 12 deletes on purpose what `removed_by_issue_12` lists: the Hive tables, whose Iceberg successors take
their names under new URNs (README, Upgrading), the curated crawlers and the Glue job's crawl trigger."""

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


def test_every_deployed_resource_is_kept_but_what_issue_12_removes(deployed):
    variant, plan = deployed
    removed = variant["removed_by_issue_12"]
    assert sorted(plan.deleted) == removed, "these deployed resources would be deleted (or replaced): add an alias"
    assert plan.conflicts == []
    assert sorted(plan.kept) == sorted(set(variant["urns"]) - set(removed))
    # What goes: Hive tables, curated crawlers and the crawl trigger, nothing else (no bucket, key, role or job).
    kinds = {urn.split("::")[2].split("$")[-1] for urn in removed}
    assert kinds == {"aws:glue/catalogTable:CatalogTable", "aws:glue/crawler:Crawler", "aws:glue/trigger:Trigger"}
    assert not [u for u in removed if u.endswith("-catalog-crawler-raw")]


# Jobs added since the deployed release: each ships its script as one new object (new code, nothing replaced).
ADDED_JOBS = ("orders_ingest_merge",)
ISSUE_12_CREATES = {
    # The Iceberg tables (same names as the Hive ones they replace), their optimizers and the optimizers' role.
    "aws:glue/catalogTable:CatalogTable": "-catalog-iceberg-",
    "aws:glue/catalogTableOptimizer:CatalogTableOptimizer": "-catalog-optimizer-",
    "aws:iam/role:Role": "-catalog-optimizer",
    "aws:iam/rolePolicy:RolePolicy": "-catalog-optimizer-policy",
    # The raw-zone exploration crawler and its database.
    "aws:glue/crawler:Crawler": "-catalog-crawler-raw",
    "aws:glue/catalogDatabase:CatalogDatabase": "-catalog-raw-database",
}


def test_the_upgrade_creates_only_the_lakehouse(deployed):
    """Besides the components that now hold the moved resources (Pulumi's, nothing in AWS), only what issue 12 adds."""
    _, plan = deployed
    for urn in plan.created:
        kind, name = urn.split("::")[2], urn.rsplit("::", 1)[1]
        if name.endswith(tuple(f"-code-job-{job}" for job in ADDED_JOBS)):
            continue
        if kind.split("$")[-1] in ISSUE_12_CREATES:
            assert ISSUE_12_CREATES[kind.split("$")[-1]] in name, urn
            continue
        assert kind in {
            "datalake:components:JobCode",
            "datalake:components:AthenaWorkgroup",
            "datalake:components:GlueEtl",
            "datalake:components:EmrEtl$datalake:components:Bastion",
        }, urn


def test_a_moved_resource_keeps_its_type(deployed):
    _, plan = deployed
    for old, new in plan.renamed.items():
        assert old.split("::")[2].split("$")[-1] == new.split("::")[2].split("$")[-1], (old, new)
