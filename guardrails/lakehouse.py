"""The lakehouse's tables: every curated Glue table is an Iceberg table that Glue's CreateTable accepts, and each has
its three table optimizers (compaction, snapshot retention, orphan-file deletion) with settings Glue runs.

Every Glue table a stack declares is a curated one (the raw-zone crawler's tables are the crawler's, never Pulumi's).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from pulumi_policy import PolicyResource

from guardrails.props import get, is_unknown, plain

TABLE = "aws:glue/catalogTable:CatalogTable"
OPTIMIZER = "aws:glue/catalogTableOptimizer:CatalogTableOptimizer"
OPTIMIZER_TYPES = ("compaction", "retention", "orphan_file_deletion")
# Iceberg's partition transforms ("Partition Transforms", iceberg.apache.org/spec/#partition-transforms), as Glue's
# IcebergPartitionField.Transform takes them ("IcebergPartitionField", AWS Glue API Reference).
_TRANSFORM = re.compile(r"^(identity|year|month|day|hour|void|bucket\[\d+\]|truncate\[\d+\])$")
# The Iceberg spec starts partition field ids at 1000 ("Partition Specs"), so they never meet schema field ids.
_FIRST_PARTITION_FIELD_ID = 1000
# "IcebergStructField" (AWS Glue API Reference): Doc is at most 255 characters.
_MAX_DOC = 255
_HIVE_KEYS = ("storageDescriptor", "partitionKeys", "tableType")

Finding = tuple[str, str]  # (urn, message)


def _known(value: object) -> bool:
    return value is not None and not is_unknown(value)


def _items(value: object) -> list:
    """A list property's known items; nothing while the list itself is absent or unknown."""
    return [item for item in value if not is_unknown(item)] if isinstance(value, list) else []


def _schema_problems(name: str, schema: dict) -> Iterator[str]:
    ids = []
    for field in _items(schema.get("fields")):
        ids.append(field.get("id"))
        column, type_ = field.get("name"), field.get("type")
        if _known(column) and column != column.lower():
            yield f"Glue table {name}: column {column!r} is not lower case (Glue lower-cases names); rename it"
        if _known(type_):
            try:
                json.loads(type_)
            except (TypeError, ValueError):
                yield (
                    f"Glue table {name}: column {column} has type {type_!r}, which is not the JSON value Glue's "
                    f'IcebergStructField.Type takes; write it as JSON (e.g. "\\"string\\"")'
                )
        doc = field.get("doc")
        if _known(doc) and len(doc) > _MAX_DOC:
            yield f"Glue table {name}: column {column}'s doc is {len(doc)} characters, above Glue's {_MAX_DOC}"
    if len(ids) != len(set(ids)):
        yield f"Glue table {name}: schema field ids {ids} repeat; give each column its own id"


def _spec_problems(name: str, table_input: dict, ids: set) -> Iterator[str]:
    for field in _items(get(table_input, "partitionSpec", "fields")):
        transform, field_id = field.get("transform"), field.get("fieldId")
        if _known(transform) and not _TRANSFORM.match(transform):
            yield f"Glue table {name}: partition transform {transform!r} is not an Iceberg transform"
        if _known(field_id) and field_id < _FIRST_PARTITION_FIELD_ID:
            yield f"Glue table {name}: partition field id {field_id} is below 1000, where Iceberg starts them"
        if _known(field.get("sourceId")) and ids and field["sourceId"] not in ids:
            yield f"Glue table {name}: partition field {field.get('name')} names no schema field"
    for field in _items(get(table_input, "sortOrder", "fields")):
        if _known(field.get("sourceId")) and ids and field["sourceId"] not in ids:
            yield f"Glue table {name}: a sort field names no schema field ({field['sourceId']})"


def check_iceberg_table(_type: str, name: str, props: dict) -> Iterator[str]:
    """A curated table is Iceberg v2, created by CreateTable's IcebergInput ("IcebergInput", AWS Glue API
    Reference: MetadataOperation CREATE is its only value), with a schema, partition spec and sort order Glue takes."""
    iceberg = get(props, "openTableFormatInput", "icebergInput")
    if iceberg is None:
        yield (
            f"Glue table {name} is not an Iceberg table; declare it with open_table_format_input.iceberg_input "
            "(metadata_operation CREATE, version 2), as GlueCatalog does for every curated table"
        )
        return
    if is_unknown(iceberg):
        return
    if _known(iceberg.get("metadataOperation")) and iceberg["metadataOperation"] != "CREATE":
        yield f"Glue table {name}: metadata_operation {iceberg['metadataOperation']!r}; Glue takes only CREATE"
    if _known(iceberg.get("version")) and iceberg["version"] != "2":
        yield f"Glue table {name}: Iceberg format version {iceberg.get('version')!r}; set version '2'"
    hive = [key for key in _HIVE_KEYS if props.get(key) not in (None, [], {})]
    if hive:
        yield f"Glue table {name} mixes a Hive definition ({', '.join(hive)}) into an Iceberg table; remove it"
    table_input = iceberg.get("icebergTableInput")
    if not _known(table_input):
        return
    location = table_input.get("location")
    if _known(location) and not location.startswith("s3://"):
        yield f"Glue table {name}: Iceberg location {location!r} is not an s3:// URI"
    schema = table_input.get("schema")
    if not _known(schema):
        return
    yield from _schema_problems(name, schema)
    ids = {f.get("id") for f in _items(schema.get("fields"))}
    yield from _spec_problems(name, table_input, ids)


def check_optimizer(_type: str, name: str, props: dict) -> Iterator[str]:
    """What Glue runs: compaction bin-packs only ("Considerations and limitations", AWS Glue Developer Guide,
    optimizer-notes.html); each optimizer names the role it assumes ("CreateTableOptimizer", AWS Glue API Reference)."""
    kind = props.get("type")
    if _known(kind) and kind not in OPTIMIZER_TYPES:
        yield f"table optimizer {name}: type {kind!r} is not one of {', '.join(OPTIMIZER_TYPES)}"
    config = props.get("configuration") or {}
    if is_unknown(config):
        return
    if config.get("roleArn") in (None, ""):
        yield f"table optimizer {name} names no role_arn; give it the stack's optimizer role"
    strategy = get(config, "compactionConfiguration", "icebergConfiguration", "strategy")
    if _known(strategy) and strategy != "binpack":
        yield f"table optimizer {name}: compaction strategy {strategy!r}; Glue's managed compaction runs binpack only"


def _table_key(props: dict) -> tuple | None:
    database, table = props.get("databaseName"), props.get("tableName", props.get("name"))
    if not _known(database) or not _known(table):
        return None
    return database, table


def check_tables_maintained(resources: list[PolicyResource]) -> Iterator[Finding]:
    """Every Iceberg table has the three optimizers; an optimizer whose table or database is still unknown (a first
    preview) leaves the tables undecided."""
    optimizers: dict[tuple, set[str]] = {}
    undecided = False
    for resource in resources:
        if resource.resource_type != OPTIMIZER:
            continue
        props = plain(resource.props)
        key = _table_key(props)
        if key is None or not _known(props.get("type")):
            undecided = True
            continue
        optimizers.setdefault(key, set()).add(props["type"])
    if undecided:
        return
    for resource in resources:
        if resource.resource_type != TABLE:
            continue
        props = plain(resource.props)
        key = _table_key(props)
        if key is None:
            continue
        missing = [kind for kind in OPTIMIZER_TYPES if kind not in optimizers.get(key, set())]
        if missing:
            yield (
                resource.urn,
                f"Glue table {key[0]}.{key[1]} has no {', '.join(missing)} optimizer; declare an "
                "aws.glue.CatalogTableOptimizer of each type for it (GlueCatalog does)",
            )
