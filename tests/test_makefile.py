"""The Makefile: `make` alone lists every target with what it does."""

from __future__ import annotations

import re
import subprocess

from tests.infra import ROOT


def phony_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    (line,) = re.findall(r"^\.PHONY:(.*)$", text, flags=re.MULTILINE)
    return set(line.split())


def test_make_alone_lists_every_target():
    done = subprocess.run(["make", "--no-print-directory"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    targets = done.stdout.split("Options:")[0].splitlines()[1:]
    # python-check is the internal guard every target runs first.
    assert {line.split()[0] for line in targets} == phony_targets() - {"python-check"}
    assert all(len(line.split(maxsplit=1)) == 2 for line in targets), "every target says what it does"
    assert "ARGS=" in done.stdout


def dry_run(target: str, tmp_path) -> list[str]:
    """The pip installs `make TARGET` would run on a fresh machine (a virtualenv that does not exist yet)."""
    venv = tmp_path / "venv"
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", target, f"VENV={venv}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [line.split(" -r ", 1)[1] for line in done.stdout.splitlines() if " pip install " in line and " -r " in line]


def test_each_target_installs_what_it_needs_and_no_more(tmp_path):
    # Pulumi's virtualenv gets the program's file alone; make run the local one; the tests everything.
    assert dry_run("install", tmp_path) == ["requirements.txt"]
    assert dry_run("docs", tmp_path) == ["requirements.txt"]
    assert dry_run("run", tmp_path) == ["requirements-local.txt"]
    assert dry_run("bench", tmp_path) == ["requirements-dev.txt"]
    # make test also builds the program-only virtualenv that tests/test_requirements.py runs the program in.
    assert dry_run("test", tmp_path) == ["requirements-dev.txt", "requirements.txt"]


def test_the_test_requirements_bring_the_program_and_the_local_ones():
    lines = (ROOT / "requirements-dev.txt").read_text().splitlines()
    assert {"-r requirements.txt", "-r requirements-local.txt"} <= set(lines)
