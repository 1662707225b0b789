"""local/rollback.py: one command moves a local table's main to an earlier (or later) snapshot, and back."""

from __future__ import annotations

import pytest

from local import rollback
from tests.jobs.echo_job import counted, main, rows, table

pytestmark = pytest.mark.spark


def _ids(spark, folder) -> list[int]:
    return sorted(r["id"] for r in spark.read.format("iceberg").load(str(folder)).collect())


def _publish(values):
    def body(run, args):
        run.write_table(rows(run, *values), table("t", "full"))
        counted(run, len(values), len(values))

    return body


def test_a_table_rolls_back_to_the_previous_run_and_forward_again(spark, tmp_path, capsys):
    out = tmp_path / "out"
    first = main(_publish((1, 2)), out)["tables"]["t"]["snapshot_id"]
    second = main(_publish((3,)), out)["tables"]["t"]["snapshot_id"]
    folder = out / "t"

    assert rollback.main(["--table", str(folder), "--to-previous"]) == 0
    assert _ids(spark, folder) == [1, 2]
    assert capsys.readouterr().out.strip() == (
        f"{folder}: current snapshot {second} -> {first} "
        f"(undo: python -m local.rollback --table {folder} --snapshot {second})"
    )
    assert rollback.main(["--table", str(folder), "--snapshot", str(second)]) == 0
    assert _ids(spark, folder) == [3]
    assert rollback.main(["--table", str(folder), "--list"]) == 0
    listed = [line.split()[1] for line in capsys.readouterr().out.splitlines() if "rows" in line]
    # Every snapshot main has been at, in order: the first, the second, the first (rolled back), the second again.
    assert listed[-4:] == [str(first), str(second), str(first), str(second)]
    # The next run publishes on top of wherever main is.
    rollback.main(["--table", str(folder), "--snapshot", str(first)])
    main(_publish((4,)), out)
    assert _ids(spark, folder) == [4]


def test_what_cannot_be_rolled_back_is_one_line_and_exit_2(spark, tmp_path, capsys):
    out = tmp_path / "out"
    main(_publish((1,)), out)
    (tmp_path / "plain").mkdir()
    cases = {
        (str(tmp_path / "missing"), "--to-previous"): "does not exist",
        (str(tmp_path / "plain"), "--to-previous"): "is not an Iceberg table (no metadata/*.metadata.json)",
        (str(out / "t"), "--to-previous"): "has been at one snapshot only",
        (str(out / "t"), "--snapshot", "123"): "has no snapshot 123 (expired, or of another table)",
    }
    for (folder, *target), expected in cases.items():
        capsys.readouterr()
        assert rollback.main(["--table", folder, *target]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert expected in err, err
    assert _ids(spark, out / "t") == [1]
