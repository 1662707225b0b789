"""The GitHub Actions workflows: actionlint passes them (and fails a broken one, so the check bites), and they
keep the shape the deploy process relies on (tests first, policy pack on every preview and update, OIDC only,
prod behind its environment, one update per stack at a time)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.infra import ROOT

ACTIONLINT = Path(sys.executable).parent / "actionlint"
WORKFLOWS = ROOT / ".github" / "workflows"
PULUMI_ACTION = "pulumi/actions@v7"
AWS_ACTION = "aws-actions/configure-aws-credentials@v6"


def actionlint(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", *map(str, paths)], cwd=ROOT, capture_output=True, text=True, check=False
    )


def workflow(name: str) -> dict:
    # YAML 1.1 reads the `on:` key as True.
    return yaml.safe_load((WORKFLOWS / name).read_text())


def steps_using(job: dict, action: str) -> list[dict]:
    return [step for step in job["steps"] if step.get("uses") == action]


@pytest.mark.parametrize("name", ["pr.yml", "deploy.yml"])
def test_workflow_passes_actionlint(name):
    result = actionlint(WORKFLOWS / name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_fails_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: pull_request\n"
        "jobs:\n"
        "  preview:\n"
        "    needs: tests\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        f"      - uses: {PULUMI_ACTION}\n"
        "        with:\n"
        "          command: preview\n"
        "          stack-name: dev\n"
        "          policy-packs: guardrails\n"
    )
    result = actionlint(broken)
    assert result.returncode == 1
    assert 'input "policy-packs" is not defined' in result.stdout
    assert 'job "preview" needs job "tests" which does not exist' in result.stdout


def test_no_workflow_holds_aws_keys():
    for path in WORKFLOWS.glob("*.yml"):
        assert "aws-access-key-id" not in path.read_text(), path.name


def test_pull_requests_test_then_preview_both_stacks_with_the_policy_pack_and_comment():
    pr = workflow("pr.yml")
    assert set(pr[True]) == {"pull_request"}
    assert [s.get("run") for s in pr["jobs"]["test"]["steps"] if "run" in s] == ["make test"]
    preview = pr["jobs"]["preview"]
    assert preview["needs"] == "test"
    assert preview["permissions"]["id-token"] == "write"
    assert [entry["stack"] for entry in preview["strategy"]["matrix"]["include"]] == ["dev", "prod"]
    (aws,) = steps_using(preview, AWS_ACTION)
    assert {"role-to-assume", "aws-region"} <= set(aws["with"])
    (pulumi,) = steps_using(preview, PULUMI_ACTION)
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["policyPacks"] == "guardrails"
    assert pulumi["with"]["comment-on-pr"] is True


def test_main_deploys_dev_then_prod_behind_the_production_environment():
    deploy = workflow("deploy.yml")
    assert deploy[True]["push"]["branches"] == ["main"]
    jobs = deploy["jobs"]
    assert [s.get("run") for s in jobs["test"]["steps"] if "run" in s] == ["make test"]
    assert (jobs["dev"]["needs"], jobs["prod"]["needs"]) == ("test", "dev")
    assert jobs["prod"]["environment"]["name"] == "production"
    assert "environment" not in jobs["dev"]
    for stack in ("dev", "prod"):
        job = jobs[stack]
        assert job["concurrency"] == {"group": f"pulumi-{stack}", "cancel-in-progress": False}
        assert job["permissions"]["id-token"] == "write"
        (pulumi,) = steps_using(job, PULUMI_ACTION)
        assert pulumi["with"]["command"] == "up"
        assert pulumi["with"]["policyPacks"] == "guardrails"
        assert pulumi["with"]["stack-name"].endswith(f"|| '{stack}' }}}}")


def pulumi_jobs() -> dict[str, dict]:
    return {
        "preview": workflow("pr.yml")["jobs"]["preview"],
        **{s: workflow("deploy.yml")["jobs"][s] for s in ("dev", "prod")},
    }


def test_pulumi_runs_in_a_virtualenv_of_the_programs_requirements_alone():
    """`make install` installs requirements.txt and nothing else (tests/test_makefile.py); the pack has its own."""
    for name, job in pulumi_jobs().items():
        (install,) = [step["run"].split("\n") for step in job["steps"] if "make install" in step.get("run", "")]
        assert [line for line in install if line] == [
            "make install",
            "python3 -m venv guardrails/.venv",
            "guardrails/.venv/bin/python -m pip install --quiet -r guardrails/requirements.txt",
        ], name
        (python,) = [step for step in job["steps"] if step.get("uses", "").startswith("actions/setup-python")]
        assert python["with"]["cache-dependency-path"].split() == ["requirements.txt", "guardrails/requirements.txt"]
