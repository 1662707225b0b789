"""jobs/orders_ingest_merge.py: which staged rows reach ingested_items (each order as its latest source version),
then the job end to end on the Lambda's own staged objects: redelivery adds nothing, concurrent landings lose
nothing, a later version replaces an order's lines, and A then B equals A and B."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import orders_ingest_merge as job
import pytest
from _read import FILE, FILTERED, table_schema

from local.ingest import stage_exports, stage_file
from local.samples import orders as samples
from pipelines import orders as spec
from tests.functions.ingest import documents as doc
from tests.local import iceberg

pytestmark = pytest.mark.spark

D = Decimal
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T1 = datetime(2026, 3, 1, 12, 5, tzinfo=UTC)


def line(order: str, product: str, *, key: str = "orders/incoming/a.json", version: str = "v1", at=T0, price="1.00"):
    """One ingested_items row of `order` x `product` from the source version (key, version, at)."""
    return {
        "order_id": order,
        "order_date": datetime(2024, 1, 10).date(),
        "total_amount": D(price),
        "product_id": product,
        "price": D(price),
        "quantity": 1,
        "line_amount": D(price),
        "source_key": key,
        "source_version": version,
        "source_modified": at,
    }


def frame(spark, rows: list[dict], *, file: str = "staged.parquet"):
    names = spec.INGESTED_ITEMS.column_names
    values = [(*(row.get(n) for n in names), file) for row in rows]
    schema = table_schema(spec.INGESTED_ITEMS).add(FILE, "string")
    return spark.createDataFrame(values, schema)


def classified(spark, staged: list[dict], current: list[dict]) -> list[tuple]:
    rows = job.transform_classify(frame(spark, staged), frame(spark, current).drop(FILE)).collect()
    found = [(r["order_id"], r["product_id"], r["source_version"], r[job.REASON], r[FILTERED]) for r in rows]
    return sorted(found, key=lambda row: tuple(str(v) for v in row))


def test_the_latest_staged_version_of_each_order_wins_whole(spark):
    staged = [
        line("1", "P1", version="v1", at=T0),
        line("1", "P2", version="v1", at=T0),
        line("1", "P1", version="v2", at=T1),
        line("2", "P9", key="orders/incoming/b.json", version="x", at=T0),
    ]
    assert classified(spark, staged, []) == [
        ("1", "P1", "v1", None, job.SUPERSEDED),
        ("1", "P1", "v2", None, None),
        ("1", "P2", "v1", None, job.SUPERSEDED),
        ("2", "P9", "x", None, None),
    ]


def test_ties_on_time_go_to_the_greater_key_then_the_greater_version(spark):
    staged = [
        line("1", "P1", key="orders/incoming/a.json", version="z", at=T0),
        line("1", "P1", key="orders/incoming/b.json", version="a", at=T0),
        line("2", "P1", version="a", at=T0),
        line("2", "P1", version="b", at=T0),
    ]
    winners = [(o, v) for o, _, v, _, f in classified(spark, staged, []) if f is None]
    assert winners == [("1", "a"), ("2", "b")]


def test_the_same_or_an_older_version_than_the_tables_changes_nothing(spark):
    current = [line("1", "P1", version="v2", at=T1), line("2", "P1", version="v1", at=T0)]
    staged = [line("1", "P1", version="v2", at=T1), line("2", "P1", version="v0", at=T0.replace(hour=11))]
    assert classified(spark, staged, current) == [
        ("1", "P1", "v2", None, job.ALREADY_MERGED),
        ("2", "P1", "v0", None, job.OLDER),
    ]


def test_a_later_version_replaces_the_order_in_the_table(spark):
    current = [line("1", "P1", version="v1", at=T0), line("1", "P2", version="v1", at=T0)]
    staged = [line("1", "P1", version="v2", at=T1, price="2.00")]
    merged = job.transform_merge(job.transform_classify(frame(spark, staged), frame(spark, current).drop(FILE)))
    assert [(r["order_id"], r["product_id"], r["price"]) for r in merged.collect()] == [("1", "P1", D("2.00"))]
    assert merged.columns == spec.INGESTED_ITEMS.column_names


def test_a_winning_version_without_lines_deletes_the_orders_lines(spark):
    current = [line("1", "P1", version="v1", at=T0), line("2", "P1", version="v1", at=T0)]
    marker = {**line("1", "P1", version="v2", at=T1), "product_id": None}
    stale = {**line("2", "P1", version="v0", at=T0.replace(hour=11)), "product_id": None}
    fresh = line("3", "P1", version="v1", at=T1)
    rows = job.transform_classify(frame(spark, [marker, stale, fresh]), frame(spark, current).drop(FILE))
    assert [r[FILTERED] for r in rows.orderBy("order_id").collect()] == [job.EMPTIED, job.OLDER, None]
    # The run replaces orders 1 (with no line) and 3; order 2 keeps its newer lines.
    assert sorted(r["order_id"] for r in job.transform_covered(rows).collect()) == ["1", "3"]
    assert [r["order_id"] for r in job.transform_merge(rows).collect()] == ["3"]


def test_a_row_without_its_order_or_version_is_quarantined(spark):
    staged = [line("1", "P1"), {**line("2", "P1"), "source_modified": None}, {**line("3", "P1"), "order_id": None}]
    got = classified(spark, staged, [])
    assert [(o, r, f) for o, _, _, r, f in got] == [
        ("1", None, None),
        ("2", job.UNPLACED, None),
        (None, job.UNPLACED, None),
    ]
    quarantine = job.transform_quarantine(job.transform_classify(frame(spark, staged), frame(spark, []).drop(FILE)))
    assert {r["reason"] for r in quarantine.collect()} == {job.UNPLACED}
    assert {r["file"] for r in quarantine.collect()} == {"staged.parquet"}


# ---- end to end, on what the Lambda's road stages ------------------------------------------------------------------


class Lake:
    """A local lake: exports land and are staged as the Lambda stages them, then the merge step runs."""

    def __init__(self, root: Path, spark) -> None:
        self.root, self.spark = root, spark
        self.curated = root / "curated"
        self.staging = self.curated / spec.INGEST_STAGING.prefix
        self.output = self.curated / spec.CURATED.prefix
        self.exports = root / "exports"
        self.exports.mkdir(parents=True)

    def land(self, name: str, documents: list[dict], *, at: int) -> Path:
        """An export `name` written at `at` (seconds after T0), staged; returns the staged object."""
        source = self.exports / name
        source.write_text(json.dumps(documents))
        os.utime(source, (T0.timestamp() + at, T0.timestamp() + at))
        staged, _ = stage_file(source, self.staging)
        return staged

    def merge(self) -> dict:
        return job.main(["--staging", str(self.staging), "--output", str(self.output)])

    def rows(self) -> list[tuple]:
        table = iceberg.identifier(self.spark, self.curated, spec.INGESTED_ITEMS)
        found = self.spark.table(table).select("order_id", "product_id", "price", "source_key").collect()
        return sorted(tuple(r) for r in found)

    def snapshots(self) -> int:
        table = iceberg.identifier(self.spark, self.curated, spec.INGESTED_ITEMS)
        return self.spark.sql(f"SELECT * FROM {table}.snapshots").count()

    def staged(self) -> list[str]:
        return sorted(p.name for p in self.staging.glob("*.parquet"))


@pytest.fixture
def lake(tmp_path, spark) -> Lake:
    return Lake(tmp_path, spark)


def _order(order_id, *prices: str) -> dict:
    products = [doc.product(product_id=f"P{n}", price=price) for n, price in enumerate(prices, 1)]
    return doc.order(order_id=order_id, products=products)


def test_a_redelivered_landing_adds_nothing(lake):
    lake.land("a.json", [_order(1, "1.00", "2.00"), _order(2, "3.00")], at=0)
    first = lake.merge()
    assert lake.rows() == [
        ("1", "P1", D("1.00"), "orders/incoming/a.json"),
        ("1", "P2", D("2.00"), "orders/incoming/a.json"),
        ("2", "P1", D("3.00"), "orders/incoming/a.json"),
    ]
    assert first["inputs"][job.INPUT]["written"] == 3
    # Merged objects leave the staging; S3 redelivers the event: the Lambda stages the same object again.
    assert lake.staged() == []
    lake.land("a.json", [_order(1, "1.00", "2.00"), _order(2, "3.00")], at=0)
    before, snapshots = lake.rows(), lake.snapshots()
    again = lake.merge()
    assert lake.rows() == before
    assert again["inputs"][job.INPUT]["written"] == 0
    assert again["inputs"][job.INPUT]["filtered"][job.ALREADY_MERGED] == 3
    # Not even a commit: the table's history is as it was.
    assert lake.snapshots() == snapshots
    assert lake.staged() == []
    # Nothing staged at all: a normal run that touches nothing.
    assert lake.merge()["inputs"] == {}
    assert lake.snapshots() == snapshots


def test_concurrent_landings_lose_nothing_and_one_staged_during_a_merge_waits_for_the_next(lake, monkeypatch):
    lake.land("a.json", [_order(1, "1.00")], at=0)
    lake.land("b.json", [_order(2, "2.00")], at=0)
    listed = job.list_files

    def listing_then_a_landing(spark, path):
        found = listed(spark, path)
        lake.land("c.json", [_order(3, "3.00")], at=1)  # the Lambda, while the merge runs
        return found

    monkeypatch.setattr(job, "list_files", listing_then_a_landing)
    lake.merge()
    assert [r[0] for r in lake.rows()] == ["1", "2"]
    (waiting,) = lake.staged()
    assert waiting.startswith("orders%2Fincoming%2Fc.json--")
    monkeypatch.setattr(job, "list_files", listed)
    lake.merge()
    assert [r[0] for r in lake.rows()] == ["1", "2", "3"]
    assert lake.staged() == []


def test_a_later_version_of_an_order_replaces_all_its_lines_and_an_earlier_one_changes_nothing(lake):
    lake.land("a.json", [_order(1, "1.00", "2.00"), _order(2, "3.00"), _order(3, "4.00")], at=0)
    lake.merge()
    # A later export holds order 1 with one line left, repriced (P2 disappears), and order 2 with no products.
    lake.land("b.json", [_order(1, "5.00"), doc.order(order_id=2, products=[])], at=60)
    report = lake.merge()
    after_b = [("1", "P1", D("5.00"), "orders/incoming/b.json"), ("3", "P1", D("4.00"), "orders/incoming/a.json")]
    assert lake.rows() == after_b
    assert report["inputs"][job.INPUT]["filtered"][job.EMPTIED] == 1
    # A late retry of an older export (written before b.json) changes nothing.
    lake.land("early.json", [_order(1, "9.00", "9.00")], at=30)
    late = lake.merge()
    assert lake.rows() == after_b
    assert late["inputs"][job.INPUT]["filtered"][job.OLDER] == 2


def test_merging_a_then_b_equals_merging_a_and_b(tmp_path, spark):
    exports = {
        "a.json": ([_order(1, "1.00", "2.00"), _order(2, "3.00")], 0),
        "b.json": ([_order(1, "4.00"), _order(3, "5.00")], 60),
    }
    apart, together = Lake(tmp_path / "apart", spark), Lake(tmp_path / "together", spark)
    for name, (documents, at) in exports.items():
        apart.land(name, documents, at=at)
        apart.merge()
        together.land(name, documents, at=at)
    together.merge()
    assert apart.rows() == together.rows()
    assert [r[:3] for r in together.rows()] == [("1", "P1", D("4.00")), ("2", "P1", D("3.00")), ("3", "P1", D("5.00"))]


def test_nothing_staged_on_a_new_lake_creates_no_table(lake):
    assert lake.merge()["inputs"] == {}
    assert not (lake.output / spec.INGESTED_ITEMS.name).exists()


def test_run_on_its_own_with_nothing_staged_it_reports_without_spark_and_leaves_the_rest_to_the_job(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(job, "runs_on_its_own", lambda argv: True)  # as `python jobs/orders_ingest_merge.py`
    staging, out = tmp_path / "staging", tmp_path / "out"
    staging.mkdir()
    (staging / "_SUCCESS").write_text("")  # not data, as _files.list_files sees it
    report = job.nothing_staged(["--staging", str(staging), "--output", str(out)])
    assert (report["status"], report["inputs"], report["tables"]) == ("published", {}, {})
    assert json.loads((out / "_run" / f"{job.JOB}.json").read_text()) == report
    said = f"{job.JOB}: nothing staged under --staging {staging}; ingested_items is unchanged\n"
    assert capsys.readouterr().err == said
    (staging / "a.parquet").write_bytes(b"PAR1")
    file = tmp_path / "file"
    file.write_text("")
    # Spark's to run, or the job's parser's to refuse (one line, exit 2): this check prints nothing of its own.
    for argv in (
        ["--staging", str(staging), "--output", str(out)],  # data landed
        ["--staging", str(tmp_path / "none"), "--output", str(file / "out")],  # an output under a file
        ["--staging", str(tmp_path / "none"), "--output", f"s3://bucket/{out.name}"],
        ["--staging", str(tmp_path / "none"), "--output", str(out), "--catalog", "glue_catalog"],
        ["--staging", str(tmp_path / "none")],
        ["--staging"],
        ["--help"],
        [],
    ):
        assert job.nothing_staged(argv) is None, argv
    assert capsys.readouterr() == ("", "")


def test_a_staged_object_that_is_not_parquet_is_one_line_and_stays_staged(lake, capsys):
    lake.land("a.json", [_order(1, "1.00")], at=0)
    (lake.staging / "garbage.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(SystemExit) as exit_info:
        lake.merge()
    assert exit_info.value.code == 2
    message = capsys.readouterr().err.strip()
    garbage = lake.staging / "garbage.parquet"
    assert message == (
        f"orders_ingest_merge: error: {garbage} is not a Parquet file; the ingest Lambda stages nothing else under "
        f"--staging {lake.staging}: move it out, then run again; no table was replaced"
    )
    assert len(lake.staged()) == 2
    assert not (lake.output / spec.INGESTED_ITEMS.name).exists()


def test_the_lambda_road_merged_in_turns_gives_the_spark_jobs_order_items(spark, tmp_path):
    """The generated cumulative exports (revisions, an order emptied of its products, malformed records), landed
    and merged in two turns, leave ingested_items equal to the orders job's order_items over all of them: the
    latest version of each order, once, with no reader deduplicating."""
    import orders as orders_job

    raw = tmp_path / "raw" / "orders"
    samples.write_sample(raw, size=30, seed=11)
    curated = tmp_path / "curated"
    exports = raw / spec.EXPORTS.relative_to(spec.RAW)
    orders_job.main(["--input", str(exports), "--output", str(curated / "orders")])
    staging = curated / spec.INGEST_STAGING.prefix
    files = sorted(exports.iterdir())
    for batch in (files[:2], files[2:]):
        stage_exports(batch, staging, lambda _line: None)
        job.main(["--staging", str(staging), "--output", str(curated / "orders")])
    columns = spec.ORDER_ITEMS.column_names

    def rows(table) -> list[tuple]:
        return sorted(
            tuple(r) for r in spark.table(iceberg.identifier(spark, curated, table)).select(columns).collect()
        )

    assert rows(spec.INGESTED_ITEMS) == rows(spec.ORDER_ITEMS)
