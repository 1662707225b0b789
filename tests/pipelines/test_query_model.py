"""pipelines/query_model.py: what each parameter accepts, and the queries as the data the query API is shipped."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest

from pipelines.queries import load_queries, parse_query
from pipelines.query_model import ParameterError, Query, from_document, to_document
from tests.pipelines.test_queries import FULL, probe, write


def test_describe_is_json_ready(tmp_path):
    query = parse_query(write(tmp_path, FULL, "store_items"))
    assert query.describe()["parameters"][1] == {
        "name": "min_rating",
        "type": "number",
        "description": "Minimum average rating",
        "required": False,
        "default": "4.5",
        "minimum": "0",
        "maximum": "5",
    }
    assert query.describe()["parameters"][4]["choices"] == ["English", "Spanish"]


INT = 'n int min=-5 max=1000 "n"'
NUMBER = 'x number min=-1 max=100000 "x"'
DATE = 'd date min=2000-01-01 max=2030-12-31 "d"'
STRING = 's string pattern=^[^;]{0,300}$ max_length=300 "s"'
ENUM = 'e enum choices=free,paid,it\'s "e"'


@pytest.mark.parametrize(
    ("declaration", "value", "allowed"),
    [
        (INT, True, "an integer from -5 to 1000"),
        (INT, "1e3", "an integer from -5 to 1000"),
        (INT, "1; DROP TABLE t", "an integer"),
        (INT, " 42", "an integer"),
        (INT, "4_2", "an integer"),
        (INT, 42.0, "an integer"),
        (INT, 1001, "an integer from -5 to 1000"),
        (INT, -6, "an integer"),
        (INT, "٤٢", "an integer"),  # Arabic-Indic digits: int() would take them
        (INT, None, "an integer"),
        (NUMBER, float("nan"), "a decimal number from -1 to 100000"),
        (NUMBER, float("inf"), "a decimal number"),
        (NUMBER, "1e3", "a decimal number"),
        (NUMBER, "NaN", "a decimal number"),
        (NUMBER, ".5", "a decimal number"),
        (NUMBER, False, "a decimal number"),
        (NUMBER, 100000.01, "a decimal number"),
        (NUMBER, Decimal("1E-40"), "a decimal number"),
        (NUMBER, "1 OR 1=1", "a decimal number"),
        (DATE, "2024-02-30", "a date YYYY-MM-DD from 2000-01-01 to 2030-12-31"),
        (DATE, "20240101", "a date"),
        (DATE, "2024-01-01' OR '1'='1", "a date"),
        (DATE, "1999-12-31", "a date"),
        (DATE, datetime(2024, 1, 1, 12), "a date"),
        (STRING, 42, "a string of at most 300 characters"),
        (STRING, "a;b", "matching ^[^;]{0,300}$"),
        (STRING, "x" * 301, "at most 300 characters"),
        (STRING, "line\nbreak", "a string"),
        (STRING, "nul\x00byte", "a string"),
        (STRING, "\ud800", "a string"),
        (ENUM, "PAID", "one of free, paid, it's"),
        (ENUM, "paid' OR '1'='1", "one of free, paid"),
        (ENUM, ["paid"], "one of"),
    ],
)
def test_refused_values_name_parameter_value_and_what_is_allowed(tmp_path, declaration, value, allowed):
    query = probe(tmp_path, declaration)
    name = query.parameters[0].name
    with pytest.raises(ParameterError) as caught:
        query.parameters[0].validate(value)
    assert caught.value.parameter == name
    message = str(caught.value)
    assert message.startswith(f"parameter {name}: ")
    assert allowed in message
    assert repr(value)[:40] in message


def test_long_values_are_cut_short_in_errors(tmp_path):
    query = probe(tmp_path, STRING)
    with pytest.raises(ParameterError) as caught:
        query.parameters[0].validate("'" * 100_000)
    assert len(str(caught.value)) < 200


def test_the_shipped_document_gives_back_every_query_exactly():
    queries = load_queries()
    assert from_document(to_document(queries)) == queries
    data = json.loads(to_document(queries))["top_stores"]
    assert Query.from_data(data).sql == queries["top_stores"].sql
