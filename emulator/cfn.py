"""CloudFormation's view of plain values, shared by the deployment, the provisioning and the sources."""

from __future__ import annotations

import os
from typing import Any, Final

PARTITION: Final = "aws"


def region() -> str:
    return os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def cfn_string(value: Any) -> str:
    """CloudFormation's string form of a scalar (YAML gives booleans and numbers; AWS wants strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(cfn_string(item) for item in value)
    return str(value)


def is_true_flag(value: Any) -> bool:
    return cfn_string(value).lower() == "true"
