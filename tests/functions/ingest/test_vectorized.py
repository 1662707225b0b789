"""functions/ingest/vectorized.py: it takes large regular exports, gives the reference path's rows, and leaves
anything irregular to it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from functions.ingest import vectorized
from functions.ingest.flatten import flatten_text
from functions.ingest.records import FileRejected, decode
from functions.ingest.table import SCHEMA, Flattened
from local.samples import orders as samples


def _regular(tmp_path: Path, orders: int, seed: int) -> bytes:
    path = tmp_path / f"regular-{seed}.json"
    samples.write_orders_file(path, orders=orders, seed=seed)
    return path.read_bytes()


def _sorted_rows(flat: Flattened) -> list:
    return sorted(tuple(r.values()) for r in flat.table.to_pylist())


def _both_paths(data: bytes) -> tuple[Flattened | None, Flattened]:
    fast = vectorized.flatten(data, "k", "v")
    reference = flatten_text(decode(data), source="s", source_key="k", source_version="v")
    if fast is not None:
        assert _sorted_rows(fast) == _sorted_rows(reference)
        assert (fast.records, fast.orders, fast.superseded, fast.rejects, sorted(fast.emptied)) == (
            reference.records,
            reference.orders,
            reference.superseded,
            [],
            sorted(reference.emptied),
        )
        assert fast.table.schema == SCHEMA
    return fast, reference


def test_vectorized_path_takes_regular_exports_and_agrees(tmp_path):
    data = _regular(tmp_path, 300, seed=3)
    repeated = data.rstrip().removesuffix(b"]") + b",\n" + json.dumps(json.loads(data)[0], indent=2).encode() + b"\n]"
    crlf = data.replace(b"\n", b"\r\n")
    jsonl = "\n".join(json.dumps(o, ensure_ascii=False) for o in json.loads(data)).encode()
    for variant in (data, repeated, crlf, b"\xef\xbb\xbf" + data, jsonl):
        fast, _ = _both_paths(variant)
        assert fast is not None
    fast, _ = _both_paths(repeated)
    assert fast.superseded == 1


@pytest.mark.parametrize(
    "spoil",
    [
        lambda orders: orders[3].update(order_id="0042"),  # ids of two JSON types
        lambda orders: orders[3].update(order_date="2024-1-5"),
        lambda orders: orders[3]["products"][0].update(price=2.675),  # more than two decimals
        lambda orders: orders[3]["products"][0].update(quantity=-1),
        lambda orders: orders[3]["products"].append(dict(orders[3]["products"][0])),  # a duplicate product id
        lambda orders: orders[3].update(customer="Bob"),
        lambda orders: orders[3].pop("products"),
        lambda orders: orders[3]["products"].append(None),
        lambda orders: orders.append(42),
    ],
)
def test_vectorized_path_leaves_anything_irregular_to_the_reference(tmp_path, spoil):
    orders = json.loads(_regular(tmp_path, 50, seed=4))
    spoil(orders)
    data = json.dumps(orders, indent=2, ensure_ascii=False).encode()
    fast, _ = _both_paths(data)
    assert fast is None


def test_vectorized_path_refuses_trailing_data_and_compact_arrays(tmp_path):
    data = _regular(tmp_path, 50, seed=5)
    for variant in (data + b" junk", json.dumps(json.loads(data)).encode()):
        assert vectorized.flatten(variant, "k", "v") is None


def test_generated_exports_agree_on_both_paths(tmp_path):
    samples.write_sample(tmp_path, size=40, seed=9)
    for path in sorted((tmp_path / "exports").iterdir()):
        data = path.read_bytes()
        try:
            _both_paths(data)
        except FileRejected:
            assert vectorized.flatten(data, "k", "v") is None


@pytest.mark.shared_data
def test_shared_samples_take_the_vectorized_path(shared_datasets):
    rows = {}
    for path in sorted((shared_datasets / "orders").glob("*.json")):
        fast, reference = _both_paths(path.read_bytes())
        assert fast is not None
        rows[path.name] = (reference.orders, reference.table.num_rows)
    assert rows == {
        "final_orders_etl.json": (37, 71),
        "orders_etl.json": (12, 23),
        "orders_etl_b.json": (12, 14),
        "updated_orders_etl.json": (17, 30),
    }


def test_both_paths_name_the_orders_without_product_lines(tmp_path):
    orders = json.loads(_regular(tmp_path, 300, seed=5))
    orders[7]["products"] = []
    # A later occurrence of an order without lines wins over its earlier one with lines, and the reverse.
    orders.append({**orders[9], "products": []})
    orders.append({**orders[7], "products": orders[8]["products"]})
    data = json.dumps(orders, indent=2).encode()
    fast, reference = _both_paths(data)
    assert fast is not None
    assert sorted(reference.emptied) == sorted({str(orders[9]["order_id"])})
