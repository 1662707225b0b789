"""What ships to AWS as code: job scripts, the modules they share, Lambda sources; keyed by content hash.

Pure file logic (no Pulumi): a changed file yields a new key, so a running pipeline never reads half-deployed code.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pipelines.model import Location

ROOT = Path(__file__).resolve().parents[1]
JOBS = ROOT / "jobs"


def content_hash(files: dict[str, Path], length: int = 16) -> str:
    """sha256 over the archive names and bytes of `files`, in name order."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(files[name].read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:length]


def job_scripts(jobs_dir: Path = JOBS) -> dict[str, Path]:
    """Entry points: every jobs/<name>.py; `_`-prefixed modules are shared code, not jobs."""
    return {p.stem: p for p in sorted(jobs_dir.glob("*.py")) if not p.name.startswith("_")}


def package_files(package: Path, root: Path = ROOT) -> dict[str, Path]:
    """Every .py file of a package, keyed by its path relative to `root` (its name inside an archive)."""
    return {str(p.relative_to(root)): p for p in sorted(package.rglob("*.py")) if "__pycache__" not in p.parts}


def job_dependencies(root: Path = ROOT) -> dict[str, Path]:
    """The `--py-files` archive of every job: the shared job module and the `pipelines` package."""
    files = {p.name: p for p in sorted((root / "jobs").glob("_*.py"))}
    files.update(package_files(root / "pipelines", root))
    return files


def lambda_files(handler: str, root: Path = ROOT, *, with_queries: bool = False) -> dict[str, Path]:
    """A Lambda's archive: `functions/<handler>.py` at the top level, plus `pipelines/` (and `queries/`)."""
    files = {f"{handler}.py": root / "functions" / f"{handler}.py"}
    files.update(package_files(root / "pipelines", root))
    if with_queries:
        files.update({f"queries/{p.name}": p for p in sorted((root / "queries").glob("*.sql"))})
    return files


def hashed_key(location: Location, name: str, files: dict[str, Path], suffix: str) -> str:
    """`jobs/orders-<hash>.py`, `functions/query_api-<hash>.zip`: the key changes whenever the content does."""
    return f"{location.prefix}{name}-{content_hash(files)}{suffix}"
