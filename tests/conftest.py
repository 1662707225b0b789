"""Fixtures shared by every test: the SparkSession, the shared datasets, and (in tests/infra.py) the Pulumi mocks."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"

for path in (ROOT, ROOT / "jobs"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

# pyspark.testing imports pandas-on-Spark, whose pyspark 3.5 code still names np.NaN at import time; numpy 2 (the
# only numpy with wheels for Python 3.13) removed that alias. Nothing of ours uses pandas-on-Spark: restoring the one
# alias in the test process lets pyspark.testing import on every supported Python.
if not hasattr(numpy, "NaN"):
    numpy.NaN = numpy.nan


@pytest.fixture(scope="session")
def spark():
    """One local SparkSession for the whole run: 2 cores, UI off, few shuffle partitions."""
    from local.spark import local_session

    # The JVM's own compiler thresholds: this JVM lives for the whole suite, unlike a job's (LOCAL_JVM_OPTIONS).
    session = local_session("datalake-tests", driver_memory="2g", jvm_options="", **{"spark.default.parallelism": "4"})
    yield session
    session.stop()


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """../shared/datasets beside the checkout; tests that use it skip cleanly when it is absent."""
    if not SHARED_DATASETS.is_dir():
        pytest.skip(f"{SHARED_DATASETS} is absent (only CI and developers' machines have it)")
    return SHARED_DATASETS


@pytest.fixture(scope="session")
def stack_run():
    """`stack_run("dev")`: the whole program run once per stack file under Pulumi mocks (cached for the session)."""
    from tests.infra import run_program

    runs = {}

    def run(stack: str):
        if stack not in runs:
            runs[stack] = run_program(stack)
            assert runs[stack].error is None, f"Pulumi.{stack}.yaml failed under mocks: {runs[stack].error}"
        return runs[stack]

    return run


@pytest.fixture
def apply_guard():
    """Fails the test when an `apply` callback that holds assertions never ran (see tests/infra.ApplyGuard)."""
    from tests.infra import ApplyGuard

    guard = ApplyGuard()
    yield guard
    guard.verify()
