"""Kindle, the single-node reference: DuckDB's read_json with typed columns, written as one Parquet table of the
items columns (the Spark floor's work, on one process without a JVM)."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from benchmarks.baselines._args import parse

STRINGS = "VARCHAR[]"
COLUMNS = {
    "main_category": "VARCHAR",
    "title": "VARCHAR",
    "subtitle": "VARCHAR",
    "author": f"STRUCT(avatar VARCHAR, name VARCHAR, about {STRINGS})",
    "average_rating": "DOUBLE",
    "rating_number": "BIGINT",
    "features": STRINGS,
    "description": STRINGS,
    "price": "VARCHAR",
    "store": "VARCHAR",
    "categories": STRINGS,
    "details": "MAP(VARCHAR, VARCHAR)",
    "parent_asin": "VARCHAR",
    "bought_together": "VARCHAR",
}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(__doc__, argv, "--input")
    items = args.output / "items"
    items.mkdir(parents=True, exist_ok=True)
    columns = ", ".join(f"{_quote(name)}: {_quote(kind)}" for name, kind in COLUMNS.items())
    flat = [c for c in COLUMNS if c != "author"] + [f"author.{n} AS author_{n}" for n in ("name", "avatar", "about")]
    duckdb.sql(
        f"COPY (SELECT {', '.join(flat)} FROM read_json({_quote(args.input)}, format = 'newline_delimited',"
        f" columns = {{{columns}}}, ignore_errors = true, maximum_object_size = 16777216))"
        f" TO {_quote(str(items / 'data.parquet'))} (FORMAT parquet)"
    )


if __name__ == "__main__":
    main()
