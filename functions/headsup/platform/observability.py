"""The one place Logger, Tracer and Metrics are created, so every module logs the same way.

Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE, set once in template.yaml Globals.
"""

import json
from collections.abc import Callable
from functools import cached_property, wraps
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

# What json.loads takes a value to start with (after blanks), NaN and Infinity included.
_JSON_STARTS = frozenset('"{[-0123456789tfnNI')


def _json_message(message: dict[Any, Any] | str | bool | int | float) -> Any:
    """`json.loads`, refusing at once what cannot be JSON. Powertools tries every log message as a
    JSON document (a dict logged as a string comes out as an object); our messages are sentences,
    and json.loads failing on one costs a tenth of the log line. What is refused here json.loads
    would refuse too, so every line is written exactly as before."""
    if not isinstance(message, str):  # Powertools passes strings only
        return json.loads(message)  # type: ignore[arg-type]
    text = message.lstrip(" \t\n\r")
    first = text[:1]
    if (
        first not in _JSON_STARTS
        or (first == "N" and not text.startswith("NaN"))
        or (first == "I" and not text.startswith("Infinity"))
    ):
        raise ValueError("not a JSON document")
    return json.loads(message)


# What `inject_lambda_context` would add to every line that CloudWatch already says once per log
# stream (the function's name and ARN are the log group's, its memory is in each REPORT line):
# about 200 bytes a line, paid for at ingestion. Kept: the request id and cold start, which tie a
# line to its invocation, and X-Ray's trace id.
_IMPLIED_BY_THE_LOG_GROUP = ("function_name", "function_arn", "function_memory_size")


class _CompactLogger(Logger):
    """Powertools' Logger, without the context keys the log group already implies."""

    def append_keys(self, **additional_keys: object) -> None:
        for key in _IMPLIED_BY_THE_LOG_GROUP:
            additional_keys.pop(key, None)
        super().append_keys(**additional_keys)


logger = _CompactLogger(json_deserializer=_json_message)
# The code location of each line ("_recorded:236") changes with every edit and says less than the
# message, which is unique per call site.
logger.remove_keys(["location"])
metrics = Metrics()


class LazyTracer:
    """Powertools' Tracer, created when the first traced invocation starts rather than at import.

    Creating it with tracing on loads the X-Ray SDK and patches botocore, a cost every cold start
    would otherwise pay before the module is even loaded. botocore is patched at the class level,
    before the handler's first call builds any client, so every AWS call is still traced.
    """

    @cached_property
    def tracer(self) -> Tracer:
        # Only AWS calls are traced (the functions make no other network calls); patching every
        # library X-Ray knows would import `requests` and more at every cold start for nothing.
        return Tracer(patch_modules=["botocore"])

    def capture_lambda_handler[R](self, handler: Callable[..., R]) -> Callable[..., R]:
        """`Tracer.capture_lambda_handler`, applied at the first call."""
        traced: list[Callable[..., R]] = []

        @wraps(handler)
        def run(event: Any, context: Any, **kwargs: Any) -> R:
            if not traced:
                traced.append(self.tracer.capture_lambda_handler(handler))
            return traced[0](event, context, **kwargs)

        return run


tracer = LazyTracer()
