"""functions/ingest/keys.py: flat, URL-safe, per-version output keys and metadata text S3 accepts."""

from __future__ import annotations

from functions.ingest import keys

OUT = "orders/ingested_items/"


def test_output_key_is_flat_url_safe_and_per_version():
    key = keys.output_key(OUT, "orders/incoming/daily export+v2 é.json", "3HL4kq.tJl_c-x")
    assert (
        key == "orders/ingested_items/orders%2Fincoming%2Fdaily%20export%2Bv2%20%C3%A9.json--3HL4kq.tJl_c%2Dx.parquet"
    )
    assert keys.flat_name(".hidden_file") == "%2Ehidden_file"
    assert keys.flat_name("a--b") != keys.flat_name("a-%2Db")


def test_long_keys_are_shortened_with_a_hash():
    first = keys.output_key(OUT, "orders/incoming/" + "é" * 400 + "a.json", "v")
    second = keys.output_key(OUT, "orders/incoming/" + "é" * 400 + "b.json", "v")
    assert len(first.encode()) <= 1024
    assert first != second


def test_metadata_text_is_short_ascii():
    text = keys.metadata_text("problème\n" * 500)
    assert text.isascii()
    assert len(text) <= 1024
    assert "\n" not in text


def test_rejects_sit_beside_the_quarantine_copy():
    assert keys.rejects_key("orders/quarantine/", "orders/incoming/b.json", "v-1") == (
        "orders/quarantine/orders/incoming/b.json--v-1.rejects.jsonl"
    )
