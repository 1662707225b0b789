"""local/duck.py: views over tiny Iceberg tables shaped like the jobs' output, every queries/*.sql run on them, and
only what a table committed to its main is ever seen."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from local import duck_extensions
from local.duck import connect, duckdb_type, format_table, missing_tables, run_query, table_dir, to_duckdb
from pipelines import PIPELINES
from pipelines.queries import load_queries, parse_query
from pipelines.query_model import ParameterError, Query
from tests.local import iceberg
from tests.pipelines.test_queries import HEADER, probe, write
from tests.pipelines.test_query_model import DATE, INT, NUMBER

QUERIES = load_queries()
D = Decimal


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


KINDLE_ITEMS = [
    {
        "parent_asin": "B001",
        "title": "Zoë's Tale",
        "author_name": "John Scalzi",
        "store": "Penguin",
        "categories": ["Kindle Store", "Kindle eBooks", "Children's eBooks"],
        "average_rating": 4.5,
        "rating_number": 100,
        "price": 4.99,
        "language": "English",
        "publication_date": date(2020, 5, 1),
        "publisher": "Tor",
        "print_length_pages": 336,
        "details": {"Language": "English"},
    },
    {
        "parent_asin": "B002",
        "title": "Cien años",
        "store": "Penguin",
        "categories": ["Kindle eBooks", "Literature & Fiction"],
        "average_rating": 4.0,
        "rating_number": 50,
        "language": "Spanish",
        "publication_date": date(2021, 1, 10),
    },
    {
        "parent_asin": "B003",
        "title": "Old Man's War",
        "store": "Tor",
        "categories": ["Kindle eBooks"],
        "average_rating": 3.0,
        "rating_number": 300,
        "language": "English",
        "publication_date": date(2019, 3, 3),
    },
    {
        "parent_asin": "B004",
        "title": "Unrated",
        "store": "Tor",
        "categories": [],
        "language": "English",
        "publication_date": date(2020, 7, 7),
        "price_text": "—",
    },
    {
        "parent_asin": "0123456789",
        "title": "Picture book",
        "categories": ["Children's eBooks"],
        "average_rating": 5.0,
        "rating_number": 10,
    },
    {"parent_asin": "B006", "title": "No store", "store": "", "average_rating": 2.0, "rating_number": 1},
]

SONGPLAYS = [
    {
        "songplay_id": "sp1",
        "start_time": ts("2018-11-01 21:01:46"),
        "user_id": "26",
        "level": "free",
        "song_id": "S1",
        "artist_id": "A1",
        "session_id": 583,
        "location": "San Jose, CA",
    },
    {
        "songplay_id": "sp2",
        "start_time": ts("2018-11-01 21:05:52"),
        "user_id": "26",
        "level": "free",
        "session_id": 583,
    },
    {
        "songplay_id": "sp3",
        "start_time": ts("2018-11-02 21:30:00"),
        "user_id": "80",
        "level": "paid",
        "session_id": 9,
    },
    {
        "songplay_id": "sp4",
        "start_time": ts("2018-11-02 09:15:00"),
        "user_id": "80",
        "level": "paid",
        "session_id": 9,
    },
    {
        "songplay_id": "sp5",
        "start_time": ts("2018-12-01 00:10:00"),
        "user_id": "26",
        "level": "paid",
        "session_id": 1000,
    },
]

ORDERS = [
    {
        "order_id": "1",
        "order_date": date(2024, 1, 10),
        "total_amount": D("200.50"),
        "customer_id": "101",
        "customer_name": "John Doe",
        "item_count": 2,
        "unit_count": 3,
        "lines_total": D("95.00"),
        "total_matches": False,
    },
    {
        "order_id": "2",
        "order_date": date(2024, 1, 12),
        "total_amount": D("80.00"),
        "customer_id": "102",
        "customer_name": "Ana Ruiz",
        "item_count": 1,
        "unit_count": 2,
        "lines_total": D("80.00"),
        "total_matches": True,
    },
    {
        "order_id": "3",
        "order_date": date(2024, 2, 1),
        "total_amount": D("30.25"),
        "customer_id": "101",
        "customer_name": "John D. Doe",
        "item_count": 1,
        "unit_count": 1,
        "lines_total": D("30.25"),
        "total_matches": True,
    },
    {
        "order_id": "0004",
        "order_date": date(2024, 2, 1),
        "total_amount": D("80.00"),
        "customer_id": "103",
        "customer_name": "Zoë",
        "item_count": 1,
        "unit_count": 1,
        "lines_total": D("80.00"),
        "total_matches": True,
    },
]


def item(order_id, day, product_id, category, *, price, quantity):
    line = D(price) * quantity
    return {
        "order_id": order_id,
        "order_date": day,
        "product_id": product_id,
        "product_category": category,
        "price": D(price),
        "quantity": quantity,
        "line_amount": line,
    }


ORDER_ITEMS = [
    item("1", date(2024, 1, 10), "P01", "Electronics", price="25.00", quantity=2),
    item("1", date(2024, 1, 10), "P02", "Electronics", price="45.00", quantity=1),
    item("2", date(2024, 1, 12), "A10", "Tecnología", price="40.00", quantity=2),
    item("3", date(2024, 2, 1), "P01", "Electronics", price="30.25", quantity=1),
    item("0004", date(2024, 2, 1), "P09", "Books", price="80.00", quantity=1),
]


def location_kpis(pickup, name, city, revenue, *, count, vehicles):
    return {
        "pickup_location": pickup,
        "location_name": name,
        "city": city,
        "state": city and "CA",
        "total_revenue": D(revenue),
        "transaction_count": count,
        "avg_amount": float(D(revenue) / count),
        "max_amount": D(revenue),
        "min_amount": D(revenue),
        "distinct_vehicles": vehicles,
    }


def day_kpis(day, count, revenue):
    return {
        "rental_date": day,
        "transaction_count": count,
        "total_revenue": D(revenue),
        "avg_amount": float(D(revenue) / count),
        "max_amount": D(revenue),
        "min_amount": D("1.00"),
    }


def type_kpis(type_, brand, revenue, count, avg):
    return {
        "vehicle_type": type_,
        "brand": brand,
        "total_revenue": D(revenue),
        "transaction_count": count,
        "avg_duration_hours": avg,
        "max_duration_hours": 72.0,
        "min_duration_hours": 1.0,
    }


RENTALS = {
    "rentals": [
        {
            "rental_id": "b139d8e1b2",
            "user_id": "320be8068b",
            "vehicle_id": "0d52304987",
            "rental_start_time": ts("2024-02-28 08:05:00"),
            "rental_end_time": ts("2024-03-01 05:05:00"),
            "pickup_location": "1497",
            "dropoff_location": "6785",
            "total_amount": D("450.00"),
            "rental_duration_hours": 45.0,
            "rental_date": date(2024, 2, 28),
        },
        {
            "rental_id": "5541956e71",
            "user_id": "320be8068b",
            "vehicle_id": "unknown",
            "rental_start_time": ts("2024-01-07 20:16:00"),
            "rental_end_time": ts("2024-01-09 21:16:00"),
            "pickup_location": "5345",
            "dropoff_location": "1497",
            "total_amount": D("2450.00"),
            "rental_duration_hours": 49.0,
            "rental_date": date(2024, 1, 7),
        },
        {
            "rental_id": "aaaaaaaaaa",
            "user_id": "other",
            "vehicle_id": "0d52304987",
            "rental_start_time": ts("2024-03-01 10:00:00"),
            "rental_end_time": ts("2024-03-01 11:00:00"),
            "pickup_location": "1497",
            "dropoff_location": "1497",
            "total_amount": D("5.50"),
            "rental_duration_hours": 1.0,
            "rental_date": date(2024, 3, 1),
        },
    ],
    "vehicles": [{"vehicle_id": "0d52304987", "active": True, "brand": "Toyota", "vehicle_type": "basic"}],
    "locations": [
        {"location_id": "1497", "location_name": "Jackson, Velazquez and Gonzales", "city": "Modesto"},
        {"location_id": "5345", "location_name": "Bean LLC", "city": "Fontana"},
    ],
    "location_performance": [
        location_kpis("1497", "Jackson, Velazquez and Gonzales", "Modesto", "455.50", count=2, vehicles=1),
        location_kpis("5345", "Bean LLC", "Fontana", "2450.00", count=1, vehicles=1),
        location_kpis("9999", None, None, "10.00", count=1, vehicles=1),
    ],
    "daily_metrics": [
        day_kpis(date(2024, 1, 7), 1, "2450.00"),
        day_kpis(date(2024, 2, 28), 2, "460.00"),
        day_kpis(date(2024, 3, 1), 1, "5.50"),
    ],
    "vehicle_type_performance": [
        type_kpis("basic", "Toyota", "450.00", 1, 45.0),
        type_kpis("basic", "Honda", "900.00", 3, 10.3333),
        type_kpis("premium", "BMW", "5000.00", 2, 20.0),
        type_kpis(None, None, "2450.00", 1, 49.0),
    ],
}


@pytest.fixture(scope="module")
def curated(tmp_path_factory, spark) -> Path:
    root = tmp_path_factory.mktemp("lake") / "curated"
    kindle, sparkify, orders = PIPELINES["kindle"], PIPELINES["sparkify"], PIPELINES["orders"]
    iceberg.write(spark, root, kindle.table("items"), KINDLE_ITEMS)
    iceberg.write(spark, root, sparkify.table("songplays"), SONGPLAYS)
    songs = [{"song_id": "S1", "title": "Setanta matins", "duration": 269.58322, "year": 0, "artist_id": "A1"}]
    iceberg.write(spark, root, sparkify.table("songs"), songs)
    iceberg.write(spark, root, sparkify.table("artists"), [{"artist_id": "A1", "name": "Elena", "location": None}])
    iceberg.write(spark, root, orders.table("orders"), ORDERS)
    iceberg.write(spark, root, orders.table("order_items"), ORDER_ITEMS)
    for name, rows in RENTALS.items():
        iceberg.write(spark, root, PIPELINES["rentals"].table(name), rows)
    # A table created but never published to (a first run that failed its gate): no snapshot on main.
    iceberg.create(spark, root, sparkify.table("time"))
    return root


@pytest.fixture(scope="module")
def con(curated):
    connection = connect(curated)
    yield connection
    connection.close()


EXPECTED = {
    "top_stores": ({}, [("Tor", 2, 300, 3.0), ("Penguin", 2, 150, 4.33)]),
    "items_in_category": (
        {"category": "Children's eBooks"},
        [
            ("B001", "Zoë's Tale", "John Scalzi", "Penguin", 4.5, 100, 4.99, date(2020, 5, 1)),
            ("0123456789", "Picture book", None, None, 5.0, 10, None, None),
        ],
    ),
    "releases_by_language": (
        {"language": "English", "from_date": "2020-01-01", "to_date": "2020-12-31"},
        [
            (date(2020, 7, 7), "B004", "Unrated", None, None, None, None),
            (date(2020, 5, 1), "B001", "Zoë's Tale", "John Scalzi", "Tor", 336, 4.99),
        ],
    ),
    "songplays_per_hour": ({}, [(0, 1, 1, 1), (9, 1, 1, 1), (21, 3, 2, 1)]),
    "user_songplays": (
        {"user_id": "26", "from_date": "2018-11-01", "to_date": "2018-11-01"},
        [
            (
                datetime(2018, 11, 1, 21, 1, 46),
                "free",
                "Setanta matins",
                "Elena",
                583,
                "San Jose, CA",
            ),
            (datetime(2018, 11, 1, 21, 5, 52), "free", None, None, 583, None),
        ],
    ),
    "daily_active_users": (
        {"level": "paid", "from_date": "2018-11-01", "to_date": "2018-12-01"},
        [(date(2018, 11, 2), 1, 2), (date(2018, 12, 1), 1, 1)],
    ),
    "sales_per_customer": (
        {},
        [
            ("101", "John D. Doe", 2, 4, D("230.75"), date(2024, 1, 10), date(2024, 2, 1)),
            ("102", "Ana Ruiz", 1, 2, D("80.00"), date(2024, 1, 12), date(2024, 1, 12)),
            ("103", "Zoë", 1, 1, D("80.00"), date(2024, 2, 1), date(2024, 2, 1)),
        ],
    ),
    "customer_orders": (
        {"customer_id": "101"},
        [
            ("3", date(2024, 2, 1), D("30.25"), 1, 1, D("30.25"), True),
            ("1", date(2024, 1, 10), D("200.50"), 2, 3, D("95.00"), False),
        ],
    ),
    "monthly_category_sales": (
        {"from_date": "2024-01-01", "to_date": "2024-12-31"},
        [
            (date(2024, 1, 1), "Electronics", 1, 3, D("95.00")),
            (date(2024, 1, 1), "Tecnología", 1, 2, D("80.00")),
            (date(2024, 2, 1), "Books", 1, 1, D("80.00")),
            (date(2024, 2, 1), "Electronics", 1, 1, D("30.25")),
        ],
    ),
    "revenue_per_location": (
        {},
        [
            ("5345", "Bean LLC", "Fontana", "CA", D("2450.00"), 1, 2450.0, 1),
            ("1497", "Jackson, Velazquez and Gonzales", "Modesto", "CA", D("455.50"), 2, 227.75, 1),
            ("9999", None, None, None, D("10.00"), 1, 10.0, 1),
        ],
    ),
    "daily_revenue": (
        {"from_date": "2024-01-01", "to_date": "2024-02-29", "min_revenue": "100"},
        [
            (date(2024, 1, 7), 1, D("2450.00"), 2450.0, D("2450.00"), D("1.00")),
            (date(2024, 2, 28), 2, D("460.00"), 230.0, D("460.00"), D("1.00")),
        ],
    ),
    "user_rentals": (
        {"user_id": "320be8068b"},
        [
            (
                "b139d8e1b2",
                datetime(2024, 2, 28, 8, 5),
                datetime(2024, 3, 1, 5, 5),
                45.0,
                D("450.00"),
                "Toyota",
                "basic",
                "Jackson, Velazquez and Gonzales",
                None,
            ),
            (
                "5541956e71",
                datetime(2024, 1, 7, 20, 16),
                datetime(2024, 1, 9, 21, 16),
                49.0,
                D("2450.00"),
                None,
                None,
                "Bean LLC",
                "Jackson, Velazquez and Gonzales",
            ),
        ],
    ),
    "vehicle_type_revenue": (
        {"vehicle_type": "basic"},
        [("Honda", D("900.00"), 3, 10.33, 72.0, 1.0), ("Toyota", D("450.00"), 1, 45.0, 72.0, 1.0)],
    ),
}


def test_every_query_has_expected_rows_here():
    assert sorted(EXPECTED) == sorted(QUERIES)


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_returns_exact_rows(con, name):
    values, rows = EXPECTED[name]
    columns, got = run_query(con, QUERIES[name], values)
    assert got == rows
    assert len(columns) == len(rows[0])


def test_check_query_parameters_filter(con):
    assert run_query(con, QUERIES["top_stores"], {"min_items": 3})[1] == []
    assert [r[0] for r in run_query(con, QUERIES["sales_per_customer"], {"min_orders": "2"})[1]] == ["101"]
    assert [r[0] for r in run_query(con, QUERIES["revenue_per_location"], {"min_transactions": 2})[1]] == ["1497"]


def test_a_hostile_value_is_one_literal_and_matches_nothing(con):
    # The pattern admits the apostrophe; the doubled quote keeps the whole value inside one string literal.
    columns, rows = run_query(con, QUERIES["items_in_category"], {"category": "Children's eBooks' OR 'a' LIKE 'a"})
    assert rows == []
    assert columns[0] == "parent_asin"


def test_views_have_the_declared_types(con):
    described = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE sparkify_songplays)").fetchall())
    # Iceberg holds Spark's timestamps as timestamptz; the view gives the declared (UTC) timestamp, as Athena's SQL has.
    assert described["start_time"] == "TIMESTAMP"
    assert described["session_id"] == "BIGINT"
    kindle = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE kindle_items)").fetchall())
    assert kindle["details"] == "MAP(VARCHAR, VARCHAR)"
    assert kindle["categories"] == "VARCHAR[]"
    assert con.execute("SELECT current_setting('TimeZone')").fetchone() == ("UTC",)
    assert con.execute("SELECT year, artist_id FROM sparkify_songs").fetchall() == [(0, "A1")]


def test_a_table_with_no_snapshot_is_an_empty_view(con):
    assert con.execute("SELECT count(*) FROM sparkify_time").fetchone() == (0,)
    assert [c[0] for c in con.execute("DESCRIBE sparkify_time").fetchall()] == PIPELINES["sparkify"].table(
        "time"
    ).column_names


# --- only what is committed ------------------------------------------------------------------------------------------


ARTISTS = PIPELINES["sparkify"].table("artists")


@pytest.fixture
def one_table(tmp_path, spark) -> Path:
    """A lake with one committed table, sparkify_artists, of one row."""
    curated = tmp_path / "curated"
    iceberg.write(spark, curated, ARTISTS, [{"artist_id": "A1", "name": "Elena"}])
    return curated


def _artists(curated: Path) -> list[tuple]:
    connection = connect(curated)
    try:
        return connection.execute("SELECT artist_id, name FROM sparkify_artists ORDER BY artist_id").fetchall()
    finally:
        connection.close()


def test_a_file_written_into_the_table_but_not_committed_is_not_seen(one_table):
    """A run killed before its commit leaves data files no snapshot references: a Parquet glob would read them."""
    data = table_dir(one_table, ARTISTS) / "data"
    schema = pa.schema([pa.field(c.name, iceberg.arrow_type(c.type)) for c in ARTISTS.columns])
    stray = pa.table({c.name: ["A2" if c.name == "artist_id" else None] for c in ARTISTS.columns}, schema=schema)
    pq.write_table(stray, data / "00000-0-uncommitted-00001.parquet")
    assert len(list(data.rglob("*.parquet"))) == 2
    assert _artists(one_table) == [("A1", "Elena")]


def test_rows_on_the_audit_branch_are_not_seen_until_published(one_table, spark):
    """Audited, unpublished rows live on the table's `audit` branch; the views read main's current snapshot."""
    lake = iceberg.lake(spark, one_table, ARTISTS)
    lake.reset_audit(ARTISTS)
    iceberg.append(spark, one_table, ARTISTS, [{"artist_id": "A2", "name": "Audited"}], branch="audit")
    assert _artists(one_table) == [("A1", "Elena")]
    spark.sql(f"CALL {lake.catalog}.system.fast_forward('{ARTISTS.pipeline}.{ARTISTS.name}', 'main', 'audit')")
    assert _artists(one_table) == [("A1", "Elena"), ("A2", "Audited")]


def test_a_folder_that_is_not_an_iceberg_table_gets_no_view(tmp_path, caplog):
    """Parquet without Iceberg metadata (a lake from before Iceberg) holds no commit: no view reads it."""
    folder = table_dir(tmp_path, ARTISTS)
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"artist_id": ["A1"]}), folder / "part-00000.parquet")
    with caplog.at_level(logging.WARNING, logger="local.duck"):
        connection = connect(tmp_path)
    views = {v for (v,) in connection.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    connection.close()
    assert "sparkify_artists" not in views
    warning = f"not Iceberg tables (no metadata/*.metadata.json), so no views for: sparkify_artists ({folder})"
    assert warning in caplog.text


# --- the extensions, from their wheels -------------------------------------------------------------------------------


def test_the_extensions_load_from_their_wheels_avro_first_and_nothing_installs(tmp_path, monkeypatch):
    loaded = []

    class Recording:
        def __init__(self, con):
            self.con = con

        def execute(self, sql):
            loaded.append(sql)
            return self.con.execute(sql)

    raw = duckdb.connect()
    duck_extensions.load_extensions(Recording(raw))
    paths = [duck_extensions.extension_path(name) for name in ("avro", "iceberg")]
    assert loaded == [
        "SET autoinstall_known_extensions = false",
        "SET autoload_known_extensions = false",
        *(f"LOAD '{p}'" for p in paths),
    ]
    assert all(p.parent.name == f"v{duckdb.__version__}" for p in paths)
    names = {n for (n,) in raw.execute("SELECT extension_name FROM duckdb_extensions() WHERE loaded").fetchall()}
    assert {"avro", "iceberg"} <= names
    raw.close()


def test_a_missing_extension_wheel_is_one_line_naming_the_package(tmp_path, monkeypatch):
    real = duck_extensions.importlib.util.find_spec
    monkeypatch.setattr(
        duck_extensions.importlib.util,
        "find_spec",
        lambda name: None if name == "duckdb_extension_iceberg" else real(name),
    )
    version = duckdb.__version__
    with pytest.raises(duck_extensions.MissingExtension) as raised:
        connect(tmp_path)
    assert str(raised.value) == (
        f"DuckDB's iceberg extension is not installed: pip install duckdb-extension-iceberg=={version} "
        f"(requirements-local.txt pins it beside duckdb=={version})"
    )


def test_an_extension_built_for_another_duckdb_is_named(monkeypatch):
    with pytest.raises(duck_extensions.MissingExtension, match=r"installed for v1\.5\.5, not for DuckDB v9\.9\.9"):
        duck_extensions.extension_path("avro", version="9.9.9")


def test_missing_tables_are_skipped_and_reported(curated, con, caplog):
    missing = [
        "kindle_item_images",
        "kindle_item_videos",
        "sparkify_users",
        "orders_ingested_items",
        "rentals_users",
        "rentals_user_metrics",
    ]
    assert missing_tables(curated) == missing
    with caplog.at_level(logging.WARNING, logger="local.duck"):
        connect(curated).close()
    assert ", ".join(missing) in caplog.text
    with pytest.raises(LookupError, match="reads sparkify_users, which have no data yet"):
        run_query(con, Query("users", "d", "sparkify", "SELECT * FROM sparkify_users", (), ("sparkify_users",)))


@pytest.mark.parametrize(
    ("declared", "duck"),
    [
        ("string", "VARCHAR"),
        ("decimal(18,2)", "DECIMAL(18,2)"),
        ("array<string>", "VARCHAR[]"),
        ("map<string,array<int>>", "MAP(VARCHAR, INTEGER[])"),
        ("timestamp", "TIMESTAMP"),
    ],
)
def test_duckdb_type(declared, duck):
    assert duckdb_type(declared) == duck


def test_format_table():
    rows = [(1, "a\nb", None, D("2.50")), (22, "x" * 60, True, D("10.00")), (3, "c", False, None)]
    assert format_table(["n", "text", "flag", "amount"], rows, max_rows=2).splitlines() == [
        " n | text" + " " * 44 + " | flag | amount",
        "---+-" + "-" * 48 + "-+------+-------",
        " 1 | a\\nb" + " " * 44 + " | NULL |   2.50",
        "22 | " + "x" * 47 + "… | True |  10.00",
        "... 1 more rows",
        "(3 rows)",
    ]
    assert format_table(["empty"], []) == "empty\n-----\n(0 rows)"
    # Wide characters take two columns: the bars still line up.
    assert format_table(["title", "n"], [("東京物語", 1), ("The Ocean 🐉", 22)]).splitlines()[2:4] == [
        "東京物語     |  1",
        "The Ocean 🐉 | 22",
    ]


# --- the translation to DuckDB ---------------------------------------------------------------------------------------


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
