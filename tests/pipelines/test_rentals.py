"""pipelines/rentals.py: the CSVs cleaned into four tables, then four KPI tables, always in that order."""

from pipelines import rentals


def test_the_kpis_run_after_the_transform_on_its_output():
    transform, kpis = rentals.PIPELINE.steps
    assert dict(transform.args) == {"--input": rentals.RAW, "--output": rentals.CURATED}
    assert dict(kpis.args) == {"--input": rentals.CURATED, "--output": rentals.CURATED}
    assert kpis.after == ("rentals_transform",)
    assert [[s.name for s in wave] for wave in rentals.PIPELINE.waves()] == [["rentals_transform"], ["rentals_kpis"]]


def test_each_step_writes_its_own_tables():
    writers = {t.name: t.writer for t in rentals.PIPELINE.tables}
    assert writers == {
        "vehicles": "rentals_transform",
        "users": "rentals_transform",
        "rentals": "rentals_transform",
        "locations": "rentals_transform",
        "location_performance": "rentals_kpis",
        "vehicle_type_performance": "rentals_kpis",
        "daily_metrics": "rentals_kpis",
        "user_metrics": "rentals_kpis",
    }
    assert rentals.VEHICLE_TYPE_PERFORMANCE.key == ("vehicle_type", "brand")


def test_the_exports_headers_name_the_keys_the_tables_use():
    assert "vehicle_id" in rentals.VEHICLES_HEADER
    assert {"rental_id", "user_id", "vehicle_id"} <= set(rentals.RENTALS_HEADER)
    assert rentals.LOCATIONS_HEADER[0] == "location_id"
