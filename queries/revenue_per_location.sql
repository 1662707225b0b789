-- @description Rental revenue and transactions per pickup location, highest revenue first.
-- @description Step Functions runs it after the rentals pipeline.
-- @pipeline rentals
-- @param min_transactions int min=1 max=1000000000 default=1 "Only locations with at least this many rentals"
SELECT
    pickup_location,
    location_name,
    city,
    state,
    total_revenue,
    transaction_count,
    round(avg_amount, 2) AS avg_amount,
    distinct_vehicles
FROM rentals_location_performance
WHERE transaction_count >= ?
ORDER BY total_revenue DESC, pickup_location
