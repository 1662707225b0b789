"""Car rentals: marketplace CSVs cleaned, then KPIs computed from the cleaned tables (always in that order)."""

from pipelines.model import Check, Column, Location, Pipeline, Step, Table

MONEY = "decimal(18,2)"

# The marketplace exports, header by header (all text: ids that look like numbers are not numbers).
VEHICLES_HEADER = (
    "active", "vehicle_license_number", "registration_name", "license_type", "expiration_date",
    "permit_license_number", "certification_date", "vehicle_year", "base_telephone_number", "base_address",
    "vehicle_id", "last_update_timestamp", "brand", "vehicle_type",
)  # fmt: skip
USERS_HEADER = (
    "user_id", "first_name", "last_name", "email", "phone_number", "driver_license_number",
    "driver_license_expiry", "creation_date", "is_active",
)  # fmt: skip
RENTALS_HEADER = (
    "rental_id", "user_id", "vehicle_id", "rental_start_time", "rental_end_time", "pickup_location",
    "dropoff_location", "total_amount",
)  # fmt: skip
LOCATIONS_HEADER = ("location_id", "location_name", "address", "city", "state", "zip_code", "latitude", "longitude")

VEHICLES = Table(
    pipeline="rentals",
    name="vehicles",
    writer="rentals_transform",
    refresh="full",
    description="Cleaned vehicles.csv: one row per vehicle_id, dates parsed, active as boolean.",
    key=("vehicle_id",),
    columns=(
        Column("vehicle_id", "string"),
        Column("active", "boolean"),
        Column("vehicle_license_number", "string"),
        Column("registration_name", "string"),
        Column("license_type", "string"),
        Column("expiration_date", "date", "Source format dd-MM-yyyy"),
        Column("permit_license_number", "string"),
        Column("certification_date", "date", "Source format yyyy-MM-dd"),
        Column("vehicle_year", "int"),
        Column("base_telephone_number", "string"),
        Column("base_address", "string"),
        Column("last_update_timestamp", "timestamp", "Source format dd-MM-yyyy HH:mm:ss"),
        Column("brand", "string"),
        Column("vehicle_type", "string", "high_end, premium or basic"),
    ),
    checks=(Check("vehicle_type", accepted=("high_end", "premium", "basic")),),
)

USERS = Table(
    pipeline="rentals",
    name="users",
    writer="rentals_transform",
    refresh="full",
    description="Cleaned users.csv: one row per user_id, email lower-cased, phone digits extracted.",
    key=("user_id",),
    columns=(
        Column("user_id", "string"),
        Column("first_name", "string"),
        Column("last_name", "string"),
        Column("email", "string", "Trimmed and lower-cased"),
        Column("email_shared", "boolean", "Another user has the same email"),
        Column("phone_number", "string", "As given"),
        Column("phone_digits", "string", "Digits only, extension removed"),
        Column("driver_license_number", "string"),
        Column("driver_license_expiry", "date"),
        Column("creation_date", "date"),
        Column("is_active", "boolean"),
    ),
)

RENTALS = Table(
    pipeline="rentals",
    name="rentals",
    writer="rentals_transform",
    refresh="full",
    description="Cleaned rental_transactions.csv: one row per rental_id, with duration and date.",
    key=("rental_id",),
    columns=(
        Column("rental_id", "string"),
        Column("user_id", "string"),
        Column("vehicle_id", "string"),
        Column("rental_start_time", "timestamp"),
        Column("rental_end_time", "timestamp"),
        Column("pickup_location", "string"),
        Column("dropoff_location", "string"),
        Column("total_amount", MONEY),
        Column("rental_duration_hours", "double"),
        Column("rental_date", "date", "Date of rental_start_time"),
    ),
    sort_order=("rental_start_time",),
)

LOCATIONS = Table(
    pipeline="rentals",
    name="locations",
    writer="rentals_transform",
    refresh="full",
    description="Cleaned locations.csv: one row per location_id.",
    key=("location_id",),
    columns=(
        Column("location_id", "string"),
        Column("location_name", "string"),
        Column("address", "string"),
        Column("city", "string"),
        Column("state", "string"),
        Column("zip_code", "string"),
        Column("latitude", "double"),
        Column("longitude", "double"),
    ),
    checks=(Check("latitude", minimum=-90, maximum=90), Check("longitude", minimum=-180, maximum=180)),
)

LOCATION_PERFORMANCE = Table(
    pipeline="rentals",
    name="location_performance",
    writer="rentals_kpis",
    refresh="full",
    description="Per pickup location: revenue, transactions, amount statistics and distinct vehicles.",
    key=("pickup_location",),
    columns=(
        Column("pickup_location", "string"),
        Column("location_name", "string", "Null when the location is unknown"),
        Column("city", "string"),
        Column("state", "string"),
        Column("total_revenue", MONEY),
        Column("transaction_count", "bigint"),
        Column("avg_amount", "double"),
        Column("max_amount", MONEY),
        Column("min_amount", MONEY),
        Column("distinct_vehicles", "bigint"),
    ),
)

VEHICLE_TYPE_PERFORMANCE = Table(
    pipeline="rentals",
    name="vehicle_type_performance",
    writer="rentals_kpis",
    refresh="full",
    description="Per vehicle type and brand: revenue, transactions and duration statistics.",
    key=("vehicle_type", "brand"),
    # Rentals of vehicles missing from vehicles.csv are one group of their own: null type and brand.
    nullable_key=("vehicle_type", "brand"),
    columns=(
        Column("vehicle_type", "string", "Null for rentals of unknown vehicles"),
        Column("brand", "string"),
        Column("total_revenue", MONEY),
        Column("transaction_count", "bigint"),
        Column("avg_duration_hours", "double"),
        Column("max_duration_hours", "double"),
        Column("min_duration_hours", "double"),
    ),
)

DAILY_METRICS = Table(
    pipeline="rentals",
    name="daily_metrics",
    writer="rentals_kpis",
    refresh="full",
    description="Per rental date: transactions, revenue and amount statistics.",
    key=("rental_date",),
    columns=(
        Column("rental_date", "date"),
        Column("transaction_count", "bigint"),
        Column("total_revenue", MONEY),
        Column("avg_amount", "double"),
        Column("max_amount", MONEY),
        Column("min_amount", MONEY),
    ),
)

USER_METRICS = Table(
    pipeline="rentals",
    name="user_metrics",
    writer="rentals_kpis",
    refresh="full",
    description="Per user: transactions, spend and duration statistics.",
    key=("user_id",),
    columns=(
        Column("user_id", "string"),
        Column("transaction_count", "bigint"),
        Column("total_spend", MONEY),
        Column("avg_spend", "double"),
        Column("avg_duration_hours", "double"),
        Column("max_duration_hours", "double"),
        Column("min_duration_hours", "double"),
    ),
)

RAW = Location("raw", "rentals/")
CURATED = Location("curated", "rentals/")

PIPELINE = Pipeline(
    name="rentals",
    description="Car-rental marketplace CSVs cleaned, then KPIs per location, vehicle type, day and user.",
    raw=RAW,
    steps=(
        Step(
            name="rentals_transform",
            job="rentals_transform",
            args=(("--input", RAW), ("--output", CURATED)),
        ),
        Step(
            name="rentals_kpis",
            job="rentals_kpis",
            args=(("--input", CURATED), ("--output", CURATED)),
            after=("rentals_transform",),
        ),
    ),
    tables=(
        VEHICLES,
        USERS,
        RENTALS,
        LOCATIONS,
        LOCATION_PERFORMANCE,
        VEHICLE_TYPE_PERFORMANCE,
        DAILY_METRICS,
        USER_METRICS,
    ),
    check_query="revenue_per_location",
)
