"""Sparkify, naive: the star schema as the course notebooks build it. Both inputs read with schema inference (a pass
each), nothing cached, the obvious dropDuplicates and joins, the same five tables and partitioning as the job."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import functions as F

from benchmarks.baselines._args import parse, session


def main(argv: Sequence[str] | None = None) -> None:
    args = parse(__doc__, argv, "--song-data", "--log-data")
    spark = session("sparkify-naive")
    out = args.output
    song_data = spark.read.option("recursiveFileLookup", "true").json(args.song_data)
    songs = song_data.select("song_id", "title", "artist_id", "year", "duration").dropDuplicates(["song_id"])
    songs.write.mode("overwrite").partitionBy("year", "artist_id").parquet(str(out / "songs"))
    artists = song_data.select(
        "artist_id",
        F.col("artist_name").alias("name"),
        F.col("artist_location").alias("location"),
        F.col("artist_latitude").alias("latitude"),
        F.col("artist_longitude").alias("longitude"),
    ).dropDuplicates(["artist_id"])
    artists.write.mode("overwrite").parquet(str(out / "artists"))

    logs = spark.read.option("recursiveFileLookup", "true").json(args.log_data).filter(F.col("page") == "NextSong")
    logs = logs.withColumn("start_time", F.timestamp_millis(F.col("ts").cast("long")))
    users = logs.select(
        F.col("userId").alias("user_id"),
        F.col("firstName").alias("first_name"),
        F.col("lastName").alias("last_name"),
        "gender",
        "level",
    ).dropDuplicates(["user_id"])
    users.write.mode("overwrite").parquet(str(out / "users"))
    start = F.col("start_time")
    time = logs.select(
        "start_time",
        F.hour(start).alias("hour"),
        F.dayofmonth(start).alias("day"),
        F.weekofyear(start).alias("week"),
        F.dayofweek(start).alias("weekday"),
        F.year(start).alias("year"),
        F.month(start).alias("month"),
    ).dropDuplicates(["start_time"])
    time.write.mode("overwrite").partitionBy("year", "month").parquet(str(out / "time"))
    on = (
        (logs["song"] == song_data["title"])
        & (logs["artist"] == song_data["artist_name"])
        & (logs["length"] == song_data["duration"])
    )
    songplays = logs.join(song_data, on, how="left").select(
        F.monotonically_increasing_id().alias("songplay_id"),
        "start_time",
        F.col("userId").alias("user_id"),
        "level",
        "song_id",
        "artist_id",
        F.col("sessionId").alias("session_id"),
        logs["location"],
        F.col("userAgent").alias("user_agent"),
        F.year(start).alias("year"),
        F.month(start).alias("month"),
    )
    songplays.write.mode("overwrite").partitionBy("year", "month").parquet(str(out / "songplays"))
    spark.stop()


if __name__ == "__main__":
    main()
