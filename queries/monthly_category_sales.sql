-- @description Orders, units and line revenue per month and product category between two order dates.
-- @pipeline orders
-- @param from_date date min=1970-01-01 max=2100-12-31 example=2024-01-01 "First order date (inclusive)"
-- @param to_date date min=1970-01-01 max=2100-12-31 example=2024-12-31 "Last order date (inclusive)"
SELECT
    -- Trino's date_trunc keeps a date a date, DuckDB's returns a timestamp: the cast makes both a date.
    CAST(date_trunc('month', order_date) AS date) AS order_month,
    product_category,
    count(DISTINCT order_id) AS orders,
    sum(quantity) AS units,
    sum(line_amount) AS revenue
FROM orders_order_items
WHERE order_date BETWEEN ? AND ?
GROUP BY CAST(date_trunc('month', order_date) AS date), product_category
ORDER BY order_month, revenue DESC, product_category
