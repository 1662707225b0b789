"""local/samples/sparkify.py: layout, determinism, and counts checked against the files in plain Python."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from local.samples import sparkify as sample

LOG_NAME = re.compile(r"2018-11-\d\d-events\.json")


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _parse(line: str) -> dict | None:
    """The object a line holds, or None when it is not an object whose ts is a whole number."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) and isinstance(record.get("ts"), int) else None


def _read(root: Path) -> tuple[list[dict | None], list[str], list[dict | None]]:
    """Song records (None when malformed), every log line, and the log records (None when malformed)."""
    songs = []
    for path in sorted((root / "song_data").rglob("TR*.json")):
        try:
            songs.append(json.loads(path.read_text("utf-8")))
        except json.JSONDecodeError:
            songs.append(None)
    lines = [line for p in sorted((root / "log_data").iterdir()) for line in p.read_text("utf-8").splitlines()]
    return songs, lines, [_parse(line) for line in lines]


@pytest.fixture(scope="module", params=[7, 8])
def written(request, tmp_path_factory) -> tuple[Path, dict[str, int]]:
    root = tmp_path_factory.mktemp(f"sparkify-{request.param}")
    return root, sample.write_sample(root, size=600, seed=request.param)


def test_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path):
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        sample.write_sample(tmp_path / name, size=200, seed=seed)

    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert _files(tmp_path / "a") != _files(tmp_path / "c")


def test_layout_matches_the_pipeline_step_args(written):
    root, counts = written
    song_files = sorted((root / "song_data").rglob("TR*.json"))
    log_files = sorted((root / "log_data").iterdir())

    assert {p.name for p in root.iterdir()} == {"song_data", "log_data"}
    for path in song_files:
        # song_data/A/B/C/TRABC....json, one object on one line per file.
        assert path.relative_to(root / "song_data").parts[:3] == tuple(path.name[2:5])
        assert "\n" not in path.read_text("utf-8")
    assert {p.parent.name for p in song_files} <= {"A", "B", "C"}
    assert len(song_files) == counts["song_files"]
    assert sorted(root.rglob(".DS_Store")) == [root / "song_data" / ".DS_Store", root / "song_data" / "A" / ".DS_Store"]
    assert all(LOG_NAME.fullmatch(p.name) for p in log_files)
    assert len(log_files) == counts["log_files"]


def test_song_counts_match_the_files(written):
    root, counts = written
    songs, _, _ = _read(root)
    parsed = [s for s in songs if s is not None]
    ids = Counter(s["song_id"] for s in parsed)

    assert len(songs) == counts["song_records"] == counts["song_files"]
    assert len(songs) - len(parsed) == counts["malformed_song_files"] == 1
    assert sum(n - 1 for n in ids.values()) == counts["duplicate_song_ids"] == 1
    assert len(ids) == counts["songs"]
    assert len({s["artist_id"] for s in parsed}) == counts["artists"]
    assert counts["songs_year_0"] > 0


def test_songs_are_awkward(written):
    songs = [s for s in _read(written[0])[0] if s is not None]
    tracks = Counter((s["title"], s["artist_name"], s["duration"]) for s in songs)

    assert any(s["artist_latitude"] is None for s in songs)
    assert any(s["artist_location"] == "" for s in songs)
    assert any(not s["artist_name"].isascii() for s in songs)
    # Twin tracks: one title, artist and duration under two song_ids.
    assert any(n == 2 for n in tracks.values())
    assert {s["num_songs"] for s in songs} == {1}


def test_event_counts_match_the_files(written):
    root, counts = written
    songs, lines, records = _read(root)
    next_songs = [r for r in records if r is not None and r["page"] == "NextSong"]
    with_user = [r for r in next_songs if r["userId"]]
    plays = {(r["userId"], r["sessionId"], r["itemInSession"], r["ts"]): r for r in with_user}.values()
    known = {(s["title"], s["artist_name"], round(s["duration"], 5)) for s in songs if s is not None}

    assert len(lines) == counts["events"]
    assert records.count(None) == counts["malformed_events"]
    assert sum(r is not None and r["page"] != "NextSong" for r in records) == counts["filtered_events"]
    assert len(plays) == counts["plays"]
    anonymous, repeats = len(next_songs) - len(with_user), len(with_user) - len(plays)
    assert (anonymous, repeats) == (1, 1)
    assert anonymous + repeats + counts["malformed_events"] == counts["quarantined_events"]
    assert len({r["userId"] for r in plays}) == counts["users"]
    assert len({(r["userId"], r["level"]) for r in plays}) == counts["user_levels"]
    assert len({r["ts"] for r in plays}) == counts["play_times"] < counts["plays"]
    assert sum((r["song"], r["artist"], round(r["length"], 5)) in known for r in plays) == counts["matched_plays"]


def test_events_are_awkward(written):
    root, counts = written
    songs, lines, records = _read(root)
    events = [r for r in records if r is not None]
    durations = {(s["title"], s["artist_name"]): s["duration"] for s in songs if s is not None}
    plays = [r for r in events if r["page"] == "NextSong"]
    levels: dict[str, set[str]] = {}
    for r in events:
        if r["page"] == "NextSong" and r["userId"]:
            levels.setdefault(r["userId"], set()).add(r["level"])

    assert {"NextSong", "Home", "Login"} <= {r["page"] for r in events}
    assert any(r["userId"] == "" and r["auth"] == "Logged Out" for r in events)
    assert all(r["userId"].isdigit() for r in events if r["userId"])
    assert any(r["userAgent"] and r["userAgent"].startswith('"') for r in events)
    assert any(len(found) == 2 for found in levels.values())
    assert counts["matched_plays"] > 0
    # A known title and artist with float noise in the duration, and one with another duration.
    lengths = [(r["length"], durations[r["song"], r["artist"]]) for r in plays if (r["song"], r["artist"]) in durations]
    assert any(length != duration and round(length, 5) == duration for length, duration in lengths)
    assert any(abs(length - duration) >= 1 for length, duration in lengths)
    assert {r["ts"] % 1000 for r in events} == {796}
    # Malformed lines of each kind: cut short, not JSON at all, and a ts sent as text.
    assert any(line.startswith("<html>") for line in lines)
    assert any(line.startswith("{") and _parse(line) is None and '"ts": "' in line for line in lines)
    assert any(line.startswith("{") and not line.endswith("}") for line in lines)
    # Escaped slashes as in the real logs, and non-ASCII text both escaped and raw.
    assert any("\\/" in line for line in lines)
    assert any("\\u00" in line for line in lines)
    assert any(not line.isascii() for line in lines)


@pytest.mark.parametrize("size", [150, 1_000])
def test_size_is_about_the_number_of_events(tmp_path, size):
    counts = sample.write_sample(tmp_path, size=size)

    assert size <= counts["events"] <= size + 30


def test_a_tiny_size_still_writes_every_trap(tmp_path):
    counts = sample.write_sample(tmp_path, size=1)

    assert 100 <= counts["events"] <= 130
    assert counts["malformed_events"] == 3
    assert counts["play_times"] < counts["plays"]


def test_default_size_is_small():
    assert 500 <= sample.DEFAULT_SIZE <= 5_000
