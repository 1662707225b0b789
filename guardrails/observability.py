"""What ran is recorded and what failed is kept: Lambda traces, API Gateway access logs, state machine execution
logs, log groups that expire, and a queue for the asynchronous events Lambda gives up on."""

from __future__ import annotations

from collections.abc import Iterator

from guardrails.props import get, is_unknown

FUNCTION = "aws:lambda/function:Function"
INVOKE_CONFIG = "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"
STAGES = frozenset({"aws:apigateway/stage:Stage", "aws:apigatewayv2/stage:Stage"})
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


def check_tracing(_type: str, name: str, props: dict) -> Iterator[str]:
    mode = get(props, "tracingConfig", "mode")
    if not is_unknown(mode) and mode != "Active":
        yield f"function {name} is not traced; set tracing_config mode 'Active'"


def check_failure_destination(_type: str, name: str, props: dict) -> Iterator[str]:
    """Lambda drops an asynchronous event once its retries are spent unless a destination keeps it, and it cannot
    deliver to a FIFO queue or topic ("Capturing records of Lambda asynchronous invocations")."""
    destination = get(props, "destinationConfig", "onFailure", "destination")
    if is_unknown(destination):
        return
    if not destination:
        yield (
            f"asynchronous invoke config {name} drops events that still fail after the retries; set "
            "destination_config on_failure destination to a standard SQS queue"
        )
    elif str(destination).endswith(".fifo"):
        yield f"asynchronous invoke config {name} sends failures to a FIFO queue, which Lambda cannot deliver to"


def check_stage_logging(_type: str, name: str, props: dict) -> Iterator[str]:
    settings = props.get("accessLogSettings")
    if is_unknown(settings):
        return
    if not settings or get(settings, "destinationArn") is None or get(settings, "format") is None:
        yield (
            f"stage {name} keeps no access log; set access_log_settings with destination_arn a log group with "
            "retention and a JSON format"
        )


def check_state_machine_logging(_type: str, name: str, props: dict) -> Iterator[str]:
    logging = props.get("loggingConfiguration")
    if is_unknown(logging):
        return
    level, destination = get(logging, "level"), get(logging, "logDestination")
    fix = "set logging_configuration level 'ALL' (or 'ERROR') and log_destination '<log group ARN>:*'"
    if level in (None, "OFF"):
        yield f"state machine {name} logs nothing; {fix}"
    elif destination is None:
        yield f"state machine {name} logs to no log group; {fix}"


def check_log_retention(_type: str, name: str, props: dict) -> Iterator[str]:
    days = props.get("retentionInDays")
    if not is_unknown(days) and not days:
        yield f"log group {name} keeps its logs forever; set retention_in_days (settings: log_retention_days)"
