"""The one local SparkSession recipe: `make run`, `make bench`, the tests and a job run by hand all run Spark so.

It is defined beside the jobs (jobs/_session.py), which must not import this package: on a cluster only jobs/
and pipelines/ are shipped.
"""

from __future__ import annotations

import sys
from pathlib import Path

_JOBS = str(Path(__file__).resolve().parents[1] / "jobs")
if _JOBS not in sys.path:
    sys.path.insert(0, _JOBS)

from _session import local_session  # noqa: E402  (after the path set-up above)

__all__ = ["local_session"]
