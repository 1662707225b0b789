"""The ingest Lambda's parts (functions/orders_ingest.py is its handler): its configuration, how a file splits
into records, the orders rules applied to one document, the output table, and flattening, by the reference path
or, for large regular files, vectorized."""
