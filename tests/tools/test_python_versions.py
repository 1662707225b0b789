"""tools/python_versions.py: the supported Pythons, named once and checked before `make` makes a virtualenv."""

from __future__ import annotations

import re
import subprocess
import sys

import yaml

from tests.infra import ROOT
from tools import python_versions


def fake_venv(tmp_path, prints: str):
    python = tmp_path / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f"#!/bin/sh\necho {prints}\n")
    python.chmod(0o755)
    return tmp_path / "venv"


def test_an_unsupported_python_is_refused_by_name():
    message = python_versions.problem("3.10", ROOT / "no-such-venv")
    assert message.startswith("Python 3.10 is not supported: use 3.11, 3.12, 3.13")


def test_a_virtualenv_of_another_python_is_never_reused(tmp_path):
    venv = fake_venv(tmp_path, "3.11")
    message = python_versions.problem("3.12", venv)
    assert f"{venv} was made with Python 3.11, not 3.12" in message
    assert "VENV=.venv-3.12" in message
    assert python_versions.problem("3.11", venv) is None


def test_no_virtualenv_yet_is_fine(tmp_path):
    assert python_versions.problem("3.13", tmp_path / "absent") is None


def test_the_check_is_one_line_and_exit_1(tmp_path):
    venv = fake_venv(tmp_path, "2.7")
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "python_versions.py"), str(venv)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("make: ")
    assert done.stderr.count("\n") == 1


def test_every_virtualenv_make_uses_is_checked(tmp_path):
    """make checks its virtualenv and the program-only one; a stale second one stops it as the first would."""
    fine = tmp_path / "absent"
    stale = fake_venv(tmp_path, "2.7")
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "python_versions.py"), str(fine), str(stale)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stderr.count("\n")) == (1, 1)
    assert f"{stale} was made with Python 2.7" in done.stderr
    assert python_versions.main([]) == 2


def test_this_interpreter_is_supported():
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in python_versions.SUPPORTED


def test_the_pull_request_workflow_tests_every_supported_python():
    pr = yaml.safe_load((ROOT / ".github" / "workflows" / "pr.yml").read_text())
    assert pr["jobs"]["test"]["strategy"]["matrix"]["python"] == list(python_versions.SUPPORTED)


def test_the_readme_states_the_supported_versions():
    quick_start = (ROOT / "README.md").read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    first, *_, last = python_versions.SUPPORTED
    assert re.search(rf"Python {re.escape(first)} to {re.escape(last)}\b", quick_start)
