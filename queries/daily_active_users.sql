-- @description Distinct users and songplays per day (UTC) for one subscription level, between two dates.
-- @pipeline sparkify
-- @param level enum choices=free,paid example=paid "The level of the user at the time of the play"
-- @param from_date date min=2000-01-01 max=2100-12-31 example=2018-11-01 "First day (inclusive)"
-- @param to_date date min=2000-01-01 max=2100-12-31 example=2018-11-30 "Last day (inclusive)"
SELECT
    CAST(start_time AS date) AS play_date,
    count(DISTINCT user_id) AS users,
    count(*) AS songplays
FROM sparkify_songplays
WHERE level = ?
  AND start_time >= CAST(? AS timestamp)
  AND start_time < CAST(? AS timestamp) + INTERVAL '1' DAY
GROUP BY CAST(start_time AS date)
ORDER BY play_date
