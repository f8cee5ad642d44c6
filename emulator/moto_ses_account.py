"""SES v2 `GetAccount` on moto, which does not implement it.

Delivery reads the account's sending rate and 24-hour quota with GetAccount to pace its emails
(functions/headsup/adapters/pace.py). moto has no such operation, so the local stack answers it
here with an account whose limits are far above anything a test or the demo sends: pacing then
costs nothing, even while a test holds the clock still. A test that is about the limits gives the
account real ones with `emulator.ses_account.ses_account(...)`, which answers GetAccount itself
and refuses what SES would refuse.
"""

import json
from typing import Any

from moto.sesv2.responses import SESV2Response

# An account with no limit to speak of (a real one starts at 14/s and 50,000 a day).
UNLIMITED_RATE = 1_000_000.0
UNLIMITED_24_HOURS = 1_000_000_000.0


def account_response(
    max_send_rate: float, max_24_hour_send: float, sent_last_24_hours: float
) -> dict[str, Any]:
    """GetAccount's answer, in the shape of the SES v2 API (GetAccountResponse)."""
    return {
        "DedicatedIpAutoWarmupEnabled": False,
        "EnforcementStatus": "HEALTHY",
        "ProductionAccessEnabled": True,
        "SendQuota": {
            "Max24HourSend": float(max_24_hour_send),
            "MaxSendRate": float(max_send_rate),
            "SentLast24Hours": float(sent_last_24_hours),
        },
        "SendingEnabled": True,
    }


def _get_account(self: SESV2Response) -> str:
    return json.dumps(account_response(UNLIMITED_RATE, UNLIMITED_24_HOURS, 0))


def install() -> None:
    SESV2Response.get_account = _get_account  # type: ignore[attr-defined]
