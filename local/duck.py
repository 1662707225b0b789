"""DuckDB over the local lake's Iceberg tables: one view per declared table, so `make run` answers queries/*.sql.

Each view reads its table through its Iceberg metadata (`iceberg_scan`, the current snapshot of main), never a
Parquet glob: a file a run wrote but did not commit (a failed run, the audit branch) is never seen. The views carry
the Glue names and the declared types, so the very SQL deployed to Athena runs here unchanged.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

import duckdb
import sqlglot

from functions.query_parameters import inline_parameters
from local.duck_extensions import check_extensions, load_extensions
from pipelines import PIPELINES, all_tables
from pipelines.model import Table
from pipelines.queries import DIALECT
from pipelines.query_model import Query

log = logging.getLogger(__name__)

_SCALARS = {
    "string": "VARCHAR",
    "boolean": "BOOLEAN",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}


def duckdb_type(type_: str) -> str:
    """The DuckDB spelling of a declared (Hive) column type."""
    if type_ in _SCALARS:
        return _SCALARS[type_]
    if found := re.fullmatch(r"decimal\((\d+),(\d+)\)", type_):
        return f"DECIMAL({found.group(1)},{found.group(2)})"
    if found := re.fullmatch(r"array<(.+)>", type_):
        return f"{duckdb_type(found.group(1))}[]"
    if found := re.fullmatch(r"map<string,(.+)>", type_):
        return f"MAP(VARCHAR, {duckdb_type(found.group(1))})"
    raise ValueError(f"no DuckDB type for {type_!r}")


def table_dir(curated_root: Path, table: Table) -> Path:
    """The folder `make run` keeps `table` in: `<curated>/<pipeline>/<name>/`, its job's --output and name."""
    return curated_root / PIPELINES[table.pipeline].table_dir(table.name).prefix


def missing_tables(curated_root: Path) -> list[str]:
    """Glue names of the declared tables whose folder does not exist yet (their pipeline has not run)."""
    return [t.glue_name for t in all_tables() if not table_dir(curated_root, t).is_dir()]


def is_iceberg(folder: Path) -> bool:
    """Whether `folder` is an Iceberg table: its `metadata/` holds a table metadata file."""
    return any((folder / "metadata").glob("*.metadata.json"))


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _view_sql(table: Table, folder: Path) -> str:
    # The declared types, as Athena has them: Iceberg's timestamptz becomes the declared (UTC) timestamp.
    columns = ", ".join(f'CAST("{c.name}" AS {duckdb_type(c.type)}) AS "{c.name}"' for c in table.all_columns)
    return f'CREATE OR REPLACE VIEW "{table.glue_name}" AS SELECT {columns} FROM iceberg_scan({_quote(str(folder))})'


def connect(curated_root: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a view per declared table found under `curated_root` (e.g. `.lake/curated`).

    MissingExtension when the avro or iceberg extension wheel is not installed."""
    check_extensions()
    con = duckdb.connect()
    load_extensions(con)
    # Spark writes UTC instants; without this DuckDB would shift them into the machine's zone when casting.
    con.execute("SET TimeZone = 'UTC'")
    skipped, not_iceberg = [], []
    for table in all_tables():
        folder = table_dir(curated_root, table)
        if not folder.is_dir():
            skipped.append(table.glue_name)
        elif not is_iceberg(folder):
            not_iceberg.append(f"{table.glue_name} ({folder})")
        else:
            con.execute(_view_sql(table, folder))
    if skipped:
        log.warning("no data yet (their pipelines have not run), so no views for: %s", ", ".join(skipped))
    if not_iceberg:
        # Parquet from before the lake moved to Iceberg, say: it holds no commit, so no view reads it.
        log.warning("not Iceberg tables (no metadata/*.metadata.json), so no views for: %s", ", ".join(not_iceberg))
    return con


def to_duckdb(query: Query, values: Mapping[str, object] | None = None) -> str:
    """The query with its literals in place (checked as the API checks them), translated to DuckDB SQL by sqlglot."""
    return sqlglot.transpile(inline_parameters(query, values), read=DIALECT, write="duckdb")[0]


def run_query(
    con: duckdb.DuckDBPyConnection, query: Query, values: Mapping[str, object] | None = None
) -> tuple[list[str], list[tuple]]:
    """Run a named query with its parameter values, as Athena would; returns the column names and the rows."""
    views = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    absent = [t for t in query.tables if t not in views]
    if absent:
        raise LookupError(f"query {query.name} reads {', '.join(absent)}, which have no data yet")
    cursor = con.execute(to_duckdb(query, values))
    return [d[0] for d in cursor.description], cursor.fetchall()


def _width(text: str) -> int:
    """Terminal columns: CJK characters and most emoji take two, so `len` would misalign the table."""
    return sum(2 if unicodedata.east_asian_width(c) in {"W", "F"} else 1 for c in text)


def _cell(value: object, width: int = 48) -> str:
    text = "NULL" if value is None else str(value)
    # A newline or tab inside a value would break the table's lines.
    text = text.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    if _width(text) <= width:
        return text
    text = text[: width - 1]  # every character takes at least one column
    while _width(text) > width - 1:
        text = text[:-1]
    return text + "…"


def _is_number(value: object) -> bool:
    return value is None or (isinstance(value, int | float | Decimal) and not isinstance(value, bool))


def format_table(columns: Sequence[str], rows: Sequence[Sequence[object]], max_rows: int = 20) -> str:
    """A plain-text table of the first `max_rows` rows, numbers right-aligned, with a count of the rows left out."""
    shown = [[_cell(v) for v in row] for row in rows[:max_rows]]
    numeric = [bool(shown) and all(_is_number(row[i]) for row in rows[:max_rows]) for i in range(len(columns))]
    widths = [max([_width(c), *(_width(r[i]) for r in shown)]) for i, c in enumerate(columns)]

    def line(cells: Sequence[str]) -> str:
        parts = []
        for cell, width, number in zip(cells, widths, numeric, strict=True):
            padding = " " * (width - _width(cell))
            parts.append(padding + cell if number else cell + padding)
        return " | ".join(parts).rstrip()

    lines = [line(columns), "-+-".join("-" * w for w in widths)]
    lines += [line(r) for r in shown]
    if len(rows) > max_rows:
        lines.append(f"... {len(rows) - max_rows} more rows")
    lines.append(f"({len(rows)} row{'' if len(rows) == 1 else 's'})")
    return "\n".join(lines)
