"""pipelines/sparkify.py: song and log data on an EMR and a Glue road, a star schema of five tables."""

from pipelines import Location, sparkify


def test_the_emr_road_and_the_glue_road_read_their_own_prefixes():
    (step,) = sparkify.PIPELINE.steps
    assert {flag: loc.prefix for flag, loc in step.args} == {
        "--song-data": "sparkify/song_data/",
        "--log-data": "sparkify/log_data/",
        "--output": "sparkify/",
    }
    assert dict(step.glue_args()) == {
        "--song-data": Location("raw", "sparkify/glue/song_data/"),
        "--log-data": Location("raw", "sparkify/glue/log_data/"),
        "--output": sparkify.CURATED,
    }
    assert all(loc.relative_to(sparkify.RAW) for _, loc in (*step.args[:2], *step.glue_inputs))


def test_the_star_schema_and_its_partitions():
    assert [t.name for t in sparkify.PIPELINE.tables] == ["songs", "artists", "users", "time", "songplays"]
    # Songs are no longer one partition (a tiny file) per artist: unpartitioned, sorted by artist.
    assert sparkify.SONGS.partitioning == ()
    assert sparkify.SONGS.sort_order[0] == "artist_id"
    # Plays and their times by month of start_time (hidden: no year/month folders, a filter on start_time prunes).
    assert [p.name for p in sparkify.SONGPLAYS.partitioning] == ["start_time_month"]
    assert sparkify.TIME.partitioning == sparkify.SONGPLAYS.partitioning
