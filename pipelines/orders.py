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
    description="One row per order x product; the latest occurrence of an order across input files wins.",
    key=("order_id", "product_id"),
    columns=ORDER_ITEM_COLUMNS,
)

ORDERS = Table(
    pipeline="orders",
    name="orders",
    writer="orders",
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
    description="order_items rows written by the ingest Lambda, one Parquet file per source object version.",
    key=("source_key", "source_version", "order_id", "product_id"),
    columns=(
        *ORDER_ITEM_COLUMNS,
        Column("source_key", "string", "Raw-bucket key of the source file"),
        Column("source_version", "string", "Version id of the source object, or its ETag when unversioned"),
    ),
)

PIPELINE = Pipeline(
    name="orders",
    description="Nested order documents (JSON arrays or JSON Lines, cumulative exports) flattened to Parquet.",
    raw=Location("raw", "orders/"),
    steps=(
        Step(
            name="orders",
            job="orders",
            args=(("--input", Location("raw", "orders/exports/")), ("--output", Location("curated", "orders/"))),
        ),
    ),
    tables=(ORDER_ITEMS, ORDERS, INGESTED_ITEMS),
    check_query="sales_per_customer",
)
