"""AnswerFunction (HTTP API, payload 2.0): GET shows a notice's question, POST records the answer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aws_lambda_powertools.logging import correlation_paths
from botocore.exceptions import BotoCoreError, ClientError

from headsup.platform.cold_start import once
from headsup.platform.errors import describe_error
from headsup.platform.http import http_response, request_body
from headsup.platform.observability import logger, metrics, tracer

# The function's own code is imported by its builders, at its first invocation (see headsup.handlers).
if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from headsup.logic.answers import AnswerService


@once
def build_answers() -> AnswerService:
    from headsup.adapters.answers import DynamoAnswerEffects, DynamoAnswerLedger
    from headsup.adapters.notice_queue import SqsNoticeQueue
    from headsup.adapters.secrets import read_signing_key
    from headsup.handlers.settings import AnswerSettings
    from headsup.logic.answers import AnswerService, BusinessHours

    settings = AnswerSettings.from_env()
    return AnswerService(
        key=read_signing_key(settings.unsubscribe_key_secret_arn),
        ledger=DynamoAnswerLedger(settings.ledger_table_name),
        effects=DynamoAnswerEffects(settings.answer_tables),
        queue=SqsNoticeQueue(settings.notice_queue_url),
        hours=BusinessHours(settings.quiet_hours_start, settings.quiet_hours_end),
        enabled_kinds=settings.enabled_answer_kinds,
        business_name=settings.business_name,
    )


# log_event=False: the event carries the token, which would let anyone reading the logs answer.
@logger.inject_lambda_context(log_event=False, correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(raw_event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

    from headsup.logic.unsubscribe import PAGE_HEADERS, read_form

    event = APIGatewayProxyEventV2(raw_event)
    answers = build_answers()
    token = unquote(event.path_parameters.get("token", ""))
    now = datetime.now(UTC)
    try:
        match event.http_method.upper():
            case "GET":
                hint = (event.query_string_parameters or {}).get("answer")
                response = answers.page(token, now=now, hint=hint)
            case "POST":
                form = read_form(request_body(event), event.headers.get("content-type"))
                response = answers.answer(token, form, now=now)
            case _:
                return http_response(405, "", {**PAGE_HEADERS, "Allow": "GET, POST"})
    except (ClientError, BotoCoreError) as exc:
        # Nothing or part was written; the conditional writes make a retry safe. 503: try again.
        logger.error("Could not record the answer", extra={"error": describe_error(exc)})
        metrics.add_metric(name="AnswerErrors", unit="Count", value=1)
        return http_response(503, "", {**PAGE_HEADERS, "Retry-After": "60"})
    return http_response(response.status, response.body, response.headers)
