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
