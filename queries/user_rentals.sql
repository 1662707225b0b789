-- @description The rentals of one user, newest first, with the vehicle and the pickup and dropoff location names.
-- @pipeline rentals
-- @param user_id string pattern=^[0-9A-Za-z]{1,32}$ max_length=32 example=e82d9921a6 "The user's id (10 hex characters in the marketplace data)"
SELECT
    r.rental_id,
    r.rental_start_time,
    r.rental_end_time,
    r.rental_duration_hours,
    r.total_amount,
    v.brand,
    v.vehicle_type,
    pickup.location_name AS pickup,
    dropoff.location_name AS dropoff
FROM rentals_rentals AS r
LEFT JOIN rentals_vehicles AS v ON v.vehicle_id = r.vehicle_id
LEFT JOIN rentals_locations AS pickup ON pickup.location_id = r.pickup_location
LEFT JOIN rentals_locations AS dropoff ON dropoff.location_id = r.dropoff_location
WHERE r.user_id = ?
ORDER BY r.rental_start_time DESC, r.rental_id
LIMIT 500
