"""The quarantine: what a rejected record's row holds (QUARANTINE_SCHEMA), and how a job's classified rows become
such rows naming their file and position. _publish.Staging writes them to `<output>/_quarantine/<input>/`.

A job's classify step gives every row REASON (why it is quarantined; null when it is kept) and RECORD (the source
record as read). Shipped beside the jobs (in the `--py-files` archive), never run on its own.
"""

from __future__ import annotations

from _read import FILE, POSITION_COLUMNS, RECORD, Origin, number_rows
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

QUARANTINE_SCHEMA = T.StructType(
    [
        T.StructField("source", T.StringType(), False),
        T.StructField("file", T.StringType(), True),
        T.StructField("position", T.StringType(), True),
        T.StructField("reason", T.StringType(), False),
        T.StructField("record", T.StringType(), True),
    ]
)
REASON = "reason"


def quarantine_rows(
    source: str, reason: Column, record: Column, *, file: Column | None = None, position: Column | None = None
) -> list[Column]:
    """The quarantine columns (QUARANTINE_SCHEMA), for a select over rows that failed a check."""
    return [
        F.lit(source).alias("source"),
        (F.lit(None) if file is None else file).cast("string").alias("file"),
        (F.lit(None) if position is None else position).cast("string").alias("position"),
        reason.cast("string").alias("reason"),
        record.cast("string").alias("record"),
    ]


def rejected(classified: DataFrame) -> DataFrame:
    """The classified rows to quarantine (REASON set): REASON, RECORD and the columns placing each in its file."""
    positions = [c for c in POSITION_COLUMNS if c in classified.columns]
    return classified.where(F.col(REASON).isNotNull()).select(REASON, RECORD, *positions)


def positioned_quarantine(
    spark: SparkSession,
    classified: DataFrame,
    stats: list,
    source: str,
    *,
    unit: str = "line",
    origin: Origin | None = None,
) -> DataFrame:
    """The `rejected` rows of a `with_position` read as quarantine rows naming their file and line; `stats` are the
    read's `split_stats` (see _read.number_rows for `unit` and `origin`)."""
    numbered = number_rows(spark, rejected(classified), stats, unit=unit, **({"origin": origin} if origin else {}))
    return numbered.select(
        *quarantine_rows(source, F.col(REASON), F.col(RECORD), file=F.col(FILE), position=F.col("position"))
    )
