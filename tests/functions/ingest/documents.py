"""Order documents for the ingest Lambda's tests: one plainly valid order, changed one field at a time."""

from __future__ import annotations

from datetime import date


def days(text: str) -> int:
    return (date.fromisoformat(text) - date(1970, 1, 1)).days


def order(**changes) -> dict:
    document = {
        "order_id": 1,
        "order_date": "2024-01-10",
        "total_amount": 95.0,
        "customer": {"customer_id": 101, "name": "Zoë", "email": None, "address": "1 Main St"},
        "products": [
            {"product_id": "P1", "name": "Mouse", "category": "Electronics", "price": 25.0, "quantity": 2},
            {"product_id": "P2", "name": "Keyboard", "category": None, "price": 45, "quantity": 1},
        ],
    }
    document.update(changes)
    return document


def product(**changes) -> dict:
    return {"product_id": "P1", "price": 1.0, "quantity": 1} | changes
