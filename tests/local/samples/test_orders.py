"""local/samples/orders.py: seeded, cumulative, awkward order exports (and the benchmark's large file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.samples import orders as samples


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, dict]:
    dest = tmp_path_factory.mktemp("raw") / "orders"
    return dest, samples.write_sample(dest, size=40, seed=7)


def _files(dest: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((dest / "exports").iterdir())}


def test_same_seed_same_bytes_other_seed_other_bytes(sample, tmp_path):
    dest, counts = sample
    assert samples.write_sample(tmp_path / "again", size=40, seed=7) == counts
    assert _files(tmp_path / "again") == _files(dest)
    samples.write_sample(tmp_path / "other", size=40, seed=8)
    assert _files(tmp_path / "other") != _files(dest)


def test_four_exports_of_each_kind_with_increasing_modification_times(sample):
    dest, counts = sample
    paths = sorted((dest / "exports").iterdir())
    assert [p.name for p in paths] == ["orders-0001.json", "orders-0002.json", "orders-0003.jsonl", "orders-0004.json"]
    assert counts["files"] == 4
    times = [p.stat().st_mtime for p in paths]
    assert times == sorted(times)
    assert len(set(times)) == 4
    with pytest.raises(json.JSONDecodeError):
        json.loads(paths[3].read_text())


def test_the_second_export_is_a_superset_of_the_first(sample):
    dest, _ = sample
    first = json.loads((dest / "exports" / "orders-0001.json").read_text())
    second = json.loads((dest / "exports" / "orders-0002.json").read_text())
    assert len(first) == 40
    assert len(second) == 60
    assert {str(o["order_id"]) for o in first} < {str(o["order_id"]) for o in second}
    revised = [a for a, b in zip(first, second, strict=False) if a != b]
    assert revised, "some orders change between exports"


def _lines(dest: Path) -> list[str]:
    return [line for line in (dest / "exports" / "orders-0003.jsonl").read_text().splitlines() if line.strip()]


def test_counts_describe_what_was_written(sample):
    dest, counts = sample
    lines = _lines(dest)
    assert counts["records"] == 40 + 60 + len(lines) + 1
    assert counts["malformed"] == len(samples.MALFORMED_LINES) + 1
    assert all(bad in lines for bad in samples.MALFORMED_LINES)
    valid = [json.loads((dest / "exports" / name).read_text()) for name in ("orders-0001.json", "orders-0002.json")]
    valid = valid[0] + valid[1] + [json.loads(line) for line in lines if line not in samples.MALFORMED_LINES]
    latest = {str(o["order_id"]): o for o in valid}
    assert counts["orders"] == len(latest)
    assert counts["superseded"] == len(valid) - len(latest)
    assert counts["order_items"] == sum(len(o["products"]) for o in latest.values())


def test_awkward_values_are_there(sample):
    dest, _ = sample
    second = json.loads((dest / "exports" / "orders-0002.json").read_text())
    parsed = [json.loads(line) for line in _lines(dest) if line not in samples.MALFORMED_LINES]
    orders = second + parsed
    ids = [o["order_id"] for o in orders]
    assert any(isinstance(i, str) and i.startswith("0") for i in ids)
    assert any(isinstance(i, int) for i in ids)
    # A revision in the JSON Lines file writes a numeric id as a string: the same order.
    assert {i for i in ids if isinstance(i, str)} & {str(i) for i in ids if isinstance(i, int)}
    assert any(o["products"] == [] for o in parsed)
    assert any(o["customer"] is None for o in orders) or any(o["customer"]["email"] is None for o in orders)
    names = " ".join(o["customer"]["name"] for o in orders if o["customer"])
    assert not names.isascii()
    assert any(isinstance(p["price"], str) for o in orders for p in o["products"])


def test_default_size_is_small():
    assert 50 <= samples.DEFAULT_SIZE <= 1000


def test_orders_file_for_the_benchmark(tmp_path):
    path = tmp_path / "big.json"
    size = samples.write_orders_file(path, orders=250, seed=3)
    assert size == path.stat().st_size
    orders = json.loads(path.read_text())
    assert len(orders) == 250
    assert all(isinstance(o["order_id"], int) for o in orders)
    assert all(isinstance(p["price"], float) for o in orders for p in o["products"])
    samples.write_orders_file(tmp_path / "again.json", orders=250, seed=3)
    assert (tmp_path / "again.json").read_bytes() == path.read_bytes()
