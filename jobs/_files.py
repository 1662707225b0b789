"""The jobs' files through Hadoop's file system (local paths and s3:// alike): paths, listing an input's data files,
checking the output can be written, and finding the compressed input that does not decompress.

Shipped beside the jobs (in the `--py-files` archive), never run on its own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from _errors import JobInputError, UserError, file_system_problem
from py4j.protocol import Py4JJavaError
from pyspark.sql import SparkSession

# How many skipped file names a run report lists (it counts them all).
SKIPPED_EXAMPLES = 10


def hadoop_path(spark: SparkSession, path: str):
    """(Hadoop Path, its FileSystem): the I/O that works alike on local paths and s3:// URIs."""
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    return hpath, hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


def within(spark: SparkSession, path: str, folder: str) -> bool:
    """Whether `path` is `folder` or below it, both as Hadoop qualifies them (a relative local path against the
    working folder, `file:` and plain local paths alike)."""
    qualified = []
    for each in (path, folder):
        hpath, fs = hadoop_path(spark, each)
        qualified.append(str(fs.makeQualified(hpath).toString()).rstrip("/"))
    inner, outer = qualified
    return inner == outer or inner.startswith(outer + "/")


def join_path(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts])


def _short(error: Py4JJavaError) -> str:
    java = error.java_exception
    return f"{java.getClass().getSimpleName()}: {java.getMessage()}"


def check_file_system(spark: SparkSession, flag: str, path: str) -> None:
    """A UserError when `path` has a scheme this Spark cannot reach (s3:// without S3 support locally)."""
    try:
        hadoop_path(spark, path)
    except Py4JJavaError as error:
        problem = file_system_problem(error, flag, path)
        if problem is None:
            raise
        raise UserError(problem) from None


def check_writable(spark: SparkSession, flag: str, path: str) -> bool:
    """A UserError unless the folder `path` exists or can be created, and a file can be written in it; returns
    whether it was created (so a run that then fails can remove it again)."""
    hpath, fs = hadoop_path(spark, path)
    fix = "choose a folder you can write to"
    try:
        existed = fs.exists(hpath)
        if existed and not fs.getFileStatus(hpath).isDirectory():
            raise UserError(f"{flag} {path} is a file, not a folder; {fix}")
        if not fs.mkdirs(hpath):
            raise UserError(f"{flag} {path} cannot be created; {fix}")
        probe, _ = hadoop_path(spark, join_path(path, f".write-check-{uuid.uuid4().hex}"))
        fs.create(probe, True).close()
        fs.delete(probe, False)
    except Py4JJavaError as error:
        raise UserError(f"{flag} {path} cannot be written ({_short(error)}); {fix}") from None
    return not existed


def remove_if_empty(spark: SparkSession, path: str) -> None:
    """Delete the folder `path` if it holds nothing (what a failed run created and did not use)."""
    hpath, fs = hadoop_path(spark, path)
    if fs.exists(hpath) and not fs.listStatus(hpath):
        fs.delete(hpath, False)


@dataclass(frozen=True)
class Listing:
    """The data files under an input path, and the files left out (hidden or `_`-prefixed names, empty files)."""

    root: str
    files: tuple[str, ...]
    skipped: dict[str, list[str]] = field(default_factory=dict)

    def skipped_counts(self) -> dict[str, int]:
        return {reason: len(names) for reason, names in self.skipped.items() if names}

    def skipped_examples(self) -> list[str]:
        return [name for names in self.skipped.values() for name in names][:SKIPPED_EXAMPLES]


HIDDEN = "hidden or _-prefixed name"
EMPTY = "empty file"


def _hidden(relative: str) -> bool:
    return any(part.startswith((".", "_")) for part in relative.split("/") if part)


def list_files(spark: SparkSession, path: str) -> Listing:
    """Every data file under `path` (a file or a folder, recursively); hidden, `_`-prefixed and empty files are
    left out (as Spark and Hadoop tools leave out `_SUCCESS`, `.crc` and `.DS_Store`) and counted by reason."""
    hpath, fs = hadoop_path(spark, path)
    if not fs.exists(hpath):
        return Listing(path, ())
    # Listed paths come back qualified (file:/..., s3://...): compare them with the qualified root.
    hpath = fs.makeQualified(hpath)
    if hpath.toUri().getScheme() == "file":
        return _list_local(path, hpath.toUri().getPath())
    status = fs.getFileStatus(hpath)
    if status.isFile():
        if status.getLen() == 0:
            return Listing(path, (), {EMPTY: [hpath.getName()]})
        return Listing(path, (hpath.toString(),))
    root = hpath.toString().rstrip("/")
    found, skipped = [], {HIDDEN: [], EMPTY: []}
    files = fs.listFiles(hpath, True)
    while files.hasNext():
        status = files.next()
        file_path = status.getPath().toString()
        relative = file_path[len(root) :].lstrip("/")
        if _hidden(relative):
            skipped[HIDDEN].append(relative)
        elif status.getLen() == 0:
            skipped[EMPTY].append(relative)
        else:
            found.append(file_path)
    return Listing(path, tuple(sorted(found)), {reason: sorted(names) for reason, names in skipped.items()})


def _list_local(path: str, root: str) -> Listing:
    """`list_files` of a local folder or file by Python's own walk: Hadoop's listing costs several py4j calls per
    file (thousands of song files took seconds). Same names as Hadoop's (`file:` + the absolute path, through
    symbolic links as Hadoop follows them), same rules."""
    top = os.path.abspath(root)
    if os.path.isfile(top):
        if os.path.getsize(top) == 0:
            return Listing(path, (), {EMPTY: [os.path.basename(top)]})
        return Listing(path, (f"file:{top}",))
    found, skipped = [], {HIDDEN: [], EMPTY: []}
    for folder, _, files in os.walk(top, followlinks=True):
        for name in files:
            file = os.path.join(folder, name)
            relative = os.path.relpath(file, top).replace(os.sep, "/")
            if _hidden(relative):
                skipped[HIDDEN].append(relative)
            elif os.path.getsize(file) == 0:
                skipped[EMPTY].append(relative)
            else:
                found.append(f"file:{file}")
    return Listing(path, tuple(sorted(found)), {reason: sorted(names) for reason, names in skipped.items()})


def require_files(spark: SparkSession, path: str, what: str) -> Listing:
    """The listing of `path`; a JobInputError naming `what` when the path is missing or holds no data file."""
    hpath, fs = hadoop_path(spark, path)
    if not fs.exists(hpath):
        raise JobInputError(f"{what} {path} does not exist")
    listing = list_files(spark, path)
    if listing.files:
        return listing
    if fs.getFileStatus(hpath).isFile():
        raise JobInputError(f"{what} {path} is an empty file")
    left_out = ", ".join(f"{n} {reason}" for reason, n in listing.skipped_counts().items())
    raise JobInputError(f"{what} {path} holds no data file{f' (left out: {left_out})' if left_out else ''}")


def first_damaged(spark: SparkSession, files: Iterable[str]) -> tuple[str, str] | None:
    """(file, what is wrong) for the first compressed file of `files` that does not decompress to its end.

    Spark does not always say which file a decompressor failed on; on that error path each compressed input is
    read through once on the driver (in the JVM, one call per file) until the damaged one is found.
    """
    jvm = spark.sparkContext._jvm
    for file in files:
        path, fs = hadoop_path(spark, file)
        codec = jvm.org.apache.hadoop.io.compress.CompressionCodecFactory(fs.getConf()).getCodec(path)
        if codec is None:
            continue
        try:
            stream = codec.createInputStream(fs.open(path))
            jvm.org.apache.hadoop.io.IOUtils.copyBytes(
                stream, jvm.org.apache.commons.io.output.NullOutputStream(), 65536, True
            )
        except Py4JJavaError as error:
            return file, _short(error)
    return None
