"""pipelines/queries.py: queries/*.sql read into declarations, their header syntax and their SQL checked by sqlglot."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from functions.query_parameters import render_parameters
from pipelines import PIPELINES, all_tables
from pipelines.queries import QueryFileError, load_queries, parse_query
from pipelines.query_model import Parameter, Query

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


def test_sql_is_the_file_without_its_header_or_final_semicolon(tmp_path):
    path = write(tmp_path, "-- @description d\n-- @pipeline kindle\n-- free comment\n\nSELECT 1 AS x\nFROM t;\n\n")
    assert parse_query(path).sql == "SELECT 1 AS x\nFROM t"


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


def test_placeholders_are_recorded_where_they_are_in_the_sql(tmp_path):
    query = parse_query(write(tmp_path, FULL, "store_items"))
    # Not the '?' in a string, a comment or a quoted name: the five parameters' own, in order.
    assert [query.sql[at - 2 : at + 1] for at in query.placeholders] == ["= ?"] * 5
    assert query.sql.index("store = ?") + len("store = ") == query.placeholders[0]


# Iceberg types Athena (engine 3) queries: "Supported data types for Iceberg tables in Athena"
# (docs.aws.amazon.com/athena/latest/ug/querying-iceberg-supported-data-types.html): no fixed(L), and Athena has no
# tinyint, smallint or char on Iceberg; timestamptz can be queried though Athena DDL creates only timestamp.
ATHENA_ICEBERG_TYPES = {"boolean", "int", "long", "float", "double", "string", "binary", "date", "timestamp"}
ATHENA_ICEBERG_TYPES |= {"timestamptz", "list", "map", "struct"}


def _iceberg_types(type_: str | dict) -> set[str]:
    if isinstance(type_, dict):
        nested = [type_[k] for k in ("element", "key", "value") if k in type_]
        nested += [f["type"] for f in type_.get("fields", [])]
        return {type_["type"]}.union(*(_iceberg_types(t) for t in nested))
    if type_.startswith("{"):
        return _iceberg_types(json.loads(type_))
    return {"decimal" if type_.startswith("decimal(") else type_}


def test_every_table_the_queries_read_has_only_types_athena_reads_from_iceberg():
    tables = {t.glue_name: t for t in all_tables()}
    read = {name for query in QUERIES.values() for name in query.tables}
    assert read <= set(tables)
    for name in sorted(read):
        found = set().union(*(_iceberg_types(f.type) for f in tables[name].iceberg_fields()))
        assert found <= ATHENA_ICEBERG_TYPES | {"decimal"}, (name, found - ATHENA_ICEBERG_TYPES)


def test_no_query_leans_on_hive_partition_folders_or_file_paths():
    """Iceberg tables have hidden partitioning: no partition column a Hive folder gave, no "$path" or "$partition"
    pseudo-columns (Athena answers those from the Iceberg metadata tables instead: "<table>$partitions")."""
    for query in QUERIES.values():
        sql = query.sql.lower()
        assert '"$path"' not in sql, query.name
        assert "$partition" not in sql, query.name
