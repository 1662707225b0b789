"""pipelines/orders.py: the orders rules as data, the tables built from them, and the lake locations of each road."""

from pipelines import orders as spec


def test_reasons_come_in_the_order_the_rules_are_declared():
    # The quarantine's reason text joins an order's problems in this order: users and the parity tests rely on it.
    assert spec.ORDER_REASONS == (
        spec.MISSING_ORDER_ID,
        spec.BAD_ORDER_DATE,
        spec.BAD_TOTAL,
        spec.CUSTOMER_NOT_OBJECT,
        spec.PRODUCTS_NOT_ARRAY,
        spec.PRODUCT_NOT_OBJECT,
        spec.MISSING_PRODUCT_ID,
        spec.DUPLICATE_PRODUCT_ID,
        spec.BAD_PRICE,
        spec.NEGATIVE_PRICE,
        spec.BAD_QUANTITY,
        spec.NEGATIVE_QUANTITY,
        spec.AMOUNT_OUT_OF_RANGE,
        spec.QUANTITY_OUT_OF_RANGE,
    )


def test_every_reason_is_raised_by_exactly_one_rule_but_out_of_range_which_each_kind_raises():
    fields = [*spec.ORDER, *(f for part in spec.PARTS for f in part.fields)]
    raised = [r for f in fields for r in (f.invalid, f.negative, f.unique) if r]
    raised += [r for part in spec.PARTS for r in (part.not_object, part.not_array) if r]
    assert len(raised) == len(set(raised))
    assert set(raised) | {k.out_of_range for k in spec.KINDS.values() if k.out_of_range} == set(spec.ORDER_REASONS)


def test_the_tables_columns_are_the_fields_in_their_order_with_their_kinds_types():
    assert [(c.name, c.type) for c in spec.ORDER_ITEMS.columns] == [
        ("order_id", "string"),
        ("order_date", "date"),
        ("total_amount", "decimal(18,2)"),
        ("customer_id", "string"),
        ("customer_name", "string"),
        ("customer_email", "string"),
        ("customer_address", "string"),
        ("product_id", "string"),
        ("product_name", "string"),
        ("product_category", "string"),
        ("price", "decimal(18,2)"),
        ("quantity", "int"),
        ("line_amount", "decimal(18,2)"),
    ]
    assert spec.ORDER_ITEMS.columns[0].comment == "Kept as text: ids that look like numbers are not numbers"
    source = ["source_key", "source_version", "source_modified"]
    assert spec.INGESTED_ITEMS.column_names == [*spec.ORDER_ITEMS.column_names, *source]
    # What decides which source version of an order is later, every part of it a column of the table.
    assert list(spec.INGEST_LATEST_FIRST) == source[::-1][:1] + source[:2]


def test_line_factors_and_sums_name_product_fields_of_summable_kinds():
    product_keys = {f.key: f.kind for f in (*spec.PRODUCTS.fields, spec.LINE_AMOUNT)}
    assert {product_keys[k] for k in spec.LINE_FACTORS} == {"money", "count"}
    assert all(product_keys[k] in {"money", "count"} for k in spec.SUMMED)


def test_each_road_has_its_own_landing_prefix():
    step = spec.PIPELINE.step("orders")
    assert dict(step.args)["--input"] == spec.EXPORTS
    assert dict(step.glue_inputs)["--input"] == spec.GLUE_EXPORTS
    prefixes = [spec.EXPORTS, spec.GLUE_EXPORTS, spec.INGEST_LANDING, spec.INGEST_QUARANTINE]
    assert all(p.relative_to(spec.RAW) for p in prefixes)
    assert len({p.prefix for p in prefixes}) == 4


def test_the_ingest_file_limit_grows_with_memory():
    assert spec.ingest_max_file_bytes(1024) < spec.ingest_max_file_bytes(2048) < spec.ingest_max_file_bytes(10240)
    # As its docstring says: 1024 MB reads 77 MiB, 10240 MB 998 MiB.
    assert [round(spec.ingest_max_file_bytes(m) / 2**20) for m in (1024, 10240)] == [77, 998]


def test_the_ingest_merge_step_reads_the_staging_the_lambda_writes_outside_every_table():
    merge = spec.PIPELINE.step("ingest_merge")
    assert (merge.job, dict(merge.args)) == (
        "orders_ingest_merge",
        {"--staging": spec.INGEST_STAGING, "--output": spec.CURATED},
    )
    assert not merge.runs_on_glue
    assert spec.INGESTED_ITEMS.writer == merge.job
    # A table's orphan-file optimizer deletes what no snapshot references under its location: staging is elsewhere.
    for table in spec.PIPELINE.tables:
        assert not spec.INGEST_STAGING.prefix.startswith(table.location.prefix)
        assert not spec.INGEST_STAGING.prefix.startswith(spec.PIPELINE.table_dir(table.name).prefix)
