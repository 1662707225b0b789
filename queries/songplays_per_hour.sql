-- @description Songplays per hour of the day (UTC): plays, distinct users and plays by paid users.
-- @description Step Functions runs it after the sparkify pipeline.
-- @pipeline sparkify
SELECT
    hour(start_time) AS hour_of_day,
    count(*) AS songplays,
    count(DISTINCT user_id) AS users,
    count_if(level = 'paid') AS paid_songplays
FROM sparkify_songplays
GROUP BY hour(start_time)
ORDER BY hour_of_day
