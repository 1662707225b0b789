"""jobs/_sevenzip.py: line-aligned parts, streaming a 7z archive into them, staging archives for Spark, and errors."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import _sevenzip
import py7zr
import pytest
from _errors import JobInputError


def _part_contents(tmp_path: Path, writes: list[bytes | None], part_bytes: int) -> list[bytes]:
    """Feed `writes` (None = end of an archive member) to LineParts; the parts' bytes in the order handed over."""
    handed: list[bytes] = []
    parts = _sevenzip.LineParts(tmp_path, part_bytes, lambda path: handed.append(path.read_bytes()))
    for data in writes:
        if data is None:
            parts.end_member()
        else:
            parts.write(data)
    parts.close()
    return handed


def test_line_parts_cut_only_between_lines_and_end_each_member_with_a_newline(tmp_path):
    writes = [b"a\nb", b"b\ncc", b"c", None, b"d\n", None, b"", b"e"]
    assert _part_contents(tmp_path, writes, part_bytes=4) == [b"a\nbb\n", b"ccc\n", b"d\ne\n"]
    (tmp_path / "big").mkdir()
    assert _part_contents(tmp_path / "big", [b"x\ny"], part_bytes=1 << 20) == [b"x\ny\n"]


def _archive(path: Path, members: dict[str, bytes]) -> Path:
    with py7zr.SevenZipFile(path, "w") as sevenzip:
        for name, data in members.items():
            sevenzip.writestr(data, name)
    return path


def test_unpack_streams_every_member_into_whole_lines(tmp_path):
    archive = _archive(
        tmp_path / "meta.jsonl.7z", {"one.jsonl": b'{"a": 1}\n{"a": "\xc3\xa9"}', "two.jsonl": b'{"a": 3}\n'}
    )
    out = tmp_path / "parts"
    out.mkdir()
    handed: list[bytes] = []
    parts = _sevenzip.LineParts(out, 1 << 20, lambda path: handed.append(path.read_bytes()))
    _sevenzip.unpack(archive, parts, "meta.jsonl.7z")
    assert b"".join(handed).decode("utf-8").splitlines() == ['{"a": 1}', '{"a": "é"}', '{"a": 3}']


def test_a_7z_input_without_py7zr_is_a_clear_input_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "py7zr", None)  # as on a cluster without py7zr
    parts = _sevenzip.LineParts(tmp_path, 1024, lambda path: None)
    with pytest.raises(JobInputError, match=r"meta\.jsonl\.7z: a \.7z input needs py7zr on the driver"):
        _sevenzip.unpack(tmp_path / "meta.jsonl.7z", parts, "meta.jsonl.7z")


def test_a_damaged_7z_is_an_input_error_naming_it(tmp_path):
    archive = _archive(tmp_path / "meta.jsonl.7z", {"meta.jsonl": b'{"parent_asin": "B01"}\n' * 1000})
    archive.write_bytes(archive.read_bytes()[:-40])
    parts = _sevenzip.LineParts(tmp_path, 1024, lambda path: None)
    with pytest.raises(JobInputError, match=r"^s3://raw/meta\.jsonl\.7z: truncated or corrupt 7z archive \("):
        _sevenzip.unpack(archive, parts, "s3://raw/meta.jsonl.7z")


@pytest.mark.spark
def test_staged_parts_hold_every_line_and_lead_back_to_their_archive(spark, tmp_path, monkeypatch):
    lines = [f'{{"n": {n}, "pad": "{"x" * 40}"}}'.encode() for n in range(200)]
    members = [b"\n".join(lines[start : start + 40]) for start in range(0, 200, 40)]  # the last lines lack a newline
    first = _archive(tmp_path / "a.jsonl.7z", {f"{n}.jsonl": member for n, member in enumerate(members[:3])})
    second = _archive(tmp_path / "b.jsonl.7z", {f"{n}.jsonl": member for n, member in enumerate(members[3:])})
    # py7zr hands over a small member in one write: with parts this small, each archive is cut into several.
    monkeypatch.setattr(_sevenzip, "STAGED_PART_BYTES", 1024)
    staging = str(tmp_path / "out" / "_staging" / "job-run" / "scratch" / "7z")

    staged = _sevenzip.stage_7z(spark, [str(first), str(second)], staging)

    text = b"".join(Path(part.removeprefix("file:")).read_bytes() for part in staged.parts)
    assert text.splitlines() == lines
    origins = [staged.origin(part) for part in staged.parts]
    assert Counter(archive for archive, _ in origins).keys() == {str(first), str(second)}
    assert min(Counter(archive for archive, _ in origins).values()) > 1
    # Within an archive the parts are numbered in the order their lines came out of it.
    assert origins == sorted(origins, key=lambda origin: (origin[0] == str(second), origin[1]))
    assert staged.origin("file:/data/meta.jsonl") == ("file:/data/meta.jsonl", 0)
