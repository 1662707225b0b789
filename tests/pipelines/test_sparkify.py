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
    assert [c.name for c in sparkify.SONGS.partition_keys] == ["year", "artist_id"]
    assert [c.name for c in sparkify.SONGPLAYS.partition_keys] == [c.name for c in sparkify.TIME.partition_keys]
    assert [c.name for c in sparkify.SONGPLAYS.partition_keys] == ["year", "month"]
    assert sparkify.SONGPLAYS.column_names[-2:] == ["year", "month"]  # the job's final select writes them last
