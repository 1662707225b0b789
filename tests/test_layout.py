"""The walls between the rooms the README's Layout names, checked on the source rather than trusted to review."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from pipelines.model import Location
from tests.infra import ROOT

SKIP = {".venv", ".lake", ".bench", "tests", "node_modules"}


def sources(*rooms: str) -> list[Path]:
    """Every .py file of these rooms (all rooms but the skipped ones when none is named), outside virtualenvs."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if any(part in SKIP or part.startswith(".venv") for part in parts):
            continue
        if not rooms or parts[0] in rooms or (len(parts) == 1 and "" in rooms):
            found.append(path)
    return found


def imported_tops(path: Path) -> set[str]:
    tops = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            tops.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            tops.add(node.module.partition(".")[0])
    return tops


def relative(paths) -> list[str]:
    return [str(path.relative_to(ROOT)) for path in paths]


@pytest.mark.parametrize("room", ["jobs", "functions", "pipelines"])
def test_no_pulumi_where_the_code_runs_in_aws_or_is_plain_data(room):
    assert relative(p for p in sources(room) if {"pulumi", "pulumi_aws"} & imported_tops(p)) == []


def test_pyspark_only_in_the_jobs_the_local_runner_and_the_benchmarks():
    outside = [p for p in sources() if p.relative_to(ROOT).parts[0] not in {"jobs", "local", "benchmarks"}]
    assert outside, "the scan found no files"
    assert relative(p for p in outside if "pyspark" in imported_tops(p)) == []


def declared_prefixes() -> set[str]:
    """Every zone-relative prefix pipelines/ declares (pipeline data and the platform's own places)."""
    prefixes = set()
    for path in sources("pipelines"):
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for value in vars(module).values():
            if isinstance(value, Location):
                prefixes.add(value.prefix)
    from pipelines import PIPELINES, all_tables

    prefixes.update(p.raw.prefix for p in PIPELINES.values())
    prefixes.update(t.location.prefix for t in all_tables())
    return prefixes


def test_every_zone_relative_location_is_declared_in_pipelines_only():
    # The code prefixes are named after the repository folders they ship (jobs/, functions/): a path to a folder of
    # the checkout (`jobs/orders.py` run by hand) is not a lake location, so those are left out of the scan.
    prefixes = declared_prefixes() - {f"{p.name}/" for p in ROOT.iterdir() if p.is_dir()}
    assert "orders/exports/" in prefixes or any(p.startswith("orders/") for p in prefixes)
    restated = []
    for path in sources():
        if path.relative_to(ROOT).parts[0] == "pipelines":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # Prose (descriptions, messages) may name a repository folder such as jobs/; a location is never prose.
        prose = {
            id(part)
            for node in ast.walk(tree)
            if isinstance(node, ast.JoinedStr)
            and any(isinstance(p, ast.Constant) and " " in str(p.value) for p in node.values)
            for part in node.values
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
                if " " in node.value:
                    continue
                # A declared prefix written out again, alone or as the head of a path ("orders/exports/x.json").
                if any(node.value == p or (node.value.startswith(p) and "/" in p[:-1]) for p in prefixes):
                    restated.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert restated == []
