"""What ships to AWS as code: job scripts, the modules they share, Lambda sources; keyed by content hash.

Pure file logic (no Pulumi): a changed file yields a new key, so a running pipeline never reads half-deployed code.
The query API's queries ship as data: parsed and checked here, at deploy time, into a JSON document.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import os
import tempfile
from pathlib import Path

from pipelines.model import Location
from pipelines.queries import load_queries
from pipelines.query_model import to_document

ROOT = Path(__file__).resolve().parents[1]
JOBS = ROOT / "jobs"
# Files built for an archive (not in the repository), named by their content so a rebuild finds the same file.
BUILD = Path(tempfile.gettempdir()) / "datalake-build"
# The query API reads its queries here in its archive (functions/query_api.py).
QUERIES_DOCUMENT = "queries.json"


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


# The packages whose modules a Lambda may import; anything else comes from the runtime or its layers.
LAMBDA_PACKAGES = ("functions", "pipelines")


def _module_file(module: str, root: Path) -> Path | None:
    """The file of a dotted module of the shipped packages, or None when it is not one (a name in a package)."""
    if module.partition(".")[0] not in LAMBDA_PACKAGES:
        return None
    base = root.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imports(path: Path) -> frozenset[str]:
    """The absolute modules a file imports (`from a import b` counts a.b, which is a module or a name in a)."""
    return _imports_of(str(path), path.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=512)
def _imports_of(name: str, text: str) -> frozenset[str]:
    """Parsed once per text: every Lambda the program ships walks the same modules (and the tests run it often)."""
    modules = set()
    for node in ast.walk(ast.parse(text, name)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules.add(node.module)
            modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return frozenset(modules)


def queries_document(root: Path = ROOT) -> Path:
    """queries/*.sql parsed and checked (with sqlglot, which no Lambda ships) and written as the JSON document the
    query API reads: the function runs exactly the declarations the program deploys as named queries."""
    text = to_document(load_queries(root / "queries"))
    path = BUILD / f"queries-{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"
    if not path.is_file():
        BUILD.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    return path


def lambda_handler(module: str) -> str:
    """The handler setting of the function whose entry point is functions/<module>.py, in lambda_files' layout."""
    return f"functions.{module}.handler"


def lambda_files(handler: str, root: Path = ROOT, *, with_queries: bool = False) -> dict[str, Path]:
    """A Lambda's archive, laid out as the repository: `functions/<handler>.py` (entry point
    `functions.<handler>.handler`) and every module of functions/ and pipelines/ it imports, directly or not, with
    their packages' `__init__.py`; with_queries adds the queries document."""
    files: dict[str, Path] = {}
    pending = [f"functions.{handler}"]
    while pending:
        module = pending.pop()
        parts = module.split(".")
        for depth in range(1, len(parts) + 1):
            path = _module_file(".".join(parts[:depth]), root)
            name = str(path.relative_to(root)) if path else None
            if path and name not in files:
                files[name] = path
                pending.extend(_imports(path))
    if with_queries:
        files[QUERIES_DOCUMENT] = queries_document(root)
    return dict(sorted(files.items()))


def hashed_key(location: Location, name: str, files: dict[str, Path], suffix: str) -> str:
    """`jobs/orders-<hash>.py`, `functions/query_api-<hash>.zip`: the key changes whenever the content does."""
    return f"{location.prefix}{name}-{content_hash(files)}{suffix}"
