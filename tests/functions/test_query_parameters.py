"""functions/query_parameters.py: values checked by their declarations and written as one safe Athena literal each,
or inlined where each `?` stands."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlglot
from sqlglot import exp

from functions.query_parameters import inline_parameters, render_parameters
from pipelines import PIPELINES
from pipelines.queries import load_queries, parse_query
from pipelines.query_model import ParameterError
from tests.pipelines.test_queries import FULL, probe, write
from tests.pipelines.test_query_model import DATE, ENUM, INT, NUMBER, STRING

QUERIES = load_queries()


def test_check_queries_inline_their_defaults_for_step_functions():
    # Step Functions runs the check query without ExecutionParameters: no `?` may remain.
    for pipeline in PIPELINES.values():
        query = QUERIES[pipeline.check_query]
        sql = inline_parameters(query)
        assert not list(sqlglot.parse_one(sql, read="trino").find_all(exp.Placeholder)), pipeline.check_query
    assert "HAVING count(*) >= 1\n" in inline_parameters(QUERIES["top_stores"])
    assert inline_parameters(QUERIES["songplays_per_hour"]) == QUERIES["songplays_per_hour"].sql


def test_inline_parameters_puts_each_literal_at_its_placeholder(tmp_path):
    query = parse_query(write(tmp_path, FULL, "store_items"))
    sql = inline_parameters(query, {"store": "Penguin's", "limit_pages": 50})
    assert "WHERE store = 'Penguin''s')" in sql
    assert "'?' AS not_a_placeholder" in sql
    assert "-- a comment with ?" in sql
    assert (
        "r.average_rating >= 4.5 /* ? */ AND r.publication_date >= DATE '2020-01-01' AND r.print_length_pages <= 50"
        in sql
    )
    assert "AND r.language = 'English' AND" in sql


@pytest.mark.parametrize(
    ("declaration", "value", "literal"),
    [
        (INT, 42, "42"),
        (INT, "42", "42"),
        (INT, -5, "-5"),
        (INT, "1000", "1000"),
        (NUMBER, 2.5, "2.5"),
        (NUMBER, 0.1, "0.1"),
        (NUMBER, 1e-7, "0.0000001"),
        (NUMBER, 3, "3"),
        (NUMBER, "99999.125", "99999.125"),
        (NUMBER, Decimal("1E+3"), "1000"),
        (NUMBER, "-0.5", "-0.5"),
        (DATE, "2024-02-29", "DATE '2024-02-29'"),
        (DATE, date(2000, 1, 1), "DATE '2000-01-01'"),
        (STRING, "plain", "'plain'"),
        (STRING, "", "''"),
        (STRING, "x' OR '1'='1", "'x'' OR ''1''=''1'"),
        (STRING, "C:\\", "'C:\\'"),
        (STRING, "\\' OR 1=1 --", "'\\'' OR 1=1 --'"),
        (STRING, "it\u2019s \u201csmart\u201d", "'it\u2019s \u201csmart\u201d'"),
        (STRING, "''", "''''''"),
        (STRING, "Zoë 😀", "'Zoë 😀'"),
        (ENUM, "paid", "'paid'"),
        (ENUM, "it's", "'it''s'"),
    ],
)
def test_valid_values_render_as_one_literal(tmp_path, declaration, value, literal):
    query = probe(tmp_path, declaration)
    name = query.parameters[0].name
    assert render_parameters(query, {name: value}) == [literal]


def test_worst_case_string_still_fits_athena_parameter_limit(tmp_path):
    query = probe(tmp_path, 's string pattern=^.*$ max_length=500 "s"')
    (literal,) = render_parameters(query, {"s": "'" * 500})
    assert len(literal) == 1002
    assert literal == "'" + "''" * 500 + "'"


def test_unknown_missing_and_default_parameters(tmp_path):
    query = parse_query(write(tmp_path, FULL, "store_items"))
    with pytest.raises(ParameterError, match="unknown parameter 'shop' for store_items; it takes: store, ") as caught:
        render_parameters(query, {"store": "Penguin", "shop": "x"})
    assert caught.value.parameter == "shop"
    with pytest.raises(ParameterError, match="missing parameter 'store': a string of at most 40") as caught:
        render_parameters(query, {"since": "2021-01-01"})
    assert caught.value.parameter == "store"
    assert render_parameters(query, {"store": "Penguin's", "limit_pages": "50"}) == [
        "'Penguin''s'",
        "4.5",
        "DATE '2020-01-01'",
        "50",
        "'English'",
    ]
    with pytest.raises(ParameterError, match="must be an object"):
        render_parameters(query, ["Penguin"])  # type: ignore[arg-type]
