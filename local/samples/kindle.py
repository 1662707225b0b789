"""Seeded Kindle Store item metadata in the shape of Amazon Reviews 2023 `meta_Kindle_Store.jsonl`.

Awkward on purpose: missing authors, empty arrays, non-numeric prices, case-distinct `details` keys, nested
"Best Sellers Rank" objects, numeric-looking ASINs, non-ASCII text, malformed lines and duplicate parent_asins.
"""

from __future__ import annotations

import gzip
import io
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

DEFAULT_SIZE = 5_000
FILE_NAME = "meta_Kindle_Store.jsonl.gz"

# One bad line per this many items (and at least one of each kind), like the scraping noise of the real file.
_MALFORMED_EVERY = 400
_BAD_KINDS = 5
_DUPLICATE_EVERY = 250

_FIRST = ["Anna", "José", "Zoë", "Li", "Søren", "Amélie", "Mohammed", "Ingrid", "Kenji", "Olga", "Björn", "Priya"]
_LAST = ["Müller", "García", "Nakamura", "O'Connor", "Kowalski", "Dubois", "Nguyen", "Smith", "Łukasik", "Öztürk"]
_WORDS = [
    "Shadow", "Garden", "Winter", "Café", "Secret", "Ocean", "Crown", "Fire", "Silence", "Heart", "Murder",
    "Night", "Empire", "Island", "Rêve", "Stars", "River", "Queen", "Dragon", "Cœur", "Ghost", "Summer",
]  # fmt: skip
_TITLES_NON_ASCII = ["東京物語", "Der Prozeß", "Crime et châtiment", "Cien años de soledad", "Мастер и Маргарита"]
_GENRES = ["Literature & Fiction", "Mystery, Thriller & Suspense", "Romance", "Science Fiction & Fantasy",
           "Biographies & Memoirs", "Children's eBooks", "Teen & Young Adult", "Cookbooks, Food & Wine"]  # fmt: skip
_PUBLISHERS = ["Penguin", "HarperCollins", "Éditions Gallimard", "Kindle Direct Publishing", "Tor Books", "講談社"]
_LANGUAGES = ["English", "English", "English", "Spanish", "German", "French", "Japanese"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]  # fmt: skip
_CATEGORIES = ["Buy a Kindle", "Kindle Store", "Digital Music", "Books"]
_ENABLED = ["Enabled", "Not Enabled"]
_EDITIONS = ["1st", "2nd", "Reprint"]
_RANK_STORES = [" (Kindle Store)", " (Books)", ""]
# Best Sellers Rank names a category per key, from Amazon's thousands: across a file they run into the hundreds.
_SUBJECTS = [
    f"{theme} {form}"
    for theme in ("Historical", "Contemporary", "Paranormal", "Military", "Christian", "Cozy", "Epic", "Urban",
                  "Psychological", "Gothic", "Regency", "Dystopian", "Medical", "Legal", "Small Town", "Sports",
                  "Western", "Victorian", "Scandinavian", "Teen", "Amish", "Holiday", "Space", "Time Travel")
    for form in ("Romance", "Fiction", "Mysteries", "Thrillers", "Fantasy", "Science Fiction", "Suspense", "Humor",
                 "Short Stories", "Sagas", "Anthologies", "Literature")
]  # fmt: skip


def _asin(rng: random.Random, i: int) -> str:
    # Books keep their ISBN-10 as ASIN: all digits, often with a leading zero, so never infer a numeric type.
    if i % 7 == 0:
        return f"0{rng.randrange(10**8, 10**9)}"
    return "B0" + "".join(rng.choices("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", k=8))


def _title(rng: random.Random) -> str:
    if rng.random() < 0.08:
        return rng.choice(_TITLES_NON_ASCII)
    return "The " + " ".join(rng.sample(_WORDS, rng.randint(1, 3))) + rng.choice(["", ": A Novel", " 🐉", " (Book 2)"])


def _author(rng: random.Random) -> dict | None:
    name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    about = [f"{name} lives in {rng.choice(['Kyoto', 'Zürich', 'São Paulo', 'Dublin'])} and writes every day."]
    return {
        "avatar": None if rng.random() < 0.3 else f"https://m.media-amazon.com/images/I/{rng.getrandbits(40):x}.jpg",
        "name": name,
        "about": about if rng.random() < 0.7 else [],
    }


def _price(rng: random.Random) -> float | str | None:
    roll = rng.random()
    if roll < 0.12:
        return None
    if roll < 0.16:
        return "—"
    if roll < 0.18:
        return 0
    return round(rng.uniform(0.99, 24.99), 2)


def _images(rng: random.Random) -> list[dict]:
    count = rng.choice([0, 0, 1, 1, 1, 2, 3, 5])
    images = []
    for position in range(count):
        key = f"{rng.getrandbits(44):x}"
        images.append(
            {
                "thumb": f"https://m.media-amazon.com/images/I/{key}._SX38_SY50_.jpg",
                "large": f"https://m.media-amazon.com/images/I/{key}.jpg",
                "variant": "MAIN" if position == 0 else f"PT{position:02d}",
                "hi_res": None if rng.random() < 0.4 else f"https://m.media-amazon.com/images/I/{key}._SL1500_.jpg",
            }
        )
    return images


def _videos(rng: random.Random) -> list[dict]:
    if rng.random() < 0.9:
        return []
    return [
        {
            "title": f"{rng.choice(_WORDS)} — trailer",
            "url": f"https://www.amazon.com/vdp/{rng.getrandbits(64):016x}",
            "user_id": "" if rng.random() < 0.5 else f"A{rng.getrandbits(48):X}",
        }
        for _ in range(rng.randint(1, 3))
    ]


def _best_sellers_rank(rng: random.Random) -> dict:
    ranks = {"Kindle Store": rng.randint(1, 5_000_000)}
    for subject in rng.sample(_SUBJECTS, rng.randint(1, 3)):
        ranks[f"{subject}{rng.choice(_RANK_STORES)}"] = rng.randint(1, 90_000)
    return ranks


def _details(rng: random.Random) -> dict:
    """The product-information box: free-form keys, so every item's set differs and keys number in the hundreds."""
    year, month, day = rng.randint(1995, 2023), rng.choice(_MONTHS), rng.randint(1, 28)
    size_kb = rng.randint(200, 60_000)
    details: dict = {
        "Publisher": f"{rng.choice(_PUBLISHERS)}; {rng.choice(_EDITIONS)} edition ({month} {day}, {year})",
        "Publication date": f"{month} {day}, {year}",
        "Language": rng.choice(_LANGUAGES),
        "File size": f"{size_kb} KB" if size_kb < 40_000 else f"{size_kb / 1024:.1f} MB",
        "Simultaneous device usage": rng.choice(["Unlimited", "Up to 5 simultaneous devices, per publisher limits"]),
        "Text-to-Speech": rng.choice(_ENABLED),
        "Enhanced typesetting": rng.choice(_ENABLED),
        "X-Ray": rng.choice(_ENABLED),
        "Word Wise": rng.choice(_ENABLED),
        "Print length": f"{rng.randint(12, 1200)} pages",
        "Lending": rng.choice(_ENABLED),
        "Page numbers source ISBN": f"{rng.randrange(10**9, 10**10)}",
        "Best Sellers Rank": _best_sellers_rank(rng),
    }
    if rng.random() < 0.3:
        total = rng.randint(2, 24)
        details[f"Book {rng.randint(1, total)} of {total}"] = f"{rng.choice(_WORDS)} Saga"
    roll = rng.random()
    if roll < 0.05:
        # The scrape sometimes kept both spellings of a key, with different values.
        details["language"] = details["Language"].lower()
    elif roll < 0.08:
        details["language"] = details.pop("Language")
    elif roll < 0.12:
        details["Publication date"] = "Sept. 31, 2020"
        del details["Best Sellers Rank"]
    elif roll < 0.15:
        details = {}
    return details


def _item(rng: random.Random, i: int, parent_asin: str, paragraphs: list[str]) -> dict:
    title = _title(rng)
    item = {
        "main_category": rng.choice(_CATEGORIES),
        "title": title,
        "subtitle": f"Kindle Edition \u2013 {rng.choice(_MONTHS)} {rng.randint(1, 28)}, {rng.randint(1995, 2023)}",
        "author": _author(rng),
        "average_rating": round(rng.uniform(1, 5), 1),
        "rating_number": rng.randint(0, 40_000),
        "features": [] if rng.random() < 0.8 else ["Kindle Unlimited", "Page Flip: Enabled"],
        "description": [f"{title} — {rng.choice(paragraphs)}" for _ in range(rng.randint(0, 3))],
        "price": _price(rng),
        "images": _images(rng),
        "videos": _videos(rng),
        "store": None if rng.random() < 0.05 else f"{rng.choice(_FIRST)} {rng.choice(_LAST)} (Author)",
        "categories": ["Kindle Store", "Kindle eBooks", rng.choice(_GENRES)][: rng.randint(0, 3)],
        "details": _details(rng),
        "parent_asin": parent_asin,
        "bought_together": None,
    }
    if rng.random() < 0.15:
        del item["subtitle"]
    roll = rng.random()
    if roll < 0.10:
        del item["author"]
    elif roll < 0.13:
        item["author"] = None
    if i % 11 == 0:
        del item["images"]
    return item


def _bad_line(rng: random.Random, item: dict, kind: int) -> tuple[str, str]:
    """A line the job must quarantine, and its kind: 'malformed' or 'missing_parent_asin'."""
    if kind == 0:
        good = json.dumps(item, ensure_ascii=False)
        return good[: rng.randint(10, len(good) - 2)], "malformed"  # cut short by a broken download
    if kind == 1:
        return json.dumps({**item, "rating_number": "1,204 ratings"}, ensure_ascii=False), "malformed"
    if kind == 2:
        return "<html><body>503 Service Unavailable</body></html>", "malformed"
    if kind == 3:
        return json.dumps({**item, "parent_asin": None}, ensure_ascii=False), "missing_parent_asin"
    return json.dumps({**item, "parent_asin": "  "}, ensure_ascii=False), "missing_parent_asin"


def _spread(count: int, size: int) -> dict[int, list[int]]:
    """`count` events spread evenly over item indexes 0..size-1: index -> the events (0..count-1) after it."""
    at: dict[int, list[int]] = {}
    for event in range(count):
        at.setdefault(event * size // count, []).append(event)
    return at


def iter_lines(size: int, seed: int = 7) -> Iterator[tuple[str, str]]:
    """(line, kind) for `size` distinct items, noise in between: duplicate, malformed, missing_parent_asin, blank."""
    if size < 1:
        raise ValueError(f"size must be at least 1, got {size}")
    rng = random.Random(seed)
    # Blurbs come from a seeded pool: drawing 40 words per paragraph per item made generation the bottleneck.
    paragraphs = [" ".join(rng.choices(_WORDS, k=40)) + "." for _ in range(512)]
    bad = _spread(max(_BAD_KINDS, size // _MALFORMED_EVERY), size)
    duplicates = _spread(max(2, size // _DUPLICATE_EVERY), size)
    seen: list[str] = []
    used: set[str] = set()
    for i in range(size):
        parent_asin = _asin(rng, i)
        while parent_asin in used:
            parent_asin = _asin(rng, i)
        used.add(parent_asin)
        seen.append(parent_asin)
        item = _item(rng, i, parent_asin, paragraphs)
        yield json.dumps(item, ensure_ascii=False), "item"
        for event in bad.get(i, []):
            yield _bad_line(rng, {**item, "parent_asin": f"{parent_asin}-bad{event}"}, event % _BAD_KINDS)
        for _ in duplicates.get(i, []):
            # A re-scrape of an earlier item: same parent_asin, other counts and texts.
            yield json.dumps(_item(rng, i, rng.choice(seen), paragraphs), ensure_ascii=False), "duplicate"
        if i == size // 3:
            yield "   ", "blank"  # a stray whitespace-only line, as left by hand edits of big files


def _write(lines: Iterator[tuple[str, str]], handle: TextIO) -> dict[str, int]:
    counts = {"lines": 0, "items": 0, "duplicates": 0, "malformed": 0, "missing_parent_asin": 0, "blank": 0}
    plural = {"item": "items", "duplicate": "duplicates"}
    for line, kind in lines:
        handle.write(line + "\n")
        counts["lines"] += 1
        counts[plural.get(kind, kind)] += 1
    return counts


def write_jsonl(path: Path, size: int, seed: int = 7) -> dict[str, int]:
    """Plain JSON Lines at `path` (the benchmark's input); returns counts of what each line is."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        return _write(iter_lines(size, seed), handle)


def write_sample(dest: Path, *, size: int, seed: int = 7) -> dict[str, int]:
    """`dest/meta_Kindle_Store.jsonl.gz` with `size` distinct items plus noise; returns how many lines of each kind.

    Keys: lines, items (== size, what the job must write), duplicates, malformed, missing_parent_asin (what it must
    quarantine) and blank (what it must skip).
    """
    dest.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same seed gives the same bytes, so a rerun of `make run` sees unchanged input.
    with (
        (dest / FILE_NAME).open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as zipped,
        io.TextIOWrapper(zipped, encoding="utf-8", newline="\n") as handle,
    ):
        return _write(iter_lines(size, seed), handle)
