"""Kindle Store item metadata (Amazon Reviews 2023): nested JSON Lines flattened to three Iceberg tables."""

from pipelines.model import Check, Column, Location, Pipeline, Step, Table

ITEMS = Table(
    pipeline="kindle",
    name="items",
    writer="kindle_metadata",
    refresh="full",
    description="One row per parent_asin: struct fields flattened, scalar arrays kept, well-known details typed.",
    key=("parent_asin",),
    columns=(
        Column("parent_asin", "string", "Item id (parent ASIN)"),
        Column("main_category", "string"),
        Column("title", "string"),
        Column("subtitle", "string"),
        Column("author_name", "string", "author.name"),
        Column("author_avatar", "string", "author.avatar"),
        Column("author_about", "array<string>", "author.about"),
        Column("average_rating", "double"),
        Column("rating_number", "bigint"),
        Column("features", "array<string>"),
        Column("description", "array<string>"),
        Column("price", "double", "Null when the source price is not numeric"),
        Column("price_text", "string", "The source price as text when it is not numeric, e.g. '—'"),
        Column("store", "string"),
        Column("categories", "array<string>"),
        Column("details", "map<string,string>", "Every details key as given; nested values as JSON text"),
        Column("publisher", "string", "details.Publisher"),
        Column("publication_date", "date", "details['Publication date'] parsed"),
        Column("language", "string", "details.Language"),
        Column("print_length_pages", "int", "details['Print length'] in pages"),
        Column("file_size_kb", "int", "details['File size'] in KB"),
        Column("image_count", "int"),
        Column("video_count", "int"),
        Column("bought_together", "string", "As JSON text (null in practice)"),
    ),
    # Unpartitioned: the store's items have no column readers prune by that would fill a partition's files.
    sort_order=("parent_asin",),
    checks=(
        Check("average_rating", minimum=0, maximum=5),
        Check("rating_number", minimum=0),
        Check("image_count", minimum=0),
        Check("video_count", minimum=0),
    ),
)

ITEM_IMAGES = Table(
    pipeline="kindle",
    name="item_images",
    writer="kindle_metadata",
    refresh="full",
    description="One row per image of an item, with its position (0-based) in the source array.",
    key=("parent_asin", "position"),
    columns=(
        Column("parent_asin", "string"),
        Column("position", "int", "0-based index in images[]"),
        Column("thumb", "string"),
        Column("large", "string"),
        Column("variant", "string"),
        Column("hi_res", "string"),
    ),
    sort_order=("parent_asin", "position"),
    checks=(Check("position", minimum=0),),
)

ITEM_VIDEOS = Table(
    pipeline="kindle",
    name="item_videos",
    writer="kindle_metadata",
    refresh="full",
    description="One row per video of an item, with its position (0-based) in the source array.",
    key=("parent_asin", "position"),
    columns=(
        Column("parent_asin", "string"),
        Column("position", "int", "0-based index in videos[]"),
        Column("title", "string"),
        Column("url", "string"),
        Column("user_id", "string"),
    ),
    sort_order=("parent_asin", "position"),
    checks=(Check("position", minimum=0),),
)

RAW = Location("raw", "kindle/")
CURATED = Location("curated", "kindle/")

PIPELINE = Pipeline(
    name="kindle",
    description="Kindle Store item metadata (JSON Lines, .jsonl/.gz/.7z) flattened to Iceberg tables.",
    raw=RAW,
    steps=(
        Step(
            name="kindle_metadata",
            job="kindle_metadata",
            args=(("--input", RAW), ("--output", CURATED)),
        ),
    ),
    tables=(ITEMS, ITEM_IMAGES, ITEM_VIDEOS),
    check_query="top_stores",
)
