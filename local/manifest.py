"""Which files of a raw folder `make run` generated, so that a rerun replaces exactly those and never a user's file.

The record is `<lake>/.generated/<pipeline>.json`: each generated file's path, relative to the raw folder, and its
SHA-256. A file it does not list, or whose content changed since, is the user's: generation refuses to run there.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

RECORDS = ".generated"


class ForeignFiles(Exception):
    """The raw folder holds files the generator did not write (or that changed since): nothing was touched."""


def record_path(lake: Path, pipeline: str) -> Path:
    return lake / RECORDS / f"{pipeline}.json"


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink()) if folder.is_dir() else []


def _recorded(record: Path) -> dict[str, str]:
    try:
        return dict(json.loads(record.read_text(encoding="utf-8"))["files"])
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ForeignFiles(f"{record} is unreadable ({error}); delete it and check the raw folder by hand") from None


def foreign_files(folder: Path, record: Path) -> list[Path]:
    """Files under `folder` that `record` does not list with their current content."""
    ours = _recorded(record)
    return [
        path
        for path in _files(folder)
        if path.is_symlink() or ours.get(path.relative_to(folder).as_posix()) != _digest(path)
    ]


def check_generated_only(folder: Path, record: Path, pipeline: str) -> None:
    """Raise ForeignFiles, naming a file and the ways out, unless every file under `folder` is a generated one."""
    foreign = foreign_files(folder, record)
    if foreign:
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        raise ForeignFiles(
            f"{folder} holds files the sample generator did not write or that changed since ({foreign[0]}{more}); "
            f"nothing was deleted. Run on them with --no-generate, read another folder with "
            f"--raw-from {pipeline}=DIR, or move them away"
        )


def replace_generated(folder: Path, record: Path, pipeline: str, write: Callable[[Path], dict]) -> dict:
    """Delete the files generated last time, let `write(staging_dir)` write new ones, move them into `folder`.

    The record is written before the files move in, so an interrupted run leaves nothing it cannot recognise.
    """
    check_generated_only(folder, record, pipeline)
    for relative in _recorded(record):
        path = folder / relative
        if path.is_file():
            path.unlink()
            _prune_empty_parents(path.parent, folder)
    staging = record.with_suffix(".staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        result = write(staging)
        files = {p.relative_to(staging).as_posix(): _digest(p) for p in _files(staging)}
        temporary = record.with_suffix(".tmp")
        temporary.write_text(json.dumps({"files": files}, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(temporary, record)
        for relative in files:
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / relative, target)  # a rename keeps the modification times the generator set
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result


def _prune_empty_parents(directory: Path, stop: Path) -> None:
    while directory != stop and directory.is_relative_to(stop) and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent
