"""The program under Pulumi mocks for one stack, run by tests/test_requirements.py inside the virtualenv made from
requirements.txt alone: `python -m tests.program_only dev` prints one JSON line, the error the program stopped with,
the resources it registered and the installed distributions it imported.

Only tests/infra.py comes along, so it must keep importing nothing but what requirements.txt brings (pulumi, and
the PyYAML pulumi depends on).
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import sys

from tests.infra import run_program


def canonical(name: str) -> str:
    """A distribution's name as pip compares them (PyYAML = pyyaml, pulumi_aws = pulumi-aws)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_distributions() -> list[str]:
    owners = importlib.metadata.packages_distributions()
    tops = {name.partition(".")[0] for name in list(sys.modules)}
    return sorted({canonical(owner) for top in tops for owner in owners.get(top, [])})


def main(stack: str) -> None:
    run = run_program(stack)
    report = {
        "error": None if run.error is None else str(run.error),
        "resources": len(run.resources),
        "imported": imported_distributions(),
        "installed": sorted({canonical(d.metadata["Name"]) for d in importlib.metadata.distributions()}),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1])
