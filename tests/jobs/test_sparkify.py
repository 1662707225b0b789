"""sparkify: each rule on inline JSON lines, then whole runs on the generated sample and on the public sample."""

from __future__ import annotations

import argparse
import hashlib
import json
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import _files
import pytest
import sparkify
from _files import join_path
from _job import JobRun
from _quarantine import QUARANTINE_SCHEMA, REASON
from _read import BLANK, FILTERED, RECORD, table_schema
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from local.samples import sparkify as sample
from pipelines import sparkify as declared
from tests.jobs.published import fields, same_tables

pytestmark = pytest.mark.spark

SETANTA_AGENT = (
    '"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/36.0.1985.125 '
    'Chrome/36.0.1985.125 Safari/537.36"'
)


def _ms(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp() * 1000)


def _song(**fields) -> dict:
    record = {
        "num_songs": 1,
        "artist_id": "AR1",
        "artist_latitude": 36.16778,
        "artist_longitude": -86.77836,
        "artist_location": "Nashville, TN.",
        "artist_name": "Gloriana",
        "song_id": "SO1",
        "title": "Clementina Santafè",
        "duration": 153.33832,
        "year": 2005,
    }
    return record | fields


def _event(**fields) -> dict:
    record = {
        "artist": "Elena",
        "auth": "Logged In",
        "firstName": "Lily",
        "gender": "F",
        "itemInSession": 1,
        "lastName": "Koch",
        "length": 269.58322,
        "level": "free",
        "location": "Chicago-Naperville-Elgin, IL-IN-WI",
        "method": "PUT",
        "page": "NextSong",
        "registration": 1541048010796.0,
        "sessionId": 818,
        "song": "Setanta matins",
        "status": 200,
        "ts": 1542837407796,
        "userAgent": SETANTA_AGENT,
        "userId": "15",
    }
    return record | fields


def _lines(spark, *records: dict | str) -> DataFrame:
    """Text lines as extract reads them: dicts become JSON lines, strings are taken as they are."""
    return spark.createDataFrame(
        [(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False),) for r in records], "value string"
    )


def _songs(spark, *records: dict | str) -> DataFrame:
    return sparkify.transform_classify_songs(_lines(spark, *records))


def _events(spark, *records: dict | str) -> DataFrame:
    return sparkify.transform_classify_events(_lines(spark, *records))


def _plays(spark, *records: dict | str) -> DataFrame:
    return sparkify.transform_plays(_events(spark, *records))


def test_blank_event_lines_are_filtered_never_quarantined(spark):
    # A line of white space holds no record (the parsing of every line is tested in test_read.py).
    events = _events(spark, json.dumps(_event()), "", "   ", " \t ").where(F.col(RECORD).isin("", "   ", " \t "))
    assert [(r[REASON], r[FILTERED]) for r in events.collect()] == [(None, BLANK)] * 3


def test_classify_songs_keeps_the_most_complete_record_of_a_song_id_and_says_why_others_go(spark):
    complete = _song(song_id="SO1", year=2005)
    poorer = _song(song_id="SO1", artist_location="", artist_latitude=None, duration=153.0)
    unknown_year = _song(song_id="SO2", year=0, title="¿Dónde va Chichi?", artist_location="  ")
    songs = _songs(
        spark,
        poorer,
        complete,
        unknown_year,
        _song(song_id="", title="no id"),
        _song(song_id="SO3", artist_id=None),
        '{"num_songs": 1, "artist_id": "AR9", "arti',
    )

    reasons = [(r["song_id"], r["artist_location"], r["duration"], r[REASON]) for r in songs.collect()]
    table = sparkify.transform_songs(sparkify.transform_kept_songs(songs))

    # Blank locations are null before completeness is measured.
    assert sorted(reasons, key=str) == sorted(
        [
            ("SO1", "Nashville, TN.", 153.33832, None),
            ("SO1", None, 153.0, "duplicate song_id"),
            ("SO2", None, 153.33832, None),
            ("", "Nashville, TN.", 153.33832, "missing song_id"),
            ("SO3", "Nashville, TN.", 153.33832, "missing artist_id"),
            (None, None, None, "malformed JSON or wrong field type"),
        ],
        key=str,
    )
    assert sorted(table.collect()) == [
        ("SO1", "Clementina Santafè", 153.33832, 2005, "AR1"),
        ("SO2", "¿Dónde va Chichi?", 153.33832, 0, "AR1"),
    ]


def test_classify_songs_breaks_a_completeness_tie_by_the_values_not_the_input_order(spark):
    songs = _songs(
        spark,
        _song(song_id="SO1", title="B side"),
        _song(song_id="SO1", title="A side"),
        _song(song_id="SO2", title="A side"),
        _song(song_id="SO2", title="B side"),
    )

    kept = sorted((r["song_id"], r["title"]) for r in sparkify.transform_kept_songs(songs).collect())

    assert kept == [("SO1", "A side"), ("SO2", "A side")]


def test_transform_artists_prefers_the_most_complete_fields_then_the_smallest_song_id(spark):
    songs = sparkify.transform_kept_songs(
        _songs(
            spark,
            # AR1: the record of SO2 knows more than the record of SO1.
            _song(song_id="SO1", artist_id="AR1", artist_name="Casual", artist_location="", artist_latitude=None),
            _song(song_id="SO2", artist_id="AR1", artist_name="Casual", artist_location="California - LA"),
            # AR2: equally complete records, so the smallest song_id decides.
            _song(song_id="SO4", artist_id="AR2", artist_name="Montserrat Caballé", artist_location="Barcelona"),
            _song(song_id="SO3", artist_id="AR2", artist_name="Montserrat Caballé", artist_location="Madrid"),
        )
    )

    got = sorted(sparkify.transform_artists(songs).collect())

    assert got == [
        ("AR1", "Casual", "California - LA", 36.16778, -86.77836),
        ("AR2", "Montserrat Caballé", "Madrid", 36.16778, -86.77836),
    ]


def test_classify_events_filters_other_pages_and_quarantines_unusable_next_songs(spark):
    play = _event()
    events = _events(
        spark,
        play,
        _event(page="Home", userId="", auth="Logged Out", song=None, artist=None, length=None),
        _event(page="Logout", itemInSession=2),
        _event(userId="", itemInSession=3),
        _event(ts=None, itemInSession=4),
        _event(sessionId=None, itemInSession=5),
        _event(itemInSession=None),
        {"userId": "15"},
        "<html>502</html>",
        # The same event delivered twice, once with another key order.
        json.dumps(dict(reversed(play.items()))),
    )

    got = Counter((r[REASON], r[FILTERED]) for r in events.collect())

    assert got == Counter(
        {
            (None, None): 1,
            (None, "not a NextSong event"): 2,
            ("NextSong event without userId", None): 1,
            ("NextSong event without ts", None): 1,
            ("NextSong event without sessionId", None): 1,
            ("NextSong event without itemInSession", None): 1,
            ("missing page", None): 1,
            ("malformed JSON or wrong field type", None): 1,
            ("duplicate NextSong event", None): 1,
        }
    )


def test_next_song_events_key_time_and_quoted_user_agent(spark):
    plays = _plays(spark, _event(userId="15", sessionId=818, itemInSession=7, ts=1542837407796))

    row = plays.select(
        "songplay_id",
        F.date_format("start_time", "yyyy-MM-dd HH:mm:ss.SSS").alias("start"),
        "user_id",
        "session_id",
        "user_agent",
        "year",
        "month",
    ).first()

    assert row == (
        hashlib.sha256(b"15|818|7|1542837407796").hexdigest(),
        "2018-11-21 21:56:47.796",
        "15",
        818,
        SETANTA_AGENT,
        2018,
        11,
    )


def test_transform_songplays_fills_ids_only_on_a_title_artist_duration_match_and_never_multiplies_rows(spark):
    songs = sparkify.transform_kept_songs(
        _songs(
            spark,
            _song(
                song_id="SOSET", artist_id="ARELENA", title="Setanta matins", artist_name="Elena", duration=269.58322
            ),
            # Twin tracks: two song_ids for one title, artist and duration.
            _song(song_id="SOTWIN2", artist_id="ARDUO", title="Twin", artist_name="Duo", duration=100.5),
            _song(song_id="SOTWIN1", artist_id="ARDUO", title="Twin", artist_name="Duo", duration=100.5),
        )
    )
    plays = _plays(
        spark,
        _event(itemInSession=1),
        _event(itemInSession=2, length=269.583220001),
        _event(itemInSession=3, length=269.5833),
        _event(itemInSession=4, artist="elena"),
        _event(itemInSession=5, song="Twin", artist="Duo", length=100.5),
        _event(itemInSession=6, song=None, artist=None, length=None),
    )

    songplays = sparkify.transform_songplays(plays, songs)
    got = songplays.join(plays.select("songplay_id", "item_in_session"), "songplay_id", "left")

    # One row per event: a play that matched twice would show its item twice.
    assert sorted((r["item_in_session"], r["song_id"], r["artist_id"]) for r in got.collect()) == [
        (1, "SOSET", "ARELENA"),
        (2, "SOSET", "ARELENA"),
        (3, None, None),
        (4, None, None),
        (5, "SOTWIN1", "ARDUO"),
        (6, None, None),
    ]


def test_transform_users_takes_the_level_and_names_of_the_latest_next_song(spark):
    plays = _plays(
        spark,
        _event(userId="10", ts=1000, sessionId=5, itemInSession=0, level="free", lastName="Old"),
        _event(userId="10", ts=3000, sessionId=5, itemInSession=1, level="free"),
        # Same ts as the event above: the later item in the session wins.
        _event(userId="10", ts=3000, sessionId=5, itemInSession=2, level="paid", lastName="Nüñez"),
        _event(userId="11", ts=9000, sessionId=8, itemInSession=0, level="free", firstName="Zoë", gender="M"),
        _event(userId="11", ts=5000, sessionId=7, itemInSession=0, level="paid"),
    )

    got = sorted(sparkify.transform_users(plays).collect())

    assert got == [("10", "Lily", "Nüñez", "F", "paid"), ("11", "Zoë", "Koch", "M", "free")]


def test_transform_time_gives_utc_parts_iso_week_and_iso_weekday_once_per_start_time(spark):
    sunday_night = _ms(2018, 11, 4, 23, 59, 59) + 999
    plays = _plays(
        spark,
        _event(ts=sunday_night, itemInSession=0),
        _event(ts=sunday_night, itemInSession=1, userId="16"),
        _event(ts=_ms(2018, 11, 5), itemInSession=2),
        # A Monday in ISO week 1 of 2019 that is still in December 2018.
        _event(ts=_ms(2018, 12, 31, 12), itemInSession=3),
    )

    got = sorted(
        sparkify.transform_time(plays)
        .select(
            F.date_format("start_time", "yyyy-MM-dd HH:mm:ss.SSS"), "hour", "day", "week", "weekday", "year", "month"
        )
        .collect()
    )

    assert got == [
        ("2018-11-04 23:59:59.999", 23, 4, 44, 7, 2018, 11),
        ("2018-11-05 00:00:00.000", 0, 5, 45, 1, 2018, 11),
        ("2018-12-31 12:00:00.000", 12, 31, 1, 1, 2018, 12),
    ]


def test_extract_reads_a_single_file_and_skips_hidden_files_in_folders(spark, tmp_path):
    folder = tmp_path / "log_data"
    (folder / "nested").mkdir(parents=True)
    (folder / "nested" / "2018-11-01-events.json").write_text(json.dumps(_event()) + "\n\n" + "{oops\n")
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (folder / "_SUCCESS").write_text("")

    run = JobRun(spark, sparkify.JOB, str(tmp_path / "out"))
    single_file = str(folder / "nested" / "2018-11-01-events.json")
    single, whole = sparkify.extract(run, argparse.Namespace(song_data=single_file, log_data=str(folder)))

    assert whole.count() == 3
    assert sorted(r["value"] for r in single.collect()) == sorted([json.dumps(_event()), "", "{oops"])
    assert run.input(sparkify.EVENTS).files_skipped == {_files.HIDDEN: 2}
    assert run.input(sparkify.SONGS).files_skipped == {}


def _table_rows(report: dict) -> dict[str, int]:
    return {name: table["rows"] for name, table in report["tables"].items()}


def _args(songs, logs, output) -> list[str]:
    return ["--song-data", str(songs), "--log-data", str(logs), "--output", str(output)]


def _rows(spark, output, table) -> DataFrame:
    return spark.read.format("iceberg").load(join_path(str(output), table.name))


@pytest.fixture(scope="module")
def generated(spark, tmp_path_factory):
    """The generated sample run twice into one output: both reports and what the sample says it holds."""
    root = tmp_path_factory.mktemp("sparkify")
    counts = sample.write_sample(root / "raw", size=300, seed=11)
    argv = _args(root / "raw" / "song_data", root / "raw" / "log_data", root / "curated")
    first = sparkify.main(argv)
    second = sparkify.main(argv)
    return {"counts": counts, "first": first, "second": second, "output": root / "curated", "raw": root / "raw"}


def test_generated_run_balances_every_input_with_the_counts_the_sample_wrote(generated):
    counts, report = generated["counts"], generated["first"]

    output = generated["output"]
    assert report["inputs"]["song_data"] | {"path": None} == {
        "path": None,
        "record": "line",
        "read": counts["song_records"],
        "written": counts["songs"],
        "written_to": "songs rows, one per song_id",
        "quarantined": counts["duplicate_song_ids"] + counts["malformed_song_files"],
        "quarantine": str(output / "_quarantine" / "song_data"),
        "filtered": {},
        "balanced": True,
        "snapshot_id": None,
        "files": {
            "read": counts["song_files"],
            # The generator's .DS_Store litter: left out, and said so.
            "skipped": {_files.HIDDEN: 2},
            "skipped_examples": [".DS_Store", "A/.DS_Store"],
        },
    }
    assert report["inputs"]["log_data"] | {"path": None, "files": None} == {
        "path": None,
        "record": "line",
        "read": counts["events"],
        "written": counts["plays"],
        "written_to": "songplays rows, one per NextSong event",
        "quarantined": counts["quarantined_events"],
        "quarantine": str(output / "_quarantine" / "log_data"),
        "filtered": {"not a NextSong event": counts["filtered_events"]},
        "balanced": True,
        "snapshot_id": None,
        "files": None,
    }
    assert _table_rows(report) == {
        "songs": counts["songs"],
        "artists": counts["artists"],
        "songplays": counts["plays"],
        "users": counts["users"],
        "time": counts["play_times"],
    }


def test_rerun_leaves_tables_of_the_declared_schema_with_the_first_runs_rows_and_unique_keys(spark, generated):
    first, second = generated["first"], generated["second"]

    assert second["inputs"] == first["inputs"]
    assert same_tables(second, first)
    for table in declared.PIPELINE.tables:
        rows = _rows(spark, generated["output"], table)
        # One pass per table: an appending rerun would double the rows, a bad key would repeat one.
        counted = rows.agg(F.count(F.lit(1)), F.count_distinct(F.struct(*table.key))).first()

        assert fields(rows.schema) == fields(table_schema(table)), table.name
        assert tuple(counted) == (_table_rows(first)[table.name],) * 2, table.name


def test_a_rerun_over_less_input_leaves_exactly_its_rows_in_every_table(spark, generated, tmp_path):
    """Full refresh: the songs of song files left out of the rerun are gone."""
    raw, output = generated["raw"], tmp_path / "curated"
    sparkify.main(_args(raw / "song_data", raw / "log_data", output))
    by_song = {_song_id(path): path for path in sorted((raw / "song_data").rglob("TR*.json"), reverse=True)}
    fewer = sorted(path for song, path in by_song.items() if song)[:5]
    songs = tmp_path / "fewer_songs"
    songs.mkdir()
    for path in fewer:
        (songs / path.name).write_bytes(path.read_bytes())

    report = sparkify.main(_args(songs, raw / "log_data", output))

    assert report["inputs"]["song_data"]["read"] == 5
    for table in declared.PIPELINE.tables:
        assert _rows(spark, output, table).count() == _table_rows(report)[table.name], table.name
    assert _table_rows(report)["songs"] == report["inputs"]["song_data"]["written"] <= 5
    # Unpartitioned: no folder per year or artist, one tiny file each, as the Hive table had.
    assert not [p for p in (output / "songs" / "data").rglob("*") if p.is_dir()]


def _song_id(path) -> str | None:
    """The song_id of a song file the job can keep (valid JSON, a song_id), else None."""
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("song_id") or None
    except ValueError:
        return None


def test_generated_songplays_users_and_songs_keep_the_awkward_values(spark, generated):
    counts, output = generated["counts"], generated["output"]
    songplays = _rows(spark, output, declared.SONGPLAYS)
    songs = _rows(spark, output, declared.SONGS)

    matched = songplays.filter(F.col("song_id").isNotNull())
    assert matched.count() == counts["matched_plays"]
    assert matched.join(songs, ["song_id", "artist_id"], "left_anti").count() == 0
    assert songplays.select("user_id", "level").distinct().count() == counts["user_levels"]
    assert songplays.filter(F.col("user_agent").startswith('"')).count() > 0
    assert songs.filter(F.col("year") == 0).count() == counts["songs_year_0"]


def test_quarantine_holds_the_source_lines_with_their_reasons(spark, generated):
    counts, output = generated["counts"], generated["output"]
    logs = spark.read.json(str(output / "_quarantine" / "log_data"), schema=QUARANTINE_SCHEMA).collect()
    songs = spark.read.json(str(output / "_quarantine" / "song_data"), schema=QUARANTINE_SCHEMA).collect()
    source_lines = {
        line for path in (generated["raw"] / "log_data").iterdir() for line in path.read_text("utf-8").splitlines()
    }

    assert Counter(r["reason"] for r in logs) == {
        "malformed JSON or wrong field type": counts["malformed_events"],
        "NextSong event without userId": 1,
        "duplicate NextSong event": 1,
    }
    assert all(r["source"] == "log_data" and r["record"] in source_lines for r in logs)
    assert Counter(r["reason"] for r in songs) == {"duplicate song_id": 1, "malformed JSON or wrong field type": 1}
    # Each names its file and line, where the record is found as it was read.
    for row in logs + songs:
        lines = Path(row["file"]).read_text(encoding="utf-8").split("\n")
        assert lines[int(row["position"].removeprefix("line ")) - 1] == row["record"], row


def test_missing_input_exits_2_with_one_line(spark, tmp_path, capsys):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "2018-11-01-events.json").write_text(json.dumps(_event()) + "\n")

    with pytest.raises(SystemExit) as exited:
        sparkify.main(_args(tmp_path / "absent", tmp_path / "logs", tmp_path / "out"))

    assert exited.value.code == 2
    error = capsys.readouterr().err.strip()
    assert error == f"sparkify: error: --song-data {tmp_path / 'absent'} does not exist; no table was replaced"


def test_input_with_only_hidden_files_exits_2(spark, tmp_path, capsys):
    (tmp_path / "songs" / "A").mkdir(parents=True)
    (tmp_path / "songs" / "A" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (tmp_path / "logs").mkdir()

    with pytest.raises(SystemExit) as exited:
        sparkify.main(_args(tmp_path / "songs", tmp_path / "logs", tmp_path / "out"))

    assert exited.value.code == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith("songs holds no data file (left out: 1 hidden or _-prefixed name); no table was replaced")
    )


def test_input_of_blank_lines_exits_2(spark, tmp_path, capsys):
    (tmp_path / "songs").mkdir()
    (tmp_path / "songs" / "TRA.json").write_text(json.dumps(_song()))
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "2018-11-01-events.json").write_text("\n  \n")

    with pytest.raises(SystemExit) as exited:
        sparkify.main(_args(tmp_path / "songs", tmp_path / "logs", tmp_path / "out"))

    assert exited.value.code == 2
    assert capsys.readouterr().err.strip().endswith("logs holds no records, only blank lines; no table was replaced")


@pytest.mark.shared_data
def test_public_sample_yields_its_documented_facts(spark, shared_datasets, tmp_path):
    for name in ("song-data", "log-data"):
        with zipfile.ZipFile(shared_datasets / "sparkify" / f"{name}.zip") as archive:
            archive.extractall(tmp_path / name)
    output = tmp_path / "curated"

    report = sparkify.main(_args(tmp_path / "song-data" / "song_data", tmp_path / "log-data", output))

    log_data = report["inputs"]["log_data"]
    assert (log_data["read"], log_data["written"], log_data["quarantined"], log_data["balanced"]) == (
        8056,
        6820,
        0,
        True,
    )
    assert log_data["filtered"] == {"not a NextSong event": 8056 - 6820}
    assert report["inputs"]["song_data"]["read"] == report["inputs"]["song_data"]["written"] == 71
    # The archive's .DS_Store files are left out and counted.
    assert report["inputs"]["song_data"]["files"]["read"] == 71
    assert report["inputs"]["song_data"]["files"]["skipped"][_files.HIDDEN] > 0
    assert _table_rows(report) == {"songs": 71, "artists": 69, "songplays": 6820, "users": 96, "time": 6813}
    songplays = _rows(spark, output, declared.SONGPLAYS)
    assert songplays.select("user_id", "level").distinct().count() == 104
    songs = _rows(spark, output, declared.SONGS)
    matched = songplays.filter(F.col("song_id").isNotNull()).join(songs, ["song_id", "artist_id"])
    assert [(r["title"], r["duration"], r["user_agent"]) for r in matched.collect()] == [
        ("Setanta matins", 269.58322, SETANTA_AGENT)
    ]
    artists = _rows(spark, output, declared.ARTISTS)
    assert artists.join(matched.select("artist_id"), "artist_id").first()["name"] == "Elena"
    assert artists.filter(F.col("name").startswith("Montserrat Caballé;")).count() == 1
    assert songs.filter(F.col("year") == 0).count() == 43
    assert not [p for p in (output / "songs" / "data").rglob("*") if p.is_dir()]
