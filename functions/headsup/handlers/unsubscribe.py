"""UnsubscribeApi (HTTP API, payload 2.0): GET shows the preference page; POST unsubscribes (one-click,
or the page's button) or saves the page's choices."""

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

    from headsup.logic.unsubscribe import Unsubscribe


@once
def build_unsubscribe() -> Unsubscribe:
    from headsup.adapters.customers import DynamoCustomerPlaces
    from headsup.adapters.preferences import DynamoPreferenceStore
    from headsup.adapters.secrets import read_signing_key
    from headsup.handlers.settings import UnsubscribeSettings
    from headsup.logic.preference_words import template_languages
    from headsup.logic.unsubscribe import Unsubscribe

    settings = UnsubscribeSettings.from_env()
    return Unsubscribe(
        key=read_signing_key(settings.unsubscribe_key_secret_arn),
        store=DynamoPreferenceStore(settings.preferences_table_name),
        business_name=settings.business_name,
        languages=template_languages(settings.templates_dir),
        places=(
            DynamoCustomerPlaces(settings.customers_table_name) if settings.customers_table_name else None
        ),
    )


# log_event=False whatever POWERTOOLS_LOGGER_LOG_EVENT says: the event carries the token (path,
# rawPath, pathParameters), which would let anyone reading the logs unsubscribe the customer.
@logger.inject_lambda_context(log_event=False, correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(raw_event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

    from headsup.adapters.preferences import ConcurrentChange
    from headsup.logic.preference_form import read_fields

    event = APIGatewayProxyEventV2(raw_event)
    unsubscribe = build_unsubscribe()
    metrics.add_metric(name="UnsubscribeRequests", unit="Count", value=1)
    # The route is /unsubscribe/{token}; a client that percent-encoded the token is forgiven
    # (ours contain only URL-safe characters, never '%').
    token = unquote(event.path_parameters.get("token", ""))
    # API Gateway hands HTTP API headers over lower-cased.
    accept_language = event.headers.get("accept-language")
    now = datetime.now(UTC)
    try:
        match event.http_method.upper():
            case "GET":
                response = unsubscribe.confirmation_page(token, now=now, accept_language=accept_language)
            case "POST":
                form = read_fields(request_body(event), event.headers.get("content-type"))
                response = unsubscribe.unsubscribe(token, form, now=now, accept_language=accept_language)
            case _:
                response = unsubscribe.method_not_allowed(accept_language)
    except (ClientError, BotoCoreError, ConcurrentChange) as exc:
        # The preferences could not be read or written. 503 tells a one-click client to try again later.
        logger.error("Could not record the opt-out", extra={"error": describe_error(exc)})
        metrics.add_metric(name="UnsubscribeErrors", unit="Count", value=1)
        response = unsubscribe.unavailable(accept_language)
    return http_response(response.status, response.body, response.headers)
