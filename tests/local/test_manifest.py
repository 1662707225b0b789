"""local/manifest.py: a rerun of the generator replaces exactly the files it wrote, and never touches a user's file."""

from __future__ import annotations

import json
import os

import pytest

from local import manifest


def writer(files: dict[str, str]):
    def write(dest):
        for relative, text in files.items():
            (dest / relative).parent.mkdir(parents=True, exist_ok=True)
            (dest / relative).write_text(text)
        return {"files": len(files)}

    return write


@pytest.fixture
def place(tmp_path):
    return tmp_path / "lake" / "raw" / "demo", manifest.record_path(tmp_path / "lake", "demo")


def test_generated_files_are_recorded_and_replaced_on_the_next_run(place):
    folder, record = place
    assert manifest.replace_generated(folder, record, "demo", writer({"a.json": "1", "sub/b.json": "2"})) == {
        "files": 2
    }
    assert sorted(json.loads(record.read_text())["files"]) == ["a.json", "sub/b.json"]
    manifest.replace_generated(folder, record, "demo", writer({"c.json": "3"}))
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == ["c.json"]
    assert not record.with_suffix(".staging").exists()


def test_a_users_file_stops_generation_and_nothing_is_deleted(place):
    folder, record = place
    manifest.replace_generated(folder, record, "demo", writer({"a.json": "1"}))
    (folder / "mine.json").write_text("precious")
    with pytest.raises(manifest.ForeignFiles, match=r"mine\.json.*nothing was deleted.*--raw-from demo=DIR"):
        manifest.replace_generated(folder, record, "demo", writer({"b.json": "2"}))
    assert (folder / "mine.json").read_text() == "precious"
    assert (folder / "a.json").read_text() == "1"


def test_a_generated_file_the_user_changed_is_theirs(place):
    folder, record = place
    manifest.replace_generated(folder, record, "demo", writer({"a.json": "1"}))
    (folder / "a.json").write_text("edited")
    with pytest.raises(manifest.ForeignFiles, match=r"a\.json"):
        manifest.check_generated_only(folder, record, "demo")
    assert (folder / "a.json").read_text() == "edited"


def test_a_folder_written_before_records_existed_is_left_alone(place):
    folder, record = place
    folder.mkdir(parents=True)
    (folder / "old.json").write_text("from an older make run, or the user's")
    with pytest.raises(manifest.ForeignFiles, match=r"old\.json"):
        manifest.check_generated_only(folder, record, "demo")


def test_a_failed_generation_leaves_nothing_behind(place):
    folder, record = place

    def broken(dest):
        (dest / "half.json").write_text("{")
        raise RuntimeError("generator failed")

    with pytest.raises(RuntimeError):
        manifest.replace_generated(folder, record, "demo", broken)
    assert not folder.exists() or not any(folder.rglob("*"))
    assert not record.with_suffix(".staging").exists()
    manifest.check_generated_only(folder, record, "demo")


def test_modification_times_set_by_the_generator_survive_the_move(place):
    folder, record = place

    def dated(dest):
        (dest / "orders-0001.json").write_text("[]")
        os.utime(dest / "orders-0001.json", (1_000_000, 1_000_000))
        return {}

    manifest.replace_generated(folder, record, "demo", dated)
    assert (folder / "orders-0001.json").stat().st_mtime == 1_000_000
