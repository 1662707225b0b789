"""local/spark.py: make run, make bench and the tests run Spark by the jobs' own local recipe."""

import pytest

import local.spark


def test_it_is_the_jobs_recipe_not_a_second_one():
    import _session

    assert local.spark.local_session is _session.local_session


@pytest.mark.spark
def test_the_recipe_runs_in_utc_without_a_ui(spark):
    assert local.spark.local_session("again") is spark  # one session per process: the running one is reused
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.conf.get("spark.ui.enabled") == "false"
