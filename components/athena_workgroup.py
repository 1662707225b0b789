"""AthenaWorkgroup: the workgroup every query of the lake runs in (the analysts', the query API's and the pipelines'
check queries), and the analysts' queries saved in it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import naming
from components.moves import MovedFrom, child_options
from pipelines import lake
from pipelines.queries import Query, load_queries

ENGINE_VERSION = "Athena engine version 3"


@dataclass(frozen=True)
class AthenaWorkgroupArgs:
    project: str
    environment: str
    database: pulumi.Input[str]
    results_bucket: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    bytes_scanned_cutoff_mb: int
    publish_cloudwatch_metrics: bool
    force_destroy: bool = False
    queries: Mapping[str, Query] | None = None  # default: every queries/*.sql
    # Before issue 11 the workgroup and its queries were AthenaApi's children.
    moved_from: MovedFrom | None = None


class AthenaWorkgroup(pulumi.ComponentResource):
    """Creates an enforced Athena workgroup (engine v3, results under lake.QUERY_RESULTS encrypted with the lake key,
    a scan cutoff per query, CloudWatch metrics), a named query per queries/*.sql and a prepared statement for each
    one with parameters."""

    def __init__(self, name: str, args: AthenaWorkgroupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("datalake:components:AthenaWorkgroup", name, None, opts)
        self._name, self._args = name, args
        self.queries = dict(args.queries if args.queries is not None else load_queries())
        self.workgroup = self._create_workgroup()
        self.name, self.arn = self.workgroup.name, self.workgroup.arn
        self.named_queries, self.prepared_statements = self._create_queries()
        self.register_outputs({"name": self.name, "arn": self.arn})

    def _opts(self, child: str) -> pulumi.ResourceOptions:
        return child_options(self, self._name, child, self._args.moved_from)

    def _create_workgroup(self) -> aws.athena.Workgroup:
        args = self._args
        child = f"{self._name}-workgroup"
        return aws.athena.Workgroup(
            child,
            name=naming.workgroup(args.project, args.environment),
            description=f"Analyst queries over the {args.project} {args.environment} lake",
            state="ENABLED",
            force_destroy=args.force_destroy,
            configuration=aws.athena.WorkgroupConfigurationArgs(
                enforce_workgroup_configuration=True,
                publish_cloudwatch_metrics_enabled=args.publish_cloudwatch_metrics,
                bytes_scanned_cutoff_per_query=args.bytes_scanned_cutoff_mb * 1024 * 1024,
                engine_version=aws.athena.WorkgroupConfigurationEngineVersionArgs(
                    selected_engine_version=ENGINE_VERSION
                ),
                result_configuration=aws.athena.WorkgroupConfigurationResultConfigurationArgs(
                    output_location=pulumi.Output.concat("s3://", args.results_bucket, "/", lake.QUERY_RESULTS.prefix),
                    encryption_configuration=aws.athena.WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs(
                        encryption_option="SSE_KMS", kms_key_arn=args.key_arn
                    ),
                ),
            ),
            opts=self._opts(child),
        )

    def _create_queries(self) -> tuple[dict, dict]:
        named, prepared = {}, {}
        for query in self.queries.values():
            child = f"{self._name}-query-{query.name}"
            named[query.name] = aws.athena.NamedQuery(
                child,
                name=query.name,
                description=query.description[:1024],
                database=self._args.database,
                workgroup=self.workgroup.name,
                query=query.sql,
                opts=self._opts(child),
            )
            if query.parameters:
                child = f"{self._name}-statement-{query.name}"
                prepared[query.name] = aws.athena.PreparedStatement(
                    child,
                    name=query.name,
                    description=query.description[:1024],
                    workgroup=self.workgroup.name,
                    query_statement=query.sql,
                    opts=self._opts(child),
                )
        return named, prepared
