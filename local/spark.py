"""The one local SparkSession recipe: `make run`, `make bench` and the tests all run Spark like this."""

from __future__ import annotations

import os
import sys


def local_session(app_name: str, *, driver_memory: str = "3g", **conf: str):
    """A `local[2]` session with the UI off, few shuffle partitions and UTC; `conf` adds or overrides settings."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession  # noqa: PLC0415  (Spark starts only when a session is asked for)

    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.session.timeZone": "UTC",
        "spark.driver.memory": driver_memory,
        **conf,
    }
    builder = SparkSession.builder.master("local[2]").appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
