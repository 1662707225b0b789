"""The jobs through their documented command line (`python jobs/<job>.py ...`), each a process of its own.

One good run prints its summary and nothing on stderr; then every mistake a user can make is one line on
stderr, exit code 2, and leaves the tables of the good run exactly as they were. Last, the jobs as EMR ships them:
each script alone, its shared modules and pipelines/ from the `--py-files` archive. Each case starts its own
Python (and most a JVM): the cases are few and their inputs tiny.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import py7zr
import pytest

from local.samples import kindle as samples

ROOT = Path(__file__).resolve().parents[2]


def _job(job: str, *args: str | Path, env: dict[str, str] | None = None, unset: tuple[str, ...] = ()):
    environ = {k: v for k, v in os.environ.items() if k not in unset} | (env or {})
    return subprocess.run(
        [sys.executable, f"jobs/{job}.py", *map(str, args)],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` with a hash of its bytes, but the run reports (a failed run says why in its own):
    equal snapshots, untouched tables (their Iceberg metadata and data files) and quarantines."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).parts[0] != "_run"
    }


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A good kindle_metadata run by hand; its folders, what it printed, and a snapshot of what it wrote."""
    root = tmp_path_factory.mktemp("cli")
    counts = samples.write_sample(root / "raw", size=80, seed=3)
    output = root / "curated"
    done = _job("kindle_metadata", "--input", str(root / "raw"), "--output", str(output))
    assert done.returncode == 0, done.stderr
    return {"root": root, "output": output, "counts": counts, "run": done, "snapshot": _snapshot(output)}


def test_a_run_by_hand_prints_what_it_did_and_nothing_else(published):
    run, output, counts = published["run"], published["output"], published["counts"]
    # Spark's start-up warnings (loopback hostname, native Hadoop library, log level) are silenced.
    assert run.stderr == ""
    lines = run.stdout.splitlines()
    assert lines[0].startswith("kindle_metadata: done in ")
    assert lines[1] == (f"  input metadata ({published['root'] / 'raw'}): {counts['lines']} lines read from 1 file")
    quarantined = counts["malformed"] + counts["missing_parent_asin"] + counts["duplicates"]
    assert lines[2] == (
        f"    80 written (as items rows, one per parent_asin); {quarantined} quarantined; "
        f"{counts['blank']} filtered (blank line)"
    )
    table = lines[3].split()
    assert table[:6] == ["table", "items", "80", "rows", "full", "snapshot"]
    assert table[6].isdigit()
    assert table[7] == str(output / "items")
    assert lines[-2:] == [
        f"  quarantine: {output / '_quarantine' / 'metadata'}",
        f"  run report: {output / '_run' / 'kindle_metadata.json'}",
    ]


def _fake_java(folder: Path, version: str) -> str:
    """A JAVA_HOME whose java says it is `version`, as `java -version` does (on stderr)."""
    java = folder / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(f"#!/bin/sh\necho 'openjdk version \"{version}\" 2025-09-16' >&2\n")
    java.chmod(0o755)
    return str(folder)


def _damaged_inputs(folder: Path) -> dict[str, Path]:
    folder.mkdir()
    inputs = {"empty": folder / "empty.jsonl", "garbage": folder / "garbage.jsonl"}
    inputs["empty"].write_bytes(b"")
    inputs["garbage"].write_text('this is not JSON\n{"parent_asin": \n')
    whole = gzip.compress(b'{"parent_asin": "B01"}\n' * 2000)
    inputs["truncated"] = folder / "meta.jsonl.gz"
    inputs["truncated"].write_bytes(whole[: len(whole) // 2])
    inputs["7z"] = folder / "meta.jsonl.7z"
    with py7zr.SevenZipFile(inputs["7z"], "w") as archive:
        archive.writestr(b'{"parent_asin": "B01"}\n' * 2000, "meta.jsonl")
    inputs["7z"].write_bytes(inputs["7z"].read_bytes()[:-30])
    return inputs


CASES = ["empty", "garbage", "truncated", "7z", "unwritable output", "s3 input", "unknown flag", "no java", "java 25"]


@pytest.mark.parametrize("case", CASES)
def test_every_mistake_is_one_line_exit_2_and_leaves_the_tables_as_they_were(published, tmp_path, case):
    output, raw = published["output"], published["root"] / "raw"
    inputs = _damaged_inputs(tmp_path / "inputs")
    (tmp_path / "a_file").write_text("not a folder")
    jdk25 = _fake_java(tmp_path / "jdk-25", "25") if case == "java 25" else ""
    empty_path = tmp_path / "no_java_here"
    empty_path.mkdir()
    unset = ("JAVA_HOME",) if case == "no java" else ()
    job, args, env, expected = {
        "empty": ("kindle_metadata", ["--input", inputs["empty"]], {}, f"--input {inputs['empty']} is an empty file"),
        "garbage": (
            "kindle_metadata",
            ["--input", inputs["garbage"]],
            {},
            f"--input {inputs['garbage']}: none of its 2 lines is valid (2 malformed JSON, or a field of the wrong "
            "type); fix the input",
        ),
        "truncated": (
            "kindle_metadata",
            ["--input", inputs["truncated"]],
            {},
            f"{inputs['truncated']}: truncated or corrupt compressed file (EOFException: Unexpected end of input "
            "stream); replace it with a complete copy, or move it out of the input",
        ),
        "7z": ("kindle_metadata", ["--input", inputs["7z"]], {}, f"{inputs['7z']}: truncated or corrupt 7z archive ("),
        "unwritable output": (
            "rentals_transform",
            ["--input", raw, "--output", tmp_path / "a_file" / "curated"],
            {},
            f"--output {tmp_path / 'a_file' / 'curated'} cannot be written (ParentNotDirectoryException: Parent "
            f"path is not a directory: {tmp_path / 'a_file'}); choose a folder you can write to",
        ),
        "s3 input": (
            "orders",
            ["--input", "s3://raw-bucket/orders/exports/"],
            {},
            "--input s3://raw-bucket/orders/exports/: this Spark has no file system for s3:// (No FileSystem for "
            'scheme "s3"); run the job on EMR or Glue, or copy the data to a local folder and pass that',
        ),
        "unknown flag": (
            "sparkify",
            ["--song-data", raw, "--log-data", raw, "--overwrite"],
            {},
            "unrecognized arguments: --overwrite (see sparkify.py --help)",
        ),
        "no java": (
            "orders",
            ["--input", raw],
            {"PATH": str(empty_path)},
            "Java not found (no JAVA_HOME and no java on PATH): Spark needs Java 17; install Java 17 and set "
            "JAVA_HOME to it",
        ),
        "java 25": (
            "kindle_metadata",
            ["--input", raw],
            {"JAVA_HOME": jdk25},
            f"{jdk25}/bin/java (from JAVA_HOME={jdk25}) is Java 25: Spark 3.5 runs on Java 8, 11, 17, this project "
            "on 17; install Java 17 and set JAVA_HOME to it",
        ),
    }[case]
    if "--output" not in args:
        args = [*args, "--output", output]

    failed = _job(job, *args, env=env, unset=unset)

    assert failed.returncode == 2, failed.stderr
    assert failed.stdout == ""
    assert failed.stderr.count("\n") == 1, failed.stderr
    assert failed.stderr.startswith(f"{job}: error: {expected}"), failed.stderr
    assert _snapshot(output) == published["snapshot"]


# ---- as EMR ships them: spark-submit --py-files deps.zip s3://.../jobs/<job>-<hash>.py -------------------------


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> dict:
    """What EmrEtl uploads (components/assets.py): the `--py-files` archive, and each script alone under its
    content-hashed name, in a folder that holds nothing else of the repository."""
    from components import assets
    from pipelines.lake import JOB_CODE

    folder = tmp_path_factory.mktemp("shipped")
    archive = folder / "deps.zip"
    with zipfile.ZipFile(archive, "w") as deps:
        for name, path in assets.job_dependencies().items():
            deps.write(path, name)
    scripts = {}
    for job, path in assets.job_scripts().items():
        scripts[job] = folder / Path(assets.hashed_key(JOB_CODE, job, {path.name: path}, ".py")).name
        shutil.copyfile(path, scripts[job])
    return {"folder": folder, "archive": archive, "scripts": scripts}


def test_every_shipped_job_imports_from_the_archive_alone(shipped):
    check = (
        "import importlib.util, sys\n"
        f"sys.path.insert(0, {str(shipped['archive'])!r})\n"
        "assert importlib.util.find_spec('components') is None, 'the repository is on the path'\n"
        f"for job, script in {[(job, str(path)) for job, path in shipped['scripts'].items()]!r}:\n"
        "    spec = importlib.util.spec_from_file_location(job, script)\n"
        "    module = sys.modules[job] = importlib.util.module_from_spec(spec)\n"
        "    spec.loader.exec_module(module)\n"
        "    assert callable(module.main), job\n"
        "    assert '.zip' in sys.modules['_job'].__file__\n"
    )
    # -I: neither the working folder nor PYTHONPATH is on the path, as on a cluster node.
    done = subprocess.run(
        [sys.executable, "-I", "-c", check], cwd=shipped["folder"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert set(shipped["scripts"]) == {
        "kindle_metadata",
        "orders",
        "orders_ingest_merge",
        "rentals_kpis",
        "rentals_transform",
        "sparkify",
    }
