"""local/duck_extensions.py: DuckDB's avro and iceberg extensions from their wheels, by file path, never fetched."""

from __future__ import annotations

import duckdb
import pytest

from local import duck_extensions as ext


def test_each_extension_is_found_in_its_wheel_for_this_duckdb():
    for name in ext.EXTENSIONS:
        path = ext.extension_path(name)
        assert path.is_file()
        assert path.name == f"{name}.duckdb_extension"
        assert path.parent.name == f"v{duckdb.__version__}"


def test_an_extension_for_another_duckdb_is_one_line_naming_the_pin():
    with pytest.raises(ext.MissingExtension) as found:
        ext.extension_path("iceberg", version="0.0.1")
    message = str(found.value)
    assert "not for DuckDB v0.0.1" in message
    assert "pip install duckdb-extension-iceberg==0.0.1" in message
    assert "\n" not in message


def test_a_missing_wheel_names_what_to_install():
    with pytest.raises(ext.MissingExtension, match="duckdb-extension-nosuch"):
        ext.extension_path("nosuch")


def test_avro_loads_before_iceberg_and_nothing_is_auto_installed():
    assert ext.EXTENSIONS == ("avro", "iceberg")
    con = duckdb.connect()
    ext.load_extensions(con)
    settings = dict(
        con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN "
            "('autoinstall_known_extensions', 'autoload_known_extensions')"
        ).fetchall()
    )
    assert settings == {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}
    loaded = {r[0] for r in con.execute("SELECT extension_name FROM duckdb_extensions() WHERE loaded").fetchall()}
    assert {"avro", "iceberg"} <= loaded
