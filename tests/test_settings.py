"""Stack settings: defaults, every rule, and bad config refused with the key named before any resource exists."""

import pytest
from pydantic import ValidationError

from settings import Settings, SettingsError, load_settings
from tests.infra import run_program, stack_config

MINIMAL = {"environment": "dev", "owner": "data-platform", "cost_centre": "cc-1"}


def test_minimal_settings_take_the_documented_defaults():
    settings = load_settings(MINIMAL)
    assert settings.log_retention_days == 90
    assert settings.lake.raw_transition_days == 30
    assert settings.lake.allow_data_destroy is False
    assert settings.protect_data is False


def test_settings_are_frozen():
    settings = load_settings(MINIMAL)
    with pytest.raises(ValidationError):
        settings.environment = "prod"


def test_prod_protects_data():
    assert load_settings({**MINIMAL, "environment": "prod"}).protect_data is True


# Each case: (settings override, the line the error must contain).
INVALID = {
    "negative transition": (
        {"lake": {"raw_transition_days": -3}},
        "datalake:settings.lake.raw_transition_days: -3 is below the minimum 1",
    ),
    "unknown environment": (
        {"environment": "qa"},
        "datalake:settings.environment: 'qa' is not allowed; allowed: 'dev', 'staging' or 'prod'",
    ),
    "misspelt lake key": (
        {"lake": {"raw_transiton_days": 30}},
        "datalake:settings.lake.raw_transiton_days: is not a known setting; allowed here:",
    ),
    "misspelt top-level key": (
        {"enviroment": "dev"},
        "datalake:settings.enviroment: is not a known setting; allowed here: api, athena, bastion, cost_centre,",
    ),
    "log retention CloudWatch does not offer": (
        {"log_retention_days": 10},
        "datalake:settings.log_retention_days: 10 is not allowed; allowed: 1, 3, 5, 7, 14, 30",
    ),
    "KMS window too short": (
        {"lake": {"kms_deletion_window_days": 3}},
        "datalake:settings.lake.kms_deletion_window_days: 3 is below the minimum 7",
    ),
    "KMS window too long": (
        {"lake": {"kms_deletion_window_days": 45}},
        "datalake:settings.lake.kms_deletion_window_days: 45 is above the maximum 30",
    ),
    "destroying prod data": (
        {"environment": "prod", "log_retention_days": 365, "lake": {"allow_data_destroy": True}},
        "datalake:settings.lake.allow_data_destroy: True is refused when environment is prod",
    ),
    "STANDARD_IA before 30 days": (
        {"lake": {"raw_transition_days": 10}},
        "datalake:settings.lake.raw_transition_days: 10 is below 30, the minimum S3 allows for STANDARD_IA",
    ),
    "archive before the first tier has aged": (
        {"lake": {"raw_transition_days": 60, "raw_archive_days": 70}},
        "datalake:settings.lake.raw_archive_days: 70 must be at least raw_transition_days + 30 = 90",
    ),
    "unknown storage class": (
        {"lake": {"curated_storage_class": "COLD"}},
        "datalake:settings.lake.curated_storage_class: 'COLD' is not allowed",
    ),
    "tag value with forbidden characters": (
        {"owner": "data<platform>"},
        "datalake:settings.owner: 'data<platform>' does not match the pattern",
    ),
    "prod with short log retention": (
        {"environment": "prod", "log_retention_days": 30},
        "datalake:settings.log_retention_days: 30 is below 90, the prod minimum",
    ),
    "wrong type": (
        {"lake": {"allow_data_destroy": "sometimes"}},
        "datalake:settings.lake.allow_data_destroy: 'sometimes' is invalid",
    ),
    "a lake path restated in settings": (
        {"ingest": {"watch_prefix": "orders/elsewhere/"}},
        "datalake:settings.ingest.watch_prefix: is not a known setting; allowed here:",
    ),
    "a Glue job without a Glue road": (
        {"glue": {"etl_job": "kindle_metadata"}},
        "datalake:settings.glue.etl_job: 'kindle_metadata' is not allowed; allowed: 'sparkify' or 'orders'",
    ),
    "a reservation Lambda refuses on the standard quota": (
        {"ingest": {"reserved_concurrency": 950}},
        "datalake:settings.ingest.reserved_concurrency: 950 is above the maximum 900",
    ),
    # "Iceberg release history" (Amazon EMR Release Guide): emr-7.10.0 ships Iceberg 1.8.1, emr-7.11.0 1.9.1.
    "an EMR release whose Iceberg lacks what the jobs use": (
        {"emr": {"release_label": "emr-7.10.0"}},
        "datalake:settings.emr.release_label: 'emr-7.10.0' ships Iceberg 1.8.1; the jobs need Iceberg 1.9 or later "
        "(audit branches, fast_forward, MERGE ... WHEN NOT MATCHED BY SOURCE, verified on 1.9.2): use emr-7.11.0 or "
        "later",
    ),
    "an EMR 6 release": (
        {"emr": {"release_label": "emr-6.15.0"}},
        "datalake:settings.emr.release_label: 'emr-6.15.0' does not match the pattern",
    ),
    "prod without table maintenance": (
        {"environment": "prod", "log_retention_days": 365, "maintenance": {"optimizers_enabled": False}},
        "datalake:settings.maintenance.optimizers_enabled: False is refused when environment is prod",
    ),
    "orphan files deleted while a job still runs": (
        {"glue": {"job_timeout_minutes": 2880}, "maintenance": {"orphan_file_retention_days": 2}},
        "datalake:settings.maintenance.orphan_file_retention_days: 2 must outlast the longest job run (2880 minutes",
    ),
}


def test_table_maintenance_is_on_by_default_and_may_be_off_outside_prod():
    settings = load_settings(MINIMAL)
    assert settings.maintenance.optimizers_enabled is True
    assert settings.emr.release_label == "emr-7.12.0"
    off = load_settings({**MINIMAL, "maintenance": {"optimizers_enabled": False}})
    assert off.maintenance.optimizers_enabled is False
    assert load_settings({**MINIMAL, "emr": {"release_label": "emr-7.11.0"}}).emr.release_label == "emr-7.11.0"
    # A later release than the table knows ships a later Iceberg: accepted.
    assert load_settings({**MINIMAL, "emr": {"release_label": "emr-7.14.0"}}).emr.release_label == "emr-7.14.0"


def test_dev_with_the_optimizers_off_declares_them_disabled():
    run = run_program("dev", overrides={"maintenance": {"optimizers_enabled": False}})
    assert run.error is None, run.error
    optimizers = run.of_type("aws:glue/catalogTableOptimizer:CatalogTableOptimizer")
    assert optimizers
    assert {o.inputs["configuration"]["enabled"] for o in optimizers} == {False}


@pytest.mark.parametrize("override", INVALID.values(), ids=INVALID.keys())
def test_invalid_settings_stop_the_program_before_any_resource(override):
    change, expected = override
    run = run_program("dev", overrides=change)
    assert run.error is not None, "the program accepted invalid settings"
    assert expected in str(run.error)
    assert run.resources == [], "resources were registered before the settings were refused"


def test_every_problem_is_listed_in_one_message():
    with pytest.raises(SettingsError) as error:
        load_settings({"environment": "qa", "lake": {"raw_transition_days": -3, "bogus": 1}})
    lines = str(error.value).splitlines()
    assert lines[0] == "invalid stack settings:"
    assert [line.split(":")[1].strip() for line in lines[1:]] == [
        "settings.environment",
        "settings.owner",
        "settings.cost_centre",
        "settings.lake.raw_transition_days",
        "settings.lake.bogus",
    ]


def test_missing_settings_key_is_named():
    run = run_program("dev", settings=None)
    assert "datalake:settings: is missing" in str(run.error)
    assert run.resources == []


def test_settings_model_documents_every_field():
    def walk(model):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, Settings.__mro__[1]):
                walk(annotation)

    walk(Settings)


def test_readme_config_reference_is_generated_from_the_models():
    from tools.config_reference import BEGIN, END, README, render

    text = README.read_text()
    committed = text[text.index(BEGIN) : text.index(END) + len(END)]
    assert committed == render(), "README's configuration reference is stale: run `make docs`"


def test_reservations_together_leave_aws_its_100_unreserved():
    """Lambda refuses a reservation that leaves fewer than 100 unreserved executions ("Lambda quotas")."""
    with pytest.raises(SettingsError) as error:
        load_settings(
            {**MINIMAL, "ingest": {"reserved_concurrency": 600}, "glue": {"starter_reserved_concurrency": 400}}
        )
    assert str(error.value).splitlines()[1:] == [
        f"  datalake:settings.{key}: {value} brings the stack's reserved concurrency to 1000, above 900 (AWS keeps "
        "100 unreserved)"
        for key, value in (("ingest.reserved_concurrency", 600), ("glue.starter_reserved_concurrency", 400))
    ]
    assert load_settings(
        {**MINIMAL, "ingest": {"reserved_concurrency": 899}, "glue": {"starter_reserved_concurrency": 1}}
    )


def test_no_reservation_by_default_and_none_in_dev():
    defaults = load_settings(MINIMAL)
    assert (defaults.ingest.reserved_concurrency, defaults.glue.starter_reserved_concurrency) == (None, None)
    dev = load_settings(stack_config("dev")["datalake:settings"])
    assert (dev.ingest.reserved_concurrency, dev.glue.starter_reserved_concurrency) == (None, None)


@pytest.mark.parametrize("region", ["cn-north-1", "cn-northwest-1", "us-iso-east-1", "eusc-de-east-1"])
def test_regions_of_unverified_partitions_are_refused_with_the_other_problems(region):
    # The China Regions may spell some service principals with .amazonaws.com.cn (EMR, the regional CloudWatch Logs
    # principal in the lake key's policy): until that and the services' availability there are checked, the program
    # refuses to deploy rather than fail half-way (README, Partitions).
    settings = stack_config("dev")["datalake:settings"]
    with pytest.raises(SettingsError) as error:
        load_settings({**settings, "log_retention_days": 2}, region=region)
    lines = str(error.value).splitlines()
    assert lines[1].strip().startswith(f"aws:region: {region!r} is in the aws-")
    assert "datalake:settings.log_retention_days" in lines[2]


@pytest.mark.parametrize("region", ["eu-west-1", "us-east-1", "us-gov-west-1"])
def test_regions_of_the_aws_and_govcloud_partitions_are_accepted(region):
    settings = stack_config("dev")["datalake:settings"]
    partition = "aws-us-gov" if region.startswith("us-gov-") else "aws"
    layers = {region: f"arn:{partition}:lambda:{region}:123456789012:layer:AWSSDKPandas-Python312:1"}
    loaded = load_settings({**settings, "ingest": {"pandas_layer_arns": layers}}, region=region)
    assert loaded.ingest.pandas_layer_arns == layers
