"""The Python versions the project supports, and the check `make` runs before it makes or uses a virtualenv.

`python tools/python_versions.py VENV...` exits 1 with one line when this interpreter is unsupported, or when a VENV
already holds a virtualenv of another Python (so `make test PYTHON=python3.12` never silently tests 3.11).
Standard library only: it runs before any virtualenv exists.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# Every version here is tested by the pull-request workflow's matrix and named in the README's Quick start.
SUPPORTED = ("3.11", "3.12", "3.13")


def version_of(python: Path) -> str | None:
    """`major.minor` of the interpreter at `python`, or None when it does not run."""
    try:
        done = subprocess.run(  # noqa: S603 (the virtualenv's own interpreter, no shell)
            [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def problem(running: str, venv: Path) -> str | None:
    """Why `make` must stop, in one line, or None."""
    if running not in SUPPORTED:
        return f"Python {running} is not supported: use {', '.join(SUPPORTED)} (for example PYTHON=python3.12)"
    python = venv / "bin" / "python"
    if not python.exists():
        return None
    built = version_of(python)
    if built != running:
        found = f"Python {built}" if built else "a Python that no longer runs"
        return (
            f"{venv} was made with {found}, not {running}: give each Python its own virtualenv "
            f"(make test PYTHON=python{running} VENV=.venv-{running}) or remove {venv}"
        )
    return None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python tools/python_versions.py VENV...", file=sys.stderr)
        return 2
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    for venv in args:
        message = problem(running, Path(venv))
        if message:
            print(f"make: {message}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
