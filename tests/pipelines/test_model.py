"""pipelines/model.py: the plain-data vocabulary (columns, locations, tables, steps, pipelines) and its checks."""

import pytest

from pipelines import Location


def test_a_location_inside_another_is_named_relative_to_it():
    orders = Location("raw", "orders/")
    assert Location("raw", "orders/glue/exports/").relative_to(orders) == "glue/exports/"
    assert orders.relative_to(orders) == ""
    for outside in (Location("raw", "ordersx/"), Location("curated", "orders/exports/")):
        with pytest.raises(ValueError, match="is not inside raw:orders/"):
            outside.relative_to(orders)
