"""Lambda handlers: plain Python and boto3, packaged with pipelines/ (and queries/ for the query API)."""
