"""settings_errors.py alone, on small models of its own: every broken rule of a model in one message, each pydantic
error one line naming its key; then on the stack settings: every cross-field rule goes through `rule`."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo

from settings import Settings, SettingsError, load_settings
from settings_errors import Problem, error_lines, rule, rules_of


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    low: int = Field(1, ge=0)
    high: int = Field(2, le=10)
    mode: Literal["a", "b"] = "a"

    @rule
    def _low_below_high(self, _info: ValidationInfo) -> list[Problem]:
        """low is below high."""
        return [] if self.low < self.high else [Problem("low", self.low, f"is not below high {self.high}")]

    @rule
    def _b_needs_a_wide_range(self, _info: ValidationInfo) -> list[Problem]:
        """mode b needs high - low of at least 5."""
        return [] if self.mode == "a" or self.high - self.low >= 5 else [Problem("mode", "b", "needs a wide range")]


class Outer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    inner: Inner = Field(default_factory=Inner)
    name: str = Field("x", pattern=r"^[a-z]+$")


def lines(raw: dict) -> list[str]:
    with pytest.raises(ValidationError) as error:
        Outer.model_validate(raw)
    return error_lines(error.value, Outer)


def test_the_first_broken_rule_reports_every_broken_rule_of_its_model():
    assert lines({"inner": {"low": 5, "high": 3, "mode": "b"}}) == [
        "datalake:settings.inner.low: 5 is not below high 3",
        "datalake:settings.inner.mode: 'b' needs a wide range",
    ]
    # The second rule alone is reported as well: the helper is not tied to the first.
    assert lines({"inner": {"low": 1, "high": 3, "mode": "b"}}) == [
        "datalake:settings.inner.mode: 'b' needs a wide range"
    ]


def test_each_field_error_is_one_line_naming_its_key_and_the_limit():
    assert lines({"inner": {"low": -1, "high": 11, "mode": "c", "hgih": 1}, "name": "X1"}) == [
        "datalake:settings.inner.low: -1 is below the minimum 0",
        "datalake:settings.inner.high: 11 is above the maximum 10",
        "datalake:settings.inner.mode: 'c' is not allowed; allowed: 'a' or 'b'",
        "datalake:settings.inner.hgih: is not a known setting; allowed here: high, low, mode",
        "datalake:settings.name: 'X1' does not match the pattern ^[a-z]+$",
    ]


def test_an_error_without_a_wording_of_its_own_still_names_its_key():
    (line,) = lines({"inner": {"low": "many"}})
    assert line.startswith("datalake:settings.inner.low: 'many' is invalid: ")


def test_rules_are_listed_in_the_order_they_are_declared():
    assert [check.__name__ for check in rules_of(Inner)] == ["_low_below_high", "_b_needs_a_wide_range"]


def sections(model: type[BaseModel]) -> list[type[BaseModel]]:
    found = [model]
    for field in model.model_fields.values():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            found += sections(field.annotation)
    return found


@pytest.mark.parametrize("model", sections(Settings), ids=lambda model: model.__name__)
def test_every_cross_field_rule_of_the_stack_settings_goes_through_rule(model):
    """A bare model_validator that raised would hide the model's other broken rules from the one message."""
    validators = model.__pydantic_decorators__.model_validators
    assert [name for name, v in validators.items() if not hasattr(v.func, "check")] == []


BROKEN_TOGETHER = {
    "lake": (
        {"raw_transition_days": 10, "raw_archive_days": 20},
        ["lake.raw_transition_days", "lake.raw_archive_days"],
    ),
    "glue": (
        {"schema_update_behavior": "UPDATE_IN_DATABASE", "schema_delete_behavior": "DELETE_FROM_DATABASE"},
        ["glue.schema_update_behavior", "glue.schema_delete_behavior"],
    ),
    "ingest": (
        {"pandas_layer_arns": {"eu-west-1": "arn:aws:lambda:us-east-1:1:layer:x:1", "us-east-1": "nope"}},
        ["ingest.pandas_layer_arns.eu-west-1", "ingest.pandas_layer_arns.us-east-1"],
    ),
}


@pytest.mark.parametrize("section", BROKEN_TOGETHER)
def test_every_broken_rule_of_a_section_is_named_in_the_one_message(section):
    change, keys = BROKEN_TOGETHER[section]
    with pytest.raises(SettingsError) as error:
        load_settings({"environment": "prod", "owner": "o", "cost_centre": "c", section: change})
    named = [line.split(": ")[0].strip() for line in str(error.value).splitlines()[1:]]
    assert named == [f"datalake:settings.{key}" for key in keys]
