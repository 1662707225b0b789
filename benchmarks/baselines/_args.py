"""The command line every baseline takes: its inputs and the folder its tables go to (replaced)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path


def parse(description: str, argv: Sequence[str] | None, *inputs: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    for flag in inputs:
        parser.add_argument(flag, required=True)
    parser.add_argument("--output", type=Path, required=True)
    return parser.parse_args(argv)


def session(name: str):
    from local.spark import local_session  # Spark starts only when a baseline runs

    return local_session(f"datalake-bench-{name}")
