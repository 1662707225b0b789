"""What a run did: records per input (read = written + quarantined + filtered), rows per table, where each lives,
the gate's rules and each table's published snapshot; its status (published, gate_failed, failed) and error.

Saved as `<output>/_run/<job>.json` and printed as a short summary when a job is run by hand. Shipped beside the
jobs (in the `--py-files` archive), never run on its own.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from _files import Listing, hadoop_path, join_path
from _gate import Rule
from pyspark.sql import SparkSession

from pipelines.model import Table

RUN = "_run"


@dataclass
class InputCount:
    """One input's records. `written` counts records that became rows of `written_to` (e.g. orders, not items)."""

    path: str
    record: str = "record"
    read: int = 0
    written: int = 0
    written_to: str = ""
    quarantined: int = 0
    quarantine: str = ""
    # Records deliberately left out by a documented rule (e.g. non-NextSong events), counted per reason.
    filtered: dict[str, int] = field(default_factory=dict)
    files_read: int = 0
    files_skipped: dict[str, int] = field(default_factory=dict)
    skipped_examples: list[str] = field(default_factory=list)
    # An input that is another job's table: the snapshot of it the run read (it has no files of its own to count).
    snapshot_id: int | None = None

    @property
    def balanced(self) -> bool:
        return self.read == self.written + self.quarantined + sum(self.filtered.values())

    @property
    def valid(self) -> int:
        return self.read - self.quarantined

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "record": self.record,
            "read": self.read,
            "written": self.written,
            "written_to": self.written_to,
            "quarantined": self.quarantined,
            "quarantine": self.quarantine,
            "filtered": dict(self.filtered),
            "balanced": self.balanced,
            "snapshot_id": self.snapshot_id,
            "files": {
                "read": self.files_read,
                "skipped": dict(self.files_skipped),
                "skipped_examples": list(self.skipped_examples),
            },
        }


@dataclass
class TableCount:
    """One table: rows the run wrote, where it is, and its snapshots (main before the run, then as published)."""

    rows: int
    path: str
    refresh: str
    previous_snapshot_id: int | None = None
    previous_rows: int = 0
    snapshot_id: int | None = None

    def to_dict(self) -> dict:
        return {
            "rows": self.rows,
            "path": self.path,
            "refresh": self.refresh,
            "previous_snapshot_id": self.previous_snapshot_id,
            "snapshot_id": self.snapshot_id,
        }


@dataclass
class RunReport:
    """`<output>/_run/<job>.json`: per input its records and files, per table its rows, path and refresh mode."""

    job: str
    output: str
    inputs: dict[str, InputCount] = field(default_factory=dict)
    tables: dict[str, TableCount] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    # published | gate_failed | failed; `error` one line when not published.
    status: str = "failed"
    error: str | None = None
    gate: list[Rule] = field(default_factory=list)

    def add_input(self, name: str, path: str, listing: Listing | None = None, **counts) -> InputCount:
        count = InputCount(path=path, **counts)
        if listing is not None:
            count.files_read = len(listing.files)
            count.files_skipped = listing.skipped_counts()
            count.skipped_examples = listing.skipped_examples()
        self.inputs[name] = count
        return count

    def add_table(self, table: Table, rows: int, path: str, previous: tuple[int | None, int] = (None, 0)) -> int:
        self.tables[table.name] = TableCount(rows, path, table.refresh, *previous)
        return rows

    def rows(self, table: Table) -> int:
        return self.tables[table.name].rows

    @property
    def path(self) -> str:
        return join_path(self.output, RUN, f"{self.job}.json")

    def to_dict(self) -> dict:
        return {
            "job": self.job,
            "output": self.output,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "seconds": round(time.time() - self.started, 3),
            "inputs": {name: count.to_dict() for name, count in self.inputs.items()},
            "tables": {name: count.to_dict() for name, count in self.tables.items()},
            "status": self.status,
            "error": self.error,
            "gate": [rule.to_dict() for rule in self.gate],
        }

    def unbalanced(self) -> list[str]:
        return [name for name, count in self.inputs.items() if not count.balanced]

    def save(self, spark: SparkSession, name: str | None = None, **extra) -> dict:
        """Write the report (as `_run/<name or job>.json`) through Hadoop's file system; returns it."""
        report = self.to_dict() | extra
        hpath, fs = hadoop_path(spark, join_path(self.output, RUN, f"{name or self.job}.json"))
        stream = fs.create(hpath, True)
        try:
            stream.write(bytearray(json.dumps(report, indent=2, sort_keys=True).encode("utf-8")))
        finally:
            stream.close()
        return report

    def save_local(self) -> dict:
        """Write the report to a local --output with plain Python (a run that needed no Spark); returns it."""
        report = self.to_dict()
        path = Path(self.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(json.dumps(report, indent=2, sort_keys=True), encoding="utf-8")
        partial.replace(path)
        return report


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def summary(report: dict) -> str:
    """A few lines a person reads after running a job by hand: inputs, tables, quarantine and report paths."""
    lines = [f"{report['job']}: done in {report['seconds']:.1f} s"]
    for name, count in report["inputs"].items():
        record = count["record"]
        filtered = "".join(f"; {n:,} filtered ({reason})" for reason, n in count["filtered"].items() if n)
        files = count["files"]
        skipped = ", ".join(f"{n:,} {reason}" for reason, n in files["skipped"].items())
        source = (
            f"snapshot {count['snapshot_id']}"
            if count.get("snapshot_id") is not None
            else f"{_plural(files['read'], 'file')}{f' ({skipped} left out)' if skipped else ''}"
        )
        lines.append(f"  input {name} ({count['path']}): {_plural(count['read'], record)} read from {source}")
        lines.append(
            f"    {count['written']:,} written (as {count['written_to']}); {count['quarantined']:,} quarantined"
            f"{filtered}"
        )
    width = max((len(name) for name in report["tables"]), default=0)
    for name, table in report["tables"].items():
        lines.append(
            f"  table {name:<{width}}  {table['rows']:>12,} rows  {table['refresh']:<11}  snapshot "
            f"{table['snapshot_id']}  {table['path']}"
        )
    passed = sum(1 for rule in report["gate"] if rule["passed"])
    lines.append(f"  gate: {passed} of {len(report['gate'])} rules passed; {report['status']}")
    quarantines = sorted({c["quarantine"] for c in report["inputs"].values() if c["quarantined"] and c["quarantine"]})
    for path in quarantines:
        lines.append(f"  quarantine: {path}")
    lines.append(f"  run report: {join_path(report['output'], RUN, report['job'] + '.json')}")
    return "\n".join(lines)
