"""jobs/_iceberg.py: the pure helpers of the write-audit-publish path (the path itself: tests/jobs/test_publish.py)."""

from __future__ import annotations

import _iceberg


def test_identifiers_are_quoted_with_their_backticks_doubled():
    assert _iceberg.quote("orders") == "`orders`"
    assert _iceberg.quote("odd`name") == "`odd``name`"


def test_a_snapshots_ancestors_run_newest_first_and_stop_where_the_table_forgot_them():
    snapshots = {3: (2, "append", 0), 2: (1, "replace", 0), 1: (None, "append", 0)}
    assert _iceberg._ancestors(snapshots, 3) == [3, 2, 1]
    assert _iceberg._ancestors({3: (2, "append", 0)}, 3) == [3, 2]
    assert _iceberg._ancestors(snapshots, None) == []


def test_a_cycle_in_a_damaged_history_ends_the_walk():
    assert _iceberg._ancestors({1: (2, "append", 0), 2: (1, "append", 0)}, 1) == [1, 2]


def test_only_a_compaction_changes_no_rows():
    assert {"replace"} == _iceberg.NO_ROW_CHANGE
    assert (_iceberg.AUDIT, _iceberg.MAIN) == ("audit", "main")


def test_property_values_are_sql_string_literals():
    assert _iceberg._sql_text("it's a \\ test") == "it\\'s a \\\\ test"
