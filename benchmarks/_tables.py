"""How each table came out on disk: how many data files, their mean size, and the most in any one partition.

An Iceberg table (a `metadata/` folder beside `data/`) is counted from `data/`, which a fresh benchmark output holds
only the current snapshot's files in; a plain Parquet table from its folder, leaving out Spark's `_SUCCESS` and
`.crc` side files as a reader does.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path


def data_files(table: Path) -> list[Path]:
    """The table's data files (Parquet), wherever its partitions put them."""
    root = table / "data" if (table / "metadata").is_dir() else table
    return sorted(
        path
        for path in root.rglob("*.parquet")
        if path.is_file() and not any(part.startswith(("_", ".")) for part in path.relative_to(root).parts)
    )


def table_files(table: Path) -> dict:
    """{files, bytes, mean_bytes, partitions, max_files_per_partition} for the table folder `table`."""
    files = data_files(table)
    sizes = [path.stat().st_size for path in files]
    per_partition = Counter(path.parent for path in files)
    return {
        "files": len(files),
        "bytes": sum(sizes),
        "mean_bytes": round(sum(sizes) / len(sizes)) if sizes else 0,
        "partitions": len(per_partition),
        "max_files_per_partition": max(per_partition.values(), default=0),
    }


def output_tables(output: Path, tables: tuple[str, ...]) -> dict[str, dict]:
    """table_files for each named table under `output` (an absent table counts as no files)."""
    return {name: table_files(output / name) for name in tables}
