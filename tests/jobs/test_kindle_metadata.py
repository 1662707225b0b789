"""jobs/kindle_metadata.py: line classification, the three tables, and the job end to end (7z input included)."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import _sevenzip
import kindle_metadata as job
import py7zr
import pytest
from _publish import conform
from _quarantine import QUARANTINE_SCHEMA, REASON, rejected
from _read import BLANK, FILTERED, RECORD, table_schema
from pyspark.sql import Row
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from local.samples import kindle as samples
from pipelines.kindle import ITEM_IMAGES, ITEM_VIDEOS, ITEMS
from tests.jobs.published import fields, same_tables

pytestmark = pytest.mark.spark

# One line per rule; the expected outcome of each is written out by hand below.
LINES = [
    '{"parent_asin": "B01", "rating_number": 5, "title": "fewer ratings"}',
    '{"parent_asin": "B01", "rating_number": 9, "title": "most ratings"}',
    '{"parent_asin": "B01", "rating_number": null, "title": "no count"}',
    '{"parent_asin": "0042", "rating_number": 1, "title": "b"}',
    '{"parent_asin": "0042", "rating_number": 1, "title": "a"}',
    '{"parent_asin": "B02"}',
    "not json",
    '{"parent_asin": "B03", "rating_number": "1,204 ratings"}',
    '{"parent_asin": "B03", "title": "the valid B03"}',
    '{"parent_asin": null, "title": "x"}',
    '{"parent_asin": "  "}',
    '{"title": "no key at all"}',
    "[1, 2]",
    "",
    " \t ",
]
# (reason, filter reason, record) of each line: a kept line has neither reason and no record.
KEPT = (None, None, None)
EXPECTED = [
    (job.DUPLICATE, None, LINES[0]),
    KEPT,
    (job.DUPLICATE, None, LINES[2]),
    # Same rating count: the smaller raw line ("a" < "b") wins, whatever the file order.
    (job.DUPLICATE, None, LINES[3]),
    KEPT,
    KEPT,
    (job.MALFORMED, None, LINES[6]),
    # A malformed line never competes with, nor shadows, a valid record of the same parent_asin.
    (job.MALFORMED, None, LINES[7]),
    KEPT,
    (job.MISSING_KEY, None, LINES[9]),
    (job.MISSING_KEY, None, LINES[10]),
    (job.MISSING_KEY, None, LINES[11]),
    (job.MALFORMED, None, LINES[12]),
    (None, BLANK, LINES[13]),
    (None, BLANK, LINES[14]),
]


def _lines(spark, lines):
    return spark.createDataFrame([(line,) for line in lines], "value string")


def _source(spark, rows: list[dict]):
    full = [{name: row.get(name) for name in job.SOURCE_SCHEMA.fieldNames()} for row in rows]
    return spark.createDataFrame([Row(**r) for r in full], job.SOURCE_SCHEMA)


def test_classify_keeps_one_record_per_parent_asin_and_names_every_reject(spark):
    classified = job.transform_classify(_lines(spark, LINES))
    by_line = {
        row[RECORD] if row[RECORD] is not None else row["title"]: (row[REASON], row[FILTERED], row[RECORD])
        for row in classified.collect()
    }
    keys = [
        line if expected != KEPT else json.loads(line).get("title")
        for line, expected in zip(LINES, EXPECTED, strict=True)
    ]
    assert [by_line[key] for key in keys] == EXPECTED
    kept = classified.where(F.col(REASON).isNull() & F.col(FILTERED).isNull()).select("parent_asin", "title")
    assertDataFrameEqual(
        kept, [Row("B01", "most ratings"), Row("0042", "a"), Row("B02", None), Row("B03", "the valid B03")]
    )


def test_classify_reads_details_as_a_map_with_case_distinct_keys_and_nested_values_as_json(spark):
    line = (
        '{"parent_asin": "B1", "price": 12.990, "details": {"Language": "English", "language": "english",'
        ' "Best Sellers Rank": {"Kindle Store": 12345, "Fiction (Kindle Store)": 3}, "Pages": 300,'
        ' "Flags": [1, {"a": "é"}], "Empty": null}, "bought_together": [{"asin": "X"}]}'
    )
    row = job.transform_classify(_lines(spark, [line])).collect()[0]
    assert (row[REASON], row[FILTERED]) == (None, None)
    assert row["details"] == {
        "Language": "English",
        "language": "english",
        "Best Sellers Rank": '{"Kindle Store":12345,"Fiction (Kindle Store)":3}',
        "Pages": "300",
        "Flags": '[1,{"a":"é"}]',
        "Empty": None,
    }
    # A JSON number read into a string field comes back as Jackson renders it; the price cast reads that text.
    assert row["price"] == "12.99"
    assert row["bought_together"] == '[{"asin":"X"}]'


IMAGE_1 = {"thumb": "t1", "large": "l1", "variant": "MAIN", "hi_res": None}
IMAGE_2 = {"thumb": "t2", "large": "l2", "variant": "PT01", "hi_res": "h2"}
VIDEO_1 = {"title": "Trailer — teaser", "url": "u1", "user_id": ""}
RECORDS = [
    {
        "parent_asin": "B0A",
        "main_category": "Kindle Store",
        "title": "Der Prozeß",
        "subtitle": "Kindle Edition",
        "author": {"avatar": "https://a/x.jpg", "name": "Franz Kafka", "about": ["Prague"]},
        "average_rating": 4.5,
        "rating_number": 120,
        "features": [],
        "description": ["Ein Roman."],
        "price": "12.99",
        "images": [IMAGE_1, IMAGE_2],
        "videos": [VIDEO_1],
        "store": "Franz Kafka (Author)",
        "categories": ["Kindle Store", "Classics"],
        "details": {
            "Publisher": "Penguin; 1st edition (March 5, 2015)",
            "Publication date": "March 5, 2015",
            "Language": "German",
            "language": "german",
            "Print length": "320 pages",
            "File size": "2345 KB",
            "Best Sellers Rank": '{"Kindle Store":12}',
        },
    },
    {
        "parent_asin": "0316769487",
        "price": "—",
        "images": [],
        "details": {
            "language": "english",
            "Publication date": "Sept. 31, 2020",
            "File size": "1.5 MB",
            "Print length": "about 300",
        },
    },
    {"parent_asin": "B0C", "price": "0", "details": {"Publication date": "Sept 5, 2015", "PUBLISHER": "Tor"}},
    {"parent_asin": "B0D", "price": "1.0E-5", "details": {"Publication date": "2015-03-05", "Print length": "1 page"}},
    {"parent_asin": "B0E"},
]


def test_items_flattens_structs_splits_price_and_types_known_details(spark):
    items = conform(job.transform_items(_source(spark, RECORDS)), ITEMS)
    b0a_details = RECORDS[0]["details"]
    expected = [
        Row("B0A", "Kindle Store", "Der Prozeß", "Kindle Edition", "Franz Kafka", "https://a/x.jpg", ["Prague"],
            4.5, 120, [], ["Ein Roman."], 12.99, None, "Franz Kafka (Author)", ["Kindle Store", "Classics"],
            b0a_details, "Penguin; 1st edition (March 5, 2015)", date(2015, 3, 5), "German", 320, 2345, 2, 1, None),
        # No author, a non-numeric price, a language only in lower case, an impossible date, size in MB.
        Row("0316769487", None, None, None, None, None, None, None, None, None, None, None, "—", None, None,
            RECORDS[1]["details"], None, None, "english", None, 1536, 0, 0, None),
        Row("B0C", None, None, None, None, None, None, None, None, None, None, 0.0, None, None, None,
            RECORDS[2]["details"], "Tor", date(2015, 9, 5), None, None, None, 0, 0, None),
        Row("B0D", None, None, None, None, None, None, None, None, None, None, 1e-05, None, None, None,
            RECORDS[3]["details"], None, None, None, 1, None, 0, 0, None),
        # An item with nothing but its id still has its row.
        Row("B0E", None, None, None, None, None, None, None, None, None, None, None, None, None, None,
            None, None, None, None, None, None, 0, 0, None),
    ]  # fmt: skip
    assert items.columns == ITEMS.column_names
    assertDataFrameEqual(items, expected)


def test_a_detail_is_its_exact_key_else_the_first_key_equal_but_for_case(spark):
    maps = [
        {"Language": "English", "language": "english"},
        {"LANGUAGE": "Deutsch", "language": "deutsch"},
        {"Publisher": "x"},
        # A key holding the separator the fast lookup joins keys with: looked up key by key instead.
        {"a\u0000b": "1", "language": "français"},
        {},
        None,
    ]
    frame = spark.createDataFrame([(i, m) for i, m in enumerate(maps)], "i int, details map<string,string>")
    frame = frame.withColumn(job._LOWER_KEYS, job._lower_keys(F.col("details")))
    got = frame.select("i", job._detail(F.col("details"), "Language").alias("v")).orderBy("i").collect()
    assert [r["v"] for r in got] == ["English", "Deutsch", None, "français", None, None]


def test_images_and_videos_one_row_per_element_with_its_position(spark):
    source = _source(spark, RECORDS)
    images = conform(job.transform_images(source), ITEM_IMAGES)
    videos = conform(job.transform_videos(source), ITEM_VIDEOS)
    assertDataFrameEqual(images, [Row("B0A", 0, "t1", "l1", "MAIN", None), Row("B0A", 1, "t2", "l2", "PT01", "h2")])
    assertDataFrameEqual(videos, [Row("B0A", 0, "Trailer — teaser", "u1", "")])


def test_quarantine_holds_every_reject_with_its_raw_line_and_reason(spark):
    classified = job.transform_classify(_lines(spark, LINES))
    quarantine = rejected(classified)
    expected = [Row(reason, record) for reason, _, record in EXPECTED if reason is not None]
    assertDataFrameEqual(quarantine, expected)


def test_the_deduplication_shuffles_once_into_the_partitions_it_is_given(spark):
    previous = spark.conf.get("spark.sql.shuffle.partitions")
    spark.conf.set("spark.sql.shuffle.partitions", "7")
    try:
        classified = job.transform_classify(_lines(spark, LINES), partitions=3)
        plan = classified._jdf.queryExecution().executedPlan().toString()
        partitions = classified.rdd.getNumPartitions()
        rows = {(row[REASON], row[FILTERED], row[RECORD], row["title"]) for row in classified.collect()}
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", previous)
    # One exchange: the window reuses the repartition by its keys rather than shuffling again.
    assert plan.count("Exchange hashpartitioning") == 1
    assert partitions == 3
    unpartitioned = job.transform_classify(_lines(spark, LINES)).collect()
    assert rows == {(row[REASON], row[FILTERED], row[RECORD], row["title"]) for row in unpartitioned}


# ------------------------------------------------------------------------------------------------ end to end

SIZE = 300


@pytest.fixture(scope="module")
def run(spark, tmp_path_factory):
    """The job once on a generated .jsonl.gz sample (raw folder as input); its counts, report and output."""
    root = tmp_path_factory.mktemp("kindle")
    raw, output = root / "raw", root / "curated"
    counts = samples.write_sample(raw, size=SIZE, seed=11)
    report = job.main(["--input", str(raw), "--output", str(output)])
    return counts, report, raw, output


def _read(spark, output: Path, table):
    return spark.read.format("iceberg").load(str(output / table.name))


def _rows(report: dict) -> dict[str, int]:
    return {name: table["rows"] for name, table in report["tables"].items()}


def test_each_table_is_written_as_files_of_its_target_size_not_the_reads_or_shuffles_partitions(run, spark):
    # The write path sizes files from the data and the table's write.target-file-size-bytes (_iceberg.sized_writes):
    # a sample of a few MB is one file per table, however many partitions the read or the deduplication had.
    _, _, _, output = run
    for table in (ITEMS, ITEM_IMAGES, ITEM_VIDEOS):
        assert len(list((output / table.name / "data").rglob("*.parquet"))) == 1, table.name


def test_report_balances_with_the_generator_counts(run):
    counts, report, raw, output = run
    assert report["inputs"] == {
        "metadata": {
            "path": str(raw),
            "record": "line",
            "read": counts["lines"],
            "written": SIZE,
            "written_to": "items rows, one per parent_asin",
            "quarantined": counts["malformed"] + counts["missing_parent_asin"] + counts["duplicates"],
            "quarantine": str(output / "_quarantine" / "metadata"),
            "filtered": {BLANK: counts["blank"]},
            "balanced": True,
            "snapshot_id": None,
            "files": {"read": 1, "skipped": {}, "skipped_examples": []},
        }
    }
    items = report["tables"]["items"]
    assert (items["rows"], items["path"], items["refresh"]) == (SIZE, str(output / "items"), "full")
    assert items["snapshot_id"] is not None


def test_written_schemas_are_the_declared_ones(spark, run):
    output = run[3]
    for table in (ITEMS, ITEM_IMAGES, ITEM_VIDEOS):
        assert fields(spark.read.format("iceberg").load(str(output / table.name)).schema) == fields(
            table_schema(table)
        ), table.name


def test_tables_agree_with_each_other_and_keys_are_unique(spark, run):
    _, report, _, output = run
    items, images, videos = (_read(spark, output, t) for t in (ITEMS, ITEM_IMAGES, ITEM_VIDEOS))
    assert items.count() == items.select("parent_asin").distinct().count() == SIZE
    assert images.count() == _rows(report)["item_images"] == items.agg(F.sum("image_count")).first()[0]
    assert videos.count() == _rows(report)["item_videos"] == items.agg(F.sum("video_count")).first()[0]
    for child in (images, videos):
        # Positions run 0..n-1 per item, and every child row belongs to an item.
        per_item = child.groupBy("parent_asin").agg(F.count("*").alias("n"), F.max("position").alias("last"))
        assert per_item.where(F.col("last") != F.col("n") - 1).count() == 0
        assert child.join(items, "parent_asin", "left_anti").count() == 0
    # Items with empty or missing image arrays keep their row (an explode-based flattening loses them).
    assert items.where(F.col("image_count") == 0).count() > 0


def test_awkward_source_values_arrive_typed(spark, run):
    output = run[3]
    items = _read(spark, output, ITEMS)
    detail = F.col("details").getItem
    both = items.where(detail("Language").isNotNull() & detail("language").isNotNull())
    assert both.count() > 0
    assert both.where(F.col("language") != detail("Language")).count() == 0
    price_texts = items.where(F.col("price_text").isNotNull()).select("price_text").distinct().collect()
    assert [r[0] for r in price_texts] == ["—"]
    ranks = items.select(detail("Best Sellers Rank").alias("r")).where(F.col("r").isNotNull())
    assert ranks.count() > 0
    assert ranks.where(~F.col("r").startswith('{"Kindle Store":')).count() == 0
    # The generator writes "Sept. 31, 2020" for some items: no such day, so those, and only those, have no date.
    impossible = items.where(detail("Publication date") == "Sept. 31, 2020")
    assert impossible.count() > 0
    undated = items.where(F.col("publication_date").isNull() & detail("Publication date").isNotNull())
    assert undated.count() == impossible.count()


def _quarantine(spark, output: Path):
    return spark.read.schema(QUARANTINE_SCHEMA).json(str(output / "_quarantine" / job.INPUT))


def test_quarantine_counts_per_reason_match_the_generator_and_name_each_line(spark, run):
    counts, _, raw, output = run
    rows = _quarantine(spark, output)
    per_reason = {r["reason"]: r["count"] for r in rows.groupBy("reason").count().collect()}
    assert per_reason == {
        job.MALFORMED: counts["malformed"],
        job.MISSING_KEY: counts["missing_parent_asin"],
        job.DUPLICATE: counts["duplicates"],
    }
    lines = gzip.decompress((raw / samples.FILE_NAME).read_bytes()).decode("utf-8").split("\n")
    for row in rows.collect():
        assert row["file"] == str(raw / samples.FILE_NAME), row
        assert lines[int(row["position"].removeprefix("line ")) - 1] == row["record"], row


def test_rerun_replaces_the_output(spark, run):
    _, report, raw, output = run
    again = job.main(["--input", str(raw), "--output", str(output)])
    assert same_tables(again, report)
    assert again["inputs"] == report["inputs"]
    for table in (ITEMS, ITEM_IMAGES, ITEM_VIDEOS):
        assert _read(spark, output, table).count() == _rows(report)[table.name]
    assert _quarantine(spark, output).count() == report["inputs"]["metadata"]["quarantined"]


def test_7z_input_is_staged_in_parts_and_gives_the_same_items(spark, run, tmp_path, monkeypatch):
    _, report, raw, output = run
    text = gzip.decompress((raw / samples.FILE_NAME).read_bytes())
    half = text.index(b"\n", len(text) // 2) + 1
    archive_dir = tmp_path / "raw7z"
    archive_dir.mkdir()
    with py7zr.SevenZipFile(archive_dir / "meta_Kindle_Store.jsonl.7z", "w") as sevenzip:
        sevenzip.writestr(text[:half], "part-a.jsonl")
        sevenzip.writestr(text[half:], "part-b.jsonl")
    # Small parts, so the staging really cuts the members into several files.
    monkeypatch.setattr(_sevenzip, "STAGED_PART_BYTES", 64 * 1024)
    out7z = tmp_path / "curated"
    again = job.main(["--input", str(archive_dir), "--output", str(out7z)])
    assert _rows(again) == _rows(report)
    assert again["inputs"]["metadata"]["read"] == report["inputs"]["metadata"]["read"]
    assertDataFrameEqual(_read(spark, out7z, ITEMS), _read(spark, output, ITEMS))
    assert not (out7z / "_staging").exists()
    # A quarantined line is named by the archive and its line in the members' text, whichever part held it.
    lines = text.decode("utf-8").split("\n")
    quarantine = _quarantine(spark, out7z).collect()
    assert len(quarantine) == report["inputs"]["metadata"]["quarantined"]
    for row in quarantine:
        assert row["file"] == str(archive_dir / "meta_Kindle_Store.jsonl.7z"), row
        assert lines[int(row["position"].removeprefix("line ")) - 1] == row["record"], row


def test_missing_input_exits_2_with_one_line(tmp_path, capsys, spark):
    with pytest.raises(SystemExit) as exited:
        job.main(["--input", str(tmp_path / "nowhere"), "--output", str(tmp_path / "out")])
    assert exited.value.code == 2
    message = f"kindle_metadata: error: --input {tmp_path / 'nowhere'} does not exist; no table was replaced"
    assert capsys.readouterr().err.strip() == message
    # The run report says why; nothing else is left in the output the run created.
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["_run"]


def test_empty_input_exits_2_with_one_line(tmp_path, capsys, spark):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "meta_Kindle_Store.jsonl").write_bytes(b"")
    with pytest.raises(SystemExit) as exited:
        job.main(["--input", str(tmp_path / "raw"), "--output", str(tmp_path / "out")])
    assert exited.value.code == 2
    assert "holds no data file (left out: 1 empty file)" in capsys.readouterr().err
