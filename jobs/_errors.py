"""Errors a user can cause and fix, and how a Java exception from Spark becomes one of them (one line, no trace).

Shipped beside the jobs (in the `--py-files` archive), never run on its own.
"""

from __future__ import annotations

import re
from urllib.parse import unquote


class UserError(Exception):
    """Something the user must fix (a flag, a path, the input, the Java install): one line on stderr, exit 2."""


class JobInputError(UserError):
    """Bad input: missing, empty, unreadable, or holding no valid record. Nothing is written."""


# Spark wraps any failure to read one input file in this message (QueryExecutionErrors.cannotReadFilesError).
_READ_FAILED = re.compile(r"Encountered error while reading file (\S+?)\.? Details:")
_COMPRESSED = (".gz", ".bz2", ".deflate", ".zst", ".lz4", ".snappy")
# What Hadoop's decompressors throw on a truncated or corrupt stream (a gzip cut short: EOFException "Unexpected end
# of input stream"; not gzip at all: IOException "not a gzip file"; bad data: ZipException).
_DECOMPRESSION_ERRORS = ("java.io.EOFException", "java.util.zip.ZipException", "java.io.IOException")


def local_path(uri: str) -> str:
    """`file:///tmp/a%20b.gz` -> `/tmp/a b.gz`, as a person types it; any other URI as it is."""
    if not uri.startswith("file:"):
        return uri
    return unquote(re.sub(r"^file:(//)?", "", uri))


def java_chain(error: BaseException) -> list[tuple[str, str]]:
    """(class name, message) of the Java exception behind a PySpark error and each of its causes; [] if none."""
    java = getattr(error, "java_exception", None) or getattr(error, "_origin", None)
    chain = []
    while java is not None and len(chain) < 50:
        chain.append((java.getClass().getName(), java.getMessage() or ""))
        java = java.getCause()
    return chain


def _detail(chain: list[tuple[str, str]]) -> str:
    cause_class, cause = chain[-1]
    return f"{cause_class.rsplit('.', 1)[-1]}: {cause}".rstrip(": ")


def damaged(file: str, detail: str) -> str:
    """The one line for a compressed input that does not decompress."""
    return (
        f"{local_path(file)}: truncated or corrupt compressed file ({detail}); replace it with a complete copy, "
        "or move it out of the input"
    )


def read_failure(error: BaseException) -> str | None:
    """The one-line explanation of a Spark job that failed because it names an input file it could not read."""
    chain = java_chain(error)
    files = [found.group(1) for _, message in chain if (found := _READ_FAILED.search(message))]
    if not files:
        return None
    if files[0].endswith(_COMPRESSED) or chain[-1][0] in _DECOMPRESSION_ERRORS:
        return damaged(files[0], _detail(chain))
    return f"{local_path(files[0])}: cannot be read ({_detail(chain)}); fix or remove the file, then run again"


def decompression_failure(error: BaseException) -> str | None:
    """The root cause of a Spark job that failed inside a decompressor (the file not named), or None."""
    chain = java_chain(error)
    if chain and chain[-1][0] in _DECOMPRESSION_ERRORS:
        return _detail(chain)
    return None


def file_system_problem(error: BaseException, flag: str, path: str) -> str | None:
    """Why `path` (given as `flag`) has no usable file system here, or None when `error` is about something else."""
    for class_name, message in java_chain(error):
        if class_name.endswith("UnsupportedFileSystemException"):
            scheme = path.split(":", 1)[0]
            return (
                f"{flag} {path}: this Spark has no file system for {scheme}:// ({message}); run the job on EMR or "
                f"Glue, or copy the data to a local folder and pass that"
            )
    return None


def unreadable(file: str, error: BaseException) -> str:
    """The one line for a file the driver itself failed to read (a header, an archive)."""
    chain = java_chain(error) or [(type(error).__name__, str(error))]
    cause_class, cause = chain[-1]
    return f"{local_path(file)}: cannot be read ({cause_class.rsplit('.', 1)[-1]}: {cause}); fix or remove the file"
