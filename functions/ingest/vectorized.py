"""The orders rules of pipelines/orders.py decided for a whole file at once, with pyarrow's JSON reader and numpy.

It takes a file only when it can prove every order plainly valid (every value of its kind's plain form, far inside
its type's limits); anything else returns None and the reference path (functions/ingest/flatten.py) decides, with
the reasons. So it needs no reasons of its own, and cannot disagree with the reference on a row.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from functions.ingest import records, rules
from functions.ingest.table import SCHEMA, Flattened, rows
from pipelines import orders as spec

_WHITESPACE = re.compile(rb"[ \t\n\r]*")
_PIECE_BYTES = 4 << 20
_SAMPLE_BYTES = 64 << 10
# How each kind is parsed: text as a string or, where the first documents have whole numbers, as int64 (read back
# as their text); money as doubles, checked exactly below; counts as int64; dates as strings.
_PARSED_AS = {"date": pa.string(), "money": pa.float64(), "count": pa.int64()}
_PLAIN_TEXT_TYPES = (pa.types.is_string, pa.types.is_null, pa.types.is_int64, pa.types.is_boolean)
_UNIT = 10**rules.SCALE


class _NotPlain(Exception):
    """The file has something the vectorized path does not decide: the reference path takes it."""


# ---- reading --------------------------------------------------------------------------------------------------------


def _sample(data: bytes, start: int) -> list:
    """The documents that parse completely within the file's first 64 KB."""
    head = data[start : start + _SAMPLE_BYTES].decode("utf-8", errors="ignore")
    if not head.startswith("["):
        lines = head.split("\n")[:-1]
        return [value for _, value, _ in records.line_records("\n".join(lines)) if value is not records.UNPARSED]
    sample = []
    try:
        for _, value, _ in records.array_records(head):
            sample.append(value)
    except records.UNREADABLE:
        pass  # the head ends inside a document, or holds what the decoder cannot read
    return sample


def _parsed_type(field: spec.Field, values: Iterator[Any]) -> pa.DataType:
    if field.kind != "text":
        return _PARSED_AS[field.kind]
    first = next((v for v in values if v is not None), None)
    return pa.int64() if type(first) is int else pa.string()


def _struct(fields: Sequence[spec.Field], objects: list[dict]) -> pa.StructType:
    return pa.struct([(f.key, _parsed_type(f, (o.get(f.key) for o in objects))) for f in fields])


def _document_type(sample: list) -> pa.StructType:
    """The type the reader parses documents with, so that no value is inferred (a date would become a timestamp).
    Fields the rules do not read are skipped; a document that disagrees with it makes the reader fail."""
    documents = [d for d in sample if isinstance(d, dict)]
    parts = []
    for part in spec.PARTS:
        values = [d.get(part.key) for d in documents]
        if part.is_array:
            objects = [e for v in values if isinstance(v, list) for e in v if isinstance(e, dict)]
            parts.append((part.key, pa.list_(_struct(part.fields, objects))))
        else:
            parts.append((part.key, _struct(part.fields, [v for v in values if isinstance(v, dict)])))
    return pa.struct([*_struct(spec.ORDER, documents), *parts])


def _array_pieces(data: bytes, start: int) -> Iterator[bytes]:
    """The elements of the JSON array at `start` as runs of objects the JSON reader takes (whitespace-separated),
    about _PIECE_BYTES each, so no copy of the whole file is made. The commas dropped are those ending a line and
    followed by the first element's indentation and `{`: a raw newline is never inside a JSON string, and pretty
    printers indent nested values deeper, so they separate top-level elements. Were one elsewhere, dropping it
    would break the JSON and the reader fail: nothing is misread. _NotPlain when elements do not start lines."""
    first = _WHITESPACE.match(data, start + 1).end()
    newline = data.rfind(b"\n", start, first)
    end = data.rfind(b"]")
    if newline < 0 or not data.startswith(b"{", first) or _WHITESPACE.match(data, end + 1).end() < len(data):
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


def _read(data: bytes, start: int) -> Iterator[pa.StructArray]:
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


# ---- each kind in its plain form -------------------------------------------------------------------------------------


def _child(struct: pa.Array, name: str) -> pa.Array | None:
    if not pa.types.is_struct(struct.type) or struct.type.get_field_index(name) < 0:
        return None
    return pc.struct_field(struct, name)


def _plain_text(values: pa.Array, field: spec.Field) -> pa.Array:
    """Text as the job reads it: strings, whole numbers and booleans; doubles keep their own spelling, so they and
    anything nested are not plain. Required text must be present and not blank."""
    if not any(is_type(values.type) for is_type in _PLAIN_TEXT_TYPES):
        raise _NotPlain
    text = values.cast(pa.string())
    if field.invalid and (text.null_count or pc.any(pc.equal(pc.utf8_trim(text, " "), "")).as_py()):
        raise _NotPlain
    return text


def _plain_date(values: pa.Array, _field: spec.Field) -> np.ndarray:
    if not pa.types.is_string(values.type) or values.null_count:
        raise _NotPlain
    if not pc.all(pc.match_substring_regex(values, f"^(?:{spec.DATE_PATTERN})$")).as_py():
        raise _NotPlain
    parsed = pc.strptime(values, format="%Y-%m-%d", unit="s", error_is_null=True)
    if parsed.null_count:
        raise _NotPlain
    return parsed.cast(pa.date32()).cast(pa.int32()).to_numpy()


def _plain_money(values: pa.Array, _field: spec.Field) -> np.ndarray:
    """Whole cents of amounts that are each the double nearest a whole number of cents, and below the bound where
    doubles are less than a cent apart: their shortest text, what the job casts, is then that number exactly."""
    if values.null_count:
        raise _NotPlain
    amounts = values.to_numpy()
    cents = np.round(amounts * _UNIT)
    if not (np.abs(amounts) < rules.EXACT_MONEY_BELOW).all() or (cents / _UNIT != amounts).any():
        raise _NotPlain
    return cents.astype(np.int64)


def _plain_count(values: pa.Array, _field: spec.Field) -> np.ndarray:
    if values.null_count:
        raise _NotPlain
    counts = values.to_numpy()
    if ((counts < spec.INT_MIN) | (counts > spec.INT_MAX)).any():
        raise _NotPlain
    return counts


_PLAIN = {"text": _plain_text, "date": _plain_date, "money": _plain_money, "count": _plain_count}


def _plain_fields(struct: pa.Array, fields: Sequence[spec.Field], length: int) -> dict[str, Any]:
    """Each field's plain values by output column; _NotPlain when one is not plain or breaks a rule."""
    columns = {}
    for f in fields:
        values = _child(struct, f.key)
        values = pa.nulls(length, pa.string() if f.kind == "text" else pa.null()) if values is None else values
        plain = _PLAIN[f.kind](values, f)
        if f.negative and (plain < 0).any():
            raise _NotPlain
        columns[f.column] = plain
    return columns


def _unique_per_order(values: pa.Array, parents: np.ndarray) -> bool:
    """Whether no two elements of one order share a value: values numbered, then paired with their order."""
    if values.null_count:
        raise _NotPlain
    numbered = pc.dictionary_encode(values).indices.to_numpy().astype(np.int64)
    pairs = parents.astype(np.int64) * (int(numbered.max(initial=0)) + 1) + numbered
    return len(np.unique(pairs)) == len(values)


def _far_inside(kind: str, sums: np.ndarray) -> bool:
    """Whether per-order sums (taken in doubles) surely fit the kind's type: counts are whole numbers, exact in a
    double; money sums stay below half the limit, which no rounding of non-negative doubles can cross."""
    if kind == "money":
        return bool((np.abs(sums) < rules.CENTS_LIMIT / 2).all())
    return bool(((sums >= spec.INT_MIN) & (sums <= spec.INT_MAX)).all())


def _plain_products(documents: pa.StructArray) -> tuple[dict[str, Any], np.ndarray]:
    """The product lines of plain products arrays and each line's order index."""
    part = spec.PRODUCTS
    lists = _child(documents, part.key)
    if lists is None or lists.null_count:
        raise _NotPlain
    elements = lists.flatten()
    parents = pc.list_parent_indices(lists).to_numpy()
    if elements.null_count:
        raise _NotPlain
    items = _plain_fields(elements, part.fields, len(elements))
    for f in part.fields:
        if f.unique and not _unique_per_order(items[f.column], parents):
            raise _NotPlain
    factors = [items[f.column] for f in part.fields if f.key in spec.LINE_FACTORS]
    if not _far_inside(spec.LINE_AMOUNT.kind, np.prod([f.astype(np.float64) for f in factors], axis=0)):
        raise _NotPlain
    # Exact in int64: each line is below half the money limit, far below 2**63.
    items[spec.LINE_AMOUNT.column] = np.prod(factors, axis=0, dtype=np.int64)
    for f in rules.ITEM_FIELDS:
        if f.key in spec.SUMMED:
            weights = items[f.column].astype(np.float64)
            if not _far_inside(f.kind, np.bincount(parents, weights=weights, minlength=len(documents))):
                raise _NotPlain
    return items, parents


def _plain_rows(documents: pa.StructArray, source: tuple[str, str]) -> tuple[pa.Array, pa.Table, np.ndarray]:
    """(order keys, rows, each row's order index) of documents that are all plainly valid; _NotPlain otherwise."""
    count = len(documents)
    orders = _plain_fields(documents, spec.ORDER, count)
    customer = _child(documents, spec.CUSTOMER.key)
    orders |= _plain_fields(customer if customer is not None else pa.nulls(count), spec.CUSTOMER.fields, count)
    items, parents = _plain_products(documents)
    (key,) = spec.ORDERS.key
    return orders[key], rows(orders, items, parents, source), parents


def flatten(data: bytes, source_key: str, source_version: str) -> Flattened | None:
    """flatten_text's rows for a file whose every order is plainly valid, decided with vectorized checks; None
    otherwise."""
    start = 3 if data.startswith(codecs.BOM_UTF8) else 0
    start = _WHITESPACE.match(data, start).end()
    try:
        parts = [_plain_rows(documents, (source_key, source_version)) for documents in _read(data, start)]
    except (pa.ArrowException, UnicodeDecodeError, _NotPlain):
        return None
    keys = pa.chunked_array([k for k, _, _ in parts], pa.string())
    count = len(keys)
    if not count:
        return None
    # The latest occurrence of an order in the file wins, as in flatten_text: the highest ordinal per order key.
    numbered = pc.dictionary_encode(keys.combine_chunks()).indices.to_numpy()
    last = np.full(int(numbered.max()) + 1, -1, dtype=np.int64)
    np.maximum.at(last, numbered, np.arange(count))
    wins = np.zeros(count, dtype=bool)
    wins[last] = True
    tables, emptied, offset = [], [], 0
    for ids, table, parents in parts:
        keep = wins[offset + parents]
        tables.append(table if keep.all() else table.filter(pa.array(keep)))
        # Winning orders without a product line (an empty products array).
        lineless = (np.bincount(parents, minlength=len(ids)) == 0) & wins[offset : offset + len(ids)]
        emptied += ids.filter(pa.array(lineless)).to_pylist()
        offset += len(ids)
    return Flattened(
        table=pa.concat_tables(tables) if tables else SCHEMA.empty_table(),
        records=count,
        orders=len(last),
        superseded=count - len(last),
        emptied=tuple(emptied),
    )
