"""Stack settings: the one `datalake:settings` key of each Pulumi.<stack>.yaml, validated by pydantic models.

`load_settings` turns every problem into one message that names each bad key by its dotted path.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

CONFIG_KEY = "datalake:settings"

# The values CloudWatch Logs accepts for a log group's retention.
LogRetentionDays = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
]
StorageClass = Literal["STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"]
# S3 refuses transitions into the infrequent-access classes before an object is 30 days old.
_MIN_IA_DAYS = 30
_TAG_VALUE = r"^[A-Za-z0-9 _.:/=+\-@]{1,256}$"


class Strict(BaseModel):
    """Base of every settings model: unknown keys fail loudly, values never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Problem(Exception):
    """A rule across fields broken at `path` (relative to the model that checks it)."""

    def __init__(self, path: str, value: Any, message: str):
        super().__init__(f"{path}: {value!r} {message}")
        self.path, self.value, self.message = path, value, message


def raise_problems(problems: list[Problem]) -> None:
    """Report every cross-field problem of a model at once (pydantic would stop at the first raise)."""
    if problems:
        raise PydanticCustomError(
            "cross_field",
            "{count} cross-field problem(s)",
            {"count": len(problems), "problems": [(p.path, p.value, p.message) for p in problems]},
        )


class LakeSettings(Strict):
    """Storage: lifecycle per zone, the lake's KMS key, and whether data may be destroyed."""

    raw_transition_days: int = Field(30, ge=1, description="Days after which raw objects move to `raw_storage_class`.")
    raw_storage_class: StorageClass = Field("STANDARD_IA", description="Storage class raw objects move to first.")
    raw_archive_days: int | None = Field(
        365, ge=1, description="Days after which raw objects move to GLACIER; null keeps them in the first tier."
    )
    curated_transition_days: int = Field(
        30, ge=1, description="Days after which curated objects move to `curated_storage_class`."
    )
    curated_storage_class: StorageClass = Field(
        "INTELLIGENT_TIERING", description="Storage class for curated objects (queried, so tiered automatically)."
    )
    scripts_transition_days: int = Field(
        90, ge=1, description="Days after which job code and Lambda artifacts move to INTELLIGENT_TIERING."
    )
    athena_results_expiration_days: int = Field(
        30, ge=1, description="Days after which Athena query results are deleted (results are re-creatable)."
    )
    noncurrent_version_expiration_days: int = Field(
        90, ge=1, description="Days after which overwritten or deleted object versions are removed, in every zone."
    )
    abort_multipart_upload_days: int = Field(
        7, ge=1, description="Days after which incomplete multipart uploads are aborted, in every zone."
    )
    access_log_expiration_days: int = Field(
        365, ge=1, description="Days after which S3 server access logs are deleted from the logs bucket."
    )
    kms_deletion_window_days: int = Field(
        30, ge=7, le=30, description="Waiting period before the lake's KMS key is deleted after a destroy."
    )
    allow_data_destroy: bool = Field(
        False,
        description="Let `pulumi destroy` delete buckets with their objects (force_destroy). Refused for prod.",
    )

    @model_validator(mode="after")
    def _tiers_in_order(self) -> LakeSettings:
        problems = []
        for zone in ("raw", "curated"):
            days, storage_class = getattr(self, f"{zone}_transition_days"), getattr(self, f"{zone}_storage_class")
            if storage_class == "STANDARD_IA" and days < _MIN_IA_DAYS:
                problems.append(
                    Problem(f"{zone}_transition_days", days, f"is below 30, the minimum S3 allows for {storage_class}")
                )
        if self.raw_archive_days is not None and self.raw_archive_days < self.raw_transition_days + _MIN_IA_DAYS:
            problems.append(
                Problem(
                    "raw_archive_days",
                    self.raw_archive_days,
                    f"must be at least raw_transition_days + 30 = {self.raw_transition_days + _MIN_IA_DAYS}",
                )
            )
        raise_problems(problems)
        return self


class Settings(Strict):
    """Everything a stack can change. Later sections (emr, glue, athena, api, ingest) live beside `lake`."""

    environment: Literal["dev", "staging", "prod"] = Field(
        description="Which environment the stack deploys; prod turns on deletion protection."
    )
    owner: str = Field(pattern=_TAG_VALUE, description="Team or person answerable for the stack (`owner` tag).")
    cost_centre: str = Field(pattern=_TAG_VALUE, description="Cost centre billed for the stack (`cost-centre` tag).")
    log_retention_days: LogRetentionDays = Field(
        90, description="Retention of every CloudWatch log group the stack creates."
    )
    lake: LakeSettings = Field(default_factory=LakeSettings, description="Storage zones and the lake's key.")

    @model_validator(mode="after")
    def _prod_keeps_data(self) -> Settings:
        problems = []
        if self.environment == "prod" and self.lake.allow_data_destroy:
            problems.append(Problem("lake.allow_data_destroy", True, "is refused when environment is prod"))
        if self.environment == "prod" and self.log_retention_days < 90:
            problems.append(Problem("log_retention_days", self.log_retention_days, "is below 90, the prod minimum"))
        raise_problems(problems)
        return self

    @property
    def protect_data(self) -> bool:
        """Prod buckets and keys are protected; elsewhere `pulumi destroy` may remove them."""
        return self.environment == "prod"


class SettingsError(ValueError):
    """Invalid stack settings: one line per bad key, each `datalake:settings.<path>: <value> <what is allowed>`."""


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The settings model that holds the key at `loc` (to list the keys it allows)."""
    for part in loc:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _describe(error: dict) -> str:
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx", {})
    messages = {
        "greater_than_equal": lambda: f"{value!r} is below the minimum {ctx.get('ge')}",
        "greater_than": lambda: f"{value!r} must be greater than {ctx.get('gt')}",
        "less_than_equal": lambda: f"{value!r} is above the maximum {ctx.get('le')}",
        "less_than": lambda: f"{value!r} must be less than {ctx.get('lt')}",
        "literal_error": lambda: f"{value!r} is not allowed; allowed: {ctx.get('expected')}",
        "missing": lambda: "is required",
        "string_pattern_mismatch": lambda: f"{value!r} does not match the pattern {ctx.get('pattern')}",
    }
    if kind in messages:
        return messages[kind]()
    return f"{value!r} is invalid: {error['msg']}"


def _format(error: dict, root: type[BaseModel]) -> list[str]:
    loc = tuple(error["loc"])
    if error["type"] == "cross_field":
        prefix = ".".join(str(p) for p in loc)
        return [
            f"{CONFIG_KEY}.{prefix + '.' if prefix else ''}{path}: {value!r} {message}"
            for path, value, message in error["ctx"]["problems"]
        ]
    path = f"{CONFIG_KEY}.{'.'.join(str(p) for p in loc)}"
    if error["type"] == "extra_forbidden":
        parent = _model_at(root, loc[:-1])
        allowed = ", ".join(sorted(parent.model_fields)) if parent else "none"
        return [f"{path}: is not a known setting; allowed here: {allowed}"]
    return [f"{path}: {_describe(error)}"]


def load_settings(raw: Any) -> Settings:
    """Validate the raw `datalake:settings` object; raise SettingsError listing every problem."""
    if raw is None:
        raise SettingsError(f"{CONFIG_KEY}: is missing; add it to Pulumi.<stack>.yaml (see the README)")
    if not isinstance(raw, dict):
        raise SettingsError(f"{CONFIG_KEY}: must be a mapping, got {type(raw).__name__}")
    try:
        return Settings.model_validate(raw)
    except ValidationError as error:
        lines = [line for e in error.errors() for line in _format(e, Settings)]
        raise SettingsError("invalid stack settings:\n  " + "\n  ".join(lines)) from None
