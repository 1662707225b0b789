-- @description The orders of one customer between two dates, newest first, with whether each total matches its lines.
-- @pipeline orders
-- @param customer_id string pattern=^[A-Za-z0-9_-]{1,64}$ max_length=64 example=C0924 "The customer's id (kept as text: ids that look like numbers are not numbers)"
-- @param from_date date min=1970-01-01 max=2100-12-31 default=1970-01-01 "First order date (inclusive)"
-- @param to_date date min=1970-01-01 max=2100-12-31 default=2100-12-31 "Last order date (inclusive)"
SELECT
    order_id,
    order_date,
    total_amount,
    item_count,
    unit_count,
    lines_total,
    total_matches
FROM orders_orders
WHERE customer_id = ?
  AND order_date BETWEEN ? AND ?
ORDER BY order_date DESC, order_id
