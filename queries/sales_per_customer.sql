-- @description Orders, units and spend per customer, biggest spenders first; the name is the one on the
-- @description customer's latest order. Step Functions runs it after the orders pipeline.
-- @pipeline orders
-- @param min_orders int min=1 max=1000000 default=1 "Only customers with at least this many orders"
SELECT
    customer_id,
    -- Ties on the date go to the higher order_id, so Athena and DuckDB pick the same name.
    max_by(customer_name, CAST(order_date AS varchar) || order_id) AS customer_name,
    count(*) AS order_count,
    sum(unit_count) AS units,
    sum(total_amount) AS total_spent,
    min(order_date) AS first_order,
    max(order_date) AS last_order
FROM orders_orders
GROUP BY customer_id
HAVING count(*) >= ?
ORDER BY total_spent DESC, customer_id
