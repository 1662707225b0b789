"""Seeded car-rental marketplace CSVs in the shape of the public sample: vehicles, users, rentals and locations.

Awkward on purpose: ids that look like numbers or scientific notation, quoted commas and quotes, non-ASCII names,
mixed phone formats, shared emails, malformed rows, and rentals of vehicles or at locations nobody declared.
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

from pipelines.rentals import LOCATIONS_HEADER, RENTALS_HEADER, USERS_HEADER, VEHICLES_HEADER

DEFAULT_SIZE = 2_000


# One malformed row of each kind per this many rows (and at least one), like the noise of a real export.
_MALFORMED_EVERY = 500
_BAD_RENTAL_KINDS = 8
# Hourly rates per vehicle type; the public sample's amounts are whole hours times a rate.
_RATES = {"basic": 10, "premium": 30, "high_end": 50}
_BRANDS = {
    "basic": ["Toyota", "Honda", "Škoda", "Citroën", "Kia", "Hyundai"],
    "premium": ["BMW", "Audi", "Volvo", "Lexus"],
    "high_end": ["Porsche", "Mercedes-Benz", "Tesla", "Maserati"],
}
_FIRST = ["Lisa", "Michael", "Courtney", "Andrew", "José", "Zoë", "Søren", "Amélie", "Łukasz", "Nguyễn", "Aaron"]
_LAST = ["Parker", "Martin", "Mcclain", "Hoover", "García", "Müller", "O'Connor", "Kowalski", "Smith", "Dubois"]
_DOMAINS = ["gmail.com", "yahoo.com", "hotmail.com", "example.org"]
_COMPANY_WORDS = ["Jackson", "Velazquez", "Gonzales", "Bean", "Gilbert", "Simmons", "Coleman", "Robinson", "Ortiz"]
_CITIES = ["Modesto", "Fontana", "Roseville", "San José", "Los Ángeles", "Fresno", "Oakland"]
_STREETS = ["Heath Radial", "Patrick Isle", "Lewis Locks", "Robin Causeway", "Calle Señora", "Main St"]
_START = datetime(2024, 1, 1)
_MINUTES_IN_RANGE = (datetime(2024, 6, 1) - _START).days * 24 * 60


def _hex_id(rng: random.Random) -> str:
    return "".join(rng.choices("0123456789abcdef", k=10))


def _fresh_id(rng: random.Random, taken: set[str]) -> str:
    return _unique_ids(rng, 1, taken)[0]


def _awkward_id(rng: random.Random, i: int) -> str:
    """A 10-character hex id; every 13th reads as a float in scientific notation, every 11th as a zero-led number."""
    if i % 13 == 0:
        mantissa = rng.randint(1, 8)
        return "".join(rng.choices("0123456789", k=mantissa)) + "e" + "".join(rng.choices("0123456789", k=9 - mantissa))
    if i % 11 == 0:
        return "0" + "".join(rng.choices("0123456789", k=9))
    return _hex_id(rng)


def _unique_ids(rng: random.Random, n: int, taken: set[str]) -> list[str]:
    """`n` ids never handed out before (`taken` remembers them across tables and malformed rows)."""
    ids: list[str] = []
    while len(ids) < n:
        candidate = _awkward_id(rng, len(ids))
        if candidate not in taken:
            taken.add(candidate)
            ids.append(candidate)
    return ids


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            written += 1
    return written


def _phone(rng: random.Random) -> str:
    a, b, c = rng.randint(200, 999), rng.randint(0, 999), rng.randint(0, 9999)
    extension = str(rng.randint(1, 99999))
    formats = [
        f"{a}.{b:03}.{c:04}x{extension}",
        f"{a}-{b:03}-{c:04}x{extension}",
        f"+1-{a}-{b:03}-{c:04}",
        f"001-{a}-{b:03}-{c:04}",
        f"({a}){b:03}-{c:04}x{extension}",
        f"{a}{b:03}{c:04}",
        f"+1 ({a}) {b:03}-{c:04} ext. {extension}",
        "",
    ]
    return rng.choice(formats)


def _day(rng: random.Random, first: date, days: int) -> date:
    return first + timedelta(days=rng.randrange(days))


def _vehicle_row(rng: random.Random, vehicle_id: str) -> list[str]:
    vehicle_type = rng.choice(["basic", "basic", "premium", "high_end"])
    owner = f"{rng.choice(_LAST).upper()}, {rng.choice(_FIRST).upper()}"
    company = f"{rng.choice(_COMPANY_WORDS)}-{rng.choice(_COMPANY_WORDS)} Livery LLC"
    updated = _START + timedelta(minutes=rng.randrange(_MINUTES_IN_RANGE))
    return [
        rng.choice(["1", "1", "1", "0"]),
        f"{rng.randint(0, 9_999_999):07}",
        rng.choice([owner, company]),
        "FOR HIRE VEHICLE",
        _day(rng, date(2024, 6, 1), 900).strftime("%d-%m-%Y"),
        rng.choice(["", f"AB{rng.randint(0, 999):03}", f"{rng.randint(0, 99999):05}"]),
        _day(rng, date(2015, 1, 1), 3000).strftime("%Y-%m-%d"),
        str(rng.randint(2010, 2024)),
        f"({rng.randint(200, 999)}) {rng.randint(200, 999)}-{rng.randint(0, 9999):04}",
        f"{rng.randint(1, 9999)} {rng.choice(_STREETS)}, {rng.choice(_CITIES)}, CA {rng.randint(0, 99999):05}",
        vehicle_id,
        updated.strftime("%d-%m-%Y %H:%M:%S"),
        rng.choice(_BRANDS[vehicle_type]),
        vehicle_type,
    ]


def write_vehicles(path: Path, vehicle_ids: Iterable[str], seed: int = 7) -> int:
    """Write a clean vehicles.csv with one row per id (sorted, so a set of ids gives the same file); returns rows."""
    rng = random.Random(seed)
    return _write_csv(path, VEHICLES_HEADER, (_vehicle_row(rng, v) for v in sorted(set(vehicle_ids))))


def _user_row(rng: random.Random, user_id: str) -> list[str]:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    local_part = f"{first}.{last}".lower().replace("'", "").encode("ascii", "ignore").decode()
    return [
        user_id,
        first,
        last,
        f"{local_part}{rng.randint(1, 99_999)}@{rng.choice(_DOMAINS)}",
        _phone(rng),
        "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ", k=2)) + f"{rng.randint(0, 999_999):06}",
        _day(rng, date(2025, 1, 1), 3650).isoformat(),
        _day(rng, date(2023, 6, 1), 365).isoformat(),
        rng.choice(["1", "1", "1", "0"]),
    ]


def _users(rng: random.Random, ids: list[str]) -> list[list[str]]:
    """Users; some share an email with an earlier user (written upper-cased and padded), some have none."""
    rows = [_user_row(rng, user_id) for user_id in ids]
    for i in range(len(rows)):
        if i % 14 == 7:
            rows[i][3] = f" {rows[i - 7][3].upper()} "
        elif i % 23 == 5 and i % 7 != 0:
            rows[i][3] = ""
    return rows


def _sharing_email(users: list[list[str]]) -> int:
    """How many users have an email (trimmed, lower-cased) that another user has too."""
    emails = Counter(row[3].strip().lower() for row in users if row[3].strip())
    return sum(n for n in emails.values() if n > 1)


def _bad_users(rng: random.Random, good: list[list[str]], kinds: int, taken: set[str]) -> list[list[str]]:
    """`kinds` rows of each kind: a user exported twice, a user without id, an impossible creation date."""
    bad = []
    for _ in range(kinds):
        bad.append(list(rng.choice(good)))
        bad.append(["", *_user_row(rng, "")[1:]])
        undated = _user_row(rng, _fresh_id(rng, taken))
        undated[7] = "2024-02-30"
        bad.append(undated)
    return bad


def _location_rows(rng: random.Random, n: int) -> list[list[str]]:
    # Codes start at 1: "0000" is the pickup location that rentals use but locations.csv lacks.
    codes = rng.sample(range(1, 10_000), n)
    rows = []
    for i, code in enumerate(codes):
        words = rng.sample(_COMPANY_WORDS, 3)
        name = [
            f"{words[0]}, {words[1]} and {words[2]}",
            f"{words[0]} LLC",
            f"{words[0]}-{words[1]}",
            f'The "{words[0]}" Garage',
            f"Autos {words[0]} Peña",
        ][i % 5]
        latitude, longitude = f"{rng.uniform(-90, 90):.6f}", f"{rng.uniform(-180, 180):.6f}"
        if i % 17 == 3:
            latitude, longitude = "", ""
        rows.append(
            [
                f"{code:04}",
                name,
                f"{rng.randint(1, 99999)} {rng.choice(_STREETS)} Apt. {rng.randint(1, 999)}",
                rng.choice(_CITIES),
                "CA",
                f"{rng.randint(0, 99999):05}",
                latitude,
                longitude,
            ]
        )
    return rows


def _rental_row(
    rng: random.Random, rental_id: str, user_id: str, vehicle: list[str], locations: list[str]
) -> list[str]:
    start = _START + timedelta(minutes=rng.randrange(_MINUTES_IN_RANGE))
    hours = rng.randint(1, 72)
    # Some rentals end on the half hour, so durations are not always whole hours.
    end = start + timedelta(hours=hours, minutes=rng.choice([0, 0, 0, 30]))
    amount = f"{hours * _RATES.get(vehicle[13], 20)}.0" if rng.random() < 0.9 else f"{rng.uniform(10, 3600):.2f}"
    return [
        rental_id,
        user_id,
        vehicle[10],
        start.strftime("%Y-%m-%d %H:%M:%S"),
        end.strftime("%Y-%m-%d %H:%M:%S"),
        rng.choice(locations),
        rng.choice(locations),
        amount,
    ]


def _bad_rentals(rng: random.Random, good: list[list[str]], kinds: int, taken: set[str]) -> list[list[str]]:
    """`kinds` rows of each kind: bad timestamps (3), end before start, negative amount, no id, a copy, a cut row."""
    bad = []
    for _ in range(kinds):
        for broken in ("2024-02-30 10:00:00", "2024/03/01 10:00", "not recorded"):
            row = list(rng.choice(good))
            row[0], row[3] = _fresh_id(rng, taken), broken
            bad.append(row)
        backwards = list(rng.choice(good))
        backwards[0], backwards[3], backwards[4] = _fresh_id(rng, taken), backwards[4], backwards[3]
        negative = list(rng.choice(good))
        negative[0], negative[7] = _fresh_id(rng, taken), "-45.0"
        anonymous = list(rng.choice(good))
        anonymous[0] = ""
        bad.extend([backwards, negative, anonymous, list(rng.choice(good)), rng.choice(good)[:5]])
    return bad


def write_sample(dest: Path, *, size: int, seed: int = 7) -> dict[str, int]:
    """Write vehicles.csv, users.csv, rental_transactions.csv and locations.csv (about `size` rentals) under `dest`."""
    if size < 20:
        raise ValueError(f"size {size} is too small: the sample needs at least 20 rentals for its awkward rows")
    rng = random.Random(seed)
    kinds = max(1, size // _MALFORMED_EVERY)
    taken: set[str] = set()
    vehicle_ids = _unique_ids(rng, max(6, size // 4), taken)
    vehicles = [_vehicle_row(rng, v) for v in vehicle_ids]
    ghosts = _unique_ids(rng, kinds, taken)  # rented but absent from vehicles.csv
    users = _users(rng, _unique_ids(rng, max(10, size // 2), taken))
    locations = _location_rows(rng, min(300, max(8, size // 25)))
    location_ids = [row[0] for row in locations]

    rental_ids = _unique_ids(rng, size - _BAD_RENTAL_KINDS * kinds, taken)
    good = [
        _rental_row(rng, rental_id, rng.choice(users)[0], rng.choice(vehicles), location_ids)
        for rental_id in rental_ids
    ]
    for i in range(kinds):
        good[3 * i][2] = ghosts[i]
        good[3 * i + 1][5] = "0000"
    bad_rentals = _bad_rentals(rng, good, kinds, taken)
    rentals = good + bad_rentals
    rng.shuffle(rentals)

    # Vehicles: a stale export of one vehicle (older update, so the newer row wins) and one with a broken date.
    stale = list(vehicles[0])
    stale[11], stale[12] = "01-01-2023 00:00:00", "Trabant"
    broken = _vehicle_row(rng, _fresh_id(rng, taken))
    broken[4] = "31-04-2025"
    bad_users = _bad_users(rng, users, kinds, taken)
    return {
        "vehicles": _write_csv(dest / "vehicles.csv", VEHICLES_HEADER, [*vehicles, stale, broken]),
        "vehicles_malformed": 2,
        "users": _write_csv(dest / "users.csv", USERS_HEADER, users + bad_users),
        "users_malformed": len(bad_users),
        "users_sharing_email": _sharing_email(users),
        "rentals": _write_csv(dest / "rental_transactions.csv", RENTALS_HEADER, rentals),
        "rentals_malformed": len(bad_rentals),
        "rentals_unknown_vehicle": kinds,
        "rentals_unknown_location": kinds,
        "locations": _write_csv(dest / "locations.csv", LOCATIONS_HEADER, locations),
    }
