"""jobs/_files.py: an input's data files (what is left out, and said so) and an output that can be written."""

from __future__ import annotations

import _files
import pytest
from _errors import JobInputError, UserError

pytestmark = pytest.mark.spark


def test_missing_and_empty_inputs_are_named(spark, tmp_path):
    with pytest.raises(JobInputError, match=r"^--input .*/nowhere does not exist$"):
        _files.require_files(spark, str(tmp_path / "nowhere"), "--input")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "_SUCCESS").write_text("")
    (tmp_path / "empty" / "zero.json").write_text("")
    with pytest.raises(
        JobInputError,
        match=r"^--input .*/empty holds no data file \(left out: 1 hidden or _-prefixed name, 1 empty file\)$",
    ):
        _files.require_files(spark, str(tmp_path / "empty"), "--input")
    with pytest.raises(JobInputError, match=r"^--input .*/zero\.json is an empty file$"):
        _files.require_files(spark, str(tmp_path / "empty" / "zero.json"), "--input")


def test_listing_counts_what_it_leaves_out_even_below_a_folder_named_like_a_hidden_part(spark, tmp_path):
    data = tmp_path / "song_data" / "A"
    data.mkdir(parents=True)
    (data / "TRA.json").write_text("{}\n")
    (data / ".DS_Store").write_text("junk")
    (data / "empty.json").write_text("")
    (tmp_path / "song_data" / "_SUCCESS").write_text("")
    listing = _files.list_files(spark, str(tmp_path / "song_data"))
    assert [p.rsplit("/", 2)[-2:] for p in listing.files] == [["A", "TRA.json"]]
    assert listing.skipped_counts() == {_files.HIDDEN: 2, _files.EMPTY: 1}
    assert listing.skipped_examples() == ["A/.DS_Store", "_SUCCESS", "A/empty.json"]


def test_an_output_folder_is_created_checked_and_removed_again_only_while_empty(spark, tmp_path):
    out = tmp_path / "new" / "curated"
    assert _files.check_writable(spark, "--output", str(out)) is True
    assert out.is_dir()
    assert list(out.iterdir()) == []  # the write probe is gone
    assert _files.check_writable(spark, "--output", str(out)) is False
    (out / "kept.txt").write_text("x")
    _files.remove_if_empty(spark, str(out))
    assert out.is_dir()
    (out / "kept.txt").unlink()
    _files.remove_if_empty(spark, str(out))
    assert not out.exists()
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(UserError, match=r"a_file is a file, not a folder; choose a folder you can write to$"):
        _files.check_writable(spark, "--output", str(tmp_path / "a_file"))


def test_the_damaged_one_of_several_compressed_inputs_is_found(spark, tmp_path):
    import gzip

    whole = gzip.compress(b"line\n" * 5000)
    (tmp_path / "good.gz").write_bytes(whole)
    (tmp_path / "cut.gz").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "plain.txt").write_text("not compressed\n")
    files = [str(tmp_path / name) for name in ("plain.txt", "good.gz", "cut.gz")]
    file, detail = _files.first_damaged(spark, files)
    assert file == str(tmp_path / "cut.gz")
    assert detail.startswith("EOFException: ")
    assert _files.first_damaged(spark, files[:2]) is None
