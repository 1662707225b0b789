"""functions/ingest/config.py: the environment read whole or refused, the recursion guard and the file-size limit."""

from __future__ import annotations

import pytest

from functions.ingest.config import FILE_TOO_LARGE, Config, ConfigError
from pipelines import orders as spec

ENV = {
    "CURATED_BUCKET": "curated",
    "STAGING_PREFIX": "staging/orders/ingested_items/",
    "QUARANTINE_PREFIX": "orders/quarantine/",
    "WATCHED_PREFIX": "orders/incoming/",
}


def test_the_environment_the_program_sets_is_read_whole():
    config = Config.from_env(ENV | {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "2048"})
    assert config == Config("curated", "staging/orders/ingested_items/", "orders/quarantine/", "orders/incoming/", 2048)


@pytest.mark.parametrize("missing", ["CURATED_BUCKET", "STAGING_PREFIX", "QUARANTINE_PREFIX"])
def test_a_missing_variable_is_named(missing):
    with pytest.raises(ConfigError, match=missing):
        Config.from_env({k: v for k, v in ENV.items() if k != missing})
    with pytest.raises(ConfigError, match="CURATED_BUCKET"):
        Config.from_env(ENV | {"CURATED_BUCKET": ""})


def test_writes_under_the_watched_prefix_are_refused_before_anything_is_read():
    Config.from_env(ENV).refuse_recursion("raw", "orders/incoming/x.json")
    quarantine_inside = Config.from_env(ENV | {"QUARANTINE_PREFIX": "orders/incoming/bad/"})
    with pytest.raises(ConfigError, match=r"refusing to write \['orders/incoming/bad/orders/incoming/x.json'\]"):
        quarantine_inside.refuse_recursion("raw", "orders/incoming/x.json")
    # The staging prefix only matters when the curated bucket is the source bucket.
    curated_inside = Config.from_env(ENV | {"STAGING_PREFIX": "orders/incoming/parquet/"})
    curated_inside.refuse_recursion("raw", "orders/incoming/x.json")
    with pytest.raises(ConfigError, match=r"\['orders/incoming/parquet/'\] under the watched prefix"):
        curated_inside.refuse_recursion("curated", "orders/incoming/x.json")
    # Without a watched prefix (outside Lambda) there is nothing to refuse.
    unwatched = {k: v for k, v in ENV.items() if k != "WATCHED_PREFIX"} | {"QUARANTINE_PREFIX": "orders/incoming/bad/"}
    Config.from_env(unwatched).refuse_recursion("raw", "orders/incoming/x.json")


def test_a_file_above_the_limit_names_the_roads_that_take_it():
    config = Config.from_env(ENV | {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024"})
    limit = spec.ingest_max_file_bytes(1024)
    assert config.too_large(limit) is None
    reason = config.too_large(limit + 1)
    assert reason.startswith(f"{FILE_TOO_LARGE}: {limit + 1} bytes, above the {limit} bytes")
    assert f"under {spec.EXPORTS.prefix} and start the orders state machine" in reason
    assert f"under {spec.GLUE_EXPORTS.prefix} for the Glue job" in reason


def test_the_file_limit_follows_the_memory_setting():
    assert spec.ingest_max_file_bytes(1024) < spec.ingest_max_file_bytes(2048) < spec.ingest_max_file_bytes(10240)
    # The default 2048 MB reads a 100 MB export (the benchmark's reference path peaks near 7x the file).
    assert spec.ingest_max_file_bytes(2048) > 100 * 1024 * 1024
    assert spec.ingest_max_file_bytes(10240) * spec.INGEST_MEMORY_PER_FILE_BYTE <= (10240 - 150) * 1024 * 1024
    assert (
        Config.from_env({"CURATED_BUCKET": "c", "STAGING_PREFIX": "", "QUARANTINE_PREFIX": ""}).max_file_bytes is None
    )
