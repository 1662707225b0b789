"""`make run`: every pipeline on one machine (local Spark, DuckDB for the queries)."""
