"""The one place Logger, Tracer and Metrics are created, so every module logs the same way.

Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE, set once in template.yaml Globals.
"""

from typing import Final

from aws_lambda_powertools import Logger, Metrics, Tracer

# What `inject_lambda_context` would add to every line that CloudWatch already says once per log
# stream (the function's name and ARN are the log group's, its memory is in each REPORT line):
# about 200 bytes a line, paid for at ingestion. Kept: the request id and cold start, which tie a
# line to its invocation, and X-Ray's trace id.
_IMPLIED_BY_THE_LOG_GROUP: Final = ("function_name", "function_arn", "function_memory_size")


class _CompactLogger(Logger):
    """Powertools' Logger, without the context keys the log group already implies."""

    def append_keys(self, **additional_keys: object) -> None:
        for key in _IMPLIED_BY_THE_LOG_GROUP:
            additional_keys.pop(key, None)
        super().append_keys(**additional_keys)


logger = _CompactLogger()
# The code location of each line ("_recorded:236") changes with every edit and says less than the
# message, which is unique per call site.
logger.remove_keys(["location"])
# Only AWS calls are traced (the functions make no other network calls); patching every library
# X-Ray knows would import `requests` and more at every cold start for nothing.
tracer = Tracer(patch_modules=["botocore"])
metrics = Metrics()
