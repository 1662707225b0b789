"""local/samples/rentals.py: deterministic, counted truthfully, and as awkward as the public sample."""

from __future__ import annotations

import csv
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from local.samples import rentals as sample

HEADERS = {
    "vehicles.csv": "active,vehicle_license_number,registration_name,license_type,expiration_date,"
    "permit_license_number,certification_date,vehicle_year,base_telephone_number,base_address,vehicle_id,"
    "last_update_timestamp,brand,vehicle_type",
    "users.csv": "user_id,first_name,last_name,email,phone_number,driver_license_number,driver_license_expiry,"
    "creation_date,is_active",
    "rental_transactions.csv": "rental_id,user_id,vehicle_id,rental_start_time,rental_end_time,pickup_location,"
    "dropoff_location,total_amount",
    "locations.csv": "location_id,location_name,address,city,state,zip_code,latitude,longitude",
}


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))[1:]


def _time(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    dest = tmp_path_factory.mktemp("rentals_sample") / "raw" / "rentals"
    return dest, sample.write_sample(dest, size=1_000, seed=7)


def test_same_seed_same_bytes_other_seed_other_data(written, tmp_path):
    dest, _ = written
    sample.write_sample(tmp_path / "again", size=1_000, seed=7)
    sample.write_sample(tmp_path / "other", size=1_000, seed=8)
    for name in HEADERS:
        assert (tmp_path / "again" / name).read_bytes() == (dest / name).read_bytes(), name
        assert (tmp_path / "other" / name).read_bytes() != (dest / name).read_bytes(), name


def test_headers_and_row_counts_are_as_returned(written):
    dest, counts = written
    for name, header in HEADERS.items():
        assert (dest / name).read_text(encoding="utf-8").split("\n", 1)[0] == header, name
    assert len(_read(dest / "vehicles.csv")) == counts["vehicles"]
    assert len(_read(dest / "users.csv")) == counts["users"]
    assert len(_read(dest / "rental_transactions.csv")) == counts["rentals"] == 1_000
    assert len(_read(dest / "locations.csv")) == counts["locations"]
    assert counts["rentals_malformed"] == 16  # 8 kinds, twice at this size
    assert counts["users_malformed"] == 6  # 3 kinds, twice


def test_rentals_are_realistic_apart_from_the_malformed_ones(written):
    dest, counts = written
    rows = _read(dest / "rental_transactions.csv")
    good = [r for r in rows if len(r) == 8 and r[0] and _time(r[3]) and _time(r[4])]
    hours = [(_time(r[4]) - _time(r[3])).total_seconds() / 3600 for r in good if not r[7].startswith("-")]
    forward = [h for h in hours if h > 0]
    assert len(hours) - len(forward) == 2  # the end-before-start rows
    assert min(forward) == 1.0
    assert max(forward) <= 72.5
    assert any(h % 1 == 0.5 for h in forward)
    starts = sorted(r[3] for r in good)
    assert starts[0] >= "2024-01-01"
    assert starts[-1] < "2024-06-01"
    assert len(rows) - len(good) == 10  # three bad timestamps, no id and a cut row, twice
    assert Counter(r[0] for r in rows if r[0]).most_common(1)[0][1] == 2  # a row exported twice
    assert sum(1 for r in rows if not r[0]) == 2
    assert counts["rentals_unknown_vehicle"] == counts["rentals_unknown_location"] == 2


def test_ids_look_like_numbers_and_rentals_point_at_missing_things(written):
    dest, counts = written
    rentals = _read(dest / "rental_transactions.csv")
    vehicle_ids = {r[10] for r in _read(dest / "vehicles.csv")}
    location_ids = {r[0] for r in _read(dest / "locations.csv")}
    for ids in ([r[0] for r in rentals], [r[0] for r in _read(dest / "users.csv")], sorted(vehicle_ids)):
        assert any(re.fullmatch(r"\d+e\d+", i) for i in ids)
        assert any(re.fullmatch(r"0\d{9}", i) for i in ids)
    good = [r for r in rentals if len(r) == 8]
    assert {r[2] for r in good if r[2] not in vehicle_ids}
    assert {r[5] for r in good if r[5] not in location_ids} == {"0000"}
    assert any(re.fullmatch(r"0\d{3}", i) for i in location_ids)
    assert counts["locations"] == len(location_ids)


def test_text_is_awkward_quoted_commas_quotes_non_ascii_and_mixed_phones(written):
    dest, counts = written
    locations_text = (dest / "locations.csv").read_text(encoding="utf-8")
    assert re.search(r'"\w+, \w+ and \w+"', locations_text)
    assert '""' in locations_text
    users = _read(dest / "users.csv")
    assert any(not name.isascii() for r in users for name in r[1:3])
    shapes = {re.sub(r"\d+", "9", r[4]) for r in users}
    assert shapes == {"9.9.9x9", "9-9-9x9", "+9-9-9-9", "9-9-9-9", "(9)9-9x9", "9", "+9 (9) 9-9 ext. 9", ""}
    emails = Counter(r[3].strip().lower() for r in users if r[3].strip() and r[0])
    assert any(r[3] != r[3].strip().lower() for r in users)
    assert sum(n for n in emails.values() if n > 1) >= counts["users_sharing_email"] > 0


def test_write_vehicles_is_one_clean_row_per_id_whatever_the_order(tmp_path):
    ids = ["5541956e71", "0012345678", "ab12cd34ef", "0012345678"]
    assert sample.write_vehicles(tmp_path / "a.csv", ids, seed=3) == 3
    assert sample.write_vehicles(tmp_path / "b.csv", sorted(ids, reverse=True), seed=3) == 3
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    rows = _read(tmp_path / "a.csv")
    assert [r[10] for r in rows] == ["0012345678", "5541956e71", "ab12cd34ef"]
    for row in rows:
        assert row[0] in {"0", "1"}
        assert re.fullmatch(r"\d{2}-\d{2}-\d{4}", row[4])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row[6])
        assert re.fullmatch(r"\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2}", row[11])
        assert row[13] in {"high_end", "premium", "basic"}


def test_too_small_a_sample_is_refused(tmp_path):
    with pytest.raises(ValueError, match="at least 20"):
        sample.write_sample(tmp_path, size=19)
    assert 20 <= sample.DEFAULT_SIZE <= 5_000
