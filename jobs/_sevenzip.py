"""Streaming 7z extraction for the jobs: py7zr writes each archive member into line-aligned parts.

Imported only when an input is a .7z archive, so clusters without py7zr still run every other input.
"""

from __future__ import annotations

import lzma
import zlib
from pathlib import Path

import py7zr
from py7zr.exceptions import ArchiveError
from py7zr.io import Py7zIO, WriterFactory


class CorruptArchive(Exception):
    """The archive is not a 7z file, is truncated, or fails its checksums."""


# What py7zr raises on a damaged archive: its own errors for headers and checksums, the codec's for the data.
_DAMAGED = (ArchiveError, lzma.LZMAError, zlib.error, EOFError)


class _MemberSink(Py7zIO):
    """What py7zr writes one archive member into: the shared LineParts."""

    def __init__(self, parts) -> None:
        self._parts = parts
        self._written = 0

    def write(self, s: bytes | bytearray) -> int:
        self._parts.write(s)
        self._written += len(s)
        return len(s)

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        return None

    def size(self) -> int:
        return self._written

    def close(self) -> None:
        self._parts.end_member()


class _SinkFactory(WriterFactory):
    def __init__(self, parts) -> None:
        self._parts = parts

    def create(self, filename: str) -> Py7zIO:
        # Earlier py7zr 1.x releases do not call close() when a member ends: end the previous one here.
        self._parts.end_member()
        return _MemberSink(self._parts)


def unpack(archive: Path, parts) -> None:
    """Stream every member of a local 7z archive into `parts` (a kindle_metadata.LineParts); CorruptArchive if
    it is damaged."""
    try:
        with py7zr.SevenZipFile(archive, mode="r") as sevenzip:
            sevenzip.extractall(factory=_SinkFactory(parts))
    except _DAMAGED as error:
        raise CorruptArchive(f"{type(error).__name__}: {error}") from None
