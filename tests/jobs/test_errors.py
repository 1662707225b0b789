"""jobs/_errors.py: how the Java exception behind a Spark failure becomes the one line a user reads."""

from __future__ import annotations

import _errors
import pytest


class _JavaClass:
    def __init__(self, name: str) -> None:
        self._name = name

    def getName(self) -> str:
        return self._name


class _Java:
    """A stand-in for a py4j JavaObject of a Throwable: its class, message and cause (Java's method names)."""

    def __init__(self, name: str, message: str | None, cause: _Java | None = None) -> None:
        self._class, self._message, self._cause = _JavaClass(name), message, cause

    def getClass(self) -> _JavaClass:
        return self._class

    def getMessage(self) -> str | None:
        return self._message

    def getCause(self) -> _Java | None:
        return self._cause


class _SparkError(Exception):
    """What pyspark raises: the Java exception in `java_exception` (Py4JJavaError) or `_origin` (captured)."""

    def __init__(self, java: _Java, attribute: str = "java_exception") -> None:
        super().__init__("failed")
        setattr(self, attribute, java)


def _read_failed(file: str, cause: _Java) -> _SparkError:
    message = f"Encountered error while reading file {file}. Details:"
    return _SparkError(_Java("org.apache.spark.SparkException", "Job aborted", _Java("SparkException", message, cause)))


def test_local_paths_are_shown_as_typed_and_other_uris_as_they_are():
    assert _errors.local_path("file:///tmp/a%20b.gz") == "/tmp/a b.gz"
    assert _errors.local_path("file:/tmp/x.json") == "/tmp/x.json"
    assert _errors.local_path("s3://bucket/a%20b.gz") == "s3://bucket/a%20b.gz"


def test_the_java_chain_follows_every_cause_of_either_kind_of_spark_error():
    java = _Java("a.Outer", "outer", _Java("b.Inner", None))
    assert _errors.java_chain(_SparkError(java)) == [("a.Outer", "outer"), ("b.Inner", "")]
    assert _errors.java_chain(_SparkError(java, "_origin")) == [("a.Outer", "outer"), ("b.Inner", "")]
    assert _errors.java_chain(ValueError("plain Python")) == []


def test_a_file_spark_could_not_read_is_named_with_its_root_cause():
    error = _read_failed("file:///data/a%20b.json", _Java("java.io.FileNotFoundException", "gone"))
    assert _errors.read_failure(error) == (
        "/data/a b.json: cannot be read (FileNotFoundException: gone); fix or remove the file, then run again"
    )


FIX = "replace it with a complete copy, or move it out of the input"


@pytest.mark.parametrize(
    ("file", "cause", "expected"),
    [
        (
            "file:/data/meta.jsonl.gz",
            _Java("java.util.zip.ZipException", "bad"),
            f"/data/meta.jsonl.gz: truncated or corrupt compressed file (ZipException: bad); {FIX}",
        ),
        # Not named like a compressed file, but its read ended inside a decompressor.
        (
            "file:/data/meta",
            _Java("java.io.EOFException", "Unexpected end of input stream"),
            f"/data/meta: truncated or corrupt compressed file (EOFException: Unexpected end of input stream); {FIX}",
        ),
    ],
)
def test_a_compressed_or_cut_short_file_is_called_damaged(file, cause, expected):
    assert _errors.read_failure(_read_failed(file, cause)) == expected


def test_a_failure_naming_no_file_is_not_a_read_failure_but_may_be_a_decompression_one():
    zip_error = _Java("java.util.zip.ZipException", "bad")
    inside = _SparkError(_Java("org.apache.spark.SparkException", "task failed", zip_error))
    assert _errors.read_failure(inside) is None
    assert _errors.decompression_failure(inside) == "ZipException: bad"
    bug = _SparkError(_Java("java.lang.NullPointerException", None))
    assert _errors.decompression_failure(bug) is None


def test_a_scheme_without_a_file_system_says_where_to_run_instead():
    error = _SparkError(_Java("org.apache.hadoop.fs.UnsupportedFileSystemException", 'No FileSystem for scheme "s3"'))
    assert _errors.file_system_problem(error, "--input", "s3://raw/orders/") == (
        '--input s3://raw/orders/: this Spark has no file system for s3:// (No FileSystem for scheme "s3"); run the '
        "job on EMR or Glue, or copy the data to a local folder and pass that"
    )
    assert _errors.file_system_problem(_SparkError(_Java("java.io.IOException", "x")), "--input", "/x") is None


def test_a_file_the_driver_could_not_read_is_named_with_the_python_error_when_no_java_one():
    assert _errors.unreadable("file:/raw/users.csv", OSError("disk")) == (
        "/raw/users.csv: cannot be read (OSError: disk); fix or remove the file"
    )
    java = _SparkError(_Java("a.Outer", "outer", _Java("java.io.FileNotFoundException", "gone")))
    assert _errors.unreadable("s3://raw/users.csv", java) == (
        "s3://raw/users.csv: cannot be read (FileNotFoundException: gone); fix or remove the file"
    )
