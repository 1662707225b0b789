"""pipelines/kindle.py: one job reads the raw kindle/ folder and writes three tables keyed by the item."""

from pipelines import kindle


def test_one_step_reads_the_raw_folder_and_writes_the_three_tables():
    (step,) = kindle.PIPELINE.steps
    assert (step.job, dict(step.args)) == ("kindle_metadata", {"--input": kindle.RAW, "--output": kindle.CURATED})
    assert (kindle.RAW.prefix, kindle.CURATED.prefix) == ("kindle/", "kindle/")
    assert not step.runs_on_glue
    assert [t.glue_name for t in kindle.PIPELINE.tables] == ["kindle_items", "kindle_item_images", "kindle_item_videos"]
    assert {t.writer for t in kindle.PIPELINE.tables} == {"kindle_metadata"}


def test_images_and_videos_are_keyed_by_item_and_position():
    assert kindle.ITEMS.key == ("parent_asin",)
    assert kindle.ITEM_IMAGES.key == kindle.ITEM_VIDEOS.key == ("parent_asin", "position")
    assert kindle.ITEMS.column_names[0] == "parent_asin"
    assert {c.name: c.type for c in kindle.ITEMS.columns}["details"] == "map<string,string>"
