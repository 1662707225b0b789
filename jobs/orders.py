"""orders: nested order exports (JSON arrays or JSON Lines, cumulative) flattened to `order_items` and `orders`.

`python jobs/orders.py --input PATH --output DIR`. The rules are pipelines/orders.py's, which the ingest Lambda
reads too; the latest occurrence of an order wins across files (see `transform_latest`).
"""

from __future__ import annotations

import argparse
import functools
import operator
from collections import defaultdict
from collections.abc import Callable, Sequence

from _job import JobRun, run_job
from _publish import concurrently
from _quarantine import quarantine_rows
from _read import JSON_OPTIONS, display_file, in_array, in_object_once, one_json_value
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from pipelines import orders as spec

JOB = "orders"
INPUT = "exports"
INPUTS = {"--input": "order exports: a file or a folder of them (JSON arrays or JSON Lines, .gz too)"}
OUTPUT = "folder for the Iceberg tables order_items/ and orders/ (merged per order)"
MONEY = spec.MONEY


def _read_as_text(keys) -> str:
    return ", ".join(f"{key} string" for key in keys)


# Every scalar is read as text: ids that look like numbers stay as written, and a price that is not a number is
# caught by its kind's pattern instead of failing the whole document's parse. Nested values come back as compact JSON.
ORDER_FIELDS = _read_as_text([*(f.key for f in spec.ORDER), *(p.key for p in spec.PARTS)])
PART_FIELDS = {part.key: _read_as_text(f.key for f in part.fields) for part in spec.PARTS}


def _part_type(part: spec.Part) -> str:
    return f"array<struct<{PART_FIELDS[part.key]}>>" if part.is_array else f"struct<{PART_FIELDS[part.key]}>"


# The same document with its parts as objects (and arrays of objects): what a well-formed order is. Parsed in one
# pass where the record has that shape; see _nested.
SHAPED_FIELDS = ", ".join([*(f"{f.key} string" for f in spec.ORDER), *(f"{p.key} {_part_type(p)}" for p in spec.PARTS)])

RECORD_FIELDS = ["file_path", "file_modification_time", "position", "record", "is_json"]
ORDER_COLUMNS = [f.column for f in (*spec.ORDER, *spec.CUSTOMER.fields)]


def _anchored(pattern: str) -> str:
    """A whole-string Java pattern: `$` would also match before a trailing newline."""
    return rf"^(?:{pattern})\z"


PATTERNS = {name: _anchored(kind.pattern) for name, kind in spec.KINDS.items() if kind.pattern}
BLANK = _anchored(r"[ \t\r]*")
ARRAY_START = r"^[ \t\r\n]*\["
# Sums over an order's lines are taken in a wider type, then cast to the field's own.
WIDE_TYPES = {"money": "decimal(38,2)", "count": "bigint"}


def _object(text: Column, fields: str) -> Column:
    """The struct of the JSON value `text` when it is an object, else null (from_json alone turns `42` into a struct
    of nulls). A record holding more than one value is caught by is_json first."""
    return F.from_json(in_array(text), f"array<struct<{fields}>>", JSON_OPTIONS)[0]


def _let(value: Column, body: Callable[[Column], Column]) -> Column:
    """`body(value)` with `value` evaluated once per row.

    A Python variable holding a Column copies its expression wherever it is used, and the optimizer inlines
    projections into the filters above them: a parsed document read by a dozen checks would be parsed a dozen
    times (or hundreds, nested). A lambda variable is evaluated once.
    """
    return F.transform(F.array(value), body)[0]


def _is_true(condition: Column) -> Column:
    return F.coalesce(condition, F.lit(False))


def _is_blank(text: Column) -> Column:
    return text.isNull() | (F.trim(text) == "")


def _record(position: Column, record: Column, is_json: Column) -> Column:
    return F.struct(position.alias("position"), record.alias("record"), is_json.alias("is_json"))


def _array_records(text: Column) -> Column:
    def records(outer: Column) -> Column:
        elements = F.transform(outer[0], lambda e, i: _record(i + 1, F.coalesce(e, F.lit("null")), F.lit(True)))
        return F.when(F.size(outer) == 1, elements).otherwise(F.array(_record(F.lit(0), text, F.lit(False))))

    # One array with nothing after it: `[..]] junk` would close the wrapper and parse (see _read.one_json_value).
    outer = F.when(in_object_once(text), F.from_json(in_array(text), "array<array<string>>", JSON_OPTIONS))
    return _let(outer, records)


def _line_records(text: Column) -> Column:
    lines = F.transform(F.split(text, "\n"), lambda line, i: _record(i + 1, line, F.lit(None).cast("boolean")))
    return F.filter(lines, lambda r: ~r["record"].rlike(BLANK))


def transform_records(files: DataFrame) -> DataFrame:
    """One row per candidate order: (file_path, file_modification_time, position, record, is_json).

    `files` has one row per file (value, file_path, file_modification_time). A file whose first non-blank character
    is `[` is a JSON array: each element is a record (re-serialised compactly by Spark's parser), numbered from 1,
    with is_json true; an array that does not parse is a single record, position 0, holding the whole file, with
    is_json false. Any other file is JSON Lines: each non-blank line is a record numbered by its line number, is_json
    left null for transform_validate to decide. An empty array yields no record.
    """
    records = _let(
        F.regexp_replace("value", "^\ufeff", ""),
        lambda text: F.when(text.rlike(ARRAY_START), _array_records(text)).otherwise(_line_records(text)),
    )
    return files.select("file_path", "file_modification_time", F.explode(records).alias("r")).select(
        "file_path", "file_modification_time", "r.position", "r.record", "r.is_json"
    )


def _typed(field: spec.Field, text: Column) -> tuple[Column, Column]:
    """(whether `text` is a value of the field's kind, the typed value or null) with Spark's default (non-ANSI)
    casts, as on EMR and Glue: half-up to cents, null when the value does not fit. Problems show as nulls."""
    if field.kind == "text":
        return ~_is_blank(text), text
    ok = _is_true(text.rlike(PATTERNS[field.kind]))
    value = F.to_date(text, "yyyy-MM-dd") if field.kind == "date" else text.cast(field.type)
    return ok, F.when(ok, value)


def _fields(values: dict[str, tuple[Column, Column]], fields: Sequence[spec.Field]) -> list[Column]:
    """Each field typed as `<key>`, with `<key>_ok` beside it where a rule reads it."""
    columns = []
    for f in fields:
        ok, value = values[f.key]
        if f.invalid or spec.KINDS[f.kind].out_of_range:
            columns.append(ok.alias(f"{f.key}_ok"))
        columns.append(value.alias(f.key))
    return columns


def _element(e: Column, part: spec.Part) -> Column:
    """One parsed object of a part (null when it was not an object) with its fields typed; a product also gets its
    line amount."""
    values = {f.key: _typed(f, e[f.key]) for f in part.fields}
    columns = [e.isNotNull().alias("is_object"), *_fields(values, part.fields)]
    if part is spec.PRODUCTS:
        line = functools.reduce(operator.mul, [values[key][1] for key in spec.LINE_FACTORS])
        columns.append(line.cast(spec.LINE_AMOUNT.type).alias(spec.LINE_AMOUNT.key))
    return F.struct(*columns)


def _typed_element(part: spec.Part, e: Column) -> Column:
    return _element(e, part)


def _part(o: Column, part: spec.Part) -> Column:
    """The part of the order document `o`, parsed: an array of elements (each product once), or one element (null
    when the customer is absent or not an object)."""
    if part.is_array:
        texts = F.from_json(o[part.key], "array<string>", JSON_OPTIONS)
        return F.transform(F.transform(texts, lambda t: _object(t, PART_FIELDS[part.key])), lambda e: _element(e, part))
    return _let(_object(o[part.key], PART_FIELDS[part.key]), lambda e: F.when(e.isNotNull(), _element(e, part)))


def _order(parsed: Column) -> Column:
    """The order's own fields (as text) of a parsed document, null when the document is not an object."""
    return F.when(parsed.isNotNull(), F.struct(*[parsed[f.key].alias(f.key) for f in spec.ORDER]))


def _given_not_object(o: Column, parsed: Column, part: spec.Part) -> Column:
    return o[part.key].isNotNull() & parsed.isNull()


def _nested_per_part(record: Column, is_json: Column) -> Column:
    """The record parsed, then each of its parts parsed and typed a value at a time: tells every shape apart, as the
    rules classify it."""

    def nested(o: Column) -> Column:
        # The parts in one struct held by a lambda variable, so that the not-object checks read the parsed parts
        # rather than parsing them again.
        parts = F.struct(*[_part(o, part).alias(part.key) for part in spec.PARTS])

        def with_checks(ps: Column) -> Column:
            not_objects = [
                _given_not_object(o, ps[part.key], part).alias(f"{part.key}_not_object")
                for part in spec.PARTS
                if not part.is_array
            ]
            return F.struct(
                is_json.alias("is_json"),
                _order(o).alias("o"),
                *[ps[p.key].alias(p.key) for p in spec.PARTS],
                *not_objects,
            )

        return _let(parts, with_checks)

    return _let(_object(record, ORDER_FIELDS), nested)


def _nested_shaped(document: Column) -> Column:
    """A record that parsed with SHAPED_TYPE without an error (see _parsed_once): the struct _nested_per_part gives
    it, without parsing any part again."""
    parts = {
        part.key: F.transform(document[part.key], functools.partial(_typed_element, part))
        if part.is_array
        else F.when(document[part.key].isNotNull(), _element(document[part.key], part))
        for part in spec.PARTS
    }
    not_objects = [F.lit(False).alias(f"{part.key}_not_object") for part in spec.PARTS if not part.is_array]
    return F.struct(
        F.lit(True).alias("is_json"),
        _order(document).alias("o"),
        *[parts[p.key].alias(p.key) for p in spec.PARTS],
        *not_objects,
    )


# Where Spark's JSON parser puts a record it could not read into SHAPED_TYPE: a value that is not an object, or any
# value of another type than the schema's (a customer that is text, a product that is a number, a later duplicate
# key of another shape). Named in the options, not left to spark.sql.columnNameOfCorruptRecord, which a cluster may
# set. A document holding this key itself only takes the per-part path.
UNREADABLE = "_unreadable_record"
SHAPED_TYPE = f"struct<{SHAPED_FIELDS}, {UNREADABLE} string>"


def _document(record: Column) -> Column:
    """(is_json, shaped) of a record: whether it is one JSON value (decided by the split for an array element, here
    for a line, see _read.one_json_value), and its parse with the parts' shapes in the schema."""
    is_json = F.coalesce(F.col("is_json"), one_json_value(record))
    options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": UNREADABLE, **JSON_OPTIONS}
    shaped = F.from_json(record, SHAPED_TYPE, options)
    return F.struct(is_json.alias("is_json"), shaped.alias("shaped"))


def _parsed_once(document: Column) -> Column:
    """Whether a record is one JSON object that parsed into SHAPED_TYPE without an error: a well-formed order, or one
    whose problems are all in its fields' values. (With partial results, Spark 3.5's default, a part of another shape
    comes back null beside the rest of the document, so a null part alone does not tell.)"""
    shaped = document["shaped"]
    return _is_true(document["is_json"] & shaped.isNotNull() & shaped[UNREADABLE].isNull())


def _nested(record: Column) -> Column:
    """The record's document with its parts parsed and typed: (is_json, o (the order's fields as text, null when not
    an object), each part, and for each single-object part whether it was given but is not an object).

    Most records are orders of the expected shape: they are parsed once, with the parts' shapes in the schema
    (Spark's JSON parsing is the bulk of this job's work). Any other record is parsed again a part at a time, which
    tells every problem apart. Both give the same struct for a record that parses once (tests/jobs/test_orders.py).
    """
    return _let(
        _document(record),
        lambda d: F.when(_parsed_once(d), _nested_shaped(d["shaped"])).otherwise(
            _nested_per_part(record, d["is_json"])
        ),
    )


def _sum(elements: Column, field: spec.Field) -> Column:
    """A field summed over an order's lines, as the field's type: null when a line has no value or the sum does not
    fit."""
    wide = WIDE_TYPES[field.kind]
    total = F.aggregate(elements, F.lit(0).cast(wide), lambda acc, e: (acc + e[field.key]).cast(wide))
    if field.kind == "count":  # a cast to int wraps around instead of giving null
        return F.when(total.between(spec.INT_MIN, spec.INT_MAX), total.cast(field.type))
    return total.cast(field.type)


SUMMED_FIELDS = [f for f in (*spec.PRODUCTS.fields, spec.LINE_AMOUNT) if f.key in spec.SUMMED]


def _typed_order(n: Column) -> Column:
    """The nested document plus its typed order fields and the sums over its product lines."""
    o, products = n["o"], n[spec.PRODUCTS.key]
    values = {f.key: _typed(f, o[f.key]) for f in spec.ORDER}
    sums = [_sum(products, f).alias(f"{f.key}_sum") for f in SUMMED_FIELDS]
    not_objects = [n[f"{p.key}_not_object"] for p in spec.PARTS if not p.is_array]
    return F.struct(n["is_json"], o, *[n[p.key] for p in spec.PARTS], *not_objects, *_fields(values, spec.ORDER), *sums)


def _invalid(field: spec.Field, s: Column) -> Column:
    ok = s[f"{field.key}_ok"]
    return ~ok if spec.KINDS[field.kind].out_of_range else ~ok | s[field.key].isNull()


def _out_of_range(field: spec.Field, s: Column) -> Column:
    return s[f"{field.key}_ok"] & s[field.key].isNull()


def _negative(field: spec.Field, s: Column) -> Column:
    return s[field.key] < 0


def _field_checks(checks: dict[str, list[Column]], fields: Sequence[spec.Field], where) -> None:
    """The field rules of `fields`, each condition built by `where(rule)` for the values it applies to."""
    for f in fields:
        if f.invalid:
            checks[f.invalid].append(where(functools.partial(_invalid, f)))
        if spec.KINDS[f.kind].out_of_range:
            checks[spec.KINDS[f.kind].out_of_range].append(where(functools.partial(_out_of_range, f)))
        if f.negative:
            checks[f.negative].append(where(functools.partial(_negative, f)))


def _present(field: spec.Field, value: Column) -> Column:
    return ~_is_blank(value) if field.kind == "text" else value.isNotNull()


def _value(key: str, s: Column) -> Column:
    return s[key]


def _has(keys: Sequence[str], s: Column) -> Column:
    return functools.reduce(operator.and_, [s[key].isNotNull() for key in keys])


def _part_checks(checks: dict[str, list[Column]], t: Column, part: spec.Part) -> None:
    parsed = t[part.key]
    if not part.is_array:
        checks[part.not_object].append(t[f"{part.key}_not_object"])
        _field_checks(checks, part.fields, lambda rule: parsed.isNotNull() & rule(parsed))
        return
    checks[part.not_array].append(parsed.isNull())
    checks[part.not_object].append(F.exists(parsed, lambda e: ~e["is_object"]))
    _field_checks(checks, part.fields, lambda rule: F.exists(parsed, lambda e: e["is_object"] & rule(e)))
    for f in part.fields:
        if f.unique:
            # partial, not a lambda with a default: Spark reads every parameter of a lambda as a variable.
            values = F.filter(F.transform(parsed, functools.partial(_value, f.key)), functools.partial(_present, f))
            checks[f.unique].append(F.size(F.array_distinct(values)) < F.size(values))


def _checks(t: Column) -> dict[str, Column]:
    """Each reason of spec.ORDER_REASONS with the condition that raises it (null counts as not raised)."""
    checks: dict[str, list[Column]] = defaultdict(list)
    _field_checks(checks, spec.ORDER, lambda rule: rule(t))
    for part in spec.PARTS:
        _part_checks(checks, t, part)
    products, line = t[spec.PRODUCTS.key], spec.LINE_AMOUNT
    line_too_large = F.exists(products, lambda p: _has(spec.LINE_FACTORS, p) & p[line.key].isNull())
    checks[spec.KINDS[line.kind].out_of_range].append(line_too_large)
    for f in SUMMED_FIELDS:
        every_line_has_it = F.forall(products, functools.partial(_has, [f.key]))
        checks[spec.KINDS[f.kind].out_of_range].append(every_line_has_it & t[f"{f.key}_sum"].isNull())
    return {reason: functools.reduce(operator.or_, conditions) for reason, conditions in checks.items()}


def _result(t: Column) -> Column:
    """The output struct of transform_validate for one typed document."""
    o, customer, products = t["o"], t[spec.CUSTOMER.key], t[spec.PRODUCTS.key]
    checks = _checks(t)
    problems = F.concat_ws(spec.REASON_SEPARATOR, *[F.when(checks[r], F.lit(r)) for r in spec.ORDER_REASONS])
    reason = (
        F.when(~t["is_json"], F.lit(spec.NOT_JSON))
        .when(o.isNull(), F.lit(spec.NOT_AN_OBJECT))
        .when(problems != "", problems)
    )
    return F.struct(
        reason.alias("reason"),
        *[t[f.key].alias(f.column) for f in spec.ORDER],
        *[customer[f.key].alias(f.column) for f in spec.CUSTOMER.fields],
        products.alias("products"),
        F.size(products).alias("item_count"),
        t["quantity_sum"].alias("unit_count"),
        t["line_amount_sum"].alias("lines_total"),
    )


def transform_validate(records: DataFrame) -> DataFrame:
    """Parse and check every record; `reason` is null for a valid order, else every problem found.

    Output: the record fields, reason, the order and customer columns, `products` (typed structs with line_amount),
    item_count, unit_count and lines_total. An order with an empty products array is valid (item_count 0).
    """
    validated = _let(_nested(F.col("record")), lambda n: _let(_typed_order(n), _result))
    return records.select(*RECORD_FIELDS, validated.alias("v")).select(*RECORD_FIELDS, "v.*")


def transform_latest(validated: DataFrame) -> DataFrame:
    """Valid orders, one per order_id: the latest occurrence wins.

    Latest means the file modified last (on S3: written last), then (same modification time) the greater path, then
    the last position in the file. Invalid occurrences never supersede a valid one: they are quarantined, and the
    order keeps its latest valid version.
    """
    latest_first = Window.partitionBy(*spec.ORDERS.key).orderBy(*[F.col(c).desc() for c in spec.LATEST_FIRST])
    return (
        validated.where(F.col("reason").isNull())
        .withColumn("occurrence", F.row_number().over(latest_first))
        .where(F.col("occurrence") == 1)
        .select(*ORDER_COLUMNS, "products", "item_count", "unit_count", "lines_total")
    )


def transform_order_items(latest: DataFrame) -> DataFrame:
    """One row per order x product (order_items)."""
    return latest.select(*ORDER_COLUMNS, F.explode("products").alias("p")).select(
        *ORDER_COLUMNS,
        F.col("p.product_id").alias("product_id"),
        F.col("p.name").alias("product_name"),
        F.col("p.category").alias("product_category"),
        F.col("p.price").alias("price"),
        F.col("p.quantity").alias("quantity"),
        F.col("p.line_amount").alias("line_amount"),
    )


def transform_orders(latest: DataFrame) -> DataFrame:
    """One row per order, with its product lines summarised (orders)."""
    return latest.select(
        *ORDER_COLUMNS,
        "item_count",
        "unit_count",
        "lines_total",
        (F.col("total_amount") == F.col("lines_total")).alias("total_matches"),
    )


def transform_quarantine(validated: DataFrame) -> DataFrame:
    """Invalid records as quarantine rows: the file, and the line or array element ("line 3", "element 2"); no
    position for a file that is a broken array (the record is then the whole file)."""
    unit = F.when(F.col("is_json"), F.lit("element ")).otherwise(F.lit("line "))
    position = F.when(F.col("position") > 0, F.concat(unit, F.col("position").cast("string")))
    file = display_file(F.col("file_path"))
    return validated.where(F.col("reason").isNotNull()).select(
        *quarantine_rows(INPUT, F.col("reason"), F.col("record"), file=file, position=position)
    )


def extract(run: JobRun, args: argparse.Namespace) -> DataFrame:
    """One row per input file (under `--input`, a file or a folder searched recursively): its whole text, path and
    modification time. Hidden and `_`-prefixed names are left out, as `_files.list_files` leaves them out."""
    run.open_input(INPUT, args.input, label="--input", record="order record")
    # wholetext reads a file as one record, so an array spanning many lines parses as a whole and each file is told
    # apart as array or JSON Lines. A file must then fit in one task's memory (and a JVM string, < 2 GB): fine for
    # these daily exports; a feed of huge files should arrive as JSON Lines split into several files.
    files = run.spark.read.option("recursiveFileLookup", "true").text(args.input, wholetext=True)
    return files.select(
        "value",
        F.col("_metadata.file_path").alias("file_path"),
        F.col("_metadata.file_modification_time").alias("file_modification_time"),
    )


def load(run: JobRun, validated: DataFrame) -> None:
    """Stage both tables (the latest valid occurrence of each order) and the quarantine from the (cached) records."""
    latest = transform_latest(validated)
    # Merged per order: the run's version of each of its orders replaces all of that order's lines, so a line a
    # later export removed (or an order that now has none) goes; orders the run has not seen stay.
    orders = latest.select(*spec.ORDER_ITEMS.merge_keys)
    steps = [
        functools.partial(run.write_table, transform_order_items(latest), spec.ORDER_ITEMS, covers=orders),
        functools.partial(run.write_table, transform_orders(latest), spec.ORDERS),
        functools.partial(run.write_quarantine, transform_quarantine(validated), INPUT),
    ]
    concurrently(run, steps, [spec.ORDER_ITEMS, spec.ORDERS])


def run(run: JobRun, args: argparse.Namespace) -> None:
    """Flatten nested order exports into order_items and orders; the latest occurrence of an order wins."""
    # Read and parsed once, then counted and written three times.
    validated = transform_validate(transform_records(extract(run, args))).persist()
    exports = run.input(INPUT)
    try:
        counts = validated.agg(
            F.count(F.lit(1)).alias("read"),
            F.count("reason").alias("invalid"),
            F.countDistinct(F.when(F.col("reason").isNull(), F.col("order_id"))).alias("orders"),
        ).first()
        exports.read, exports.quarantined = counts["read"], counts["invalid"]
        # Checked before anything is written: a file of garbage must not replace yesterday's tables.
        run.require_valid(INPUT, _reasons(validated) if counts["invalid"] == counts["read"] else None)
        load(run, validated)
    finally:
        validated.unpersist()
    exports.written, exports.written_to = run.report.rows(spec.ORDERS), f"{spec.ORDERS.name} rows, one per order"
    exports.filtered = {spec.SUPERSEDED: counts["read"] - counts["invalid"] - counts["orders"]}


def _reasons(validated: DataFrame) -> dict[str, int]:
    return {row["reason"]: row["count"] for row in validated.groupBy("reason").count().collect()}


def main(argv: Sequence[str] | None = None) -> dict:
    return run_job(JOB, argv, run, inputs=INPUTS, output=OUTPUT)


if __name__ == "__main__":
    main()
