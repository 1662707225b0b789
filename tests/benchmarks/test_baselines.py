"""benchmarks/baselines: the naive programs start Spark as a user would, not with the jobs' compiler setting."""

from __future__ import annotations

import sys
import types

from benchmarks.baselines import _args


def test_a_baseline_runs_on_the_jvm_defaults_and_the_recipe_otherwise(monkeypatch):
    started = {}

    def local_session(app_name, **options):
        started.update(app_name=app_name, **options)

    monkeypatch.setitem(sys.modules, "local.spark", types.SimpleNamespace(local_session=local_session))
    _args.session("kindle-naive")
    assert started == {"app_name": "datalake-bench-kindle-naive", "jvm_options": ""}
