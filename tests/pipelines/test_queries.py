"""queries/*.sql and their parameter model: header parsing, validation, safe literals and the DuckDB translation."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from pipelines import PIPELINES, all_tables
from pipelines.queries import (
    Parameter,
    ParameterError,
    Query,
    QueryFileError,
    inline_parameters,
    load_queries,
    parse_query,
    render_parameters,
    to_duckdb,
)

QUERIES = load_queries()


def write(tmp_path: Path, text: str, name: str = "q") -> Path:
    path = tmp_path / f"{name}.sql"
    path.write_text(text, encoding="utf-8")
    return path


def probe(tmp_path: Path, declaration: str) -> Query:
    """A one-parameter query `SELECT ? AS v` with the given `@param` line, to test a type in isolation."""
    return parse_query(write(tmp_path, f"-- @description d\n-- @pipeline p\n-- @param {declaration}\nSELECT ? AS v\n"))


# --- the repository's queries ---------------------------------------------------------------------------------------


def test_every_pipeline_has_its_check_query_and_it_runs_without_values():
    for pipeline in PIPELINES.values():
        query = QUERIES[pipeline.check_query]
        assert query.pipeline == pipeline.name
        assert all(not p.required for p in query.parameters), pipeline.check_query
        assert len(render_parameters(query, {})) == len(query.parameters)


def test_every_query_reads_declared_tables_of_its_own_pipeline():
    glue_names = {t.glue_name: t.pipeline for t in all_tables()}
    for query in QUERIES.values():
        assert query.pipeline in PIPELINES, query.name
        assert query.tables, query.name
        assert {glue_names.get(t) for t in query.tables} == {query.pipeline}, (query.name, query.tables)


def test_each_dataset_has_parameterised_queries_beyond_its_check():
    for pipeline in PIPELINES:
        others = [q for q in QUERIES.values() if q.pipeline == pipeline and q.name != PIPELINES[pipeline].check_query]
        assert any(any(p.required for p in q.parameters) for q in others), pipeline


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_scanner_agrees_with_sqlglot_on_tables_and_placeholders(name):
    # The module finds tables and `?` without sqlglot (the Lambda has none); sqlglot's parser is the reference here.
    query = QUERIES[name]
    tree = sqlglot.parse_one(query.sql, read="trino")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    assert {t.name for t in tree.find_all(exp.Table)} - ctes == set(query.tables)
    assert len(list(tree.find_all(exp.Placeholder))) == len(query.parameters)
    assert tree.key == "select"


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


def test_sql_is_the_file_without_its_header_or_final_semicolon(tmp_path):
    path = write(tmp_path, "-- @description d\n-- @pipeline kindle\n-- free comment\n\nSELECT 1 AS x\nFROM t;\n\n")
    assert parse_query(path).sql == "SELECT 1 AS x\nFROM t"


# --- header syntax --------------------------------------------------------------------------------------------------

FULL = """\
-- @description Items of one store
-- @description (second line).
-- @pipeline kindle
-- A free comment, not a directive.
-- @param store string pattern=^[\\w\\x20&']{1,40}$ max_length=40 "The store, e.g. \\"Penguin\\""
-- @param min_rating number min=0 max=5 default=4.5 "Minimum average rating"
-- @param since date min=2000-01-01 max=2100-12-31 default=2020-01-01 "Published on or after"
-- @param limit_pages int min=1 max=5000 default=300 "Most pages"
-- @param language enum choices=English,Spanish default="English" "Language"
WITH recent AS (SELECT * FROM kindle_items WHERE store = ?)
SELECT r.title, '?' AS not_a_placeholder, "odd ""q"" name" -- a comment with ?
FROM recent AS r JOIN kindle_item_images AS i ON i.parent_asin = r.parent_asin
WHERE r.average_rating >= ? /* ? */ AND r.publication_date >= ? AND r.print_length_pages <= ?
  AND r.language = ? AND extract(year FROM r.publication_date) > 2000
  AND r.parent_asin IN (SELECT parent_asin FROM kindle_item_videos)
LIMIT 10
"""


def test_a_full_header_parses_to_exact_declarations(tmp_path):
    query = parse_query(write(tmp_path, FULL, "store_items"))
    assert query.name == "store_items"
    assert query.description == "Items of one store (second line)."
    assert query.pipeline == "kindle"
    assert query.tables == ("kindle_item_images", "kindle_item_videos", "kindle_items")
    assert query.parameters == (
        Parameter("store", "string", 'The store, e.g. "Penguin"', pattern=r"^[\w\x20&']{1,40}$", max_length=40),
        Parameter("min_rating", "number", "Minimum average rating", Decimal("4.5"), Decimal(0), Decimal(5)),
        Parameter("since", "date", "Published on or after", date(2020, 1, 1), date(2000, 1, 1), date(2100, 12, 31)),
        Parameter("limit_pages", "int", "Most pages", 300, 1, 5000),
        Parameter("language", "enum", "Language", "English", choices=("English", "Spanish")),
    )
    assert query.parameter("store").required
    assert not query.parameter("language").required


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


HEADER = "-- @description d\n-- @pipeline kindle\n"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("-- @pipeline kindle\nSELECT 1", 1, "missing @description"),
        ("-- @description d\nSELECT 1", 1, "missing @pipeline"),
        (HEADER + "-- @pipeline orders\nSELECT 1", 3, "@pipeline must be given once"),
        (HEADER + "-- @owner me\nSELECT 1", 3, "unknown directive @owner"),
        (HEADER + '-- @param x float min=0 max=1 "d"\nSELECT ?', 3, "unknown type 'float'"),
        (HEADER + '-- @param x int min=0 "d"\nSELECT ?', 3, "needs ['max']"),
        (HEADER + '-- @param x int min=0 max=9 pattern=x "d"\nSELECT ?', 3, "not ['pattern']"),
        (HEADER + '-- @param x int min=9 max=0 "d"\nSELECT ?', 3, "min 9 is greater than max 0"),
        (HEADER + '-- @param x int min=0 max=1e3 "d"\nSELECT ?', 3, "must both be valid values"),
        (HEADER + '-- @param x int min=0 max=99999999999999999999 "d"\nSELECT ?', 3, "must both be valid"),
        (HEADER + '-- @param x int min=0 max=9 default=10 "d"\nSELECT ?', 3, "default: parameter x: '10' is not"),
        (HEADER + '-- @param x date min=2000-01-01 max=2000-02-30 "d"\nSELECT ?', 3, "must both be valid"),
        (HEADER + '-- @param x string pattern=[a- max_length=5 "d"\nSELECT ?', 3, "not a valid regex"),
        (HEADER + '-- @param x string pattern=a max_length=501 "d"\nSELECT ?', 3, "max_length must be"),
        (HEADER + '-- @param x enum choices=a,,b "d"\nSELECT ?', 3, "must be non-empty"),
        (HEADER + '-- @param x enum choices=a,a "d"\nSELECT ?', 3, "repeat a value"),
        (HEADER + '-- @param x enum choices=a,b default=c "d"\nSELECT ?', 3, "is not one of a, b"),
        (HEADER + "-- @param x enum choices=a\nSELECT ?", 3, "needs a quoted description"),
        (HEADER + '-- @param x enum "d" choices=a\nSELECT ?', 3, "description must come last"),
        (HEADER + '-- @param x enum choices="a "d"\nSELECT ?', 3, "needs a quoted description"),
        (HEADER + '-- @param x enum extra choices=a "d"\nSELECT ?', 3, "got 'x enum extra'"),
        (HEADER + '-- @param x enum choices=a "d\nSELECT ?', 3, "bad quoted string"),
        (HEADER + '-- @param x enum choices=a choices=b "d"\nSELECT ?', 3, "option choices given twice"),
        (HEADER + '-- @param X enum choices=a "d"\nSELECT ?', 3, "parameter name 'X'"),
        (HEADER + '-- @param x enum choices=a "d"\n-- @param x enum choices=a "d"\nSELECT ?, ?', 4, "declared twice"),
        (HEADER + '-- @param x enum choices=a "d"\n-- @param y enum choices=a "d"\nSELECT ?', 4, "1 '?' placeholders"),
        (HEADER + '-- @param x enum choices=a "d"\nSELECT 1\nFROM t\nWHERE a = ? AND b = ?', 6, "2 '?' placeholders"),
        (HEADER + '-- @param n int min=1 max=9 "d"\nSELECT 1 FROM t\nLIMIT ?', 5, "no '?' in LIMIT"),
        (HEADER + "SELECT 1;\nSELECT 2", 3, "one statement per file"),
        (HEADER + "DROP TABLE kindle_items", 3, "one SELECT"),
        (HEADER + 'SELECT 1\n-- @param x int min=0 max=1 "d"', 4, "before the SQL"),
        (HEADER + "SELECT 1 FROM lake.kindle_items", 3, "tables are unqualified"),
        (HEADER + "SELECT 'open\nFROM t", 3, "unterminated '...'"),
        (HEADER + "SELECT 1 /* open", 3, "unterminated /*"),
        (HEADER + "-- only comments", 3, "no SQL after the header"),
    ],
)
def test_header_errors_name_the_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(QueryFileError, match=re.escape(message)) as caught:
        parse_query(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_query_names_must_be_snake_case(tmp_path):
    with pytest.raises(QueryFileError, match="must match"):
        parse_query(write(tmp_path, HEADER + "SELECT 1", "Top-Stores"))


def test_load_queries_keys_by_file_stem(tmp_path):
    write(tmp_path, HEADER + "SELECT 1", "one")
    write(tmp_path, HEADER + "SELECT 2", "two")
    (tmp_path / "notes.md").write_text("not a query")
    assert sorted(load_queries(tmp_path)) == ["one", "two"]


# --- validation and literals ----------------------------------------------------------------------------------------

INT = 'n int min=-5 max=1000 "n"'
NUMBER = 'x number min=-1 max=100000 "x"'
DATE = 'd date min=2000-01-01 max=2030-12-31 "d"'
STRING = 's string pattern=^[^;]{0,300}$ max_length=300 "s"'
ENUM = 'e enum choices=free,paid,it\'s "e"'


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
        render_parameters(query, {name: value})
    assert caught.value.parameter == name
    message = str(caught.value)
    assert message.startswith(f"parameter {name}: ")
    assert allowed in message
    assert repr(value)[:40] in message


def test_long_values_are_cut_short_in_errors(tmp_path):
    query = probe(tmp_path, STRING)
    with pytest.raises(ParameterError) as caught:
        render_parameters(query, {"s": "'" * 100_000})
    assert len(str(caught.value)) < 200


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


# --- DuckDB translation ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["x' OR '1'='1", "C:\\", "\\'; DROP TABLE t; --", "it\u2019s", "''", "Zoë 😀", "/* ? */ -- ?", "?", "a" * 300],
)
def test_a_hostile_string_stays_one_value_through_duckdb(tmp_path, value):
    # The literal Athena would get, translated and run: the row must hold exactly the value sent, nothing else.
    query = probe(tmp_path, 's string pattern=^[\\s\\S]*$ max_length=300 "s"')
    assert duckdb.sql(to_duckdb(query, {"s": value})).fetchall() == [(value,)]


def test_typed_literals_keep_their_types_in_duckdb(tmp_path):
    path = write(
        tmp_path,
        HEADER + f"-- @param {INT}\n-- @param {NUMBER}\n-- @param {DATE}\n"
        "SELECT ? AS n, ? AS x, ? AS d, CAST(date_trunc('month', DATE '2024-03-15') AS date) AS m,"
        " CAST(date_trunc('hour', TIMESTAMP '2024-03-15 10:42:00') AS timestamp) AS h\n",
    )
    sql = to_duckdb(parse_query(path), {"n": 7, "x": "99999.125", "d": "2024-02-29"})
    assert duckdb.sql(sql).fetchall() == [
        (7, Decimal("99999.125"), date(2024, 2, 29), date(2024, 3, 1), datetime(2024, 3, 15, 10))
    ]


def test_translation_of_the_functions_the_queries_use():
    # Athena (Trino) names that DuckDB spells differently; the local results depend on these being mapped.
    sql = to_duckdb(QUERIES["items_in_category"], {"category": "Kindle eBooks"})
    assert "ARRAY_CONTAINS(categories, 'Kindle eBooks')" in sql
    assert "ARG_MAX(customer_name" in to_duckdb(QUERIES["sales_per_customer"])
    assert "COUNT_IF(level = 'paid')" in to_duckdb(QUERIES["songplays_per_hour"])
    values = {"from_date": "2024-01-01", "to_date": "2024-12-31"}
    assert "CAST(DATE_TRUNC('MONTH', order_date) AS DATE)" in to_duckdb(QUERIES["monthly_category_sales"], values)
    assert "BETWEEN CAST('2024-01-01' AS DATE) AND CAST('2024-12-31' AS DATE)" in to_duckdb(
        QUERIES["monthly_category_sales"], values
    )


def test_to_duckdb_validates_like_the_api(tmp_path):
    with pytest.raises(ParameterError, match="missing parameter 'category'"):
        to_duckdb(QUERIES["items_in_category"], {})


def test_every_deployed_required_parameter_has_a_valid_example():
    for query in load_queries().values():
        required = [p.name for p in query.parameters if p.required]
        assert sorted(query.examples) == sorted(required), f"{query.name}: add example= to {required}"
        assert len(render_parameters(query, query.examples)) == len(query.parameters)


def test_examples_are_described_and_checked_like_defaults(tmp_path):
    path = tmp_path / "one_user.sql"
    path.write_text(
        "-- @description d\n-- @pipeline sparkify\n"
        '-- @param user_id string pattern=^[0-9]{1,3}$ max_length=3 example=42 "u"\n'
        "SELECT * FROM sparkify_users WHERE user_id = ?\n"
    )
    query = parse_query(path)
    assert query.examples == {"user_id": "42"}
    assert query.describe()["parameters"][0]["example"] == "42"
    path.write_text(path.read_text().replace("example=42", "example=4242"))
    with pytest.raises(QueryFileError, match=r"one_user.sql:3: example: parameter user_id: '4242' is not"):
        parse_query(path)
