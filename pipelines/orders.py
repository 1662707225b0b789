"""Orders: nested order documents flattened to one row per order x product, by a Spark job and by a Lambda.

What makes an order valid and which occurrence wins are declared here, as data, for every runtime to read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pipelines.model import Check, Column, Location, Pipeline, Step, Table

MONEY = "decimal(18,2)"

# ---- the rules of an order document ------------------------------------------------------------------------------
# Read by jobs/orders.py (Spark SQL) and by the ingest Lambda (functions/ingest/, document by document and, for
# large regular files, vectorized). Each runtime implements the four kinds; which value is checked, how, and with
# which reason is decided here only. Parity tests between the job and the Lambda are the second line of defence.

# Numbers may arrive as JSON numbers or as strings holding a number (Spark reads both as the same text). Patterns
# are unanchored: Java (Spark's rlike) and Python anchor differently, each side adds its own anchors.
DECIMAL_PATTERN = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
INTEGER_PATTERN = r"[+-]?[0-9]+"
# Years 1900-2999: older dates are typos in order data, and Spark refuses to write pre-1582 dates by default.
DATE_PATTERN = r"(?:19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}"
# decimal(18,2) holds |x| < 10^16 after rounding half-up to cents; int is 32-bit.
MONEY_LIMIT = 10**16
INT_MIN, INT_MAX = -(2**31), 2**31 - 1

NOT_JSON = "not valid JSON"
NOT_AN_OBJECT = "order is not a JSON object"
MISSING_ORDER_ID = "order_id is missing or empty"
BAD_ORDER_DATE = "order_date is missing or not a yyyy-MM-dd date (years 1900-2999)"
BAD_TOTAL = "total_amount is missing or not a number"
CUSTOMER_NOT_OBJECT = "customer is not a JSON object"
PRODUCTS_NOT_ARRAY = "products is missing or not an array"
PRODUCT_NOT_OBJECT = "a product is not a JSON object"
MISSING_PRODUCT_ID = "a product has no product_id"
DUPLICATE_PRODUCT_ID = "a product_id appears more than once in the order"
BAD_PRICE = "a product's price is missing or not a number"
NEGATIVE_PRICE = "a product's price is negative"
BAD_QUANTITY = "a product's quantity is missing or not a whole number"
NEGATIVE_QUANTITY = "a product's quantity is negative"
AMOUNT_OUT_OF_RANGE = "an amount does not fit decimal(18,2)"
QUANTITY_OUT_OF_RANGE = "a quantity does not fit a 32-bit int"

Kind = Literal["text", "date", "money", "count"]


@dataclass(frozen=True)
class ValueKind:
    """How one kind of scalar is read: the column type it becomes, the text it must match (None: any scalar), and
    the reason when it matches but does not fit the type (None: not fitting is simply invalid, as a 2024-02-30)."""

    type: str
    pattern: str | None = None
    out_of_range: str | None = None


KINDS: dict[Kind, ValueKind] = {
    # As written; ids that look like numbers stay text, nested values become compact JSON. Blank: spaces only.
    "text": ValueKind("string"),
    # yyyy-MM-dd, a day of the calendar.
    "date": ValueKind("date", DATE_PATTERN),
    # Rounded half-up to cents from the number's text.
    "money": ValueKind(MONEY, DECIMAL_PATTERN, AMOUNT_OUT_OF_RANGE),
    "count": ValueKind("int", INTEGER_PATTERN, QUANTITY_OUT_OF_RANGE),
}


@dataclass(frozen=True)
class Field:
    """One scalar of an order or of a product: its key in the document, the column it becomes, its kind, and the
    reasons it raises. A field with an `invalid` reason is required (text: present and not blank); one without
    is optional, and a value of another kind is read as null."""

    key: str
    column: str
    kind: Kind = "text"
    invalid: str | None = None
    negative: str | None = None
    # Two products of one order may not share a (non-blank) value.
    unique: str | None = None
    comment: str = ""

    @property
    def type(self) -> str:
        return KINDS[self.kind].type


@dataclass(frozen=True)
class Part:
    """A nested value of an order: one object (which may be absent or null) or, with `not_array`, an array of them
    (which must be there). A part's field rules apply to the elements that are objects."""

    key: str
    fields: tuple[Field, ...]
    not_object: str
    not_array: str | None = None

    @property
    def is_array(self) -> bool:
        return self.not_array is not None


ORDER = (
    Field(
        "order_id",
        "order_id",
        invalid=MISSING_ORDER_ID,
        comment="Kept as text: ids that look like numbers are not numbers",
    ),
    Field("order_date", "order_date", "date", invalid=BAD_ORDER_DATE),
    Field(
        "total_amount",
        "total_amount",
        "money",
        invalid=BAD_TOTAL,
        comment="The order's total as given by the source",
    ),
)
CUSTOMER = Part(
    "customer",
    (
        Field("customer_id", "customer_id"),
        Field("name", "customer_name"),
        Field("email", "customer_email"),
        Field("address", "customer_address"),
    ),
    not_object=CUSTOMER_NOT_OBJECT,
)
PRODUCTS = Part(
    "products",
    (
        Field("product_id", "product_id", invalid=MISSING_PRODUCT_ID, unique=DUPLICATE_PRODUCT_ID),
        Field("name", "product_name"),
        Field("category", "product_category"),
        Field("price", "price", "money", invalid=BAD_PRICE, negative=NEGATIVE_PRICE),
        Field("quantity", "quantity", "count", invalid=BAD_QUANTITY, negative=NEGATIVE_QUANTITY),
    ),
    not_object=PRODUCT_NOT_OBJECT,
    not_array=PRODUCTS_NOT_ARRAY,
)
PARTS = (CUSTOMER, PRODUCTS)
# Each product line's amount is the product of these fields, and must fit its kind.
LINE_AMOUNT = Field("line_amount", "line_amount", "money", comment="price x quantity")
LINE_FACTORS = ("price", "quantity")
# Summed over an order's product lines (where every line has them), each sum must fit its field's kind.
SUMMED = ("line_amount", "quantity")


def _reasons() -> tuple[str, ...]:
    reasons = [f.invalid for f in ORDER]
    for part in PARTS:
        reasons += [part.not_array, part.not_object]
        reasons += [r for f in part.fields for r in (f.invalid, f.unique, f.negative)]
    reasons += [kind.out_of_range for kind in KINDS.values()]
    return tuple(dict.fromkeys(r for r in reasons if r))


# An order with several problems is quarantined once, its reasons joined by REASON_SEPARATOR in the order the rules
# above are declared.
ORDER_REASONS = _reasons()
REASON_SEPARATOR = "; "

# Which occurrence of an order wins (cumulative exports repeat orders): the latest, by these, highest first. The job
# compares files by their modification time (on S3: when written), then path; within a file the last position wins,
# which is all the Lambda (one file at a time) sees. Invalid occurrences never supersede a valid one.
LATEST_FIRST = ("file_modification_time", "file_path", "position")
# The same rule on the ingest Lambda's road, where each file is one source object version: its time is the
# version's S3 LastModified (when written), its path the object key; the Lambda already keeps each order's last
# position within a file. Two versions of one key written within the same second tie on both, so the version id
# breaks the tie, making the merge's choice the same whatever order the files are merged in.
INGEST_LATEST_FIRST = ("source_modified", "source_key", "source_version")
# The run report's `filtered` reason for earlier occurrences of an order.
SUPERSEDED = "superseded by a later occurrence"

# ---- tables ------------------------------------------------------------------------------------------------------

# Shared by the Spark job (order_items) and the ingest Lambda (ingested_items): the fields above, in their order.
ORDER_ITEM_COLUMNS = tuple(
    Column(f.column, f.type, f.comment) for f in (*ORDER, *CUSTOMER.fields, *PRODUCTS.fields, LINE_AMOUNT)
)

NOT_NEGATIVE = tuple(Check(name, minimum=0) for name in ("price", "quantity", "line_amount"))

ORDER_ITEMS = Table(
    pipeline="orders",
    name="order_items",
    writer="orders",
    # Each run merges its orders in (MERGE INTO): the latest occurrence of an order replaces all of its lines, so a
    # line a later export removed disappears; orders the run's input does not hold stay as they were.
    refresh="merge",
    merge_key=("order_id",),
    description="One row per order x product; the latest occurrence of an order across runs and input files wins.",
    key=("order_id", "product_id"),
    columns=ORDER_ITEM_COLUMNS,
    # Unpartitioned: order exports are small against a file's 128 MiB; sorted so a merge rewrites few files.
    sort_order=("order_id", "product_id"),
    checks=NOT_NEGATIVE,
)

ORDERS = Table(
    pipeline="orders",
    name="orders",
    writer="orders",
    refresh="merge",
    description="One row per order, with its line count and whether total_amount equals the sum of its lines.",
    key=("order_id",),
    sort_order=("order_id",),
    checks=tuple(Check(name, minimum=0) for name in ("item_count", "unit_count", "lines_total")),
    columns=(
        Column("order_id", "string"),
        Column("order_date", "date"),
        Column("total_amount", MONEY),
        Column("customer_id", "string"),
        Column("customer_name", "string"),
        Column("customer_email", "string"),
        Column("customer_address", "string"),
        Column("item_count", "int", "Number of product lines"),
        Column("unit_count", "int", "Sum of quantities"),
        Column("lines_total", MONEY, "Sum of line_amount"),
        Column("total_matches", "boolean", "total_amount = lines_total"),
    ),
)

INGESTED_ITEMS = Table(
    pipeline="orders",
    name="ingested_items",
    writer="orders_ingest_merge",
    # The ingest Lambda stages one Parquet object per source object version (INGEST_STAGING); the merge step
    # (jobs/orders_ingest_merge.py) merges them in per order: a later version of an order (INGEST_LATEST_FIRST)
    # replaces all of its lines, an earlier or the same one changes nothing. Cumulative exports repeat orders, so
    # merging per file would leave an order once per file that holds it; per order, no reader deduplicates.
    refresh="merge",
    merge_key=("order_id",),
    description="order_items rows from the files the ingest Lambda took; each order as its latest source version.",
    key=("order_id", "product_id"),
    sort_order=("order_id", "product_id"),
    checks=NOT_NEGATIVE,
    columns=(
        *ORDER_ITEM_COLUMNS,
        Column("source_key", "string", "Raw-bucket key of the source file"),
        Column("source_version", "string", "Version id of the source object, or its ETag when unversioned"),
        Column("source_modified", "timestamp", "When the source object version was written (S3 LastModified)"),
    ),
)

# ---- where orders land -------------------------------------------------------------------------------------------

RAW = Location("raw", "orders/")
# The EMR road: upload exports here, then start the orders state machine. The Glue road: an upload here starts the
# Glue job.
EXPORTS = Location("raw", "orders/exports/")
GLUE_EXPORTS = Location("raw", "orders/glue/exports/")
CURATED = Location("curated", "orders/")
# The ingest Lambda's road: each `.json` file landing here is flattened to rows of INGESTED_ITEMS, staged as one
# Parquet object per source object version under INGEST_STAGING (a redelivered event overwrites its own object;
# two landings never share one), and a file it cannot take is copied to the quarantine prefix with its reason.
# The orders pipeline's ingest_merge step then merges what is staged into the Iceberg table and deletes it.
INGEST_LANDING = Location("raw", "orders/incoming/")
INGEST_QUARANTINE = Location("raw", "orders/quarantine/")
# Outside every table's location: a table's orphan-file optimizer deletes any file there no snapshot references.
INGEST_STAGING = Location("curated", "staging/orders/ingested_items/")

# The ingest Lambda reads a file whole: its bytes, their text and the parsed orders peak at about 7x the file on
# the reference path (measured with benchmarks/ingest.py's variants at 25 and 100 MB), over some 150 MB of runtime
# and libraries. Files above the limit are quarantined with the reason; the Spark job (EMR or Glue road) takes them.
INGEST_MEMORY_PER_FILE_BYTE = 10
INGEST_RUNTIME_MB = 256


def ingest_max_file_bytes(memory_mb: int) -> int:
    """The largest file the ingest Lambda reads with `memory_mb` of memory (1024 MB: 77 MiB; 10240 MB: 998 MiB)."""
    return (memory_mb - INGEST_RUNTIME_MB) * 1024 * 1024 // INGEST_MEMORY_PER_FILE_BYTE


PIPELINE = Pipeline(
    name="orders",
    description="Nested order documents (JSON arrays or JSON Lines, cumulative exports) flattened to Iceberg tables.",
    raw=RAW,
    steps=(
        Step(
            name="orders",
            job="orders",
            args=(("--input", EXPORTS), ("--output", CURATED)),
            glue_inputs=(("--input", GLUE_EXPORTS),),
        ),
        # What the ingest Lambda staged since the last run, merged into ingested_items (then deleted from staging).
        # Apart from the exports: it reads only the staging prefix, so each run of the pipeline takes it along.
        Step(
            name="ingest_merge",
            job="orders_ingest_merge",
            args=(("--staging", INGEST_STAGING), ("--output", CURATED)),
        ),
    ),
    tables=(ORDER_ITEMS, ORDERS, INGESTED_ITEMS),
    check_query="sales_per_customer",
)
