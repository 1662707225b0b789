"""Sparkify: song files and app event logs turned into a star schema (songs, artists, users, time, songplays).

Usage: sparkify.py --song-data PATH --log-data PATH --output DIR (local paths or s3:// URIs, folders or single files).
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Sequence

from _job import JobRun, run_job
from _publish import concurrently
from _quarantine import REASON, positioned_quarantine
from _read import CORRUPT, FILTERED, RECORD, parse_json_lines, with_position
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines import sparkify as declared

JOB = "sparkify"
SONGS, EVENTS = "song_data", "log_data"
INPUTS = {
    "--song-data": "song JSON files: a file, or a folder searched recursively",
    "--log-data": "event logs (JSON Lines): a file, or a folder searched recursively",
}
OUTPUT = "folder receiving one Iceberg table per table (DIR/<table>)"
MALFORMED = "malformed JSON or wrong field type"

SONG_FIELDS = T.StructType(
    [
        T.StructField("num_songs", T.LongType()),
        T.StructField("artist_id", T.StringType()),
        T.StructField("artist_latitude", T.DoubleType()),
        T.StructField("artist_longitude", T.DoubleType()),
        T.StructField("artist_location", T.StringType()),
        T.StructField("artist_name", T.StringType()),
        T.StructField("song_id", T.StringType()),
        T.StructField("title", T.StringType()),
        T.StructField("duration", T.DoubleType()),
        T.StructField("year", T.IntegerType()),
    ]
)

EVENT_FIELDS = T.StructType(
    [
        T.StructField("artist", T.StringType()),
        T.StructField("auth", T.StringType()),
        T.StructField("firstName", T.StringType()),
        T.StructField("gender", T.StringType()),
        T.StructField("itemInSession", T.LongType()),
        T.StructField("lastName", T.StringType()),
        T.StructField("length", T.DoubleType()),
        T.StructField("level", T.StringType()),
        T.StructField("location", T.StringType()),
        T.StructField("method", T.StringType()),
        T.StructField("page", T.StringType()),
        T.StructField("registration", T.DoubleType()),
        T.StructField("sessionId", T.LongType()),
        T.StructField("song", T.StringType()),
        T.StructField("status", T.IntegerType()),
        T.StructField("ts", T.LongType()),
        T.StructField("userAgent", T.StringType()),
        # A string in the source; a bare number is read as its text, so "39" and 39 are the same user.
        T.StructField("userId", T.StringType()),
    ]
)

# Durations are written with 5 decimals in both sources. Equal text parses to equal doubles, so the sample's exact
# match holds either way; rounding also matches a value re-serialised with float noise (269.58322000000001).
DURATION_DECIMALS = 5


def _blank(name: str) -> Column:
    return F.col(name).isNull() | (F.trim(F.col(name)) == "")


def _is_record() -> Column:
    return F.col(FILTERED).isNull()


def _completeness(*names: str) -> Column:
    return sum((F.col(n).isNotNull().cast("int") for n in names), F.lit(0))


def transform_classify_songs(lines: DataFrame) -> DataFrame:
    """Song file lines (`value`) parsed, with REASON: null on the one record kept per song_id (and on blank lines,
    which FILTERED names), else why it is rejected.

    Duplicates of a song_id keep the most complete record (most non-null fields, a year other than 0 counting as
    known), then the smallest by every field and by line, so the choice never depends on file order or partitions.
    Blank artist locations become null here, before completeness is measured.
    """
    raw = parse_json_lines(lines, SONG_FIELDS)
    songs = raw.withColumn("artist_location", F.nullif(F.trim("artist_location"), F.lit("")))
    invalid = (
        F.when(~_is_record(), F.lit(None))
        .when(F.col(CORRUPT).isNotNull(), MALFORMED)
        .when(_blank("song_id"), "missing song_id")
        .when(_blank("artist_id"), "missing artist_id")
    )
    songs = songs.withColumn(REASON, invalid)
    known = _completeness("title", "duration", "artist_name", "artist_location", "artist_latitude", "artist_longitude")
    known = known + (F.col("year") > 0).cast("int")
    first = Window.partitionBy("song_id").orderBy(
        F.col(REASON).isNull().desc(),
        known.desc(),
        *[F.col(f.name).asc_nulls_last() for f in SONG_FIELDS.fields],
        F.col(RECORD),
    )
    kept = F.col(REASON).isNull() & _is_record()
    duplicate = F.when(kept & (F.row_number().over(first) > 1), "duplicate song_id")
    return songs.withColumn(REASON, F.coalesce(F.col(REASON), duplicate))


def transform_kept_songs(classified: DataFrame) -> DataFrame:
    """The one record kept per song_id: the input of songs, artists and songplays."""
    return classified.filter(F.col(REASON).isNull() & _is_record())


def transform_songs(songs: DataFrame) -> DataFrame:
    """The songs table from the kept song records (year 0 stays 0: the source's "unknown")."""
    return songs.select("song_id", "title", "duration", "year", "artist_id")


def transform_artists(songs: DataFrame) -> DataFrame:
    """One row per artist_id from the kept song records: the most complete artist fields, then the smallest song_id.

    Artists are taken from the songs table's records only, so every songs.artist_id has its artist row.
    """
    known = _completeness("artist_name", "artist_location", "artist_latitude", "artist_longitude")
    first = Window.partitionBy("artist_id").orderBy(known.desc(), F.col("song_id"))
    return (
        songs.withColumn("_rank", F.row_number().over(first))
        .filter(F.col("_rank") == 1)
        .select(
            "artist_id",
            F.col("artist_name").alias("name"),
            F.col("artist_location").alias("location"),
            F.col("artist_latitude").alias("latitude"),
            F.col("artist_longitude").alias("longitude"),
        )
    )


def _event_key() -> list[Column]:
    return [F.col(c) for c in ("userId", "sessionId", "itemInSession", "ts")]


def transform_classify_events(lines: DataFrame) -> DataFrame:
    """Event log lines (`value`) parsed, with FILTERED (not a songplay by rule) or REASON (unusable); both null = a
    play.

    A NextSong event must carry the four fields of its songplay_id. Repeats of one event (same user, session, item
    and ts, e.g. a log file delivered twice) keep one copy, so songplay_id stays unique.
    """
    raw = parse_json_lines(lines, EVENT_FIELDS)
    next_song = F.col("page") == "NextSong"
    invalid = (
        F.when(~_is_record(), F.lit(None))
        .when(F.col(CORRUPT).isNotNull(), MALFORMED)
        .when(F.col("page").isNull(), "missing page")
        # Other pages stop here: they are filtered by rule below, not quarantined.
        .when(~next_song, F.lit(None))
        .when(_blank("userId"), "NextSong event without userId")
        .when(F.col("ts").isNull(), "NextSong event without ts")
        .when(F.col("sessionId").isNull(), "NextSong event without sessionId")
        .when(F.col("itemInSession").isNull(), "NextSong event without itemInSession")
    )
    events = raw.withColumn(REASON, invalid)
    play = F.col(REASON).isNull() & _is_record() & next_song
    first = Window.partitionBy(play, *_event_key()).orderBy(RECORD)
    duplicate = F.when(play & (F.row_number().over(first) > 1), "duplicate NextSong event")
    other_page = F.when(F.col(REASON).isNull() & ~next_song, F.lit("not a NextSong event"))
    return events.withColumn(REASON, F.coalesce(F.col(REASON), duplicate)).withColumn(
        FILTERED, F.coalesce(F.col(FILTERED), other_page)
    )


def transform_plays(classified: DataFrame) -> DataFrame:
    """The kept NextSong events in the vocabulary of the star schema; the input of songplays, users and time."""
    start_time = F.timestamp_millis(F.col("ts"))
    key = [c.cast("string") for c in _event_key()]
    return classified.filter(F.col(REASON).isNull() & F.col(FILTERED).isNull()).select(
        # Only userId can hold "|", and it comes first, so the joined text is unambiguous.
        F.sha2(F.concat_ws("|", *key), 256).alias("songplay_id"),
        "ts",
        start_time.alias("start_time"),
        F.col("userId").alias("user_id"),
        F.col("firstName").alias("first_name"),
        F.col("lastName").alias("last_name"),
        "gender",
        "level",
        F.col("sessionId").alias("session_id"),
        F.col("itemInSession").alias("item_in_session"),
        "location",
        F.col("userAgent").alias("user_agent"),
        "song",
        "artist",
        "length",
        F.year(start_time).alias("year"),
        F.month(start_time).alias("month"),
    )


def _song_matches(songs: DataFrame) -> DataFrame:
    """One row per (title, artist name, rounded duration) of the kept songs: the smallest song_id and its artist.

    Twin tracks of one song (same title, artist and duration, different song_ids) would otherwise turn one play
    into several songplays.
    """
    return (
        songs.filter(F.col("title").isNotNull() & F.col("artist_name").isNotNull() & F.col("duration").isNotNull())
        .groupBy(
            F.col("title").alias("match_title"),
            F.col("artist_name").alias("match_artist"),
            F.round("duration", DURATION_DECIMALS).alias("match_duration"),
        )
        .agg(F.min(F.struct("song_id", "artist_id")).alias("match"))
        .select("match_title", "match_artist", "match_duration", "match.song_id", "match.artist_id")
    )


def transform_songplays(plays: DataFrame, songs: DataFrame) -> DataFrame:
    """One row per NextSong event, with song_id and artist_id where title, artist name and duration match a song."""
    matches = _song_matches(songs)
    on = [
        plays["song"] == matches["match_title"],
        plays["artist"] == matches["match_artist"],
        F.round(plays["length"], DURATION_DECIMALS) == matches["match_duration"],
    ]
    return plays.join(matches, on=on, how="left").select(
        "songplay_id",
        "start_time",
        "user_id",
        "level",
        "song_id",
        "artist_id",
        "session_id",
        "location",
        "user_agent",
        "year",
        "month",
    )


def transform_users(plays: DataFrame) -> DataFrame:
    """One row per user: names, gender and level from the user's latest NextSong event.

    Events at the same ts are ordered by session, then item in session (later wins); after
    transform_classify_events the four together are unique, so the choice is total.
    """
    latest = Window.partitionBy("user_id").orderBy(
        F.col("ts").desc(), F.col("session_id").desc(), F.col("item_in_session").desc()
    )
    return (
        plays.withColumn("_rank", F.row_number().over(latest))
        .filter(F.col("_rank") == 1)
        .select("user_id", "first_name", "last_name", "gender", "level")
    )


def transform_time(plays: DataFrame) -> DataFrame:
    """One row per distinct start_time, broken into UTC calendar parts (the session time zone is UTC)."""
    start = F.col("start_time")
    return (
        plays.select("start_time")
        .distinct()
        .select(
            "start_time",
            F.hour(start).alias("hour"),
            F.dayofmonth(start).alias("day"),
            F.weekofyear(start).alias("week"),
            # weekday() counts from Monday = 0; the table declares ISO 1 = Monday ... 7 = Sunday.
            (F.weekday(start) + 1).alias("weekday"),
            F.year(start).alias("year"),
            F.month(start).alias("month"),
        )
    )


def extract(run: JobRun, args: argparse.Namespace) -> tuple[DataFrame, DataFrame]:
    """The song files and the event logs, every line as text `value` with the columns that place it in its file.

    Read as text, then parsed, so every record keeps its exact source line for the quarantine. Hidden and
    `_`-prefixed names (`.DS_Store`, `_SUCCESS`) are left out and counted in the run report. Song files are read
    line by line too: the Million Song Dataset writes each object on one line, and reading whole files would have
    to guess what a file holding several objects means.
    """
    return _lines(run, SONGS, args.song_data, "--song-data"), _lines(run, EVENTS, args.log_data, "--log-data")


def _lines(run: JobRun, name: str, path: str, label: str) -> DataFrame:
    """The lines under `path` (a file or a folder, searched recursively) of input `name`."""
    run.open_input(name, path, label=label, record="line")
    # The path, not the listed files: Spark lists a folder in one pass (it leaves out the same hidden names), where
    # thousands of single files would each be looked up again.
    return with_position(run.spark.read.schema("value string").option("recursiveFileLookup", "true").text(path))


def _cached(classify: Callable[[DataFrame], DataFrame], lines: DataFrame) -> DataFrame:
    """`classify(lines)`, persisted in as many partitions as the input was read in."""
    # Adaptive execution does not coalesce the last shuffle of a cached plan: without this, every later stage
    # would read spark.sql.shuffle.partitions (200 by default) cached partitions, mostly empty on small inputs.
    return classify(lines).coalesce(lines.rdd.getNumPartitions()).persist()


def load(run: JobRun, songs: DataFrame, events: DataFrame, stats: dict[str, list]) -> None:
    """Stage the five tables and both quarantines from the (cached) classified sources."""
    kept = transform_kept_songs(songs)
    plays = transform_plays(events)
    outputs = [
        (declared.SONGS, transform_songs(kept)),
        (declared.ARTISTS, transform_artists(kept)),
        (declared.SONGPLAYS, transform_songplays(plays, kept)),
        (declared.USERS, transform_users(plays)),
        (declared.TIME, transform_time(plays)),
    ]
    steps = [functools.partial(run.write_table, frame, table) for table, frame in outputs]
    for name, classified in ((SONGS, songs), (EVENTS, events)):
        quarantine = positioned_quarantine(run.spark, classified, stats[name], name)
        steps.append(functools.partial(run.write_quarantine, quarantine, name))
    concurrently(run, steps, [table for table, _ in outputs])
    run.input(SONGS).written = run.report.rows(declared.SONGS)
    run.input(SONGS).written_to = f"{declared.SONGS.name} rows, one per song_id"
    run.input(EVENTS).written = run.report.rows(declared.SONGPLAYS)
    run.input(EVENTS).written_to = f"{declared.SONGPLAYS.name} rows, one per NextSong event"


def run(run: JobRun, args: argparse.Namespace) -> None:
    """Build the sparkify star schema (songs, artists, users, time, songplays) from song files and event logs."""
    song_lines, event_lines = extract(run, args)
    # Each classified source feeds a count, a quarantine and several tables: parse the JSON once.
    songs = _cached(transform_classify_songs, song_lines)
    events = _cached(transform_classify_events, event_lines)
    try:
        # Both sources are checked before anything is written.
        stats = {SONGS: run.count_classified(SONGS, songs), EVENTS: run.count_classified(EVENTS, events)}
        load(run, songs, events, stats)
    finally:
        songs.unpersist()
        events.unpersist()


def main(argv: Sequence[str] | None = None) -> dict:
    return run_job(JOB, argv, run, inputs=INPUTS, output=OUTPUT)


if __name__ == "__main__":
    main()
