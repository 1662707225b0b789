"""The orders rules of pipelines/orders.py applied to one parsed JSON document, with the job's reasons and results.

Each value kind is read here as the job's Spark SQL reads it; money is kept in whole cents and dates in days since
1970-01-01, so that the output table is built without a Decimal or a date object per value.
"""

from __future__ import annotations

import functools
import json
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pipelines import orders as spec

_BAD, _RANGE = "bad", "out of range"
_DECIMAL = re.compile(spec.DECIMAL_PATTERN)
_INTEGER = re.compile(spec.INTEGER_PATTERN)
_DATE = re.compile(spec.DATE_PATTERN)
_EPOCH = date(1970, 1, 1).toordinal()
# Money is held as whole minor units ("cents") of the declared decimal type.
SCALE = int(re.fullmatch(r"decimal\((\d+),(\d+)\)", spec.MONEY).group(2))
_CENT = Decimal(1).scaleb(-SCALE)
CENTS_LIMIT = spec.MONEY_LIMIT * 10**SCALE
# Below this a double is less than a cent from its neighbours, so if it is the double nearest a whole number of
# cents, its shortest text (what the job casts) is that number: no Decimal is needed to round it.
EXACT_MONEY_BELOW = 2.0**52 / 10**SCALE

ORDER_FIELDS = (*spec.ORDER, *spec.CUSTOMER.fields)
ITEM_FIELDS = (*spec.PRODUCTS.fields, spec.LINE_AMOUNT)
ORDER_COLUMNS = tuple(f.column for f in ORDER_FIELDS)
ITEM_COLUMNS = tuple(f.column for f in ITEM_FIELDS)
_KEY = [ORDER_COLUMNS.index(column) for column in spec.ORDERS.key]
_FACTORS = [i for i, f in enumerate(spec.PRODUCTS.fields) if f.key in spec.LINE_FACTORS]
_SUMMED = [(i, f.kind) for i, f in enumerate(ITEM_FIELDS) if f.key in spec.SUMMED]
# The output table is built from whole numbers (cents, days, counts), so a valid order must have every one of them.
if any(f.kind != "text" and not f.invalid for f in (*ORDER_FIELDS, *spec.PRODUCTS.fields)):
    raise ValueError("pipelines/orders.py: the ingest Lambda needs every field that is not text to be required")


def text(value: Any) -> str | None:
    """A scalar as the job's parser reads it: strings as they are, numbers as written, true/false."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def is_blank(value: str | None) -> bool:
    # Spark's trim removes spaces only.
    return value is None or not value.strip(" ")


def _read_text(value: Any) -> tuple[str | None, str | None]:
    read = text(value)
    return read, _BAD if is_blank(read) else None


@functools.lru_cache(maxsize=65_536)
def _days(value: str) -> int | None:
    """Days since 1970-01-01 of a yyyy-MM-dd date, None when it is not one (cached: exports repeat few dates)."""
    if not _DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value).toordinal() - _EPOCH
    except ValueError:
        return None


def _read_date(value: Any) -> tuple[int | None, str | None]:
    days = _days(value) if isinstance(value, str) else None
    return days, None if days is not None else _BAD


def _read_money(value: Any) -> tuple[int | None, str | None]:
    """(cents, None) or (None, _BAD | _RANGE), as the job's cast of the number's text to decimal(18,2).

    Spark reads JSON numbers as doubles and casts their shortest text (Double.toString), rounding half-up; repr() is
    Python's shortest text of the same double, so both round 2.675 to 2.68 and 1e400 is not a number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value * 10**SCALE, None) if abs(value) < spec.MONEY_LIMIT else (None, _RANGE)
    if isinstance(value, float) and math.isfinite(value):
        if abs(value) < EXACT_MONEY_BELOW and (cents := round(value * 10**SCALE)) / 10**SCALE == value:
            return cents, None
        number = Decimal(repr(value))
    elif isinstance(value, str) and _DECIMAL.fullmatch(value):
        number = Decimal(value)
    else:
        return None, _BAD
    if abs(number) >= spec.MONEY_LIMIT:
        return None, _RANGE
    cents = int(number.quantize(_CENT, rounding=ROUND_HALF_UP).scaleb(SCALE))
    return (None, _RANGE) if not fits("money", cents) else (cents, None)


def _read_count(value: Any) -> tuple[int | None, str | None]:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _INTEGER.fullmatch(value):
        number = int(value)
    else:
        return None, _BAD
    return (number, None) if fits("count", number) else (None, _RANGE)


_READ: dict[str, Callable[[Any], tuple[Any, str | None]]] = {
    "text": _read_text,
    "date": _read_date,
    "money": _read_money,
    "count": _read_count,
}


def fits(kind: str, value: int) -> bool:
    """Whether a money value (in cents) or a count fits its declared type."""
    if kind == "money":
        return abs(value) < CENTS_LIMIT
    return spec.INT_MIN <= value <= spec.INT_MAX


@dataclass
class Order:
    """A valid order: its values in ORDER_COLUMNS order and one tuple per product line in ITEM_COLUMNS order."""

    values: tuple
    items: list[tuple]

    @property
    def key(self) -> tuple:
        return tuple(self.values[i] for i in _KEY)


Check = Callable[[Any, set[str]], Any]


def _checker(field: spec.Field) -> Check:
    """`check(raw, found)`: the field's value read by its kind (None when it is not one), its problems added to
    `found`. Built once per field: the reference path calls it for every value of a file."""
    read, out_of_range = _READ[field.kind], spec.KINDS[field.kind].out_of_range
    invalid, negative = field.invalid, field.negative
    if field.kind == "text" and not invalid:
        return lambda raw, _found: raw if raw is None or type(raw) is str else text(raw)

    def check(raw: Any, found: set[str]) -> Any:
        value, problem = read(raw)
        if problem is _RANGE:
            found.add(out_of_range)
        elif problem is not None:
            if invalid:
                found.add(invalid)
        elif negative and value < 0:
            found.add(negative)
        return value

    return check


def _absent(value: Any) -> bool:
    return value is None or (type(value) is str and not value.strip(" "))


_ORDER_CHECKS = [(f.key, _checker(f)) for f in spec.ORDER]
_CUSTOMER_CHECKS = [(f.key, _checker(f)) for f in spec.CUSTOMER.fields]
_PRODUCT_CHECKS = [(f.key, _checker(f), f.unique) for f in spec.PRODUCTS.fields]


def _object_part(part: spec.Part, value: Any, found: set[str]) -> tuple:
    if not isinstance(value, dict):
        if value is not None:
            found.add(part.not_object)
        return (None,) * len(part.fields)
    return tuple(check(value.get(key), found) for key, check in _CUSTOMER_CHECKS)


def _element(part: spec.Part, element: Any, found: set[str], seen: dict[str, set]) -> tuple:
    if not isinstance(element, dict):
        found.add(part.not_object)
        return (None,) * len(part.fields)
    values = []
    for key, check, unique in _PRODUCT_CHECKS:
        value = check(element.get(key), found)
        if unique and not _absent(value):
            if value in seen[key]:
                found.add(unique)
            seen[key].add(value)
        values.append(value)
    return tuple(values)


def _line(values: tuple, found: set[str]) -> int | None:
    factors = [values[i] for i in _FACTORS]
    if None in factors:
        return None
    line = functools.reduce(operator.mul, factors)
    if not fits(spec.LINE_AMOUNT.kind, line):
        found.add(spec.KINDS[spec.LINE_AMOUNT.kind].out_of_range)
        return None
    return line


def _products(value: Any, found: set[str]) -> list[tuple]:
    """The product lines (None for values that failed, and a line amount each); problems added to `found`."""
    part = spec.PRODUCTS
    if not isinstance(value, list):
        found.add(part.not_array)
        return []
    seen: dict[str, set] = {f.key: set() for f in part.fields if f.unique}
    items = []
    for element in value:
        values = _element(part, element, found, seen)
        items.append((*values, _line(values, found)))
    for index, kind in _SUMMED:
        column = [item[index] for item in items]
        if None not in column and not fits(kind, sum(column)):
            found.add(spec.KINDS[kind].out_of_range)
    return items


def validate(document: Any) -> tuple[str | None, Order | None]:
    """(None, order) for a valid order document, else (reasons, None): the job's reasons, in the job's order."""
    if not isinstance(document, dict):
        return spec.NOT_AN_OBJECT, None
    found: set[str] = set()
    values = [check(document.get(key), found) for key, check in _ORDER_CHECKS]
    customer = _object_part(spec.CUSTOMER, document.get(spec.CUSTOMER.key), found)
    items = _products(document.get(spec.PRODUCTS.key), found)
    if found:
        return spec.REASON_SEPARATOR.join(r for r in spec.ORDER_REASONS if r in found), None
    return None, Order((*values, *customer), items)
