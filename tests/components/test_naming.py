"""The physical names components share, from plain values: a stack's prefix, its Glue database, crawlers, workgroup."""

from components import naming


def test_names_of_a_stack():
    assert naming.prefix("datalake", "dev") == "datalake-dev"
    assert naming.crawler("datalake", "prod", "orders") == "datalake-prod-orders"
    assert naming.workgroup("datalake", "staging") == "datalake-staging"


def test_the_glue_database_is_lower_case_with_underscores():
    # Glue and Athena accept lower case, digits and underscores in database names ("Names for databases, tables and
    # columns", Amazon Athena User Guide).
    assert naming.glue_database("datalake", "dev") == "datalake_dev"
    assert naming.glue_database("Data-Lake", "pre-prod") == "data_lake_pre_prod"
