"""Roll a local Iceberg table back (or forward) to one of its snapshots: what readers of the table see moves there.

    python -m local.rollback --table .lake/curated/sparkify/songs --list
    python -m local.rollback --table .lake/curated/sparkify/songs --to-previous
    python -m local.rollback --table .lake/curated/sparkify/songs --snapshot 5968331892244021169

Every snapshot the table keeps stays readable, so a rollback loses nothing: `--snapshot` with the id it replaced
(see `--list`, or the run report's `snapshot_id`) undoes it. In the cloud, Iceberg's procedure on EMR does the same
(README, "Time travel and rollback").
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from local.cli import OneLineParser
from local.spark import local_session  # puts jobs/ on the path, for _iceberg below

PROG = "python -m local.rollback"


class RollbackError(Exception):
    """A table or snapshot that cannot be rolled to: one line, exit code 2."""


def _parser() -> OneLineParser:
    parser = OneLineParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", type=Path, required=True, help="the table folder, e.g. .lake/curated/orders/orders")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--snapshot", type=int, metavar="ID", help="make this snapshot the table's current one")
    target.add_argument("--to-previous", action="store_true", help="back to the snapshot current before this one")
    target.add_argument("--list", action="store_true", help="list the snapshots the table has been at, newest last")
    return parser


def check_table(folder: Path) -> Path:
    """The table folder, resolved; RollbackError unless it holds an Iceberg table's metadata."""
    folder = folder.expanduser().resolve()
    if not (folder / "metadata").is_dir() or not any((folder / "metadata").glob("*.metadata.json")):
        found = "does not exist" if not folder.exists() else "is not an Iceberg table (no metadata/*.metadata.json)"
        raise RollbackError(f"--table {folder} {found}; give a table folder such as .lake/curated/sparkify/songs")
    return folder


def _ident(spark, folder: Path) -> tuple[str, str]:
    """(table as `catalog.ns.name`, as a procedure argument `ns.name`) in a catalog around the table's folder."""
    from _iceberg import Lake, quote  # noqa: PLC0415  (jobs/ is on the path once local.spark is imported)

    # The catalog a job run with --output <the table's parent> uses: the same table, the same history.
    lake = Lake.local_for(spark, str(folder.parent))
    table = f"{quote(lake.namespace)}.{quote(folder.name)}"
    return f"{quote(lake.catalog)}.{table}", table


def history(spark, ident: str) -> list[tuple[datetime, int, int]]:
    """(when it became current, snapshot id, rows) of each snapshot main has been at, oldest first."""
    rows = spark.sql(
        f"SELECT h.made_current_at AS at, h.snapshot_id AS id, s.summary['total-records'] AS total "
        f"FROM {ident}.history h LEFT JOIN {ident}.snapshots s ON h.snapshot_id = s.snapshot_id "
        "ORDER BY h.made_current_at"
    ).collect()
    return [(r["at"], r["id"], int(r["total"] or 0)) for r in rows]


def rollback(spark, folder: Path, *, snapshot: int | None = None, to_previous: bool = False) -> tuple[int, int]:
    """Set the table's main to `snapshot` (or to the one current before the current one); returns (from, to)."""
    ident, argument = _ident(spark, folder)
    catalog = ident.split(".", 1)[0]
    log = history(spark, ident)
    if not log:
        raise RollbackError(f"{folder} was never published: it has no snapshot to roll back to")
    current = log[-1][1]
    if to_previous:
        earlier = [entry[1] for entry in log if entry[1] != current]
        if not earlier:
            raise RollbackError(f"{folder} has been at one snapshot only ({current}): nothing to roll back to")
        snapshot = earlier[-1]
    kept = {r["snapshot_id"] for r in spark.sql(f"SELECT snapshot_id FROM {ident}.snapshots").collect()}
    if snapshot not in kept:
        raise RollbackError(
            f"{folder} has no snapshot {snapshot} (expired, or of another table); {PROG} --table {folder} --list"
        )
    spark.sql(f"CALL {catalog}.system.set_current_snapshot('{argument}', {int(snapshot)})")
    return current, snapshot


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        folder = check_table(args.table)
        spark = local_session("datalake-rollback")
        if args.list:
            ident, _ = _ident(spark, folder)
            for at, snapshot, rows in history(spark, ident):
                print(f"{at.replace(tzinfo=UTC).isoformat()}  {snapshot}  {rows:>12,} rows")
            return 0
        before, after = rollback(spark, folder, snapshot=args.snapshot, to_previous=args.to_previous)
    except RollbackError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    print(f"{folder}: current snapshot {before} -> {after} (undo: {PROG} --table {folder} --snapshot {before})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
