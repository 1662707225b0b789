"""Physical names the components share, computed from plain values so components can refer to each other
without waiting for one another's outputs (the state machines name the crawlers the catalog creates)."""

from __future__ import annotations

import re


def prefix(project: str, environment: str) -> str:
    """`datalake-dev`: the prefix of every physical name in a stack."""
    return f"{project}-{environment}"


def glue_database(project: str, environment: str) -> str:
    """Glue and Athena want lower case with underscores: `datalake_dev`."""
    return re.sub(r"[^a-z0-9_]", "_", f"{project}_{environment}".lower())


def crawler(project: str, environment: str, pipeline: str) -> str:
    return f"{prefix(project, environment)}-{pipeline}"


def workgroup(project: str, environment: str) -> str:
    return prefix(project, environment)
