-- @description What one user played between two dates (UTC), with the song and artist when a song matched.
-- @pipeline sparkify
-- @param user_id string pattern=^[0-9]{1,10}$ max_length=10 example=327 "The user's id as in the event logs (digits)"
-- @param from_date date min=2000-01-01 max=2100-12-31 example=2018-11-01 "First day (inclusive)"
-- @param to_date date min=2000-01-01 max=2100-12-31 example=2018-11-30 "Last day (inclusive)"
SELECT
    sp.start_time,
    sp.level,
    s.title AS song,
    a.name AS artist,
    sp.session_id,
    sp.location
FROM sparkify_songplays AS sp
LEFT JOIN sparkify_songs AS s ON s.song_id = sp.song_id
LEFT JOIN sparkify_artists AS a ON a.artist_id = sp.artist_id
WHERE sp.user_id = ?
  AND sp.start_time >= CAST(? AS timestamp)
  AND sp.start_time < CAST(? AS timestamp) + INTERVAL '1' DAY
ORDER BY sp.start_time, sp.songplay_id
LIMIT 1000
