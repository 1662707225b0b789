"""jobs/_gate.py: the rules a run's output must pass before it is published, each counted with its offenders."""

from __future__ import annotations

import _gate
import pytest
from _report import InputCount

from pipelines.model import Check, Column, Table

TABLE = Table(
    pipeline="demo",
    name="events",
    writer="demo",
    description="gate test table",
    columns=(Column("id", "string"), Column("level", "string"), Column("hour", "int")),
    refresh="full",
    key=("id",),
    checks=(Check("level", accepted=("free", "paid")), Check("hour", minimum=0, maximum=23)),
)
SCHEMA = "id string, level string, hour int"


def by_rule(rules):
    return {rule.rule: (rule.count, rule.passed) for rule in rules}


def test_an_input_balances_and_quarantines_at_most_its_share():
    count = InputCount(path="in", read=10, written=7, quarantined=2, filtered={"blank line": 1})
    assert by_rule(_gate.input_rules("songs", count, 0.2)) == {
        "input_balance": (0, True),
        "input_quarantined_share <= 20%": (2, True),
    }
    count.quarantined, count.written = 3, 5
    found = by_rule(_gate.input_rules("songs", count, 0.2))
    assert found["input_balance"] == (1, False)
    assert found["input_quarantined_share <= 20%"] == (3, False)


def test_clean_rows_pass_every_rule(spark):
    rows = spark.createDataFrame([("a", "free", 0), ("b", "paid", 23), ("c", None, None)], SCHEMA)
    rules = _gate.table_rules(rows, TABLE, previous_rows=3)
    assert all(rule.passed for rule in rules), rules
    assert set(by_rule(rules)) == {
        "not_null(id)",
        "unique(id)",
        "accepted_values(level)",
        "range(hour)",
        "row_drop <= 90%",
    }


def test_each_rule_counts_its_offending_rows(spark):
    rows = spark.createDataFrame([("a", "free", 1), ("a", "gold", 24), (None, "paid", -1), (None, "paid", 2)], SCHEMA)
    found = by_rule(_gate.table_rules(rows, TABLE, previous_rows=None))
    assert found["not_null(id)"] == (2, False)
    # Two rows share "a", two share the null key: each key counted once, nulls included.
    assert found["unique(id)"] == (2, False)
    assert found["accepted_values(level)"] == (1, False)
    assert found["range(hour)"] == (2, False)
    # A first publish has no previous snapshot: no drop is checked.
    assert not [rule for rule in found if rule.startswith("row_drop")]


@pytest.mark.parametrize(("previous", "passed"), [(10, True), (11, False)])
def test_only_a_drop_of_more_than_the_declared_share_fails(spark, previous, passed):
    rows = spark.createDataFrame([("a", "free", 1)], SCHEMA)
    (drop,) = [r for r in _gate.table_rules(rows, TABLE, previous_rows=previous) if r.rule.startswith("row_drop")]
    assert (drop.count, drop.passed) == (previous - 1, passed)


def test_a_failed_gate_is_one_line_naming_rule_table_and_count():
    failed = _gate.GateFailed([_gate.Rule("events", "unique(id)", 1234, False)])
    assert (
        str(failed)
        == "the gate refused the run: rule unique(id) failed on table events: 1,234 offending; nothing was published"
    )
