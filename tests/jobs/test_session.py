"""jobs/_session.py: which Java local Spark would run, and when a job uses the local recipe or the cluster's."""

from __future__ import annotations

import types
from pathlib import Path

import _session
import pytest
from pyspark import SparkContext

import local.spark


def _java(folder: Path, output: str) -> Path:
    java = folder / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(f"#!/bin/sh\necho '{output}' >&2\n")
    java.chmod(0o755)
    return folder


@pytest.mark.parametrize(
    ("output", "version"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_402"', 8),
        ('openjdk version "25" 2025-09-16', 25),
        ('openjdk version "11.0.2-ea"', 11),
        ("something else entirely", None),
    ],
)
def test_java_version_reads_the_major_version_of_every_scheme(output, version):
    assert _session.java_version(output) == version


def test_a_supported_java_from_java_home_passes(tmp_path):
    home = _java(tmp_path / "jdk", 'openjdk version "17.0.15" 2025-04-15')
    assert _session.java_problem({"JAVA_HOME": str(home), "PATH": ""}) is None


def test_java_25_is_refused_naming_java_17(tmp_path):
    home = _java(tmp_path / "jdk", 'openjdk version "25" 2025-09-16')
    problem = _session.java_problem({"JAVA_HOME": str(home), "PATH": ""})
    assert problem == (
        f"{home}/bin/java (from JAVA_HOME={home}) is Java 25: Spark 3.5 runs on Java 8, 11, 17, this project on 17; "
        "install Java 17 and set JAVA_HOME to it"
    )


def test_a_java_home_without_java_and_no_java_at_all_are_named(tmp_path):
    assert _session.java_problem({"JAVA_HOME": str(tmp_path), "PATH": ""}) == (
        f"Java not found (JAVA_HOME={tmp_path} has no bin/java): Spark needs Java 17; "
        "install Java 17 and set JAVA_HOME to it"
    )
    assert _session.java_problem({"PATH": str(tmp_path)}).startswith(
        "Java not found (no JAVA_HOME and no java on PATH): Spark needs Java 17"
    )


def test_java_on_path_is_used_without_java_home(tmp_path):
    home = _java(tmp_path / "jdk", 'openjdk version "11.0.2"')
    assert _session.java_problem({"PATH": str(home / "bin")}) is None


def test_make_run_and_a_job_by_hand_share_one_recipe():
    assert local.spark.local_session is _session.local_session


@pytest.mark.spark
def test_a_job_uses_an_active_session_and_starts_its_own_only_when_no_launcher_did(spark, monkeypatch):
    assert not _session.runs_on_its_own([])  # make run, the tests: the caller's session
    monkeypatch.setattr(SparkContext, "_active_spark_context", None)
    for variable in ("PYSPARK_GATEWAY_PORT", "PYSPARK_SUBMIT_ARGS"):
        monkeypatch.delenv(variable, raising=False)
    assert _session.runs_on_its_own(["--input", "x"])  # python jobs/<job>.py
    assert not _session.runs_on_its_own(["--JOB_RUN_ID", "jr_1"])  # AWS Glue
    monkeypatch.setenv("PYSPARK_SUBMIT_ARGS", "--master yarn pyspark-shell")
    assert not _session.runs_on_its_own([])
    monkeypatch.delenv("PYSPARK_SUBMIT_ARGS")
    monkeypatch.setenv("PYSPARK_GATEWAY_PORT", "41234")  # spark-submit: EMR steps, EMR Serverless
    assert not _session.runs_on_its_own([])


def test_the_iceberg_jar_comes_from_the_installed_wheel_and_its_absence_is_one_line(monkeypatch, capsys):
    jar = _session.iceberg_jar()
    assert jar is not None
    assert jar.name.startswith("iceberg-spark-runtime-3.5_2.12-")  # Scala 2.12, as pyspark 3.5 is
    assert jar.parent.parent.name == "snowpark_connect_deps_iceberg"
    assert _session.iceberg_problem() is None
    monkeypatch.setattr(_session, "ICEBERG_PACKAGE", "no_such_package_here")
    problem = _session.iceberg_problem()
    assert problem.endswith("pip install snowpark-connect-deps-iceberg==1.0.1 (make install does)")
    monkeypatch.setattr(_session, "java_problem", lambda: None)
    with pytest.raises(SystemExit) as exited:
        _session.local_session("never-started")
    assert exited.value.code == 2
    assert capsys.readouterr().err == f"error: {problem}\n"


@pytest.mark.spark
def test_the_recipe_builds_the_session_with_iceberg(spark):
    assert _session.has_iceberg(spark)
    assert spark.conf.get("spark.jars") == str(_session.iceberg_jar())


def _started_with(monkeypatch, **options) -> dict[str, str]:
    """The settings _start_local builds a session with, caught before any JVM starts."""
    import pyspark.sql

    settings = {}

    class Builder:
        def master(self, _):
            return self

        def appName(self, _):
            return self

        def config(self, key, value):
            settings[key] = value
            return self

        def getOrCreate(self):
            return types.SimpleNamespace(sparkContext=types.SimpleNamespace(setLogLevel=lambda _: None))

    monkeypatch.setattr(pyspark.sql.SparkSession, "builder", Builder())
    _session._start_local("datalake-x", "1g", {}, **options)
    return settings


def test_a_job_s_driver_jvm_starts_with_the_raised_compiler_thresholds_and_the_suite_s_without(monkeypatch):
    """Driver JVM options only count as the JVM starts, so they go with the builder's settings (to spark-submit)."""
    options = _started_with(monkeypatch)["spark.driver.extraJavaOptions"].split()
    assert options[0].startswith("-Dlog4j2.configurationFile=")
    assert options[1:] == _session.LOCAL_JVM_OPTIONS.split()
    assert [o for o in options if o.startswith("-XX:Tier4")] == options[1:]
    quiet_only = _started_with(monkeypatch, jvm_options="")["spark.driver.extraJavaOptions"].split()
    assert quiet_only == options[:1]
