-- @description Revenue, rentals and rental durations per brand for one vehicle type.
-- @pipeline rentals
-- @param vehicle_type enum choices=high_end,premium,basic example=premium "The vehicle type"
SELECT
    brand,
    total_revenue,
    transaction_count,
    round(avg_duration_hours, 2) AS avg_duration_hours,
    max_duration_hours,
    min_duration_hours
FROM rentals_vehicle_type_performance
WHERE vehicle_type = ?
ORDER BY total_revenue DESC, brand
