"""An SES account's sending limits around the functions' SES calls, and a sleep on the simulated clock.

moto accepts every SendEmail, and its GetAccount (emulator.moto_ses_account) answers an account
without limits, so the local stack alone never shows what a busy day does against a real account's.
`ses_account(...)` subscribes to the call hook (`emulator.calls`), which hands it the calls made
*inside a function invocation* (the emulator's own pass through), and plays the account:

- `sesv2 SendEmail` is refused, as SES refuses it, with a ThrottlingException whose message is
  "Maximum sending rate exceeded." when the last second (a sliding window, (now - 1 s, now]) already
  holds `max_send_rate` emails, or "Daily message quota exceeded." when the last 24 hours (rolling)
  already hold `max_24_hour_send`. A refused send never reaches moto. Otherwise it goes on to moto
  and counts against both limits.
- `sesv2 GetAccount` is answered here, with these limits and the rolling count, without calling moto.

SES counts recipients, not messages ("Quotas are based on the number of recipients", Service quotas
in Amazon SES): a send to three addresses counts three. A send that still has room goes through
whole, even if its recipients take the count past the limit; the next one is refused.

"Now" is `time.time()`, which time_machine moves: the limits follow the simulated clock, as moto's
own timestamps do. The refusal is raised at the hook, above botocore's retry handler, so a client
with retries on does not retry it as it would retry a real ThrottlingException (the functions' send
clients make one attempt anyway); the same holds for faults.py's errors.

`virtual_sleep(traveller)` makes `time.sleep` move the simulated clock instead of waiting, so pacing
and backoff cost no real time in tests.
"""

from __future__ import annotations

import threading
import time
import uuid
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email.parser import BytesHeaderParser, HeaderParser
from email.policy import default as default_email_policy
from email.utils import getaddresses
from typing import Any

import time_machine
from botocore.exceptions import ClientError

from emulator.calls import ApiCall, Proceed, subscribed
from emulator.moto_ses_account import account_response

DAY_S = 24 * 60 * 60.0
RATE_WINDOW_S = 1.0
RATE_EXCEEDED = "Maximum sending rate exceeded."
QUOTA_EXCEEDED = "Daily message quota exceeded."
UNLIMITED = -1.0  # Max24HourSend of an account without a daily quota, as SES reports it


@dataclass(eq=False)
class SesAccount:
    max_send_rate: float  # emails per second
    max_24_hour_send: float  # emails per rolling 24 hours; UNLIMITED for no quota
    accepted: int = 0  # SendEmail calls let through to SES and not refused by it
    refused_rate: int = 0
    refused_quota: int = 0
    # One time.time() per recipient of each counted send, in order (a clock stepping back is kept sorted).
    _sent: list[float] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def sent_in_last_24_hours(self, now: float | None = None) -> int:
        """Emails (recipients) counted in the 24 hours up to ``now`` (time.time() if None)."""
        at = time.time() if now is None else now
        with self._lock:
            return self._count(at - DAY_S, at)

    def handle(self, call: ApiCall, proceed: Proceed) -> Any:
        """The call subscriber: SES v2's SendEmail and GetAccount, every other call goes on."""
        if call.service != "sesv2":
            return proceed()
        if call.operation == "SendEmail":
            return self._send(call.params, proceed)
        if call.operation == "GetAccount":
            return self.get_account()
        return proceed()

    def get_account(self) -> dict[str, Any]:
        """What SES v2 GetAccount answers for this account now."""
        answer = account_response(self.max_send_rate, self.max_24_hour_send, self.sent_in_last_24_hours())
        return {**answer, "ResponseMetadata": _response_metadata(200)}

    def _send(self, params: Mapping[str, Any], proceed: Proceed) -> Any:
        recipients = _recipients(params)
        # Counted before the call and taken back if SES refuses it: checking and counting under one
        # lock keeps concurrent senders from all passing the check while moto handles the first.
        # Any other failure (a read timeout, a killed invocation) stays counted: SES may have it.
        now = self._count_in(recipients)
        try:
            return proceed()
        except ClientError:
            self._take_back(now, recipients)
            raise

    def _count_in(self, recipients: int) -> float:
        with self._lock:
            now = time.time()
            quota_left = (
                self.max_24_hour_send == UNLIMITED or self._count(now - DAY_S, now) < self.max_24_hour_send
            )
            if not quota_left:
                self.refused_quota += 1
                raise _throttled(QUOTA_EXCEEDED)
            if self._count(now - RATE_WINDOW_S, now) >= self.max_send_rate:
                self.refused_rate += 1
                raise _throttled(RATE_EXCEEDED)
            for _ in range(recipients):
                insort(self._sent, now)
            self.accepted += 1
            self._forget_before(now - DAY_S)
            return now

    def _take_back(self, at: float, recipients: int) -> None:
        with self._lock:
            start = bisect_left(self._sent, at)
            end = min(start + recipients, bisect_right(self._sent, at))
            del self._sent[start:end]
            self.accepted -= 1

    def _count(self, after: float, until: float) -> int:
        """Emails sent in (after, until]."""
        return bisect_right(self._sent, until) - bisect_right(self._sent, after)

    def _forget_before(self, cutoff: float) -> None:
        # Dropped once they are half the list, so each send costs amortised O(1) here. A clock then
        # stepping back more than a day would miss them: the account assumes it does not.
        stale = bisect_right(self._sent, cutoff)
        if stale > len(self._sent) // 2:
            del self._sent[:stale]


@contextmanager
def ses_account(*, max_send_rate: float, max_24_hour_send: float) -> Iterator[SesAccount]:
    """Hold the functions' SES v2 sends to these limits meanwhile, and answer their GetAccount."""
    account = SesAccount(max_send_rate=max_send_rate, max_24_hour_send=max_24_hour_send)
    with subscribed(calls=account.handle):
        yield account


def _recipients(params: Mapping[str, Any]) -> int:
    destination = params.get("Destination") or {}
    addresses = [
        address
        for kind in ("ToAddresses", "CcAddresses", "BccAddresses")
        for address in destination.get(kind, [])
    ]
    raw = (params.get("Content") or {}).get("Raw", {}).get("Data")
    if not addresses and isinstance(raw, bytes | bytearray | str):
        # A raw send without Destination goes to the addresses in its headers.
        headers = (
            HeaderParser(policy=default_email_policy).parsestr(raw)
            if isinstance(raw, str)
            else BytesHeaderParser(policy=default_email_policy).parsebytes(bytes(raw))
        )
        found = [str(value) for name in ("To", "Cc", "Bcc") for value in headers.get_all(name, [])]
        addresses = [address for _, address in getaddresses(found) if address]
    return max(1, len(addresses))


def _throttled(message: str) -> ClientError:
    # What the SES API answers over its sending limits ("Errors related to the sending quotas for
    # your Amazon SES account"): a ThrottlingException, the message saying which limit.
    return ClientError(
        {
            "Error": {"Code": "ThrottlingException", "Message": message},
            "ResponseMetadata": _response_metadata(400),
        },
        "SendEmail",
    )


def _response_metadata(status: int) -> Any:  # botocore's ResponseMetadata (a TypedDict in its stubs)
    request_id = str(uuid.uuid4())
    return {
        "RequestId": request_id,
        "HTTPStatusCode": status,
        "HTTPHeaders": {"content-type": "application/json", "x-amzn-requestid": request_id},
        "RetryAttempts": 0,
    }


# ------------------------------------------------------------------------------------------ the clock

_shifting = threading.Lock()


@contextmanager
def virtual_sleep(traveller: time_machine.Traveller) -> Iterator[list[float]]:
    """Make ``time.sleep(seconds)`` move ``traveller``'s clock forward instead of waiting, meanwhile.

    Yields the list of the sleeps taken, in seconds. Only calls that look ``time.sleep`` up when
    they sleep are caught: a ``sleep`` bound earlier (``from time import sleep``, a default argument
    ``sleep=time.sleep``) is the real one. The clock is one for all threads, so two threads each
    sleeping a second move it two seconds. ``traveller`` must be the innermost active travel: a
    sleep that would not move the clock raises RuntimeError.
    """
    real_sleep = time.sleep
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        _shift(traveller, timedelta(seconds=seconds))
        slept.append(seconds)
        real_sleep(0)  # still lets the other threads run, as a sleep does

    time.sleep = sleep  # type: ignore[assignment] # takes what time.sleep does but a SupportsIndex
    try:
        yield slept
    finally:
        time.sleep = real_sleep


def _shift(traveller: time_machine.Traveller, delta: timedelta) -> None:
    expected_ns = delta // timedelta(microseconds=1) * 1000
    with _shifting:  # shift's += is not atomic: concurrent sleeps would lose each other's time
        before_ns = time.time_ns()
        traveller.shift(delta)
        moved_ns = time.time_ns() - before_ns
        if moved_ns < expected_ns:
            traveller.shift(-delta)
            raise RuntimeError(
                "virtual_sleep's traveller is not the innermost active time_machine travel: "
                "shifting it does not move the clock"
            )
