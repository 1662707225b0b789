"""local/samples/kindle.py: seeded, awkward Kindle Store metadata whose returned counts describe the file exactly."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path

import pytest

from local.samples import kindle as samples

SIZE = 600


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, dict, list[str]]:
    dest = tmp_path_factory.mktemp("raw") / "kindle"
    counts = samples.write_sample(dest, size=SIZE, seed=7)
    lines = gzip.decompress((dest / samples.FILE_NAME).read_bytes()).decode("utf-8").split("\n")
    assert lines[-1] == ""  # the file ends with a newline
    return dest, counts, lines[:-1]


def _kind(line: str, seen: set[str]) -> str:
    """What the job must make of a line, decided here independently of the generator's own bookkeeping."""
    if not line.strip():
        return "blank"
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return "malformed"
    if not isinstance(record, dict) or not isinstance(record.get("rating_number", 0), int | None):
        return "malformed"
    asin = record.get("parent_asin")
    if not isinstance(asin, str) or not asin.strip():
        return "missing_parent_asin"
    if asin in seen:
        return "duplicates"
    seen.add(asin)
    return "items"


def test_same_seed_same_bytes_other_seed_other_bytes(sample, tmp_path):
    dest, counts, _ = sample
    assert samples.write_sample(tmp_path / "again", size=SIZE, seed=7) == counts
    assert (tmp_path / "again" / samples.FILE_NAME).read_bytes() == (dest / samples.FILE_NAME).read_bytes()
    samples.write_sample(tmp_path / "other", size=SIZE, seed=8)
    assert (tmp_path / "other" / samples.FILE_NAME).read_bytes() != (dest / samples.FILE_NAME).read_bytes()


def test_counts_describe_the_file(sample):
    _, counts, lines = sample
    seen: set[str] = set()
    found = Counter(_kind(line, seen) for line in lines)
    assert counts == {"lines": len(lines), **{k: found[k] for k in counts if k != "lines"}}
    assert counts["items"] == SIZE
    assert min(counts["duplicates"], counts["malformed"], counts["missing_parent_asin"], counts["blank"]) >= 1


def test_records_are_awkward_in_the_ways_the_real_file_is(sample):
    _, _, lines = sample
    records = [json.loads(line) for line in lines if _kind(line, set()) == "items"]
    details = [r.get("details") or {} for r in records]
    prices = Counter(type(r.get("price")).__name__ for r in records)
    assert min(prices["float"], prices["int"], prices["NoneType"], prices["str"]) > 0
    assert {r["price"] for r in records if isinstance(r.get("price"), str)} == {"—"}
    assert any("author" not in r for r in records)
    assert any(r.get("author") is None for r in records)
    assert any(r.get("images") == [] for r in records)
    assert any("images" not in r for r in records)
    assert any(r.get("videos") == [] for r in records)
    assert any(r.get("videos") for r in records)
    assert any(not r.get("title", "").isascii() for r in records)
    assert any(r["parent_asin"].isdigit() and r["parent_asin"].startswith("0") for r in records if r["parent_asin"])
    assert any("Language" in d and "language" in d and d["Language"] != d["language"] for d in details)
    assert any("language" in d and "Language" not in d for d in details)
    assert all(isinstance(d["Best Sellers Rank"], dict) for d in details if "Best Sellers Rank" in d)
    # Free-form keys: the set of keys across items is far larger than any one item's.
    keys = {k for d in details for k in d} | {k for d in details for k in d.get("Best Sellers Rank", {})}
    assert len(keys) > 100
    assert all(r.get("bought_together", "absent") is None for r in records)


def test_write_jsonl_writes_plain_lines_with_the_same_counts(sample, tmp_path):
    _, counts, lines = sample
    path = tmp_path / "bench" / "kindle.jsonl"
    assert samples.write_jsonl(path, SIZE, seed=7) == counts
    assert path.read_text(encoding="utf-8").split("\n")[:-1] == lines


def test_size_below_one_is_refused(tmp_path):
    with pytest.raises(ValueError, match="size must be at least 1"):
        samples.write_sample(tmp_path, size=0)
