"""The gate a run passes before anything is published: the balance of every input, its quarantined share, and each
table's declared rules (key not null and unique, accepted values, ranges, row-count drop) on the audited data.

Shipped beside the jobs (in the `--py-files` archive), never run on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

if TYPE_CHECKING:
    from _report import InputCount

    from pipelines.model import Check, Table


@dataclass(frozen=True)
class Rule:
    """One gate rule's result: `count` offending records or rows (0 when it passed)."""

    table: str
    rule: str
    count: int
    passed: bool

    def to_dict(self) -> dict:
        return {"table": self.table, "rule": self.rule, "count": self.count, "passed": self.passed}

    def describe(self) -> str:
        subject = "input" if self.rule.startswith("input_") else "table"
        return f"rule {self.rule} failed on {subject} {self.table}: {self.count:,} offending"


class GateFailed(Exception):
    """At least one rule failed: nothing is published (exit code 3)."""

    def __init__(self, failed: list[Rule]) -> None:
        self.failed = failed
        shown = "; ".join(rule.describe() for rule in failed)
        super().__init__(f"the gate refused the run: {shown}; nothing was published")


def input_rules(name: str, count: InputCount, max_share: float) -> list[Rule]:
    """An input's balance (read = written + quarantined + filtered) and quarantined share (at most `max_share`)."""
    missing = count.read - count.written - count.quarantined - sum(count.filtered.values())
    share = count.quarantined / count.read if count.read else 0.0
    # Rules of an input name it where a table rule names its table.
    return [
        Rule(name, "input_balance", abs(missing), missing == 0),
        Rule(name, f"input_quarantined_share <= {max_share:.0%}", count.quarantined, share <= max_share),
    ]


def _violation(check: Check) -> SparkColumn:
    column = F.col(check.column)
    if check.accepted:
        return column.isNotNull() & ~column.isin(list(check.accepted))
    bad = F.lit(False)
    if check.minimum is not None:
        bad = bad | (column < F.lit(check.minimum).cast(_type_of(check)))
    if check.maximum is not None:
        bad = bad | (column > F.lit(check.maximum).cast(_type_of(check)))
    return column.isNotNull() & bad


def _type_of(check: Check) -> str:
    # Bounds given as text are dates or timestamps; numbers compare as doubles.
    value = check.minimum if check.minimum is not None else check.maximum
    return "timestamp" if isinstance(value, str) else "double"


def table_rules(audited: DataFrame, table: Table, previous_rows: int | None, rows: int | None = None) -> list[Rule]:
    """The table's declared rules on its audited rows, counted in one pass. `previous_rows`: main's rows before this
    run (None on a first publish: no drop is checked)."""
    measures = [F.count(F.lit(1)).alias("rows")]
    not_null = [k for k in table.key if k not in table.nullable_key]
    if table.key:
        any_null = F.lit(False)
        for key in not_null:
            any_null = any_null | F.col(key).isNull()
        measures += [
            F.sum(F.when(any_null, 1).otherwise(0)).alias("null_keys"),
            # A struct is never null and compares its nulls as equal: each key counted once, nulls included.
            F.count_distinct(F.struct(*[F.col(k) for k in table.key])).alias("distinct_keys"),
        ]
    measures += [F.sum(F.when(_violation(c), 1).otherwise(0)).alias(f"check_{i}") for i, c in enumerate(table.checks)]
    found = audited.agg(*measures).collect()[0]
    total = int(found["rows"]) if rows is None else rows
    rules = []
    if table.key:
        null_keys = int(found["null_keys"] or 0)
        duplicates = int(found["rows"]) - int(found["distinct_keys"])
        if not_null:
            rules.append(Rule(table.name, f"not_null({', '.join(not_null)})", null_keys, null_keys == 0))
        rules.append(Rule(table.name, f"unique({', '.join(table.key)})", duplicates, duplicates == 0))
    for i, check in enumerate(table.checks):
        offending = int(found[f"check_{i}"] or 0)
        rules.append(Rule(table.name, check.rule, offending, offending == 0))
    if previous_rows is not None:
        dropped = max(previous_rows - total, 0)
        allowed = previous_rows * table.max_row_drop
        rules.append(Rule(table.name, f"row_drop <= {table.max_row_drop:.0%}", dropped, dropped <= allowed))
    return rules
