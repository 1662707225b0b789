"""Sparkify: song metadata and app event logs turned into a star schema."""

from pipelines.model import Check, Column, Location, Partition, Pipeline, Step, Table

LEVELS = Check("level", accepted=("free", "paid"))

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
        Column("year", "int", "0 when unknown, as in the source"),
        Column("artist_id", "string"),
    ),
    # Unpartitioned: a partition per artist (as the Hive table had) is one tiny file per artist. Sorted by artist,
    # a reader filtering on it skips most files by their column statistics.
    sort_order=("artist_id", "song_id"),
    distribution_mode="range",
    checks=(Check("duration", minimum=0),),
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
    checks=(Check("latitude", minimum=-90, maximum=90), Check("longitude", minimum=-180, maximum=180)),
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
    checks=(LEVELS,),
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
        Column("year", "int"),
        Column("month", "int"),
    ),
    # A month of events fills files of a useful size in the real logs; readers filter on start_time.
    partitioning=(Partition("start_time", "month"),),
    sort_order=("start_time",),
    checks=(
        Check("hour", minimum=0, maximum=23),
        Check("day", minimum=1, maximum=31),
        Check("week", minimum=1, maximum=53),
        Check("weekday", minimum=1, maximum=7),
        Check("month", minimum=1, maximum=12),
    ),
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
    # Hidden partitioning replaces the Hive year=/month= folders: a filter on start_time prunes by month.
    partitioning=(Partition("start_time", "month"),),
    sort_order=("start_time",),
    checks=(LEVELS,),
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
            # A song file holds one song: one unreadable file among a dozen is already a share above the default.
            max_quarantined_share=(("song_data", 0.2),),
        ),
    ),
    tables=(SONGS, ARTISTS, USERS, TIME, SONGPLAYS),
    check_query="songplays_per_hour",
)
