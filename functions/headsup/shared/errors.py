"""How an error is described in logs and in the ledger: what went wrong, never whose data."""

from botocore.exceptions import ClientError


def describe_error(exc: BaseException) -> str:
    """`ClientError Throttling` for AWS errors, `TypeName: message` for our own.

    AWS error messages can quote the request (an email address SES refused, a phone number SNS
    found invalid), so only their error code is kept. Our own exceptions carry ids, never
    personal data.
    """
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        return f"ClientError {code} ({exc.operation_name})"
    return f"{type(exc).__name__}: {exc}"
