"""7z inputs: each archive unpacked on the driver and streamed (py7zr) into parts of whole JSON lines that Spark
then reads like any other text file, and every part traced back to its archive so quarantine names the archive.

py7zr is imported only when an archive is unpacked, so clusters without it still run every other input. Shipped
beside the jobs (in the `--py-files` archive), never run on its own.
"""

from __future__ import annotations

import lzma
import re
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from _errors import JobInputError, local_path
from _files import hadoop_path, join_path
from pyspark.sql import SparkSession

# Spark reads a 7z archive only after the driver has unpacked it: into parts of this size, so many tasks share it.
STAGED_PART_BYTES = 64 * 1024 * 1024


class LineParts:
    """Bytes of JSON Lines in, files of whole lines (about `part_bytes` each) out, handed to `on_part` when full."""

    def __init__(self, directory: Path, part_bytes: int, on_part: Callable[[Path], None]) -> None:
        self.directory = directory
        self.part_bytes = part_bytes
        self.on_part = on_part
        self.parts = 0
        self._pending = b""
        self._file = None
        self._size = 0

    def write(self, data: bytes) -> None:
        buffer = self._pending + bytes(data)
        cut = buffer.rfind(b"\n") + 1
        self._pending = buffer[cut:]
        if cut:
            self._append(buffer[:cut])

    def end_member(self) -> None:
        """A member ended: its last line may lack a newline, and must not run into the next member's first."""
        if self._pending:
            pending, self._pending = self._pending, b""
            self._append(pending + b"\n")

    def close(self) -> None:
        self.end_member()
        self._close_part()

    def _append(self, lines: bytes) -> None:
        if self._file is None:
            self._file = (self.directory / f"part-{self.parts:05d}.jsonl").open("wb")
            self.parts += 1
        self._file.write(lines)
        self._size += len(lines)
        if self._size >= self.part_bytes:
            self._close_part()

    def _close_part(self) -> None:
        if self._file is not None:
            self._file.close()
            self.on_part(Path(self._file.name))
            self._file, self._size = None, 0


class _MemberSink:
    """What py7zr writes one archive member into (its Py7zIO interface): the shared LineParts."""

    def __init__(self, parts: LineParts) -> None:
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


class _SinkFactory:
    """py7zr's WriterFactory interface: a sink per archive member. (Duck-typed rather than subclassed, so this module
    imports without py7zr.)"""

    def __init__(self, parts: LineParts) -> None:
        self._parts = parts

    def create(self, filename: str) -> _MemberSink:
        # Earlier py7zr 1.x releases do not call close() when a member ends: end the previous one here.
        self._parts.end_member()
        return _MemberSink(self._parts)


def unpack(archive: Path, parts: LineParts, name: str) -> None:
    """Stream every member of a local 7z archive into `parts` (nothing is held whole in memory); `name` names the
    archive in errors (a JobInputError when py7zr is missing or the archive is damaged)."""
    try:
        # Only .7z inputs need py7zr: .jsonl and .gz run on a cluster that does not have it.
        import py7zr  # noqa: PLC0415
        from py7zr.exceptions import ArchiveError  # noqa: PLC0415
    except ImportError as error:
        raise JobInputError(
            f"{name}: a .7z input needs py7zr on the driver ({error}); install py7zr>=1.0 there, "
            "or recompress the input as .jsonl.gz"
        ) from None
    # What py7zr raises on a damaged archive: its own errors for headers and checksums, the codec's for the data.
    damaged = (ArchiveError, lzma.LZMAError, zlib.error, EOFError)
    try:
        with py7zr.SevenZipFile(archive, mode="r") as sevenzip:
            sevenzip.extractall(factory=_SinkFactory(parts))
    except damaged as error:
        raise JobInputError(
            f"{local_path(name)}: truncated or corrupt 7z archive ({type(error).__name__}: {error}); replace it "
            "with a complete copy, or move it out of the input"
        ) from None
    parts.close()


def _stage_archive(spark: SparkSession, archive: str, target_dir: str, part_bytes: int) -> list[str]:
    source, source_fs = hadoop_path(spark, archive)
    staged = []
    with tempfile.TemporaryDirectory(prefix="datalake-7z-") as tmp:
        # py7zr needs a local, seekable file: copy the archive to the driver's disk first.
        local, _ = hadoop_path(spark, (Path(tmp) / "archive.7z").as_uri())
        source_fs.copyToLocalFile(False, source, local, True)
        parts_dir = Path(tmp) / "parts"
        parts_dir.mkdir()

        def upload(part: Path) -> None:
            target, target_fs = hadoop_path(spark, join_path(target_dir, part.name))
            local_part, _ = hadoop_path(spark, part.as_uri())
            # delSrc: a part leaves the driver's disk as soon as it is copied.
            target_fs.copyFromLocalFile(True, True, local_part, target)
            staged.append(target.toString())

        unpack(Path(tmp) / "archive.7z", LineParts(parts_dir, part_bytes, upload), archive)
    return staged


@dataclass(frozen=True)
class Staged7z:
    """The JSON Lines parts of the .7z inputs, and how to name an archive (and a part's place in it) from a part."""

    parts: list[str]
    archives: list[str]
    folder: str

    def origin(self, file: str) -> tuple[str, int]:
        """(the archive a part came from, the part's number in it); any other file is its own origin."""
        found = re.search(rf"{re.escape(self.folder)}/archive-(\d+)/part-(\d+)\.jsonl$", file)
        if not found:
            return file, 0
        return self.archives[int(found.group(1))], int(found.group(2))


def stage_7z(spark: SparkSession, archives: list[str], staging: str) -> Staged7z:
    """Unpack each .7z (local or s3://) on the driver into JSON Lines parts under `staging` (a folder of the run's
    own, e.g. Staging.scratch)."""
    staged = []
    for number, archive in enumerate(archives):
        target_dir = join_path(staging, f"archive-{number:03d}")
        staged += _stage_archive(spark, archive, target_dir, STAGED_PART_BYTES)
    # The run's staging folder is unique to the run: parts are told apart from input files by it.
    folder = "/".join(staging.rstrip("/").split("/")[-3:])
    return Staged7z(staged, archives, folder)
