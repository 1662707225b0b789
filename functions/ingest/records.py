"""One order file as records: the elements of a JSON array, or the non-blank lines of JSON Lines (as the job reads).

Each record is parsed on its own, so the file never exists as one big list of dicts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from pipelines import orders as spec

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_BLANK = re.compile(r"[ \t\r]*")
_DECODER = json.JSONDecoder()
# A JSON Lines record that does not parse: it is quarantined as not JSON, the others still count.
UNPARSED = object()
# What the decoder raises on text it cannot read: json.JSONDecodeError (a ValueError), a plain ValueError for an
# integer of more than 4,300 digits (Python's int-from-text limit), RecursionError for nesting deeper than the
# interpreter's stack. Each is a record or file that is not JSON to this Lambda, never a crash of the function.
UNREADABLE = (ValueError, RecursionError)


class FileRejected(Exception):
    """The whole file is not order data: it is quarantined, and the invocation still succeeds."""


def decode(data: bytes) -> str:
    """The file as text (UTF-8, an optional byte order mark); FileRejected when it is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileRejected(f"{spec.NOT_JSON}: not UTF-8 text ({error.reason} at byte {error.start})") from None


def array_records(text: str) -> Iterator[tuple[int, Any, slice]]:
    """(position from 1, value, where its text is) per element of the JSON array `text`, parsed one element at a
    time; json.JSONDecodeError unless it is exactly one array."""
    at = _WHITESPACE.match(text, _WHITESPACE.match(text).end() + 1).end()
    position = 0
    if text.startswith("]", at):
        at += 1
    else:
        while True:
            value, end = _DECODER.raw_decode(text, at)
            position += 1
            yield position, value, slice(at, end)
            at = _WHITESPACE.match(text, end).end()
            if text.startswith(",", at):
                at = _WHITESPACE.match(text, at + 1).end()
            elif text.startswith("]", at):
                at += 1
                break
            else:
                raise json.JSONDecodeError("Expecting ',' or ']'", text, at)
    at = _WHITESPACE.match(text, at).end()
    if at != len(text):
        raise json.JSONDecodeError("Extra data after the array", text, at)


def line_records(text: str) -> Iterator[tuple[int, Any, str]]:
    """(line number, value or UNPARSED, the line) per non-blank line."""
    for number, line in enumerate(text.split("\n"), start=1):
        if _BLANK.fullmatch(line):
            continue
        try:
            value = _DECODER.decode(line)
        except UNREADABLE:
            value = UNPARSED
        yield number, value, line


def is_array(text: str) -> bool:
    """A file whose first non-blank character is `[` is one JSON array; anything else is JSON Lines (as the job)."""
    return text.startswith("[", _WHITESPACE.match(text).end())


def records(text: str) -> Iterator[tuple[int, Any, str | slice]]:
    """(position, value, its text or where it is in `text`) per record of the file."""
    return array_records(text) if is_array(text) else line_records(text)
