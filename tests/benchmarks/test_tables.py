"""benchmarks/_tables.py: the data files of a Parquet or Iceberg table, and the most in one partition."""

from __future__ import annotations

from pathlib import Path

from benchmarks import _tables


def write(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)


def test_a_parquet_table_counts_its_part_files_not_spark_s_side_files(tmp_path):
    table = tmp_path / "items"
    write(table / "part-0.parquet", 100)
    write(table / "part-1.parquet", 300)
    write(table / ".part-0.parquet.crc", 8)
    write(table / "_SUCCESS", 0)
    assert _tables.table_files(table) == {
        "files": 2,
        "bytes": 400,
        "mean_bytes": 200,
        "partitions": 1,
        "max_files_per_partition": 2,
    }


def test_a_partitioned_table_reports_its_fullest_partition(tmp_path):
    table = tmp_path / "time"
    for month, files in ((1, 3), (2, 1)):
        for n in range(files):
            write(table / "year=2024" / f"month={month}" / f"part-{n}.parquet", 10)
    found = _tables.table_files(table)
    assert (found["files"], found["partitions"], found["max_files_per_partition"]) == (4, 2, 3)


def test_an_iceberg_table_counts_data_files_only(tmp_path):
    table = tmp_path / "songs"
    write(table / "metadata" / "v1.metadata.json", 50)
    write(table / "metadata" / "snap-1.avro", 50)
    write(table / "data" / "year=2020" / "00000-0-a.parquet", 1000)
    write(table / "data" / "year=2021" / "00000-0-b.parquet", 3000)
    found = _tables.table_files(table)
    assert (found["files"], found["bytes"], found["partitions"], found["max_files_per_partition"]) == (2, 4000, 2, 1)


def test_an_absent_table_has_no_files(tmp_path):
    assert _tables.output_tables(tmp_path, ("nothing",))["nothing"]["files"] == 0
