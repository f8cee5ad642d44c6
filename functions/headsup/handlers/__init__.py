"""Lambda entry points: one thin module per template.yaml function, named after it.

A handler reads its settings once at cold start, builds its adapters, parses the event and calls
one logic function.

Importing a handler module is the part of a cold start Lambda runs before the first event, and
every function pays it: it loads the AWS SDK (imported here, for all of them: every function
calls AWS) and Powertools' logger and metrics, and nothing else. Each handler's builders
(`platform.cold_start.once`) import its settings, adapters and logic, and with them pydantic,
the rules and the templates, when its first invocation builds them, so a function only ever
loads its own path (bench/cold_start.py measures the import against `import boto3`).
"""

import boto3  # noqa: F401 - see above
