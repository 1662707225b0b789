-- @description Rental revenue per day between two dates, only days with at least a minimum revenue.
-- @pipeline rentals
-- @param from_date date min=2000-01-01 max=2100-12-31 example=2024-01-01 "First rental date (inclusive)"
-- @param to_date date min=2000-01-01 max=2100-12-31 example=2024-01-31 "Last rental date (inclusive)"
-- @param min_revenue number min=0 max=1000000000 default=0 "Only days whose total revenue is at least this"
SELECT
    rental_date,
    transaction_count,
    total_revenue,
    round(avg_amount, 2) AS avg_amount,
    max_amount,
    min_amount
FROM rentals_daily_metrics
WHERE rental_date BETWEEN ? AND ?
  AND total_revenue >= ?
ORDER BY rental_date
