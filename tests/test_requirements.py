"""The requirements files, one per audience: requirements.txt is the program's alone (what `pulumi preview` installs),
requirements-local.txt what `make run` and the query client need, requirements-dev.txt the tests' on top of both.

The program runs under mocks in the virtualenv `make test` builds from requirements.txt alone ($(VENV)-program), and
imports every package that file names; the code each other file serves imports only what that file brings.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.infra import ROOT
from tests.program_only import canonical

PROGRAM_VENV = Path(os.environ.get("DATALAKE_PROGRAM_VENV", ROOT / ".venv-program"))


def declared(name: str) -> dict[str, str]:
    """Distribution -> its requirement line (for this Python), of one file and the files it includes with -r."""
    lines: dict[str, str] = {}
    for raw in (ROOT / name).read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r "):
            lines.update(declared(line[3:].strip()))
            continue
        requirement = Requirement(line) if line else None
        if requirement and (requirement.marker is None or requirement.marker.evaluate()):
            lines.setdefault(canonical(requirement.name), line)
    return lines


@pytest.fixture(scope="module")
def program_python() -> Path:
    python = PROGRAM_VENV / "bin" / "python"
    if not python.exists():
        pytest.skip(f"{PROGRAM_VENV} is absent: `make test` builds it from requirements.txt alone")
    return python


def run_alone(python: Path, stack: str) -> dict:
    done = subprocess.run(
        [str(python), "-m", "tests.program_only", stack],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_program_runs_from_requirements_txt_alone(program_python, stack_run, stack):
    report = run_alone(program_python, stack)
    assert report["error"] is None
    assert report["resources"] == len(stack_run(stack).resources)
    program = set(declared("requirements.txt"))
    # Nothing of the jobs, the local runner or the tests was there to be imported.
    others = (set(declared("requirements-local.txt")) | set(declared("requirements-dev.txt"))) - program
    # pulumi itself depends on PyYAML, and Python 3.11's venv comes with setuptools.
    assert set(report["installed"]) & others <= {"pyyaml", "setuptools"}
    # Every package requirements.txt names is one the program imports (sqlglot parses the queries at deploy time).
    assert program - set(report["imported"]) == set()


def third_party_imports(paths: list[Path]) -> dict[str, set[str]]:
    """Top-level module -> the files importing it, for every import in these files that is not ours or stdlib."""
    ours = {p.name.removesuffix(".py") for p in ROOT.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    ours |= {p.stem for p in (ROOT / "jobs").glob("*.py")}  # the jobs import their shared modules by bare name
    found: dict[str, set[str]] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for top in {name.partition(".")[0] for name in names} - ours - sys.stdlib_module_names - {"__future__"}:
                found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def closure(requirements: str) -> set[str]:
    """The distributions a file brings: those it names and, as installed here, everything they depend on."""
    pending, seen = list(declared(requirements)), set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for line in importlib.metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(canonical(requirement.name))
    return seen


def files(*patterns: str) -> list[Path]:
    return sorted(path for pattern in patterns for path in ROOT.glob(pattern))


# Who runs which code, and the one file that must bring every package it imports.
AUDIENCES = {
    "requirements.txt": ["__main__.py", "settings*.py", "components/*.py", "pipelines/*.py"],
    "requirements-local.txt": ["jobs/*.py", "functions/*.py", "local/**/*.py", "pipelines/*.py", "tools/query.py"],
    "requirements-dev.txt": ["tests/**/*.py", "benchmarks/*.py", "tools/*.py", "guardrails/*.py"],
}


@pytest.mark.parametrize("requirements", AUDIENCES)
def test_the_code_each_file_serves_imports_only_what_that_file_brings(requirements):
    owners = importlib.metadata.packages_distributions()
    brought = closure(requirements)
    missing = {
        module: sorted(where)
        for module, where in third_party_imports(files(*AUDIENCES[requirements])).items()
        if not {canonical(owner) for owner in owners.get(module, [])} & brought
    }
    assert missing == {}, f"imported, but {requirements} does not bring them"


def test_a_package_named_in_two_files_has_the_same_range_in_both():
    program, local = declared("requirements.txt"), declared("requirements-local.txt")
    assert {
        name: (program[name], local[name]) for name in program.keys() & local.keys() if program[name] != local[name]
    } == {}


def test_the_emr_bootstrap_installs_the_py7zr_the_jobs_are_tested_with():
    bootstrap = (ROOT / "jobs" / "bootstrap.sh").read_text()
    assert f"pip install --quiet '{declared('requirements-local.txt')['py7zr']}'" in bootstrap
