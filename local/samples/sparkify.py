"""Seeded Sparkify sample: Million-Song-style song files and JSON-Lines app event logs for November 2018 (UTC).

Awkward on purpose: year 0, null coordinates, empty locations, non-ASCII names, a song_id in two files, twin
tracks, `.DS_Store` litter, logged-out rows, level changes, quoted user agents, malformed and repeated lines.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from pipelines.sparkify import LOG_DATA, RAW, SONG_DATA

DEFAULT_SIZE = 2_000

_MONTH_START_MS = int(datetime(2018, 11, 1, tzinfo=UTC).timestamp() * 1000)
_DAY_MS = 86_400_000
_DAYS = 30
# Every ts of the real logs ends in 796 ms: events are logged at whole seconds plus a constant offset.
_TS_OFFSET_MS = 796
# Sessions start early enough in their day to end before the month does (30 songs take about two hours).
_LATEST_START_S = 20 * 3600
_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_EVENTS_PER_USER = 40
_SONG_EVERY = 40
_MALFORMED_EVERY = 700
_MATCH_SHARE = 0.1
_MIN_SIZE = 100

_ARTISTS = ["Casual", "Gloriana", "Steel Rain", "Chase & Status", "Clp", "The Box Tops", "Tweeterfriendly Music",
            "Planet P Project", "Mitch Ryder", "Elena", "Jinx", "Lionel Richie", "Sophie B. Hawkins", "Terry Callier",
            "Blue Rodeo", "Bob Azzam", "Kenny G featuring Daryl Hall", "The Dillinger Escape Plan"]  # fmt: skip
_ARTISTS_NON_ASCII = ["Sigur Rós", "Björk", "Beyoncé", "Motörhead", "Mötley Crüe", "Hélène Ségara",
                      "Montserrat Caballé;Plácido Domingo", "Bløf", "坂本龍一", "Зиверт"]  # fmt: skip
_TITLE_WORDS = ["Setanta", "matins", "Ten", "Tonne", "Loaded", "Gun", "Summer", "Night", "Soul", "Deep", "Blue",
                "Heart", "River", "Train", "Fire", "Dance", "Rain", "Ghost", "Road", "Home", "Gold"]  # fmt: skip
_TITLES_AWKWARD = ["Clementina Santafè", "¿Dónde va Chichi?", "Sonnerie lalaleulé hi houuu", "I Didn't Mean To",
                   '"Heroes"', "1979", "007 (Shanty Town)", "Insatiable (Instrumental Version)"]  # fmt: skip
_PLACES = ["Nashville, TN.", "California - SF", "California - LA", "London, England", "Hamilton, Ohio",
           "Detroit, MI", "Reykjavík, Iceland", "São Paulo, Brasil", "Dubai UAE", "New York, NY"]  # fmt: skip
_FIRST = ["Walter", "Kaylee", "Jacqueline", "Tegan", "Lily", "Chloe", "Aleena", "Jayden", "Zoë", "Renée", "Łucja",
          "Jürgen", "Matthew", "Kate", "Mohammad", "Ava"]  # fmt: skip
_LAST = ["Frye", "Summers", "Lynch", "Levine", "Koch", "Cuevas", "Kirby", "Graves", "Núñez", "O'Brien", "Müller",
         "Harrell", "Rodriguez", "Søndergaard"]  # fmt: skip
_METROS = ["San Francisco-Oakland-Hayward, CA", "Phoenix-Mesa-Scottsdale, AZ", "Atlanta-Sandy Springs-Roswell, GA",
           "Portland-South Portland, ME", "Chicago-Naperville-Elgin, IL-IN-WI", "Lansing-East Lansing, MI",
           "New York-Newark-Jersey City, NY-NJ-PA", "San Juan-Carolina-Caguas, PR"]  # fmt: skip
_AGENTS = [
    '"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.36 (KHTML, like Gecko) '
    'Chrome/36.0.1985.143 Safari/537.36"',
    '"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/35.0.1916.153 Safari/537.36"',
    "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:31.0) Gecko/20100101 Firefox/31.0",
    '"Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 (KHTML, like Gecko) '
    'Version/7.0 Mobile/11D257 Safari/9537.53"',
    '"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/36.0.1985.125 '
    'Chrome/36.0.1985.125 Safari/537.36"',
]
# Pages of a logged-in session besides NextSong, with their method and status as the real logs record them.
_PAGES = {
    "Home": ("GET", 200),
    "Settings": ("GET", 200),
    "Help": ("GET", 200),
    "About": ("GET", 200),
    "Upgrade": ("GET", 200),
    "Downgrade": ("GET", 200),
    "Error": ("GET", 404),
    "Save Settings": ("PUT", 307),
}
_DS_STORE = b"\x00\x00\x00\x01Bud1\x00\x00\x10\x00\x00\x00\x08\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00"


@dataclass(frozen=True)
class _Artist:
    artist_id: str
    name: str
    location: str
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class _Song:
    track_id: str
    song_id: str
    title: str
    duration: float
    year: int
    # Each song file carries its own copy of the artist's fields, and copies of one artist can disagree.
    artist: _Artist

    def record(self) -> dict:
        return {
            "num_songs": 1,
            "artist_id": self.artist.artist_id,
            "artist_latitude": self.artist.latitude,
            "artist_longitude": self.artist.longitude,
            "artist_location": self.artist.location,
            "artist_name": self.artist.name,
            "song_id": self.song_id,
            "title": self.title,
            "duration": self.duration,
            "year": self.year,
        }


@dataclass
class _User:
    user_id: str
    first_name: str
    last_name: str
    gender: str
    location: str
    agent: str
    registration: float
    level: str


@dataclass
class _Event:
    fields: dict
    # What the job must make of it: "play", "filtered" or "quarantined"; `matched` marks plays of a known song.
    outcome: str
    matched: bool = False


class _Ids:
    """Fresh ids in the Million Song Dataset's shape (`SO`/`AR`/`TR` + 16 characters), never repeated."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._taken: set[str] = set()

    def new(self, prefix: str) -> str:
        while True:
            found = prefix + "".join(self._rng.choices(_ID_CHARS, k=18 - len(prefix)))
            if found not in self._taken:
                self._taken.add(found)
                return found

    def track(self) -> str:
        # The song data's folders A/B/C/ come from the third to fifth characters, as in the public sample.
        return self.new("TRA" + self._rng.choice("AB") + self._rng.choice("ABC"))


def _artists(rng: random.Random, ids: _Ids, count: int) -> list[_Artist]:
    """The first three are awkward on purpose: no location at all, a non-ASCII name, then a complete record."""
    names = rng.sample(_ARTISTS, min(count, len(_ARTISTS))) + [
        f"{rng.choice(_TITLE_WORDS)} {rng.choice(_TITLE_WORDS)}s" for _ in range(max(0, count - len(_ARTISTS)))
    ]
    names[1] = rng.choice(_ARTISTS_NON_ASCII)
    artists = []
    for i, name in enumerate(names):
        located = i == 2 or (i != 0 and rng.random() < 0.45)
        placed = i == 2 or (i != 0 and rng.random() < 0.6)
        artists.append(
            _Artist(
                artist_id=ids.new("AR"),
                name=name,
                location=rng.choice(_PLACES) if placed else "",
                latitude=round(rng.uniform(-40, 65), 5) if located else None,
                longitude=round(rng.uniform(-125, 150), 5) if located else None,
            )
        )
    return artists


def _title(rng: random.Random) -> str:
    if rng.random() < 0.15:
        return rng.choice(_TITLES_AWKWARD)
    return " ".join(rng.sample(_TITLE_WORDS, rng.randint(1, 3)))


def _songs(rng: random.Random, ids: _Ids, count: int) -> list[_Song]:
    """Songs of distinct (title, artist name); an artist's later songs sometimes carry a degraded copy of it."""
    artists = _artists(rng, ids, max(3, count * 4 // 5))
    songs: list[_Song] = []
    seen: set[tuple[str, str]] = set()
    while len(songs) < count:
        i = len(songs)
        artist = artists[i] if i < len(artists) else rng.choice(artists)
        if i >= len(artists) and rng.random() < 0.5:
            artist = replace(artist, location="", latitude=None, longitude=None)
        title = _title(rng)
        if (title, artist.name) in seen:
            continue
        seen.add((title, artist.name))
        songs.append(
            _Song(
                track_id=ids.track(),
                song_id=ids.new("SO"),
                title=title,
                duration=round(rng.uniform(30, 600), 5),
                year=0 if i == 0 or rng.random() < 0.55 else rng.randint(1955, 2010),
                artist=artist,
            )
        )
    return songs


def _write_songs(rng: random.Random, ids: _Ids, root: Path, count: int) -> tuple[list[_Song], dict[str, int]]:
    """Song files under root/A/B/C/; returns the songs the job keeps and what was written."""
    songs = _songs(rng, ids, count)
    # The song_id of a complete record again in another track, less complete: the job keeps the first.
    original = replace(songs[2], year=1999)
    songs[2] = original
    degraded = replace(original.artist, location="", latitude=None)
    duplicate = replace(original, track_id=ids.track(), duration=round(original.duration + 0.5, 5), artist=degraded)
    # Twin tracks: another song_id with the same title, artist and duration.
    twin = replace(songs[3], track_id=ids.track(), song_id=ids.new("SO"))
    written = [*songs, duplicate, twin]
    for song in written:
        _song_path(root, song.track_id).write_text(json.dumps(song.record()), encoding="utf-8")
    truncated = replace(songs[4], track_id=ids.track(), song_id=ids.new("SO"))
    _song_path(root, truncated.track_id).write_text(json.dumps(truncated.record())[:57], encoding="utf-8")
    for folder in (root, root / "A"):
        (folder / ".DS_Store").write_bytes(_DS_STORE)
    kept = [*songs, twin]
    counts = {
        "song_files": len(written) + 1,
        "song_records": len(written) + 1,
        "songs": len(kept),
        "artists": len({s.artist.artist_id for s in kept}),
        "songs_year_0": sum(s.year == 0 for s in kept),
        "duplicate_song_ids": 1,
        "malformed_song_files": 1,
        "junk_files": 2,
    }
    return kept, counts


def _song_path(root: Path, track_id: str) -> Path:
    folder = root.joinpath(*track_id[2:5])
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{track_id}.json"


def _users(rng: random.Random, count: int) -> list[_User]:
    # ids that look like numbers, as strings: the logs never send them as JSON numbers.
    user_ids = rng.sample(range(2, 10 * count + 2), count)
    return [
        _User(
            user_id=str(user_id),
            first_name=rng.choice(_FIRST),
            last_name=rng.choice(_LAST),
            gender=rng.choice("MF"),
            location=rng.choice(_METROS),
            agent=rng.choice(_AGENTS),
            registration=float(_MONTH_START_MS - rng.randint(1, 60) * _DAY_MS + _TS_OFFSET_MS),
            level="paid" if rng.random() < 0.3 else "free",
        )
        for user_id in user_ids
    ]


def _event(user: _User | None, *, session: int, item: int, ts: int, page: str, level: str) -> dict:
    method, status = ("PUT", 200) if page == "NextSong" else _PAGES.get(page, ("PUT", 307))
    return {
        "artist": None,
        "auth": "Logged In" if user else "Logged Out",
        "firstName": user.first_name if user else None,
        "gender": user.gender if user else None,
        "itemInSession": item,
        "lastName": user.last_name if user else None,
        "length": None,
        "level": level,
        "location": user.location if user else None,
        "method": method,
        "page": page,
        "registration": user.registration if user else None,
        "sessionId": session,
        "song": None,
        "status": status,
        "ts": ts,
        "userAgent": user.agent if user else None,
        "userId": user.user_id if user else "",
    }


class _Log:
    """Sessions of app events: logged-out visits, logins, songs, level changes and logouts."""

    def __init__(self, rng: random.Random, users: list[_User], songs: list[_Song]) -> None:
        self.rng = rng
        self.users = users
        self.songs = songs
        self.events: list[_Event] = []
        self.session = rng.randint(1, 50)
        self.catalog = self._catalog(max(50, len(songs) * 4))

    def _catalog(self, count: int) -> list[tuple[str, str, float]]:
        """Plays of songs absent from the song files: the usual case, they stay unmatched."""
        known = {(s.title, s.artist.name) for s in self.songs}
        catalog = []
        while len(catalog) < count:
            title, artist = _title(self.rng), self.rng.choice(_ARTISTS + _ARTISTS_NON_ASCII)
            if (title, artist) not in known:
                catalog.append((title, artist, round(self.rng.uniform(30, 600), 5)))
        return catalog

    def add_session(self, user: _User | None = None, script: tuple[str, ...] = ()) -> None:
        """One session of `user` (a random one by default) visiting the `script` pages (random ones by default)."""
        rng = self.rng
        user = user or rng.choice(self.users)
        self.session += rng.randint(1, 9)
        ts = _MONTH_START_MS + rng.randrange(_DAYS) * _DAY_MS + rng.randrange(_LATEST_START_S) * 1000 + _TS_OFFSET_MS
        item = 0
        if rng.random() < 0.3:
            for page in ("Home", "Login"):
                fields = _event(None, session=self.session, item=item, ts=ts, page=page, level=user.level)
                self.events.append(_Event(fields, "filtered"))
                item, ts = item + 1, ts + rng.randint(1, 30) * 1000
        for i in range(len(script) or rng.randint(1, 25)):
            page = script[i] if script else self._page(user)
            fields = _event(user, session=self.session, item=item, ts=ts, page=page, level=user.level)
            if page == "NextSong":
                ts += self._play(fields)
            else:
                self.events.append(_Event(fields, "filtered"))
                ts += rng.randint(1, 60) * 1000
                self._change_level(user, page)
            item += 1
            if page == "Logout":
                fields = _event(None, session=self.session, item=item, ts=ts, page="Home", level=user.level)
                self.events.append(_Event(fields, "filtered"))
                break

    def _page(self, user: _User) -> str:
        draw = self.rng.random()
        if draw < 0.82:
            return "NextSong"
        if draw < 0.975:
            return self.rng.choice(list(_PAGES))
        if draw < 0.98:
            return "Submit Upgrade" if user.level == "free" else "Submit Downgrade"
        return "Logout"

    @staticmethod
    def _change_level(user: _User, page: str) -> None:
        # The submit event itself still carries the old level; the events after it carry the new one.
        if page == "Submit Upgrade":
            user.level = "paid"
        elif page == "Submit Downgrade":
            user.level = "free"

    def _play(self, fields: dict) -> int:
        """Fill a NextSong event with a known song (sometimes) or a catalog one; returns ms to the next event."""
        matched = self.rng.random() < _MATCH_SHARE
        if matched:
            song = self.rng.choice(self.songs)
            title, artist, length = song.title, song.artist.name, song.duration
        else:
            title, artist, length = self.rng.choice(self.catalog)
        fields.update(artist=artist, song=title, length=length)
        self.events.append(_Event(fields, "play", matched))
        return round(length) * 1000

    def add_traps(self) -> None:
        """Plays that test the matching, time and quarantine rules (two lines added, the rest edited)."""
        plays = [e for e in self.events if e.outcome == "play"]
        near, noisy, twin, anonymous, repeated, early = self.rng.sample(plays, 6)
        song, twins = self.songs[0], self.songs[3]
        # Same title and artist, another duration: not this song.
        near.fields.update(song=song.title, artist=song.artist.name, length=round(song.duration + 1.5, 5))
        near.matched = False
        # The duration re-serialised with float noise still matches after rounding to 5 decimals.
        noisy.fields.update(song=song.title, artist=song.artist.name, length=song.duration + 1e-9)
        noisy.matched = True
        twin.fields.update(song=twins.title, artist=twins.artist.name, length=twins.duration)
        twin.matched = True
        # Two users playing at the same millisecond share one time row.
        other = next(e for e in plays if e.fields["userId"] != early.fields["userId"])
        early.fields["ts"] = other.fields["ts"]
        logged_out = dict(anonymous.fields, userId="", auth="Logged Out", firstName=None, lastName=None, gender=None)
        logged_out.update(itemInSession=anonymous.fields["itemInSession"] + 1, ts=anonymous.fields["ts"] + 1000)
        self.events.append(_Event(logged_out, "quarantined"))
        # A line delivered twice: the second copy is a duplicate NextSong event.
        self.events.append(_Event(dict(repeated.fields), "quarantined"))


def _malformed(event: dict, kind: int) -> str:
    """A truncated line, an error page where a line should be, or a ts sent as text (not a bigint)."""
    if kind == 0:
        line = json.dumps(event)
        return line[: len(line) // 2]
    if kind == 1:
        return "<html><body><h1>502 Bad Gateway</h1></body></html>"
    return json.dumps(dict(event, ts=str(event["ts"])))


def _line(fields: dict, *, escape_non_ascii: bool) -> str:
    # The real logs escape "/" as "\/" (valid JSON), and some days escape non-ASCII text while others do not.
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=escape_non_ascii).replace("/", "\\/")


def _write_logs(rng: random.Random, root: Path, events: list[_Event], malformed: int) -> int:
    """One JSON-Lines file per UTC day, events in ts order, malformed lines at random places; returns files."""
    days: dict[str, list[str]] = {}
    ordered = sorted(events, key=lambda e: (e.fields["ts"], e.fields["sessionId"], e.fields["itemInSession"]))
    for event in ordered:
        day = datetime.fromtimestamp(event.fields["ts"] / 1000, UTC).strftime("%Y-%m-%d")
        days.setdefault(day, []).append(_line(event.fields, escape_non_ascii=int(day[-2:]) % 2 == 0))
    names = sorted(days)
    for i in range(malformed):
        lines = days[rng.choice(names)]
        lines.insert(rng.randrange(len(lines) + 1), _malformed(rng.choice(events).fields, i % 3))
    root.mkdir(parents=True, exist_ok=True)
    for day in names:
        (root / f"{day}-events.json").write_text("\n".join(days[day]) + "\n", encoding="utf-8")
    return len(names)


def _event_counts(events: list[_Event], malformed: int) -> dict[str, int]:
    plays = [e.fields for e in events if e.outcome == "play"]
    outcomes = Counter(e.outcome for e in events)
    return {
        "events": len(events) + malformed,
        "malformed_events": malformed,
        "quarantined_events": outcomes["quarantined"] + malformed,
        "filtered_events": outcomes["filtered"],
        "plays": len(plays),
        "matched_plays": sum(e.matched for e in events if e.outcome == "play"),
        "users": len({p["userId"] for p in plays}),
        "user_levels": len({(p["userId"], p["level"]) for p in plays}),
        "play_times": len({p["ts"] for p in plays}),
    }


def write_sample(dest: Path, *, size: int, seed: int = 7) -> dict[str, int]:
    """Write the song and log data where the job reads them (SONG_DATA and LOG_DATA of pipelines/sparkify.py) in
    `dest`, the pipeline's raw folder, with about `size` events; returns counts of what was written.

    Sizes below 100 write 100 events: fewer would not hold every trap (`make run --scale` can ask for any size).
    """
    size = max(size, _MIN_SIZE)
    rng = random.Random(seed)
    ids = _Ids(rng)
    songs, counts = _write_songs(rng, ids, dest / SONG_DATA.relative_to(RAW), max(12, size // _SONG_EVERY))
    users = _users(rng, max(5, size // _EVENTS_PER_USER))
    log = _Log(rng, users, songs)
    # At least one user plays songs both as free and as paid.
    users[0].level = "free"
    log.add_session(users[0], ("NextSong", "Submit Upgrade", "NextSong"))
    malformed = max(3, size // _MALFORMED_EVERY)
    while len(log.events) + malformed < size - 2:
        log.add_session()
    log.add_traps()
    counts["log_files"] = _write_logs(rng, dest / LOG_DATA.relative_to(RAW), log.events, malformed)
    return counts | _event_counts(log.events, malformed)
