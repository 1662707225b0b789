"""One order file's bytes flattened to the ingested_items rows: one row per order x product of its valid orders,
the latest occurrence of an order in the file winning, and each invalid order a reject with its reason.

The reference path reads one document at a time (stdlib json); large files first try the vectorized path, which
takes a file only when it can prove every order plainly valid, and gives the same rows.
"""

from __future__ import annotations

from array import array

import numpy as np

from functions.ingest import rules, vectorized
from functions.ingest.records import UNPARSED, UNREADABLE, FileRejected, decode, records
from functions.ingest.table import Flattened, rows
from pipelines import orders as spec

# Files from this size on first try the vectorized path; below it, its set-up costs more than it saves.
FAST_PATH_MIN_BYTES = 1 << 20


def _reject(source: str, position: int, reason: str, record: str) -> dict:
    return {"source": f"{source}#{position}", "reason": reason, "record": record}


def flatten_text(text: str, *, source: str, source_key: str, source_version: str) -> Flattened:
    """The reference path: invalid orders become rejects (source `<source>#<position>`, reason, record).
    FileRejected when the file is not JSON, or holds records but not a single valid order."""
    latest: dict[tuple, rules.Order] = {}
    rejects = []
    count = 0
    try:
        for position, value, raw in records(text):
            count += 1
            reason, order = (spec.NOT_JSON, None) if value is UNPARSED else rules.validate(value)
            if order is None:
                rejects.append(_reject(source, position, reason, raw if isinstance(raw, str) else text[raw]))
                continue
            # Re-inserting moves an order to the end: rows follow each order's latest position.
            latest.pop(order.key, None)
            latest[order.key] = order
    except UNREADABLE as error:
        raise FileRejected(f"{spec.NOT_JSON}: {error}") from None
    valid = count - len(rejects)
    if count and not valid:
        if all(r["reason"] == spec.NOT_JSON for r in rejects):
            raise FileRejected(spec.NOT_JSON)
        raise FileRejected(f"no valid order in its {count} records; first: {rejects[0]['reason']}")
    return Flattened(
        table=_table(latest.values(), (source_key, source_version)),
        rejects=rejects,
        records=count,
        orders=len(latest),
        superseded=valid - len(latest),
        emptied=tuple(order.key[0] for order in latest.values() if not order.items),
    )


def _columns(fields) -> list:
    # Whole numbers (cents, days, counts) in typed arrays: a list would hold an int object per value.
    return [[] if f.kind == "text" else array("q") for f in fields]


def _table(orders, source: tuple[str, str]):
    columns = _columns(rules.ORDER_FIELDS)
    items = _columns(rules.ITEM_FIELDS)
    parents = array("i")
    for index, order in enumerate(orders):
        for column, value in zip(columns, order.values, strict=True):
            column.append(value)
        for item in order.items:
            for column, value in zip(items, item, strict=True):
                column.append(value)
        parents.extend([index] * len(order.items))
    return rows(
        dict(zip(rules.ORDER_COLUMNS, columns, strict=True)),
        dict(zip(rules.ITEM_COLUMNS, items, strict=True)),
        np.frombuffer(parents, dtype=np.int32),
        source,
    )


def flatten(data: bytes, *, source: str, source_key: str, source_version: str) -> Flattened:
    """One file's bytes flattened: vectorized when the file is large and plainly valid, else by the reference path.
    Both give the same rows."""
    if len(data) >= FAST_PATH_MIN_BYTES:
        fast = vectorized.flatten(data, source_key, source_version)
        if fast is not None:
            return fast
    return flatten_text(decode(data), source=source, source_key=source_key, source_version=source_version)
