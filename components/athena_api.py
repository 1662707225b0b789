"""AthenaApi: a REST API that runs only the lake's named queries, in the workgroup it is given (AthenaWorkgroup)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Literal

import pulumi
import pulumi_aws as aws

from components import naming
from components.context import AwsContext, policy_json
from components.iam import lambdas
from components.lambda_function import PythonFunction, PythonFunctionArgs
from pipelines import all_tables

STAGE = "v1"
# (method, path): the API's whole surface. No route takes SQL: only the named queries can run.
ROUTES = (("GET", "queries"), ("POST", "queries/{name}"), ("GET", "executions/{id}"))
ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "caller": "$context.identity.caller",
        "apiKeyId": "$context.identity.apiKeyId",
        "requestTime": "$context.requestTime",
        "httpMethod": "$context.httpMethod",
        "resourcePath": "$context.resourcePath",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "integrationError": "$context.integration.error",
    },
    separators=(",", ":"),
)
# An AWS managed policy, in the stack's partition.
PUSH_TO_CLOUDWATCH_POLICY = "service-role/AmazonAPIGatewayPushToCloudWatchLogs"


@dataclass(frozen=True)
class AthenaApiArgs:
    project: str
    environment: str
    database: pulumi.Input[str]
    # Where the API runs its queries: AthenaWorkgroup's name and ARN.
    workgroup: pulumi.Input[str]
    workgroup_arn: pulumi.Input[str]
    results_bucket_arn: pulumi.Input[str]
    curated_bucket_arn: pulumi.Input[str]
    scripts_bucket: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    log_retention_days: int
    auth: Literal["api_key", "iam"]
    throttle_rate_limit: float
    throttle_burst_limit: int
    quota_limit: int
    quota_period: str
    manage_account_logging_role: bool


def redeployment_hash(routes: tuple[tuple[str, str], ...], auth: str, integration_arns: list[str]) -> str:
    """Changes whenever the API's surface does, so the deployment (and the stage) is replaced with it."""
    payload = json.dumps({"routes": routes, "auth": auth, "integrations": integration_arns}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


class AthenaApi(pulumi.ComponentResource):
    """Creates the query Lambda (start and read queries in the given workgroup only), and a REST API: one method
    per route, each requiring an API key (usage plan with throttle and quota) or IAM, a stage with JSON access logs,
    X-Ray and ERROR execution logging without data tracing, redeployed whenever the API changes."""

    def __init__(self, name: str, args: AthenaApiArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("datalake:components:AthenaApi", name, None, opts)
        self._name, self._args = name, args
        self._prefix = naming.prefix(args.project, args.environment)
        self._aws = AwsContext.of(self)
        self.function = self._create_function()
        self.api, self.stage = self._create_api()
        self.api_url = self.stage.invoke_url
        self.api_key = self._create_usage_plan() if args.auth == "api_key" else None
        self.api_key_id = self.api_key.id if self.api_key else None
        self.register_outputs({"api_url": self.api_url, "api_key_id": self.api_key_id})

    def _child(self, role: str) -> str:
        return f"{self._name}-{role}"

    def _opts(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _function_policy(self) -> pulumi.Output[str]:
        args = self._args
        return policy_json(
            lambdas.query_api_policy,
            **self._aws.where,
            workgroup_arn=args.workgroup_arn,
            database=args.database,
            tables=[t.glue_name for t in all_tables()],
            results_arn=args.results_bucket_arn,
            curated_arn=args.curated_bucket_arn,
            key_arn=args.key_arn,
        )

    def _create_function(self) -> PythonFunction:
        args = self._args
        return PythonFunction(
            self._child("handler"),
            PythonFunctionArgs(
                module="query_api",
                function_name=f"{self._prefix}-query-api",
                description="Runs the named Athena queries for the query API",
                scripts_bucket=args.scripts_bucket,
                key_arn=args.key_arn,
                log_retention_days=args.log_retention_days,
                policy=self._function_policy(),
                environment={"WORKGROUP": args.workgroup, "DATABASE": args.database},
                memory_mb=512,
                timeout_seconds=29,  # API Gateway gives up after 29 s
                with_queries=True,
            ),
            opts=self._opts(),
        )

    def _create_resources(self, api: aws.apigateway.RestApi) -> dict[str, aws.apigateway.Resource]:
        resources: dict[str, aws.apigateway.Resource] = {}
        for _, path in ROUTES:
            parent_path = ""
            for part in path.split("/"):
                current = f"{parent_path}/{part}".lstrip("/")
                if current not in resources:
                    parent_id = resources[parent_path].id if parent_path else api.root_resource_id
                    slug = current.replace("/", "-").replace("{", "").replace("}", "")
                    resources[current] = aws.apigateway.Resource(
                        self._child(f"resource-{slug}"),
                        rest_api=api.id,
                        parent_id=parent_id,
                        path_part=part,
                        opts=self._opts(),
                    )
                parent_path = current
        return resources

    def _create_api(self) -> tuple[aws.apigateway.RestApi, aws.apigateway.Stage]:
        args = self._args
        api = aws.apigateway.RestApi(
            self._child("api"),
            name=f"{self._prefix}-query-api",
            description="Runs the lake's named Athena queries; no route accepts SQL",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
            opts=self._opts(),
        )
        resources = self._create_resources(api)
        methods, integrations = [], []
        for http_method, path in ROUTES:
            slug = f"{http_method.lower()}-{path.replace('/', '-').replace('{', '').replace('}', '')}"
            method = aws.apigateway.Method(
                self._child(f"method-{slug}"),
                rest_api=api.id,
                resource_id=resources[path].id,
                http_method=http_method,
                authorization="AWS_IAM" if args.auth == "iam" else "NONE",
                api_key_required=args.auth == "api_key",
                opts=self._opts(),
            )
            integrations.append(
                aws.apigateway.Integration(
                    self._child(f"integration-{slug}"),
                    rest_api=api.id,
                    resource_id=resources[path].id,
                    http_method=method.http_method,
                    type="AWS_PROXY",
                    integration_http_method="POST",
                    uri=self.function.function.invoke_arn,
                    opts=self._opts(),
                )
            )
            methods.append(method)
        aws.lambda_.Permission(
            self._child("invoke"),
            action="lambda:InvokeFunction",
            function=self.function.name,
            principal="apigateway.amazonaws.com",
            # Only this API's deployed stage may invoke it (not test invocations of other stages).
            source_arn=pulumi.Output.concat(api.execution_arn, f"/{STAGE}/*/*"),
            opts=self._opts(),
        )
        deployment = aws.apigateway.Deployment(
            self._child("deployment"),
            rest_api=api.id,
            description="Replaced whenever a route, its authorisation or its integration changes",
            triggers={"redeployment": self.function.arn.apply(lambda arn: redeployment_hash(ROUTES, args.auth, [arn]))},
            opts=self._opts(depends_on=methods + integrations),
        )
        stage = self._create_stage(api, deployment)
        return api, stage

    def _create_stage(self, api: aws.apigateway.RestApi, deployment: aws.apigateway.Deployment) -> aws.apigateway.Stage:
        args = self._args
        access_logs = aws.cloudwatch.LogGroup(
            self._child("access-logs"),
            name=f"/aws/apigateway/{self._prefix}-query-api/access",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.key_arn,
            opts=self._opts(),
        )
        # API Gateway writes execution logs to a group it names itself; create it to give it a retention.
        aws.cloudwatch.LogGroup(
            self._child("execution-logs"),
            name=pulumi.Output.concat("API-Gateway-Execution-Logs_", api.id, f"/{STAGE}"),
            retention_in_days=args.log_retention_days,
            kms_key_id=args.key_arn,
            opts=self._opts(),
        )
        depends = [self._create_account_logging_role()] if args.manage_account_logging_role else []
        stage = aws.apigateway.Stage(
            self._child("stage"),
            rest_api=api.id,
            deployment=deployment.id,
            stage_name=STAGE,
            xray_tracing_enabled=True,
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                destination_arn=access_logs.arn, format=ACCESS_LOG_FORMAT
            ),
            opts=self._opts(depends_on=depends),
        )
        aws.apigateway.MethodSettings(
            self._child("method-settings"),
            rest_api=api.id,
            stage_name=stage.stage_name,
            method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(
                logging_level="ERROR",
                data_trace_enabled=False,
                metrics_enabled=True,
                throttling_rate_limit=args.throttle_rate_limit,
                throttling_burst_limit=args.throttle_burst_limit,
            ),
            opts=self._opts(),
        )
        return stage

    def _create_account_logging_role(self) -> aws.apigateway.Account:
        """API Gateway's one CloudWatch role per account and region ("Set up CloudWatch logging for REST APIs in API
        Gateway"): without it a stage's access or execution logging is refused. Every stack of the account and
        region relies on it, so a destroy of this stack leaves the role, its policy and the setting in place
        (retain_on_delete), instead of pointing every other API at a deleted role."""
        retained = self._opts(retain_on_delete=True)
        role = self._aws.service_role(
            self._child("cloudwatch-role"),
            "apigateway.amazonaws.com",
            "Lets API Gateway write the logs of every API in this account and region (account-wide setting)",
            self,
            retain_on_delete=True,
        )
        attachment = aws.iam.RolePolicyAttachment(
            self._child("cloudwatch-role-policy"),
            role=role.name,
            policy_arn=self._aws.managed_policy(PUSH_TO_CLOUDWATCH_POLICY),
            opts=retained,
        )
        return aws.apigateway.Account(
            self._child("account"),
            cloudwatch_role_arn=role.arn,
            opts=self._opts(depends_on=[attachment], retain_on_delete=True),
        )

    def _create_usage_plan(self) -> aws.apigateway.ApiKey:
        args = self._args
        plan = aws.apigateway.UsagePlan(
            self._child("usage-plan"),
            name=f"{self._prefix}-analysts",
            description="Throttle and quota for the analysts' API key",
            api_stages=[aws.apigateway.UsagePlanApiStageArgs(api_id=self.api.id, stage=self.stage.stage_name)],
            throttle_settings=aws.apigateway.UsagePlanThrottleSettingsArgs(
                rate_limit=args.throttle_rate_limit, burst_limit=args.throttle_burst_limit
            ),
            quota_settings=aws.apigateway.UsagePlanQuotaSettingsArgs(limit=args.quota_limit, period=args.quota_period),
            opts=self._opts(),
        )
        key = aws.apigateway.ApiKey(
            self._child("api-key"),
            name=f"{self._prefix}-analysts",
            description="The analysts' key",
            enabled=True,
            opts=self._opts(),
        )
        aws.apigateway.UsagePlanKey(
            self._child("usage-plan-key"), key_id=key.id, key_type="API_KEY", usage_plan_id=plan.id, opts=self._opts()
        )
        return key
