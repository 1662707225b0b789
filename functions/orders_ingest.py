"""S3-triggered ingest: each order file landing in the raw bucket becomes one Parquet file in the curated bucket.

Same flattening and validation as jobs/orders.py (the rules live in pipelines/orders.py), in plain Python + pyarrow.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import json
import logging
import math
import os
import re
import time
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import unquote_plus

import boto3
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj
import pyarrow.parquet as pq
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from pipelines import orders as spec

log = logging.getLogger("orders_ingest")
log.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

TABLE = spec.INGESTED_ITEMS
# Files from this size on first try the vectorized path (pyarrow's JSON reader); smaller ones, and any file it
# cannot prove clean, take the reference path (stdlib json, one document at a time).
FAST_PATH_MIN_BYTES = 1 << 20

_DECIMAL = re.compile(spec.DECIMAL_PATTERN)
_INTEGER = re.compile(spec.INTEGER_PATTERN)
_DATE = re.compile(spec.DATE_PATTERN)
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_BYTES_WHITESPACE = re.compile(rb"[ \t\n\r]*")
_BLANK = re.compile(r"[ \t\r]*")
_CENT = Decimal("0.01")
_CENTS_LIMIT = spec.MONEY_LIMIT * 100
_EPOCH = date(1970, 1, 1).toordinal()
_DECODER = json.JSONDecoder()
_BAD, _RANGE = "bad", "out of range"
# User-defined S3 metadata is ASCII and at most 2 KB in all; the reason gets half of it.
_METADATA_REASON_LIMIT = 1024
_MAX_KEY_BYTES = 1024
_KEEP = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")
# CopyObject copies at most 5 GB in one request; a larger quarantine copy goes part by part (UploadPartCopy)
# ("Copying, moving, and renaming objects", Amazon S3 User Guide).
_COPY = TransferConfig(multipart_threshold=5 * 1024**3, multipart_chunksize=512 * 1024**2)


class ConfigError(ValueError):
    """The function's environment is incomplete or would make it trigger itself."""


class FileRejected(Exception):
    """The whole file is not order data: it is quarantined, and the invocation still succeeds."""


FILE_TOO_LARGE = "file too large for the ingest Lambda"


@dataclass(frozen=True)
class Config:
    curated_bucket: str
    curated_prefix: str
    quarantine_prefix: str
    watched_prefix: str | None = None
    crawler_name: str | None = None
    # The function's memory, which Lambda sets in AWS_LAMBDA_FUNCTION_MEMORY_SIZE; None (outside Lambda): no limit.
    memory_mb: int | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        missing = [n for n in ("CURATED_BUCKET", "CURATED_PREFIX", "QUARANTINE_PREFIX") if env.get(n) is None]
        if missing or not env["CURATED_BUCKET"]:
            raise ConfigError(f"orders_ingest: set the environment variables {missing or ['CURATED_BUCKET']}")
        memory = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        return cls(
            curated_bucket=env["CURATED_BUCKET"],
            curated_prefix=env["CURATED_PREFIX"],
            quarantine_prefix=env["QUARANTINE_PREFIX"],
            watched_prefix=env.get("WATCHED_PREFIX"),
            crawler_name=env.get("CRAWLER_NAME") or None,
            memory_mb=int(memory) if memory else None,
        )

    @property
    def max_file_bytes(self) -> int | None:
        """The largest file this function reads whole with its memory (pipelines/orders.py)."""
        return spec.ingest_max_file_bytes(self.memory_mb) if self.memory_mb else None

    def too_large(self, size: int) -> str | None:
        """Why a file of `size` bytes is not for this function, or None."""
        limit = self.max_file_bytes
        if limit is None or size <= limit:
            return None
        (step,) = spec.PIPELINE.steps
        emr_input, glue_input = dict(step.args)["--input"], dict(step.glue_inputs)["--input"]
        return (
            f"{FILE_TOO_LARGE}: {size} bytes, above the {limit} bytes this function reads with {self.memory_mb} MB "
            f"of memory; the orders Spark job takes it (upload it under {emr_input.prefix} and start the orders "
            f"state machine, or under {glue_input.prefix} for the Glue job)"
        )

    def refuse_recursion(self, source_bucket: str, source_key: str) -> None:
        """Raise before touching the object if this function would write under the watched prefix of the source
        bucket: every such write would invoke it again (and quarantine copies keep the `.json` suffix)."""
        if self.watched_prefix is None:
            return
        looping = [f"{self.quarantine_prefix}{source_key}"]
        if self.curated_bucket == source_bucket:
            # Output names are flat (no `/`): the prefix decides where they land.
            looping.append(self.curated_prefix)
        looping = [k for k in looping if k.startswith(self.watched_prefix)]
        if looping:
            raise ConfigError(
                f"orders_ingest: refusing to write {looping} under the watched prefix {self.watched_prefix!r} of "
                f"s3://{source_bucket} (check CURATED_PREFIX, QUARANTINE_PREFIX and WATCHED_PREFIX)"
            )


def _arrow_type(type_: str) -> pa.DataType:
    found = re.fullmatch(r"decimal\((\d+),(\d+)\)", type_)
    if found:
        return pa.decimal128(int(found.group(1)), int(found.group(2)))
    return {"string": pa.string(), "date": pa.date32(), "int": pa.int32(), "bigint": pa.int64()}[type_]


SCHEMA = pa.schema([pa.field(c.name, _arrow_type(c.type)) for c in TABLE.all_columns])
ORDER_COLUMNS = (
    "order_id",
    "order_date",
    "total_amount",
    *(f"customer_{k}" for k in ("id", "name", "email", "address")),
)


# ---- the rules, one document at a time (the reference) -------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A scalar as the job's parser reads it: strings as they are, numbers as written, true/false."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _is_blank(text: str | None) -> bool:
    # Spark's trim removes spaces only.
    return text is None or not text.strip(" ")


def _money(value: Any) -> tuple[int | None, str | None]:
    """(cents, None) or (None, _BAD | _RANGE), as the job's cast of the number's text to decimal(18,2).

    Spark reads JSON numbers as doubles and casts their shortest text (Double.toString), rounding half-up; repr() is
    Python's shortest text of the same double, so both round 2.675 to 2.68 and 1e400 is not a number."""
    if isinstance(value, float) and math.isfinite(value):
        number = Decimal(repr(value))
    elif (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and _DECIMAL.fullmatch(value)
    ):
        number = Decimal(value)
    else:
        return None, _BAD
    if number.adjusted() >= 16:
        return None, _RANGE
    cents = int(number.quantize(_CENT, rounding=ROUND_HALF_UP).scaleb(2))
    return (None, _RANGE) if abs(cents) >= _CENTS_LIMIT else (cents, None)


def _quantity(value: Any) -> tuple[int | None, str | None]:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _INTEGER.fullmatch(value):
        number = int(value)
    else:
        return None, _BAD
    return (number, None) if spec.INT_MIN <= number <= spec.INT_MAX else (None, _RANGE)


@functools.lru_cache(maxsize=65_536)
def _days(value: str) -> int | None:
    """Days since 1970-01-01 of a yyyy-MM-dd date, None when it is not one (cached: exports repeat few dates)."""
    if not _DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value).toordinal() - _EPOCH
    except ValueError:
        return None


@dataclass
class Order:
    """A valid order: money in cents, the date in days since 1970-01-01, one tuple per product line."""

    order_id: str
    days: int
    total: int
    customer: tuple  # customer_id, name, email, address
    items: list[tuple]  # product_id, name, category, price, quantity, line_amount


def _add_problem(found: set[str], problem: str | None, bad: str) -> None:
    if problem == _BAD:
        found.add(bad)
    elif problem == _RANGE:
        found.add(spec.QUANTITY_OUT_OF_RANGE if bad == spec.BAD_QUANTITY else spec.AMOUNT_OUT_OF_RANGE)


def _product(p: Any, found: set[str], ids: set[str]) -> tuple:
    """One product line (None for values that failed); problems are added to `found`."""
    if not isinstance(p, dict):
        found.add(spec.PRODUCT_NOT_OBJECT)
        return (None, None, None, None, None, None)
    product_id = _text(p.get("product_id"))
    if _is_blank(product_id):
        found.add(spec.MISSING_PRODUCT_ID)
    elif product_id in ids:
        found.add(spec.DUPLICATE_PRODUCT_ID)
    else:
        ids.add(product_id)
    price, problem = _money(p.get("price"))
    _add_problem(found, problem, spec.BAD_PRICE)
    if price is not None and price < 0:
        found.add(spec.NEGATIVE_PRICE)
    quantity, problem = _quantity(p.get("quantity"))
    _add_problem(found, problem, spec.BAD_QUANTITY)
    if quantity is not None and quantity < 0:
        found.add(spec.NEGATIVE_QUANTITY)
    line = None
    if price is not None and quantity is not None:
        line = price * quantity
        if abs(line) >= _CENTS_LIMIT:
            found.add(spec.AMOUNT_OUT_OF_RANGE)
            line = None
    return (product_id, _text(p.get("name")), _text(p.get("category")), price, quantity, line)


def _products(products: list, found: set[str]) -> list[tuple]:
    ids: set[str] = set()
    items = [_product(p, found, ids) for p in products]
    lines = [item[5] for item in items]
    if None not in lines and abs(sum(lines)) >= _CENTS_LIMIT:
        found.add(spec.AMOUNT_OUT_OF_RANGE)
    quantities = [item[4] for item in items]
    if None not in quantities and not spec.INT_MIN <= sum(quantities) <= spec.INT_MAX:
        found.add(spec.QUANTITY_OUT_OF_RANGE)
    return items


def validate(value: Any) -> tuple[str | None, Order | None]:
    """(None, order) for a valid order document, else (reasons, None): the job's reasons, in the job's order."""
    if not isinstance(value, dict):
        return spec.NOT_AN_OBJECT, None
    found: set[str] = set()
    order_id = _text(value.get("order_id"))
    if _is_blank(order_id):
        found.add(spec.MISSING_ORDER_ID)
    order_date = value.get("order_date")
    days = _days(order_date) if isinstance(order_date, str) else None
    if days is None:
        found.add(spec.BAD_ORDER_DATE)
    total, problem = _money(value.get("total_amount"))
    _add_problem(found, problem, spec.BAD_TOTAL)
    customer = value.get("customer")
    if customer is not None and not isinstance(customer, dict):
        found.add(spec.CUSTOMER_NOT_OBJECT)
    customer = customer if isinstance(customer, dict) else {}
    products = value.get("products")
    items = _products(products, found) if isinstance(products, list) else []
    if not isinstance(products, list):
        found.add(spec.PRODUCTS_NOT_ARRAY)
    if found:
        return spec.REASON_SEPARATOR.join(r for r in spec.ORDER_REASONS if r in found), None
    customer_values = tuple(_text(customer.get(k)) for k in ("customer_id", "name", "email", "address"))
    return None, Order(order_id, days, total, customer_values, items)


def _array_records(text: str) -> Iterator[tuple[int, Any, slice]]:
    """(position from 1, value, where its text is) per element of the JSON array `text`, parsed one element at a
    time so the file never exists as one big list of dicts; json.JSONDecodeError unless it is exactly one array."""
    at = _WHITESPACE.match(text, _WHITESPACE.match(text).end() + 1).end()
    position = 0
    if text.startswith("]", at):
        at += 1
    else:
        while True:
            value, end = _DECODER.raw_decode(text, at)
            position += 1
            yield position, value, slice(at, end)
            at = _WHITESPACE.match(text, end).end()
            if text.startswith(",", at):
                at = _WHITESPACE.match(text, at + 1).end()
            elif text.startswith("]", at):
                at += 1
                break
            else:
                raise json.JSONDecodeError("Expecting ',' or ']'", text, at)
    at = _WHITESPACE.match(text, at).end()
    if at != len(text):
        raise json.JSONDecodeError("Extra data after the array", text, at)


_NOT_JSON = object()


def _line_records(text: str) -> Iterator[tuple[int, Any, str]]:
    """(line number, value or _NOT_JSON, the line) per non-blank line."""
    for number, line in enumerate(text.split("\n"), start=1):
        if _BLANK.fullmatch(line):
            continue
        try:
            yield number, _DECODER.decode(line), line
        except json.JSONDecodeError:
            yield number, _NOT_JSON, line


def _records(text: str) -> Iterator[tuple[int, Any, str | slice]]:
    """A file whose first non-blank character is `[` is one JSON array; anything else is JSON Lines (as the job)."""
    return _array_records(text) if text.startswith("[", _WHITESPACE.match(text).end()) else _line_records(text)


def decode(data: bytes) -> str:
    """The file as text (UTF-8, an optional byte order mark); FileRejected when it is not UTF-8."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileRejected(f"{spec.NOT_JSON}: not UTF-8 text ({error.reason} at byte {error.start})") from None


def _decimals(cents: np.ndarray) -> pa.Array:
    """decimal128(18,2) from whole cents without a Python Decimal per value: the unscaled 128-bit integers are the
    cents, sign-extended (little-endian: low word, then high word)."""
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = words[:, 0] >> 63
    return pa.Array.from_buffers(pa.decimal128(18, 2), len(cents), [None, pa.py_buffer(words)])


def _rows(orders: dict[str, Any], items: dict[str, Any], parents: np.ndarray, source: tuple[str, str]) -> pa.Table:
    """The output table from order-level and product-level values (lists or arrays; money in cents, dates in days)
    and `parents`, each product row's order index."""
    take = pa.array(parents, pa.int32())
    rows = len(parents)
    order_values = {
        "order_id": pa.array(orders["order_id"], pa.string()),
        "order_date": pa.array(np.asarray(orders["order_date"], dtype=np.int32)).view(pa.date32()),
        "total_amount": _decimals(np.asarray(orders["total_amount"], dtype=np.int64)),
        **{k: pa.array(orders[k], pa.string()) for k in ORDER_COLUMNS[3:]},
    }
    columns = {k: v.take(take) for k, v in order_values.items()}
    columns |= {k: pa.array(items[k], pa.string()) for k in ("product_id", "product_name", "product_category")}
    columns["price"] = _decimals(np.asarray(items["price"], dtype=np.int64))
    columns["quantity"] = pa.array(np.asarray(items["quantity"], dtype=np.int32))
    columns["line_amount"] = _decimals(np.asarray(items["line_amount"], dtype=np.int64))
    columns["source_key"] = pa.array([source[0]], pa.string()).take(pa.array(np.zeros(rows, dtype=np.int32)))
    columns["source_version"] = pa.array([source[1]], pa.string()).take(pa.array(np.zeros(rows, dtype=np.int32)))
    return pa.Table.from_arrays([columns[f.name] for f in SCHEMA], schema=SCHEMA)


@dataclass
class Flattened:
    """One file flattened: the rows (exactly SCHEMA), the rejected orders, and the counts of the run report."""

    table: pa.Table
    rejects: list[dict] = field(default_factory=list)
    records: int = 0
    orders: int = 0
    superseded: int = 0


def flatten_text(text: str, *, source: str, source_key: str, source_version: str) -> Flattened:
    """The reference path: one row per order x product of the file's valid orders, the latest occurrence of an order
    in the file winning; invalid orders become rejects (source `<source>#<position>`, reason, record).
    FileRejected when the file is not JSON, or holds records but not a single valid order."""
    latest: dict[str, Order] = {}
    rejects = []
    records = 0
    try:
        for position, value, raw in _records(text):
            records += 1
            reason, order = (spec.NOT_JSON, None) if value is _NOT_JSON else validate(value)
            if order is None:
                record = raw if isinstance(raw, str) else text[raw]
                rejects.append({"source": f"{source}#{position}", "reason": reason, "record": record})
                continue
            # Re-inserting moves an order to the end: rows follow each order's latest position.
            latest.pop(order.order_id, None)
            latest[order.order_id] = order
    except json.JSONDecodeError as error:
        raise FileRejected(f"{spec.NOT_JSON}: {error}") from None
    valid = records - len(rejects)
    if records and not valid:
        if all(r["reason"] == spec.NOT_JSON for r in rejects):
            raise FileRejected(spec.NOT_JSON)
        raise FileRejected(f"no valid order in its {records} records; first: {rejects[0]['reason']}")
    orders: dict[str, list] = {k: [] for k in ORDER_COLUMNS}
    items: dict[str, list] = {k: [] for k in ("product_id", "product_name", "product_category")}
    items |= {k: array("q") for k in ("price", "quantity", "line_amount")}
    parents = array("i")
    for order in latest.values():
        for name, value in zip(ORDER_COLUMNS, (order.order_id, order.days, order.total, *order.customer), strict=True):
            orders[name].append(value)
        for item in order.items:
            for name, value in zip(items, item, strict=True):
                items[name].append(value)
        parents.extend([len(orders["order_id"]) - 1] * len(order.items))
    return Flattened(
        table=_rows(orders, items, np.frombuffer(parents, dtype=np.int32), (source_key, source_version)),
        rejects=rejects,
        records=records,
        orders=len(latest),
        superseded=valid - len(latest),
    )


# ---- the same rules, vectorized, for large regular files -------------------------------------------------------------


class _NotPlain(Exception):
    """The file has something the vectorized path does not decide: the reference path takes it."""


def _sample(data: bytes, start: int) -> list:
    """The documents that parse completely within the file's first 64 KB."""
    head = data[start : start + 65_536].decode("utf-8", errors="ignore")
    if not head.startswith("["):
        lines = head.split("\n")[:-1]
        return [value for _, value, _ in _line_records("\n".join(lines)) if value is not _NOT_JSON]
    sample = []
    try:
        for _, value, _ in _array_records(head):
            sample.append(value)
    except json.JSONDecodeError:
        pass  # the head ends inside a document
    return sample


def _id_type(values: Iterator[Any]) -> pa.DataType:
    first = next((v for v in values if v is not None), None)
    return pa.int64() if type(first) is int else pa.string()


def _document_type(sample: list) -> pa.StructType:
    """The type the reader parses documents with, so no value is inferred (a date would become a timestamp): text
    as strings, amounts as doubles, quantities as int64, ids as numbers or strings as the first documents have them.
    Fields the rules do not read are skipped; a document that disagrees makes the reader fail."""
    documents = [d for d in sample if isinstance(d, dict)]
    customers = [d["customer"] for d in documents if isinstance(d.get("customer"), dict)]
    products = [p for d in documents if isinstance(d.get("products"), list) for p in d["products"]]
    products = [p for p in products if isinstance(p, dict)]
    text = pa.string()
    customer = pa.struct(
        [("customer_id", _id_type(c.get("customer_id") for c in customers))]
        + [(name, text) for name in ("name", "email", "address")]
    )
    product = pa.struct(
        [
            ("product_id", _id_type(p.get("product_id") for p in products)),
            ("name", text),
            ("category", text),
            ("price", pa.float64()),
            ("quantity", pa.int64()),
        ]
    )
    return pa.struct(
        [
            ("order_id", _id_type(d.get("order_id") for d in documents)),
            ("order_date", text),
            ("total_amount", pa.float64()),
            ("customer", customer),
            ("products", pa.list_(product)),
        ]
    )


_PIECE_BYTES = 4 << 20


def _array_pieces(data: bytes, start: int) -> Iterator[bytes]:
    """The elements of the JSON array at `start` as runs of objects the JSON reader takes (whitespace-separated),
    about _PIECE_BYTES each, so no copy of the whole file is made. The commas dropped are those ending a line and
    followed by the first element's indentation and `{`: a raw newline is never inside a JSON string, and pretty
    printers indent nested values deeper, so they separate top-level elements. Were one elsewhere, dropping it
    would break the JSON and the reader fail: nothing is misread. _NotPlain when elements do not start lines."""
    first = _BYTES_WHITESPACE.match(data, start + 1).end()
    newline = data.rfind(b"\n", start, first)
    end = data.rfind(b"]")
    if newline < 0 or not data.startswith(b"{", first) or _BYTES_WHITESPACE.match(data, end + 1).end() < len(data):
        raise _NotPlain
    # A line break (\n or \r\n, as the file has it) and the first element's indentation.
    separator = b"," + data[newline - 1 if data[newline - 1 : newline] == b"\r" else newline : first] + b"{"
    at = first
    while at < end:
        cut = data.find(separator, min(at + _PIECE_BYTES, end), end)
        cut = end if cut < 0 else cut
        yield data[at:cut].replace(separator, separator[1:])
        at = cut + 1


def _line_pieces(data: bytes, start: int) -> Iterator[memoryview]:
    """JSON Lines in runs of whole lines of about _PIECE_BYTES."""
    view = memoryview(data)
    at = start
    while at < len(data):
        cut = data.find(b"\n", at + _PIECE_BYTES)
        cut = len(data) if cut < 0 else cut + 1
        yield view[at:cut]
        at = cut


def _read_arrow(data: bytes, start: int) -> Iterator[pa.StructArray]:
    """The order documents, a piece at a time, parsed by pyarrow's JSON reader (C++, no Python object per value);
    ArrowInvalid when the file is not JSON or a value does not have the type the first documents give its field."""
    document = _document_type(_sample(data, start))
    options = pj.ParseOptions(
        explicit_schema=pa.schema(list(document)), unexpected_field_behavior="ignore", newlines_in_values=True
    )
    pieces = _array_pieces(data, start) if data.startswith(b"[", start) else _line_pieces(data, start)
    for piece in pieces:
        table = pj.read_json(pa.BufferReader(piece), parse_options=options).combine_chunks()
        yield pa.StructArray.from_arrays([c.chunk(0) for c in table.columns], fields=list(document))


def _child(struct: pa.Array, name: str) -> pa.Array | None:
    if not pa.types.is_struct(struct.type) or struct.type.get_field_index(name) < 0:
        return None
    return pc.struct_field(struct, name)


def _plain_text(values: pa.Array | None, length: int, *, required: bool = False) -> pa.Array:
    """Text as the job reads it: strings, whole numbers and booleans; doubles keep their own spelling, so they and
    anything nested are not plain. Required text must be present and not blank."""
    if values is None:
        values = pa.nulls(length, pa.string())
    kind = values.type
    if not (pa.types.is_string(kind) or pa.types.is_null(kind) or pa.types.is_int64(kind) or pa.types.is_boolean(kind)):
        raise _NotPlain
    text = values.cast(pa.string())
    if required and (text.null_count or pc.any(pc.equal(pc.utf8_trim(text, " "), "")).as_py()):
        raise _NotPlain
    return text


def _plain_cents(values: pa.Array | None) -> np.ndarray:
    """Whole cents of amounts that are plain: present, below 1e11, and within 1e-6 of a whole number of cents
    (decimals with at most two places: their shortest text, what Spark casts, is that number exactly)."""
    if values is None or values.null_count:
        raise _NotPlain
    cents = values.to_numpy() * 100
    whole = np.round(cents)
    if not (np.abs(cents) < 1e13).all() or (np.abs(cents - whole) >= 1e-6).any():
        raise _NotPlain
    return whole.astype(np.int64)


def _plain_days(values: pa.Array | None) -> np.ndarray:
    if values is None or not pa.types.is_string(values.type) or values.null_count:
        raise _NotPlain
    if not pc.all(pc.match_substring_regex(values, f"^(?:{spec.DATE_PATTERN})$")).as_py():
        raise _NotPlain
    parsed = pc.strptime(values, format="%Y-%m-%d", unit="s", error_is_null=True)
    if parsed.null_count:
        raise _NotPlain
    return parsed.cast(pa.date32()).cast(pa.int32()).to_numpy()


def _plain_products(documents: pa.StructArray) -> tuple[dict[str, Any], np.ndarray]:
    """The product lines of plain products arrays (objects, ids present and unique per order, amounts and quantities
    plain and non-negative, lines and sums far inside decimal(18,2) and int) and each line's order index."""
    lists = _child(documents, "products")
    if lists is None or lists.null_count:
        raise _NotPlain
    products = lists.flatten()
    parents = pc.list_parent_indices(lists).to_numpy()
    if products.null_count:
        raise _NotPlain
    count = len(products)
    product_ids = _plain_text(_child(products, "product_id"), count, required=True)
    prices = _plain_cents(_child(products, "price"))
    quantity_values = _child(products, "quantity")
    if quantity_values.null_count:
        raise _NotPlain
    quantities = quantity_values.to_numpy()
    lines = prices.astype(np.float64) * quantities
    orders = len(documents)
    if (
        (prices < 0).any()
        or ((quantities < 0) | (quantities > spec.INT_MAX)).any()
        or (np.bincount(parents, weights=lines, minlength=orders) >= 1e17).any()
        or (np.bincount(parents, weights=quantities, minlength=orders) > spec.INT_MAX).any()
    ):
        raise _NotPlain
    # Unique (order, product_id) pairs: product ids numbered, then paired with their order in one integer.
    numbered = pc.dictionary_encode(product_ids).indices.to_numpy().astype(np.int64)
    if len(np.unique(parents.astype(np.int64) * (int(numbered.max(initial=0)) + 1) + numbered)) < count:
        raise _NotPlain
    items = {
        "product_id": product_ids,
        "product_name": _plain_text(_child(products, "name"), count),
        "product_category": _plain_text(_child(products, "category"), count),
        "price": prices,
        "quantity": quantities,
        "line_amount": prices * quantities,
    }
    return items, parents


def _plain_rows(documents: pa.StructArray, source: tuple[str, str]) -> tuple[pa.Array, pa.Table, np.ndarray]:
    """(order ids, rows, each row's order index) of documents that are all plainly valid; _NotPlain otherwise."""
    count = len(documents)
    customers = _child(documents, "customer")
    orders = {
        "order_id": _plain_text(_child(documents, "order_id"), count, required=True),
        "order_date": _plain_days(_child(documents, "order_date")),
        "total_amount": _plain_cents(_child(documents, "total_amount")),
        **{
            column: _plain_text(_child(customers, key), count)
            for column, key in zip(ORDER_COLUMNS[3:], ("customer_id", "name", "email", "address"), strict=True)
        },
    }
    items, parents = _plain_products(documents)
    return orders["order_id"], _rows(orders, items, parents, source), parents


def _flatten_arrow(data: bytes, source_key: str, source_version: str) -> Flattened | None:
    """flatten() for a file whose every order is plainly valid, decided with vectorized checks; None otherwise."""
    start = 3 if data.startswith(codecs.BOM_UTF8) else 0
    start = _BYTES_WHITESPACE.match(data, start).end()
    try:
        parts = [_plain_rows(documents, (source_key, source_version)) for documents in _read_arrow(data, start)]
    except (pa.ArrowException, UnicodeDecodeError, _NotPlain):
        return None
    order_ids = pa.chunked_array([ids for ids, _, _ in parts], pa.string())
    count = len(order_ids)
    if not count:
        return None
    # The latest occurrence of an order in the file wins, as in flatten_text: the highest ordinal per order id.
    numbered = pc.dictionary_encode(order_ids.combine_chunks()).indices.to_numpy()
    last = np.full(int(numbered.max()) + 1, -1, dtype=np.int64)
    np.maximum.at(last, numbered, np.arange(count))
    wins = np.zeros(count, dtype=bool)
    wins[last] = True
    tables, offset = [], 0
    for ids, rows, parents in parts:
        keep = wins[offset + parents]
        tables.append(rows if keep.all() else rows.filter(pa.array(keep)))
        offset += len(ids)
    return Flattened(
        table=pa.concat_tables(tables) if tables else SCHEMA.empty_table(),
        records=count,
        orders=len(last),
        superseded=count - len(last),
    )


def flatten(data: bytes, *, source: str, source_key: str, source_version: str) -> Flattened:
    """One file's bytes flattened (see flatten_text): vectorized when the file is large and plainly valid, else
    through the reference path. Both give the same rows."""
    if len(data) >= FAST_PATH_MIN_BYTES:
        fast = _flatten_arrow(data, source_key, source_version)
        if fast is not None:
            return fast
    return flatten_text(decode(data), source=source, source_key=source_key, source_version=source_version)


def to_parquet(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue().to_pybytes()


# ---- S3 and Glue ---------------------------------------------------------------------------------------------------


@functools.cache
def _client(service: str):
    """One client per service per container (created on first use, so tests can mock AWS first)."""
    return boto3.client(service)


def flat_name(text: str) -> str:
    """`text` as one URL-safe file name: letters, digits and `-` kept, `.` and `_` kept except first (Athena skips
    files starting with them), every other byte %XX. Injective, so two source keys never share an output."""
    out = []
    for i, byte in enumerate(text.encode("utf-8")):
        char = chr(byte)
        out.append(char if char in _KEEP or (char in "._" and i > 0) else f"%{byte:02X}")
    return "".join(out)


def output_key(prefix: str, source_key: str, version: str) -> str:
    """`<prefix><flat source key>--<flat version>.parquet`: one object per source version, so a redelivered event
    overwrites it. `-` is escaped in the version, so the last `--` separates the two."""
    name = f"{flat_name(source_key)}--{flat_name(version).replace('-', '%2D')}"
    key = f"{prefix}{name}.parquet"
    if len(key.encode()) > _MAX_KEY_BYTES:
        # S3 keys stop at 1024 bytes: keep a readable start and make it unique with a hash of the full name.
        digest = hashlib.sha256(name.encode()).hexdigest()[:32]
        key = f"{prefix}{name[: _MAX_KEY_BYTES - len(prefix.encode()) - 64]}~{digest}.parquet"
    return key


def _metadata_text(text: str) -> str:
    escaped = json.dumps(text)[1:-1]
    return escaped if len(escaped) <= _METADATA_REASON_LIMIT else escaped[: _METADATA_REASON_LIMIT - 3] + "..."


@dataclass(frozen=True)
class Source:
    bucket: str
    key: str
    version_id: str | None

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Source:
        s3 = record["s3"]
        # Keys in S3 events are URL-encoded, with spaces as `+`.
        version = s3["object"].get("versionId")
        return cls(s3["bucket"]["name"], unquote_plus(s3["object"]["key"]), version or None)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass
class _Object:
    data: bytes | None  # None: not read, the file is too large for this function
    version: str
    version_id: str | None
    content_type: str
    size: int


def _read(source: Source, config: Config) -> _Object:
    """The source object. Its version names the output: the version id, or the ETag when the bucket is not
    versioned, of the content actually read, whatever the event said. A file too large for the function's memory
    is not read at all (its size comes with the response, before the body)."""
    extra = {"VersionId": source.version_id} if source.version_id else {}
    response = _client("s3").get_object(Bucket=source.bucket, Key=source.key, **extra)
    version_id = response.get("VersionId")
    version_id = version_id if version_id and version_id != "null" else None
    size = int(response["ContentLength"])
    body = response["Body"]
    if config.too_large(size):
        body.close()
        data = None
    else:
        data = body.read()
    return _Object(
        data=data,
        version=version_id or response["ETag"].strip('"'),
        version_id=version_id,
        content_type=response.get("ContentType") or "application/json",
        size=size,
    )


def _quarantine_file(config: Config, source: Source, obj: _Object, reason: str) -> list[str]:
    """Copy the object to `<QUARANTINE_PREFIX><key>` with the reason in its metadata, plus a reason sidecar."""
    s3 = _client("s3")
    key = f"{config.quarantine_prefix}{source.key}"
    copy_source = {"Bucket": source.bucket, "Key": source.key}
    if obj.version_id:
        copy_source["VersionId"] = obj.version_id
    s3.copy(
        copy_source,
        source.bucket,
        key,
        ExtraArgs={
            "MetadataDirective": "REPLACE",
            "ContentType": obj.content_type,
            "Metadata": {"quarantine-reason": _metadata_text(reason), "source-version": _metadata_text(obj.version)},
        },
        Config=_COPY,
    )
    sidecar = {
        "reason": reason,
        "source_bucket": source.bucket,
        "source_key": source.key,
        "source_version": obj.version,
        "quarantined_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    s3.put_object(
        Bucket=source.bucket,
        Key=f"{key}.reason.json",
        Body=json.dumps(sidecar, ensure_ascii=False, indent=2).encode("utf-8"),
        ContentType="application/json",
    )
    return [key, f"{key}.reason.json"]


@dataclass
class Summary:
    """What one invocation did: returned by the handler (and seen in the async invocation's destination)."""

    records: int = 0
    orders_read: int = 0
    orders_written: int = 0
    rows_written: int = 0
    orders_quarantined: int = 0
    orders_superseded: int = 0
    files_quarantined: int = 0
    output_keys: list[str] = field(default_factory=list)
    quarantine_keys: list[str] = field(default_factory=list)
    crawler: str = "not configured"


def _write_outputs(config: Config, source: Source, version: str, flat: Flattened) -> tuple[str | None, list[str]]:
    s3 = _client("s3")
    out_key = None
    if flat.table.num_rows:
        out_key = output_key(config.curated_prefix, source.key, version)
        s3.put_object(
            Bucket=config.curated_bucket,
            Key=out_key,
            Body=to_parquet(flat.table),
            ContentType="application/vnd.apache.parquet",
            Metadata={"source-key": _metadata_text(source.key), "source-version": _metadata_text(version)},
        )
    quarantined = []
    if flat.rejects:
        reject_key = f"{config.quarantine_prefix}{source.key}--{flat_name(version)}.rejects.jsonl"
        body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in flat.rejects)
        s3.put_object(
            Bucket=source.bucket, Key=reject_key, Body=body.encode("utf-8"), ContentType="application/x-ndjson"
        )
        quarantined.append(reject_key)
    return out_key, quarantined


def ingest_object(config: Config, source: Source, summary: Summary) -> dict:
    """Read, flatten and write one object, adding to `summary`; returns its log entry. A file that is not order
    data is quarantined; any other error propagates (the invocation fails, is retried, then dead-lettered)."""
    started = time.monotonic()
    config.refuse_recursion(source.bucket, source.key)
    obj = _read(source, config)
    entry: dict[str, Any] = {"bucket": source.bucket, "key": source.key, "version": obj.version, "bytes": obj.size}
    try:
        if obj.data is None:
            raise FileRejected(config.too_large(obj.size))
        flat = flatten(obj.data, source=source.uri, source_key=source.key, source_version=obj.version)
    except FileRejected as rejected:
        keys = _quarantine_file(config, source, obj, str(rejected))
        entry.update(status="quarantined", reason=str(rejected), quarantine_keys=keys)
        summary.files_quarantined += 1
    else:
        out_key, keys = _write_outputs(config, source, obj.version, flat)
        entry.update(
            status="written" if out_key else "no rows",
            orders_read=flat.records,
            orders_written=flat.orders,
            rows_written=flat.table.num_rows,
            orders_quarantined=len(flat.rejects),
            orders_superseded=flat.superseded,
            output_key=out_key,
            quarantine_keys=keys,
        )
        summary.orders_read += flat.records
        summary.orders_written += flat.orders
        summary.rows_written += flat.table.num_rows
        summary.orders_quarantined += len(flat.rejects)
        summary.orders_superseded += flat.superseded
        summary.output_keys += [out_key] if out_key else []
    summary.quarantine_keys += keys
    entry["seconds"] = round(time.monotonic() - started, 3)
    return entry


def _start_crawler(name: str) -> str:
    try:
        _client("glue").start_crawler(Name=name)
    except ClientError as error:
        if error.response["Error"]["Code"] == "CrawlerRunningException":
            # It will pick up this file too, or the next write starts it again.
            return "already running"
        raise
    return "started"


def handler(event: Mapping[str, Any], context: Any = None) -> dict:
    """Ingest every object of an S3 notification; returns the invocation's Summary as a dict."""
    config = Config.from_env(os.environ)
    summary = Summary()
    for record in event.get("Records", []):
        if not str(record.get("eventName", "")).startswith("ObjectCreated"):
            log.info(json.dumps({"skipped": record.get("eventName"), "reason": "not an object creation"}))
            continue
        summary.records += 1
        entry = ingest_object(config, Source.from_record(record), summary)
        log.info(json.dumps(entry, ensure_ascii=False, default=str))
    if config.crawler_name:
        summary.crawler = _start_crawler(config.crawler_name) if summary.output_keys else "nothing written"
    return asdict(summary)
