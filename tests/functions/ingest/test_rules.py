"""functions/ingest/rules.py: the orders rules of pipelines/orders.py on one document, with the job's reasons."""

from __future__ import annotations

import math
import random
from decimal import ROUND_HALF_UP, Decimal

import pytest

from functions.ingest import rules
from pipelines import orders as spec
from tests.functions.ingest import documents as doc


def test_validate_a_plain_order_in_cents_and_days():
    reason, order = rules.validate(doc.order())
    assert reason is None
    assert order == rules.Order(
        ("1", doc.days("2024-01-10"), 9500, "101", "Zoë", None, "1 Main St"),
        [("P1", "Mouse", "Electronics", 2500, 2, 5000), ("P2", "Keyboard", None, 4500, 1, 4500)],
    )


@pytest.mark.parametrize(
    ("price", "cents"),
    [
        (2.675, 268),  # Spark casts the double's shortest text "2.675", half-up: not the binary 2.67499...
        ("9.995", 1000),
        (19.999, 2000),
        ("12.50", 1250),
        (7, 700),
        ("-0.001", 0),
        ("1e2", 10000),
    ],
)
def test_amounts_round_half_up_from_their_text(price, cents):
    _, order = rules.validate(doc.order(products=[doc.product(price=price)]))
    assert order.items[0][3] == cents


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"order_id": None}, spec.MISSING_ORDER_ID),
        ({"order_id": "  "}, spec.MISSING_ORDER_ID),
        ({"order_date": "2024-02-30"}, spec.BAD_ORDER_DATE),
        ({"order_date": "2024-1-5"}, spec.BAD_ORDER_DATE),
        ({"order_date": "1899-12-31"}, spec.BAD_ORDER_DATE),
        ({"total_amount": "12,50"}, spec.BAD_TOTAL),
        ({"total_amount": math.nan}, spec.BAD_TOTAL),
        ({"total_amount": math.inf}, spec.BAD_TOTAL),
        ({"total_amount": True}, spec.BAD_TOTAL),
        ({"total_amount": 1e16}, spec.AMOUNT_OUT_OF_RANGE),
        ({"customer": "Bob"}, spec.CUSTOMER_NOT_OBJECT),
        ({"products": None}, spec.PRODUCTS_NOT_ARRAY),
        ({"products": {"product_id": "P1"}}, spec.PRODUCTS_NOT_ARRAY),
        ({"products": [doc.product(), None]}, spec.PRODUCT_NOT_OBJECT),
        ({"products": [doc.product(product_id="")]}, spec.MISSING_PRODUCT_ID),
        ({"products": [doc.product(), doc.product(price=2.0)]}, spec.DUPLICATE_PRODUCT_ID),
        ({"products": [doc.product(price="free")]}, spec.BAD_PRICE),
        ({"products": [doc.product(price=-0.01)]}, spec.NEGATIVE_PRICE),
        ({"products": [doc.product(quantity=1.5)]}, spec.BAD_QUANTITY),
        ({"products": [doc.product(quantity="two")]}, spec.BAD_QUANTITY),
        ({"products": [doc.product(quantity=-1)]}, spec.NEGATIVE_QUANTITY),
        ({"products": [doc.product(quantity=2**31)]}, spec.QUANTITY_OUT_OF_RANGE),
        ({"products": [doc.product(price=1e15, quantity=10)]}, spec.AMOUNT_OUT_OF_RANGE),
        (
            {"products": [doc.product(product_id="A", quantity=2**30), doc.product(product_id="B", quantity=2**30)]},
            spec.QUANTITY_OUT_OF_RANGE,
        ),
    ],
)
def test_each_rule_gives_its_reason(changes, reason):
    assert rules.validate(doc.order(**changes)) == (reason, None)


def test_several_problems_are_listed_in_the_shared_order():
    reason, _ = rules.validate(doc.order(order_id=None, total_amount="x", products=[doc.product(quantity=-2), 5]))
    assert reason == "; ".join([spec.MISSING_ORDER_ID, spec.BAD_TOTAL, spec.PRODUCT_NOT_OBJECT, spec.NEGATIVE_QUANTITY])


def test_not_an_object():
    assert rules.validate([1, 2]) == (spec.NOT_AN_OBJECT, None)


def test_empty_products_is_a_valid_order_without_rows():
    reason, order = rules.validate(doc.order(products=[], total_amount=0))
    assert reason is None
    assert order.items == []


def test_whole_cents_of_doubles_are_what_rounding_their_shortest_text_gives():
    """Doubles that are whole cents skip the Decimal: the shortcut must give what the job's cast of the text gives,
    also next to the bound below which doubles are less than a cent apart, and for values just off a cent."""
    rng = random.Random(5)
    bound = rules.EXACT_MONEY_BELOW
    values = [rng.randrange(-(10**6), 10**6) / 100 for _ in range(2000)]
    values += [rng.uniform(-1e6, 1e6) for _ in range(2000)]
    values += [math.nextafter(bound, 0) - c / 100 for c in range(200)] + [bound, 2.675, 0.1 + 0.2, -0.0, 1e-300]
    for value in values:
        expected = int(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).scaleb(2))
        _, found = rules.validate(doc.order(total_amount=value))
        assert found.values[2] == expected, value
