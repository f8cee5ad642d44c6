"""The UnsubscribeSigningKey secret, read from Secrets Manager."""

from aws_lambda_powertools.utilities import parameters

from headsup.domain.unsubscribe_tokens import signing_key


def read_signing_key(secret_arn: str) -> bytes:
    """The key that signs and verifies unsubscribe links; read once per cold start by the caller,
    held only in memory and never logged. force_fetch: never a value Powertools cached earlier in
    the process (locally, every function shares one process)."""
    return signing_key(parameters.get_secret(secret_arn, force_fetch=True))
