"""The ingest Lambda's configuration, from the environment the program sets: where it stages, and what it refuses.

It refuses to start when a write would land under the prefix that triggers it, and names the files too large for
its memory (pipelines/orders.py derives that limit), which the orders Spark job takes instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pipelines import orders as spec


class ConfigError(ValueError):
    """The function's environment is incomplete or would make it trigger itself."""


FILE_TOO_LARGE = "file too large for the ingest Lambda"


@dataclass(frozen=True)
class Config:
    curated_bucket: str
    # Where its Parquet is staged for the merge step (pipelines/orders.py INGEST_STAGING), in the curated bucket.
    staging_prefix: str
    quarantine_prefix: str
    watched_prefix: str | None = None
    # The function's memory, which Lambda sets in AWS_LAMBDA_FUNCTION_MEMORY_SIZE; None (outside Lambda): no limit.
    memory_mb: int | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        missing = [n for n in ("CURATED_BUCKET", "STAGING_PREFIX", "QUARANTINE_PREFIX") if env.get(n) is None]
        if missing or not env["CURATED_BUCKET"]:
            raise ConfigError(f"orders_ingest: set the environment variables {missing or ['CURATED_BUCKET']}")
        memory = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        return cls(
            curated_bucket=env["CURATED_BUCKET"],
            staging_prefix=env["STAGING_PREFIX"],
            quarantine_prefix=env["QUARANTINE_PREFIX"],
            watched_prefix=env.get("WATCHED_PREFIX"),
            memory_mb=int(memory) if memory else None,
        )

    @property
    def max_file_bytes(self) -> int | None:
        """The largest file this function reads whole with its memory (pipelines/orders.py)."""
        return spec.ingest_max_file_bytes(self.memory_mb) if self.memory_mb else None

    def too_large(self, size: int) -> str | None:
        """Why a file of `size` bytes is not for this function, or None."""
        limit = self.max_file_bytes
        if limit is None or size <= limit:
            return None
        step = spec.PIPELINE.step("orders")
        emr_input, glue_input = dict(step.args)["--input"], dict(step.glue_inputs)["--input"]
        return (
            f"{FILE_TOO_LARGE}: {size} bytes, above the {limit} bytes this function reads with {self.memory_mb} MB "
            f"of memory; the orders Spark job takes it (upload it under {emr_input.prefix} and start the orders "
            f"state machine, or under {glue_input.prefix} for the Glue job)"
        )

    def refuse_recursion(self, source_bucket: str, source_key: str) -> None:
        """Raise before touching the object if this function would write under the watched prefix of the source
        bucket: every such write would invoke it again (and quarantine copies keep the `.json` suffix)."""
        if self.watched_prefix is None:
            return
        looping = [f"{self.quarantine_prefix}{source_key}"]
        if self.curated_bucket == source_bucket:
            # Output names are flat (no `/`): the prefix decides where they land.
            looping.append(self.staging_prefix)
        looping = [k for k in looping if k.startswith(self.watched_prefix)]
        if looping:
            raise ConfigError(
                f"orders_ingest: refusing to write {looping} under the watched prefix {self.watched_prefix!r} of "
                f"s3://{source_bucket} (check STAGING_PREFIX, QUARANTINE_PREFIX and WATCHED_PREFIX)"
            )
