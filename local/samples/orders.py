"""Seeded order exports: cumulative JSON arrays, a JSON Lines file and deliberately broken records.

`write_sample` writes what the orders job reads (EXPORTS of pipelines/orders.py); `write_orders_file` one large array
for the ingest benchmark.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from pipelines.orders import EXPORTS, RAW

DEFAULT_SIZE = 300
FIRST_DAY = date(2024, 1, 1)

FIRST_NAMES = ["Zoë", "José", "Łukasz", "Ana María", "Søren", "Nguyễn Văn", "Chloé", "Jürgen", "Aoife", "John"]
LAST_NAMES = ["Müller", "O'Brien", "Ørsted", "García-López", "山田", "Dvořák", "Smith", "Ñúñez", "Kowalski", "Lee"]
STREETS = ["Main St", "Rue de l'Église", "Straße des 17. Juni", 'Calle "Mayor"', "Avenida Paulista, 1000"]
CATEGORIES = ["Electronics", "Books", "Home & Kitchen", "Jouets", "Música", None]
PRODUCTS = [
    ("P0001", "Wireless Mouse", 25.00),
    ("P0002", "Bluetooth Keyboard", 45.00),
    ("P0017", "Café crème 1 kg", 12.90),
    ("P0042", "USB-C cable, 2 m", 9.99),
    ("P0100", "Laptop stand", 75.00),
    ("P0250", "Noise-cancelling headphones", 199.00),
    ("00731", "Notebook (A5, dotted)", 3.50),
    ("00732", "Stylo plume \u2013 bleu", 18.25),
    ("4711", "Eau de Cologne", 21.00),
    ("P0999", "Smörgåsbord board", 34.75),
]

# Each broken record breaks exactly one rule of pipelines/orders.py, so the run report can be checked by count.
MALFORMED_LINES = [
    '{"order_id": "M-1", "order_date": "2024-03-01", "total_amount": 10.0, "customer": {"customer_id": "C-M1"',
    "42",
    '{"order_date": "2024-03-01", "total_amount": 5.0, "products": []}',
    '{"order_id": "M-4", "order_date": "2024-13-45", "total_amount": 5.0, "products": []}',
    '{"order_id": "M-5", "order_date": "2024-03-01", "total_amount": 5.0,'
    ' "products": [{"product_id": "P0001", "price": -5.0, "quantity": 1}]}',
    '{"order_id": "M-6", "order_date": "2024-03-01", "total_amount": 5.0,'
    ' "products": [{"product_id": "P0001", "price": 5.0, "quantity": "two"}]}',
    '{"order_id": "M-7", "order_date": "2024-03-01", "total_amount": 5.0,'
    ' "products": [{"name": "no id", "price": 5.0, "quantity": 1}]}',
]
BROKEN_ARRAY = '[\n  {"order_id": 1, "order_date": "2024-03-04", "total_amount": 12.5, "products": [\n'


@dataclass
class _Ledger:
    """What the generator wrote, to return exact counts: the valid versions of each order, in delivery order."""

    records: int = 0
    malformed: int = 0
    latest: dict[str, dict] = field(default_factory=dict)
    valid: int = 0

    def add(self, order: dict) -> None:
        self.records += 1
        self.valid += 1
        self.latest[str(order["order_id"])] = order

    def counts(self, files: int) -> dict[str, int]:
        return {
            "files": files,
            "records": self.records,
            "malformed": self.malformed,
            "orders": len(self.latest),
            "order_items": sum(len(o["products"]) for o in self.latest.values()),
            "superseded": self.valid - len(self.latest),
        }


def _order_id(rng: random.Random, n: int) -> int | str:
    # Ids that look like numbers: plain numbers, and strings with leading zeros that must stay text.
    return 1000 + n if rng.random() < 0.7 else f"{n:06d}"


def _customer(rng: random.Random) -> dict | None:
    if rng.random() < 0.03:
        return None
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    email = None if rng.random() < 0.1 else f"{name.split(maxsplit=1)[0].lower()}.{rng.randint(1, 999)}@example.com"
    customer_id = rng.randint(100, 999) if rng.random() < 0.5 else f"C{rng.randint(100, 999):04d}"
    return {
        "customer_id": customer_id,
        "name": name,
        "email": email,
        "address": f"{rng.randint(1, 99)} {rng.choice(STREETS)}",
    }


def _products(rng: random.Random) -> list[dict]:
    picked = rng.sample(PRODUCTS, rng.randint(1, 4))
    products = []
    for product_id, name, price in picked:
        # Some exports write prices as strings; the pipelines accept both.
        price_value: float | str = f"{price:.2f}" if rng.random() < 0.05 else price
        products.append(
            {
                "product_id": product_id,
                "name": name,
                "category": rng.choice(CATEGORIES),
                "price": price_value,
                "quantity": rng.randint(1, 5),
            }
        )
    return products


def _order(rng: random.Random, n: int, day: int) -> dict:
    products = _products(rng)
    lines = sum(round(float(p["price"]) * 100) * p["quantity"] for p in products) / 100
    # Totals often disagree with the lines (shipping, discounts), as in the real exports.
    total = lines if rng.random() < 0.6 else round(lines + rng.choice([4.99, -2.5, 10.0]), 2)
    return {
        "order_id": _order_id(rng, n),
        "order_date": (FIRST_DAY + timedelta(days=day)).isoformat(),
        "total_amount": total,
        "customer": _customer(rng),
        "products": products,
    }


def _revised(rng: random.Random, order: dict) -> dict:
    """A later version of an order: one quantity changed, the total following it."""
    revised = json.loads(json.dumps(order))
    line = rng.choice(revised["products"])
    line["quantity"] += 1
    revised["total_amount"] = round(float(revised["total_amount"]) + float(line["price"]), 2)
    return revised


def _write_array(path: Path, orders: list[dict]) -> None:
    path.write_text(json.dumps(orders, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_sample(dest: Path, *, size: int = DEFAULT_SIZE, seed: int = 7) -> dict[str, int]:
    """Write four cumulative exports where the job reads them (EXPORTS) in `dest`, the pipeline's raw folder;
    returns what a correct run must find.

    1. orders-0001.json: a JSON array of `size` orders. 2. orders-0002.json: the same orders (a tenth revised) plus
    half as many new ones. 3. orders-0003.jsonl: JSON Lines with new orders, revisions whose ids are now strings
    (1005 -> "1005"), an order with an empty products array and one malformed record per rule. 4. orders-0004.json:
    a truncated array. Modification times increase with the file number, so the latest export wins.
    """
    rng = random.Random(seed)
    exports = dest / EXPORTS.relative_to(RAW)
    exports.mkdir(parents=True, exist_ok=True)
    ledger = _Ledger()
    first = [_order(rng, n, rng.randrange(120)) for n in range(size)]
    second = [_revised(rng, o) if rng.random() < 0.1 else o for o in first]
    second += [_order(rng, n, rng.randrange(120)) for n in range(size, size + size // 2)]
    for order in first + second:
        ledger.add(order)
    _write_array(exports / "orders-0001.json", first)
    _write_array(exports / "orders-0002.json", second)

    lines = []
    numeric_ids = [o for o in second if isinstance(o["order_id"], int)]
    for order in rng.sample(numeric_ids, min(3, len(numeric_ids))):
        revised = _revised(rng, order)
        revised["order_id"] = str(order["order_id"])
        lines.append(revised)
    start = size + size // 2
    lines += [_order(rng, n, rng.randrange(120)) for n in range(start, start + max(3, size // 10))]
    empty = _order(rng, 900_000, 5)
    empty["products"], empty["total_amount"] = [], 0
    lines.append(empty)
    for order in lines:
        ledger.add(order)
    text = [json.dumps(o, ensure_ascii=False) for o in lines]
    for i, bad in enumerate(MALFORMED_LINES):
        text.insert(1 + 2 * i, bad)
        ledger.records += 1
        ledger.malformed += 1
    (exports / "orders-0003.jsonl").write_text("\n".join(text) + "\n\n", encoding="utf-8")

    (exports / "orders-0004.json").write_text(BROKEN_ARRAY, encoding="utf-8")
    ledger.records += 1
    ledger.malformed += 1

    for i, path in enumerate(sorted(exports.iterdir())):
        # Fixed, increasing modification times: "latest occurrence wins" must not depend on how fast we wrote.
        stamp = 1_709_251_200 + 3600 * i
        os.utime(path, (stamp, stamp))
    return ledger.counts(files=4)


def _typed_as_exported(order: dict, n: int) -> dict:
    """The order with numbers as numbers, as the shop's exports type them (the shared samples do): ids that are
    numbers stay numbers, prices are numbers."""
    order["order_id"] = 1000 + n
    if order["customer"] is not None and isinstance(order["customer"]["customer_id"], str):
        order["customer"]["customer_id"] = int(order["customer"]["customer_id"][1:])
    for product in order["products"]:
        product["price"] = float(product["price"])
    return order


def write_orders_file(path: Path, *, orders: int, seed: int = 7) -> int:
    """Write one JSON array of `orders` valid orders, formatted and typed like the real exports (the benchmark's
    input; write_sample is the awkward one); returns its size in bytes."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for n in range(orders):
            if n:
                out.write(",\n")
            order = _typed_as_exported(_order(rng, n, rng.randrange(360)), n)
            out.write(json.dumps(order, indent=2, ensure_ascii=False))
        out.write("\n]\n")
    return path.stat().st_size
