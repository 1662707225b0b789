"""Orders: nested order documents flattened to one row per order x product, by a Spark job and by a Lambda."""

from pipelines.model import Column, Location, Pipeline, Step, Table

MONEY = "decimal(18,2)"

# Shared by the Spark job (order_items) and the ingest Lambda (ingested_items): same names, same types.
ORDER_ITEM_COLUMNS = (
    Column("order_id", "string", "Kept as text: ids that look like numbers are not numbers"),
    Column("order_date", "date"),
    Column("total_amount", MONEY, "The order's total as given by the source"),
    Column("customer_id", "string"),
    Column("customer_name", "string"),
    Column("customer_email", "string"),
    Column("customer_address", "string"),
    Column("product_id", "string"),
    Column("product_name", "string"),
    Column("product_category", "string"),
    Column("price", MONEY),
    Column("quantity", "int"),
    Column("line_amount", MONEY, "price x quantity"),
)

ORDER_ITEMS = Table(
    pipeline="orders",
    name="order_items",
    writer="orders",
    refresh="full",
    description="One row per order x product; the latest occurrence of an order across input files wins.",
    key=("order_id", "product_id"),
    columns=ORDER_ITEM_COLUMNS,
)

ORDERS = Table(
    pipeline="orders",
    name="orders",
    writer="orders",
    refresh="full",
    description="One row per order, with its line count and whether total_amount equals the sum of its lines.",
    key=("order_id",),
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
    writer="orders_ingest",
    refresh="incremental",
    # Each landed file replaces only its own rows: one Parquet object per source object version, rewritten when
    # S3 redelivers the event; earlier files' objects stay.
    description="order_items rows written by the ingest Lambda, one Parquet file per source object version.",
    key=("source_key", "source_version", "order_id", "product_id"),
    columns=(
        *ORDER_ITEM_COLUMNS,
        Column("source_key", "string", "Raw-bucket key of the source file"),
        Column("source_version", "string", "Version id of the source object, or its ETag when unversioned"),
    ),
)

RAW = Location("raw", "orders/")
# The EMR road: upload exports here, then start the orders state machine. The Glue road: an upload here starts the
# Glue job.
EXPORTS = Location("raw", "orders/exports/")
GLUE_EXPORTS = Location("raw", "orders/glue/exports/")
CURATED = Location("curated", "orders/")
# The ingest Lambda's road: each `.json` file landing here becomes one Parquet file of INGESTED_ITEMS, and a file
# it cannot take is copied to the quarantine prefix with its reason.
INGEST_LANDING = Location("raw", "orders/incoming/")
INGEST_QUARANTINE = Location("raw", "orders/quarantine/")

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
    description="Nested order documents (JSON arrays or JSON Lines, cumulative exports) flattened to Parquet.",
    raw=RAW,
    steps=(
        Step(
            name="orders",
            job="orders",
            args=(("--input", EXPORTS), ("--output", CURATED)),
            glue_inputs=(("--input", GLUE_EXPORTS),),
        ),
    ),
    tables=(ORDER_ITEMS, ORDERS, INGESTED_ITEMS),
    check_query="sales_per_customer",
)

# Validation shared by jobs/orders.py (Spark SQL) and functions/orders_ingest.py (plain Python): the same patterns
# and the same reasons in the same order, so both keep and quarantine the same orders for the same reasons.
# Patterns are unanchored: Java (Spark's rlike) and Python anchor differently, each side adds its own anchors.
# Numbers may arrive as JSON numbers or as strings holding a number (Spark reads both as the same text).
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

# An order with several problems is quarantined once, its reasons joined by REASON_SEPARATOR in this order.
ORDER_REASONS = (
    MISSING_ORDER_ID,
    BAD_ORDER_DATE,
    BAD_TOTAL,
    CUSTOMER_NOT_OBJECT,
    PRODUCTS_NOT_ARRAY,
    PRODUCT_NOT_OBJECT,
    MISSING_PRODUCT_ID,
    DUPLICATE_PRODUCT_ID,
    BAD_PRICE,
    NEGATIVE_PRICE,
    BAD_QUANTITY,
    NEGATIVE_QUANTITY,
    AMOUNT_OUT_OF_RANGE,
    QUANTITY_OUT_OF_RANGE,
)
REASON_SEPARATOR = "; "

# The run report's `filtered` reason for earlier occurrences of an order (cumulative exports repeat orders).
SUPERSEDED = "superseded by a later occurrence"
