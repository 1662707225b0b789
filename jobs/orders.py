"""orders: nested order exports (JSON arrays or JSON Lines, cumulative) flattened to `order_items` and `orders`.

`python jobs/orders.py --input PATH --output DIR`. The same validation as functions/orders_ingest.py (shared in
pipelines/orders.py); the latest occurrence of an order wins across files (see `transform_latest`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from _job import JobRun, run_job
from _quarantine import quarantine_rows
from _read import display_file
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from pipelines import orders as spec

JOB = "orders"
INPUT = "exports"
INPUTS = {"--input": "order exports: a file or a folder of them (JSON arrays or JSON Lines, .gz too)"}
OUTPUT = "folder for the order_items and orders tables"
MONEY = spec.MONEY

# Every scalar is read as text: ids that look like numbers stay as written, and a price that is not a number is
# caught by a pattern instead of failing the whole document's parse. Nested values come back as compact JSON.
ORDER_FIELDS = "order_id string, order_date string, total_amount string, customer string, products string"
CUSTOMER_FIELDS = "customer_id string, name string, email string, address string"
PRODUCT_FIELDS = "product_id string, name string, category string, price string, quantity string"

RECORD_FIELDS = ["file_path", "file_modification_time", "position", "record", "is_json"]
ORDER_COLUMNS = [
    "order_id",
    "order_date",
    "total_amount",
    "customer_id",
    "customer_name",
    "customer_email",
    "customer_address",
]


def _anchored(pattern: str) -> str:
    """A whole-string Java pattern: `$` would also match before a trailing newline."""
    return rf"^(?:{pattern})\z"


DECIMAL = _anchored(spec.DECIMAL_PATTERN)
INTEGER = _anchored(spec.INTEGER_PATTERN)
DATE = _anchored(spec.DATE_PATTERN)
BLANK = _anchored(r"[ \t\r]*")
ARRAY_START = r"^[ \t\r\n]*\["


def _wrapped(text: Column) -> Column:
    # One more array around a value makes anything after the value (`{...} junk`, a second object) a parse error:
    # from_json on its own stops after the first value and ignores the rest.
    return F.concat(F.lit("["), text, F.lit("]"))


def _object(text: Column, fields: str) -> Column:
    """The struct of the JSON value `text` when it is an object, else null (from_json alone turns `42` into a struct
    of nulls). A record holding more than one value is caught by is_json first."""
    return F.from_json(_wrapped(text), f"array<struct<{fields}>>")[0]


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

    return _let(F.from_json(_wrapped(text), "array<array<string>>"), records)


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


def _product(p: Column) -> Column:
    """A parsed product (or null when it was not an object) with typed values; problems show as nulls, not errors."""
    price_ok = _is_true(p["price"].rlike(DECIMAL))
    quantity_ok = _is_true(p["quantity"].rlike(INTEGER))
    # Spark's default (non-ANSI) casts, as on EMR and Glue: half-up to cents, null when the value does not fit.
    price = F.when(price_ok, p["price"].cast(MONEY))
    quantity = F.when(quantity_ok, p["quantity"].cast("int"))
    return F.struct(
        p.isNotNull().alias("is_object"),
        p["product_id"].alias("product_id"),
        p["name"].alias("name"),
        p["category"].alias("category"),
        price_ok.alias("price_ok"),
        price.alias("price"),
        quantity_ok.alias("quantity_ok"),
        quantity.alias("quantity"),
        (price * quantity).cast(MONEY).alias("line_amount"),
    )


def _nested(document: Column) -> Column:
    """The document with its customer and products parsed (each product once) and typed."""
    o = document["o"]
    texts = F.from_json(o["products"], "array<string>")
    products = F.transform(F.transform(texts, lambda t: _object(t, PRODUCT_FIELDS)), _product)
    return F.struct(
        document["is_json"], o, _object(o["customer"], CUSTOMER_FIELDS).alias("c"), products.alias("products")
    )


def _typed(n: Column) -> Column:
    """The nested document plus its typed order fields and totals over the product lines."""
    o, products = n["o"], n["products"]
    total_ok = _is_true(o["total_amount"].rlike(DECIMAL))
    # Summed wide then cast: null when one line is null or when the sum does not fit.
    lines_total = F.aggregate(
        products, F.lit(0).cast("decimal(38,2)"), lambda acc, p: (acc + p["line_amount"]).cast("decimal(38,2)")
    )
    return F.struct(
        n["is_json"],
        o,
        n["c"],
        products,
        total_ok.alias("total_ok"),
        F.when(_is_true(o["order_date"].rlike(DATE)), F.to_date(o["order_date"], "yyyy-MM-dd")).alias("order_date"),
        F.when(total_ok, o["total_amount"].cast(MONEY)).alias("total_amount"),
        lines_total.cast(MONEY).alias("lines_total"),
        F.aggregate(products, F.lit(0).cast("bigint"), lambda acc, p: acc + p["quantity"]).alias("unit_total"),
    )


def _checks(t: Column) -> dict[str, Column]:
    """Each reason of spec.ORDER_REASONS with the condition that raises it (null counts as not raised)."""
    o, products = t["o"], t["products"]

    def any_product(predicate) -> Column:
        return F.exists(products, predicate)

    def every_product(predicate) -> Column:
        return F.forall(products, predicate)

    ids = F.filter(F.transform(products, lambda p: p["product_id"]), lambda i: ~_is_blank(i))
    return {
        spec.MISSING_ORDER_ID: _is_blank(o["order_id"]),
        spec.BAD_ORDER_DATE: t["order_date"].isNull(),
        spec.BAD_TOTAL: ~t["total_ok"],
        spec.CUSTOMER_NOT_OBJECT: o["customer"].isNotNull() & t["c"].isNull(),
        spec.PRODUCTS_NOT_ARRAY: products.isNull(),
        spec.PRODUCT_NOT_OBJECT: any_product(lambda p: ~p["is_object"]),
        spec.MISSING_PRODUCT_ID: any_product(lambda p: p["is_object"] & _is_blank(p["product_id"])),
        spec.DUPLICATE_PRODUCT_ID: F.size(F.array_distinct(ids)) < F.size(ids),
        spec.BAD_PRICE: any_product(lambda p: p["is_object"] & ~p["price_ok"]),
        spec.NEGATIVE_PRICE: any_product(lambda p: p["price"] < 0),
        spec.BAD_QUANTITY: any_product(lambda p: p["is_object"] & ~p["quantity_ok"]),
        spec.NEGATIVE_QUANTITY: any_product(lambda p: p["quantity"] < 0),
        spec.AMOUNT_OUT_OF_RANGE: (t["total_ok"] & t["total_amount"].isNull())
        | any_product(lambda p: p["price_ok"] & p["price"].isNull())
        | any_product(lambda p: p["price"].isNotNull() & p["quantity"].isNotNull() & p["line_amount"].isNull())
        | (every_product(lambda p: p["line_amount"].isNotNull()) & t["lines_total"].isNull()),
        spec.QUANTITY_OUT_OF_RANGE: any_product(lambda p: p["quantity_ok"] & p["quantity"].isNull())
        | (every_product(lambda p: p["quantity"].isNotNull()) & ~t["unit_total"].between(spec.INT_MIN, spec.INT_MAX)),
    }


def _result(t: Column) -> Column:
    """The output struct of transform_validate for one typed document."""
    o, c, products = t["o"], t["c"], t["products"]
    checks = _checks(t)
    problems = F.concat_ws(spec.REASON_SEPARATOR, *[F.when(checks[r], F.lit(r)) for r in spec.ORDER_REASONS])
    reason = (
        F.when(~t["is_json"], F.lit(spec.NOT_JSON))
        .when(o.isNull(), F.lit(spec.NOT_AN_OBJECT))
        .when(problems != "", problems)
    )
    return F.struct(
        reason.alias("reason"),
        o["order_id"].alias("order_id"),
        t["order_date"].alias("order_date"),
        t["total_amount"].alias("total_amount"),
        c["customer_id"].alias("customer_id"),
        c["name"].alias("customer_name"),
        c["email"].alias("customer_email"),
        c["address"].alias("customer_address"),
        products.alias("products"),
        F.size(products).alias("item_count"),
        t["unit_total"].cast("int").alias("unit_count"),
        t["lines_total"].alias("lines_total"),
    )


def transform_validate(records: DataFrame) -> DataFrame:
    """Parse and check every record; `reason` is null for a valid order, else every problem found.

    Output: the record fields, reason, the order and customer columns, `products` (typed structs with line_amount),
    item_count, unit_count and lines_total. An order with an empty products array is valid (item_count 0).
    """
    record = F.col("record")
    document = F.struct(
        F.coalesce(F.col("is_json"), F.size(F.from_json(_wrapped(record), "array<string>")) == 1).alias("is_json"),
        _object(record, ORDER_FIELDS).alias("o"),
    )
    validated = _let(document, lambda d: _let(_nested(d), lambda n: _let(_typed(n), _result)))
    return records.select(*RECORD_FIELDS, validated.alias("v")).select(*RECORD_FIELDS, "v.*")


def transform_latest(validated: DataFrame) -> DataFrame:
    """Valid orders, one per order_id: the latest occurrence wins.

    Latest means the file modified last (on S3: written last), then (same modification time) the greater path, then
    the last position in the file. Invalid occurrences never supersede a valid one: they are quarantined, and the
    order keeps its latest valid version.
    """
    latest_first = Window.partitionBy("order_id").orderBy(
        F.col("file_modification_time").desc(), F.col("file_path").desc(), F.col("position").desc()
    )
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
    run.write_table(transform_order_items(latest), spec.ORDER_ITEMS)
    run.write_table(transform_orders(latest), spec.ORDERS)
    run.write_quarantine(transform_quarantine(validated), INPUT)


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
