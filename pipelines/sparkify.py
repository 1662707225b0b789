"""Sparkify: song metadata and app event logs turned into a star schema."""

from pipelines.model import Column, Location, Pipeline, Step, Table

SONGS = Table(
    pipeline="sparkify",
    name="songs",
    writer="sparkify",
    refresh="full",
    description="One row per song_id.",
    key=("song_id",),
    columns=(
        Column("song_id", "string"),
        Column("title", "string"),
        Column("duration", "double", "Seconds"),
    ),
    partition_keys=(Column("year", "int", "0 when unknown, as in the source"), Column("artist_id", "string")),
)

ARTISTS = Table(
    pipeline="sparkify",
    name="artists",
    writer="sparkify",
    refresh="full",
    description="One row per artist_id.",
    key=("artist_id",),
    columns=(
        Column("artist_id", "string"),
        Column("name", "string"),
        Column("location", "string", "Null when empty in the source"),
        Column("latitude", "double"),
        Column("longitude", "double"),
    ),
)

USERS = Table(
    pipeline="sparkify",
    name="users",
    writer="sparkify",
    refresh="full",
    description="One row per user with NextSong events; level is the level of the user's latest NextSong event.",
    key=("user_id",),
    columns=(
        Column("user_id", "string"),
        Column("first_name", "string"),
        Column("last_name", "string"),
        Column("gender", "string"),
        Column("level", "string", "free or paid"),
    ),
)

TIME = Table(
    pipeline="sparkify",
    name="time",
    writer="sparkify",
    refresh="full",
    description="One row per distinct NextSong start_time (UTC).",
    key=("start_time",),
    columns=(
        Column("start_time", "timestamp", "UTC, from ts in epoch milliseconds"),
        Column("hour", "int"),
        Column("day", "int", "Day of month"),
        Column("week", "int", "ISO week of year"),
        Column("weekday", "int", "ISO day of week: 1 = Monday ... 7 = Sunday"),
    ),
    partition_keys=(Column("year", "int"), Column("month", "int")),
)

SONGPLAYS = Table(
    pipeline="sparkify",
    name="songplays",
    writer="sparkify",
    refresh="full",
    description="One row per NextSong event; song and artist ids where title, artist name and duration match.",
    key=("songplay_id",),
    columns=(
        Column("songplay_id", "string", "Deterministic: sha2 of user, session, item in session and ts"),
        Column("start_time", "timestamp"),
        Column("user_id", "string"),
        Column("level", "string"),
        Column("song_id", "string", "Null when no song matches"),
        Column("artist_id", "string", "Null when no song matches"),
        Column("session_id", "bigint"),
        Column("location", "string"),
        Column("user_agent", "string"),
    ),
    partition_keys=(Column("year", "int"), Column("month", "int")),
)

RAW = Location("raw", "sparkify/")
# The EMR road (upload, then start the state machine) and the Glue road (an upload starts the Glue job).
SONG_DATA = Location("raw", "sparkify/song_data/")
LOG_DATA = Location("raw", "sparkify/log_data/")
GLUE_SONG_DATA = Location("raw", "sparkify/glue/song_data/")
GLUE_LOG_DATA = Location("raw", "sparkify/glue/log_data/")
CURATED = Location("curated", "sparkify/")

PIPELINE = Pipeline(
    name="sparkify",
    description="Sparkify song and event logs turned into a star schema.",
    raw=RAW,
    steps=(
        Step(
            name="sparkify",
            job="sparkify",
            args=(("--song-data", SONG_DATA), ("--log-data", LOG_DATA), ("--output", CURATED)),
            glue_inputs=(("--song-data", GLUE_SONG_DATA), ("--log-data", GLUE_LOG_DATA)),
        ),
    ),
    tables=(SONGS, ARTISTS, USERS, TIME, SONGPLAYS),
    check_query="songplays_per_hour",
)
