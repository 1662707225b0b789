-- @description Kindle items in one language published between two dates, newest first.
-- @pipeline kindle
-- @param language enum choices=English,Spanish,German,French,Italian,Portuguese,Japanese,Dutch example=English "The details.Language of the item"
-- @param from_date date min=1900-01-01 max=2100-12-31 example=2000-01-01 "First publication date (inclusive)"
-- @param to_date date min=1900-01-01 max=2100-12-31 example=2020-12-31 "Last publication date (inclusive)"
SELECT
    publication_date,
    parent_asin,
    title,
    author_name,
    publisher,
    print_length_pages,
    price
FROM kindle_items
WHERE language = ?
  AND publication_date BETWEEN ? AND ?
ORDER BY publication_date DESC, parent_asin
LIMIT 200
