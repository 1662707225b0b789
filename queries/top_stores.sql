-- @description Kindle stores ranked by the number of ratings their items received, with the rating of those
-- @description ratings (each item's average weighted by its rating count). Step Functions runs it after the pipeline.
-- @pipeline kindle
-- @param min_items int min=1 max=1000000 default=1 "Only stores with at least this many items"
SELECT
    store,
    count(*) AS item_count,
    sum(coalesce(rating_number, 0)) AS rating_count,
    round(
        sum(average_rating * rating_number)
        / nullif(sum(CASE WHEN average_rating IS NOT NULL THEN rating_number END), 0),
        2
    ) AS weighted_rating
FROM kindle_items
WHERE store IS NOT NULL AND store <> ''
GROUP BY store
HAVING count(*) >= ?
ORDER BY rating_count DESC, store
LIMIT 20
