"""The one place Logger, Tracer and Metrics are created, so every module logs the same way.

Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE, set once in template.yaml Globals.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
# Only AWS calls are traced (the functions make no other network calls); patching every library
# X-Ray knows would import `requests` and more at every cold start for nothing.
tracer = Tracer(patch_modules=["botocore"])
metrics = Metrics()
