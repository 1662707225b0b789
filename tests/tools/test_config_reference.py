"""tools/config_reference.py (`make docs`): every key, every cross-field rule and every factory default documented."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel, Field, model_validator

from settings import IngestSettings, Settings
from tools import config_reference


class _Example(BaseModel):
    low: int = 1
    high: int = 2

    @model_validator(mode="after")
    def _ordered(self):
        """`low` is at most `high`, a rule that
        wraps onto a second line.

        Why: anything after the first paragraph is for readers of the code.
        """
        return self

    @model_validator(mode="before")
    @classmethod
    def _not_a_rule(cls, data):
        return data


def test_a_rule_is_the_first_paragraph_of_its_after_validator_docstring():
    assert config_reference.rules(_Example) == ["`low` is at most `high`, a rule that wraps onto a second line."]


def test_a_rule_without_a_docstring_stops_the_generator():
    class Bare(BaseModel):
        @model_validator(mode="after")
        def _silent(self):
            return self

    with pytest.raises(ValueError, match=r"Bare\._silent needs a docstring"):
        config_reference.rules(Bare)


def test_the_reference_states_the_cross_field_rules_of_every_section():
    text = config_reference.render()
    assert "| `datalake:settings.lake` | `raw_transition_days` and `curated_transition_days` are at least 30" in text
    for model, key in config_reference._sections(Settings, "datalake:settings"):
        for rule in config_reference.rules(model):
            assert f"| `{key}` | {rule} |" in text


def test_the_layer_arns_said_to_be_below_are_listed():
    text = config_reference.render()
    link = "[see below](#default-of-datalakesettingsingestpandas_layer_arns)"
    assert f"| `datalake:settings.ingest.pandas_layer_arns` | dict | {link} |" in text
    for region, arn in IngestSettings().pandas_layer_arns.items():
        assert f"| `{region}` | `{arn}` |" in text
    assert text.index("see below") < text.index("### Default of `datalake:settings.ingest.pandas_layer_arns`")


def test_every_see_below_links_to_a_heading_the_reference_has():
    text = config_reference.render()
    headings = {
        config_reference._anchor(line.lstrip("#").strip()) for line in text.splitlines() if line.startswith("#")
    }
    links = re.findall(r"\[see below\]\(#([^)]+)\)", text)
    assert links
    assert set(links) <= headings
    assert text.count("see below") == len(links), "a 'see below' that links nowhere"


class _Empty(BaseModel):
    tags: dict[str, str] = Field(default_factory=dict, description="Extra tags.")
    names: list[str] = Field(default_factory=list, description="Extra names.")


def test_an_empty_factory_default_is_shown_in_its_row_with_nothing_below(monkeypatch):
    monkeypatch.setattr(config_reference, "Settings", _Empty)
    text = config_reference.render()
    assert "| `datalake:settings.tags` | dict | `{}` |" in text
    assert "| `datalake:settings.names` | list of str | `[]` |" in text
    assert "see below" not in text
    assert "Default of" not in text


@pytest.fixture
def readme(tmp_path, monkeypatch):
    path = tmp_path / "README.md"
    monkeypatch.setattr(config_reference, "README", path)
    monkeypatch.setattr(config_reference, "ROOT", tmp_path)
    return path


def test_make_docs_says_whether_anything_changed(readme, capsys):
    readme.write_text(f"intro\n{config_reference.BEGIN}\nold\n{config_reference.END}\nrest\n")
    assert config_reference.main([]) == 0
    assert "updated the configuration reference in README.md" in capsys.readouterr().out
    assert readme.read_text() == f"intro\n{config_reference.render()}\nrest\n"
    assert config_reference.main([]) == 0
    assert "up to date: nothing changed" in capsys.readouterr().out


def test_check_reports_a_stale_reference_without_writing(readme, capsys):
    stale = f"{config_reference.BEGIN}\nold\n{config_reference.END}\n"
    readme.write_text(stale)
    assert config_reference.main(["--check"]) == 1
    assert "stale: run `make docs`" in capsys.readouterr().err
    assert readme.read_text() == stale


def test_a_readme_without_the_markers_is_one_line(readme, capsys):
    readme.write_text("no markers here\n")
    assert config_reference.main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith("make docs: the README has lost the markers")
    assert err.count("\n") == 1
