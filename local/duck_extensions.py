"""Where DuckDB's Iceberg reader comes from on this machine: the avro and iceberg extensions of the PyPI wheels
`duckdb-extension-avro` and `duckdb-extension-iceberg`, loaded by file path, avro first (the iceberg extension reads
manifests with it). Never an auto-install: that would fetch from DuckDB's servers, and make run has no network.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import duckdb

# In loading order.
EXTENSIONS = ("avro", "iceberg")


class MissingExtension(RuntimeError):
    """An extension wheel DuckDB needs to read the lake's Iceberg tables is not installed (or not for this DuckDB)."""


def extension_path(name: str, version: str = duckdb.__version__) -> Path:
    """`<site-packages>/duckdb_extension_<name>/extensions/v<version>/<name>.duckdb_extension`, or MissingExtension."""
    package = f"duckdb_extension_{name}"
    install = (
        f"pip install duckdb-extension-{name}=={version} (requirements-local.txt pins it beside duckdb=={version})"
    )
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtension(f"DuckDB's {name} extension is not installed: {install}")
    for root in spec.submodule_search_locations:
        path = Path(root) / "extensions" / f"v{version}" / f"{name}.duckdb_extension"
        if path.is_file():
            return path
    found = sorted(p.parent.name for root in spec.submodule_search_locations for p in Path(root).glob("extensions/*/*"))
    raise MissingExtension(
        f"DuckDB's {name} extension is installed for {', '.join(found) or 'no version'}, not for DuckDB v{version}: "
        f"{install}"
    )


def check_extensions() -> None:
    """MissingExtension naming the first extension wheel that is missing; before any work, so a run fails early."""
    for name in EXTENSIONS:
        extension_path(name)


def load_extensions(con: duckdb.DuckDBPyConnection) -> None:
    """LOAD avro, then iceberg, from their wheels; DuckDB may neither install nor auto-load anything else."""
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    for name in EXTENSIONS:
        path = str(extension_path(name)).replace("'", "''")
        con.execute(f"LOAD '{path}'")
