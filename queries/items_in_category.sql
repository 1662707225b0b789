-- @description The most rated Kindle items listed under one category, optionally above an average rating.
-- @pipeline kindle
-- Categories hold ampersands, commas, apostrophes and accents ("Children's eBooks", "Tecnología"): the pattern
-- allows them, and the apostrophe reaches Athena doubled inside one quoted literal.
-- @param category string pattern=^[\w\x20&',.()/-]{1,100}$ max_length=100 example="Literature & Fiction" "A category exactly as listed, e.g. \"Literature & Fiction\""
-- @param min_rating number min=0 max=5 default=0 "Only items whose average rating is at least this (unrated items count as 0)"
SELECT
    parent_asin,
    title,
    author_name,
    store,
    average_rating,
    rating_number,
    price,
    publication_date
FROM kindle_items
WHERE contains(categories, ?)
  AND coalesce(average_rating, 0) >= ?
ORDER BY rating_number DESC NULLS LAST, parent_asin
LIMIT 100
