"""What the job tests compare in the tables a run published: reports across runs, and schemas."""

from __future__ import annotations


def same_tables(second: dict, first: dict) -> bool:
    """Two runs' reports name the same tables, rows, paths and refresh modes (their snapshots differ)."""
    keep = ("rows", "path", "refresh")
    return {n: [t[k] for k in keep] for n, t in second["tables"].items()} == {
        n: [t[k] for k in keep] for n, t in first["tables"].items()
    }


def fields(schema) -> list[tuple]:
    """A schema's (name, type, nullable): Iceberg keeps each column's comment in the field's metadata too."""
    return [(f.name, f.dataType, f.nullable) for f in schema]
