"""emulator.ses_account: an SES account's sending limits and GetAccount around the functions' SES v2 calls,
and virtual_sleep, which makes time.sleep move the simulated clock.

The handlers here are small test doubles making SES calls inside real invocations of
NoticeDeliveryFunction (`Deployment.invoke`), plus headsup's own email adapter for the contract
between the refusals' messages and how the adapter sorts them.
"""

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import time_machine
from botocore.exceptions import ClientError
from botocore.validate import ParamValidator
from headsup.adapters.senders import EmailIdentity, SendQuotaExceeded, SendThrottled, SesEmailSender
from headsup.domain.messages import RenderedEmail

from emulator import Deployment, sent_emails
from emulator.calls import invoking_function
from emulator.faults import FaultPlan, injected
from emulator.moto_ses_account import UNLIMITED_RATE
from emulator.ses_account import DAY_S, UNLIMITED, SesAccount, ses_account, virtual_sleep

if TYPE_CHECKING:
    from mypy_boto3_sesv2.type_defs import EmailContentTypeDef

DELIVERY = "NoticeDeliveryFunction"
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # on a whole second, so a fixed window would start here
SENT = "sent"
RATE = "ThrottlingException (400): Maximum sending rate exceeded."
QUOTA = "ThrottlingException (400): Daily message quota exceeded."
CONTENT: "EmailContentTypeDef" = {
    "Simple": {"Subject": {"Data": "Your bill went up"}, "Body": {"Text": {"Data": "By 12%"}}}
}


class EmailHandler:
    """A handler double: each invocation sends `count` emails with one warm client, answering each
    send's outcome ("sent", or the error's code, HTTP status and message)."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.sender = deployment.parameters["SenderEmail"]
        self.sesv2 = boto3.client("sesv2")

    def __call__(self, event: dict[str, Any], context: Any) -> list[str]:
        return [self._send_one(event["to"]) for _ in range(event["count"])]

    def _send_one(self, to: list[str]) -> str:
        try:
            self.sesv2.send_email(
                FromEmailAddress=self.sender, Destination={"ToAddresses": to}, Content=CONTENT
            )
        except ClientError as exc:
            error, status = exc.response["Error"], exc.response["ResponseMetadata"]["HTTPStatusCode"]
            return f"{error['Code']} ({status}): {error['Message']}"
        return SENT

    def send(self, count: int = 1, to: Sequence[str] = ("ana@example.net",)) -> list[str]:
        """Invoke the function once, sending `count` emails."""
        outcomes: list[str] = self.deployment.invoke(DELIVERY, {"count": count, "to": list(to)}, handler=self)
        return outcomes


@pytest.fixture
def emails(deployment: Deployment) -> EmailHandler:
    return EmailHandler(deployment)


def get_account(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return dict(boto3.client("sesv2").get_account())


def counters(account: SesAccount) -> tuple[int, int, int]:
    return account.accepted, account.refused_rate, account.refused_quota


# ------------------------------------------------------------------------------------------- sending rate


def test_the_fifteenth_send_in_one_second_is_refused_for_rate_and_the_next_second_sends_again(
    emails: EmailHandler,
) -> None:
    # Given an account allowed 14 emails a second, on a stopped simulated clock
    with (
        time_machine.travel(T0, tick=False) as clock,
        ses_account(max_send_rate=14, max_24_hour_send=1500) as account,
    ):
        # When the function sends 15 emails within one second, then one a second later
        burst = emails.send(15)
        clock.shift(1)
        next_second = emails.send(1)

    # Then the 15th is refused as SES refuses it, and the next second's goes through
    assert burst == [SENT] * 14 + [RATE]
    assert next_second == [SENT]
    assert counters(account) == (15, 1, 0)
    # ...and the refused one never reached moto
    assert len(sent_emails()) == 15


def test_the_rate_window_slides_with_the_clock_rather_than_restarting_on_each_whole_second(
    emails: EmailHandler,
) -> None:
    # Given 7 emails sent at T0 and 7 half a second later, at 14 a second
    with (
        time_machine.travel(T0, tick=False) as clock,
        ses_account(max_send_rate=14, max_24_hour_send=1500) as account,
    ):
        emails.send(7)
        clock.shift(0.5)
        emails.send(7)
        # When one more is sent just before T0's are a second old, then 8 when they are
        clock.shift(0.499)
        still_full = emails.send(1)
        clock.shift(0.001)
        after_t0s_left = emails.send(8)

    # Then only the room T0's sends left is given: the later 7 still count
    assert still_full == [RATE]
    assert after_t0s_left == [SENT] * 7 + [RATE]
    assert counters(account) == (21, 2, 0)
    assert len(sent_emails()) == 21


def test_a_send_to_several_recipients_counts_each_against_the_rate(emails: EmailHandler) -> None:
    # Given an account allowed 3 emails a second
    with time_machine.travel(T0, tick=False), ses_account(max_send_rate=3, max_24_hour_send=100) as account:
        # When one email goes to three addresses, then another to one in the same second
        to_three = emails.send(1, to=["ana@example.net", "jonas@example.net", "li@example.net"])
        to_one = emails.send(1)

    # Then SES counts recipients: the three took the whole second
    assert (to_three, to_one) == ([SENT], [RATE])
    assert account.sent_in_last_24_hours(T0.timestamp()) == 3


# ------------------------------------------------------------------------------------------- daily quota


def test_the_daily_quota_refuses_the_1501st_send_in_24_hours_until_the_earliest_is_older(
    emails: EmailHandler,
) -> None:
    # Given an account allowed 1,500 emails a day at 14 a second, one sent at T0 and 1,499 an hour later
    with (
        time_machine.travel(T0, tick=False) as clock,
        ses_account(max_send_rate=14, max_24_hour_send=1500) as account,
    ):
        emails.send(1)
        clock.shift(timedelta(hours=1))
        for _ in range(107):
            assert emails.send(14) == [SENT] * 14
            clock.shift(1)
        assert emails.send(1) == [SENT]

        # When more are sent that day, just before T0's is a day old, and just after
        that_day = emails.send(1)
        clock.move_to(T0 + timedelta(hours=24, milliseconds=-1))
        just_before = emails.send(1)
        clock.move_to(T0 + timedelta(hours=24, milliseconds=1))
        just_after = emails.send(2)
        in_the_window = account.sent_in_last_24_hours()

    # Then the quota holds for a rolling 24 hours, and frees exactly the room T0's send took
    assert that_day == just_before == [QUOTA]
    assert just_after == [SENT, QUOTA]
    assert in_the_window == 1500
    assert counters(account) == (1501, 0, 3)
    # ...and no refused send reached moto
    assert len(sent_emails()) == 1501


def test_an_account_without_a_daily_quota_is_held_to_its_rate_only(emails: EmailHandler) -> None:
    # Given an account whose Max24HourSend is -1, as SES reports an unlimited quota
    with (
        time_machine.travel(T0, tick=False),
        ses_account(max_send_rate=14, max_24_hour_send=UNLIMITED) as account,
    ):
        # When the function sends 15 in one second
        outcomes = emails.send(15)

    # Then only the rate refuses
    assert outcomes == [SENT] * 14 + [RATE]
    assert counters(account) == (14, 1, 0)


# ------------------------------------------------------------------------------------------- GetAccount


def test_get_account_answers_the_limits_and_rolling_count_in_the_shape_of_the_sesv2_model(
    deployment: Deployment, emails: EmailHandler
) -> None:
    # Given two emails sent at T0 and one to three addresses an hour later
    with (
        time_machine.travel(T0, tick=False) as clock,
        ses_account(max_send_rate=14, max_24_hour_send=1500),
    ):
        emails.send(2)
        clock.shift(timedelta(hours=1))
        emails.send(1, to=["ana@example.net", "jonas@example.net", "li@example.net"])
        # When the function asks SES for its account then, and after T0's are a day old
        that_hour = deployment.invoke(DELIVERY, {}, handler=get_account)
        clock.shift(timedelta(hours=23, seconds=1))
        next_day = deployment.invoke(DELIVERY, {}, handler=get_account)

    # Then the answer is GetAccount's, with every quota a double, as botocore's sesv2 model says
    output_shape = emails.sesv2.meta.service_model.operation_model("GetAccount").output_shape
    assert output_shape is not None
    for answer in (that_hour, next_day):
        assert answer.pop("ResponseMetadata")["HTTPStatusCode"] == 200
        report = ParamValidator().validate(answer, output_shape)
        assert not report.has_errors(), report.generate_report()
        assert all(type(value) is float for value in answer["SendQuota"].values())
    assert that_hour == {
        "DedicatedIpAutoWarmupEnabled": False,
        "EnforcementStatus": "HEALTHY",
        "ProductionAccessEnabled": True,
        "SendQuota": {"Max24HourSend": 1500.0, "MaxSendRate": 14.0, "SentLast24Hours": 5.0},
        "SendingEnabled": True,
    }
    # ...and the count rolls: T0's two are out of it
    assert next_day["SendQuota"]["SentLast24Hours"] == 3.0


# ------------------------------------------------------------------------------------------- scope


def test_calls_outside_an_invocation_are_left_alone(deployment: Deployment, emails: EmailHandler) -> None:
    # Given an account allowing one email a day
    with ses_account(max_send_rate=1, max_24_hour_send=1) as account:
        # When the test itself sends three and asks for the account
        for _ in range(3):
            emails.sesv2.send_email(
                FromEmailAddress=emails.sender,
                Destination={"ToAddresses": ["ana@example.net"]},
                Content=CONTENT,
            )
        answer = emails.sesv2.get_account()

    # Then the question was moto's to answer (an account without limits)...
    assert answer["SendQuota"]["MaxSendRate"] == UNLIMITED_RATE
    # ...and every email reached moto, none counted
    assert len(sent_emails()) == 3
    assert counters(account) == (0, 0, 0)


def test_a_send_ses_refuses_beneath_the_account_is_not_counted(emails: EmailHandler) -> None:
    # Given fault injection rejecting the first email, beneath an account allowing one a second
    plan = FaultPlan()
    plan.error("sesv2", "SendEmail", "MessageRejected", "Email address is not verified.", times=1)
    with (
        time_machine.travel(T0, tick=False),
        injected(plan),
        ses_account(max_send_rate=1, max_24_hour_send=100) as account,
    ):
        # When the function sends two emails in one second
        outcomes = emails.send(2)

    # Then the rejected one took no room: the second went through
    assert outcomes == ["MessageRejected (400): Email address is not verified.", SENT]
    assert [call.fault for call in plan.calls] == ["error", None]
    assert counters(account) == (1, 0, 0)
    assert account.sent_in_last_24_hours(T0.timestamp()) == 1


def test_concurrent_senders_get_exactly_the_rate_between_them(emails: EmailHandler) -> None:
    # Given eight workers, each in an invocation of its own, sending five emails at the same instant
    start = threading.Barrier(8)

    def worker() -> list[str]:
        start.wait()
        with invoking_function(DELIVERY):
            return emails({"count": 5, "to": ["ana@example.net"]}, None)

    with (
        time_machine.travel(T0, tick=False),
        ses_account(max_send_rate=14, max_24_hour_send=1500) as account,
        ThreadPoolExecutor(8) as pool,
    ):
        # When they all send within the one second
        outcomes = [outcome for done in [pool.submit(worker) for _ in range(8)] for outcome in done.result()]

    # Then 14 of the 40 went through between them, and only those reached moto
    assert (outcomes.count(SENT), outcomes.count(RATE)) == (14, 26)
    assert counters(account) == (14, 26, 0)
    assert len(sent_emails()) == 14


def test_the_email_adapter_tells_a_rate_refusal_from_a_quota_refusal(deployment: Deployment) -> None:
    # Given headsup's SES adapter and an account allowing one email a second and two a day
    sender = SesEmailSender(EmailIdentity(deployment.parameters["SenderEmail"], "Headsup"))
    email = RenderedEmail("Your bill went up", "<p>By 12%</p>", "By 12%")

    def send(notice_id: str) -> str:
        return sender.send_email("ana@example.net", email, notice_id=notice_id, kind="bill_increase")

    with (
        time_machine.travel(T0, tick=False) as clock,
        ses_account(max_send_rate=1, max_24_hour_send=2) as account,
        invoking_function(DELIVERY),
    ):
        # When it sends twice in one second, then once on each of the next two seconds
        send("n-1")
        with pytest.raises(SendThrottled) as over_rate:
            send("n-2")
        clock.shift(1)
        send("n-3")
        clock.shift(1)
        with pytest.raises(SendQuotaExceeded):
            send("n-4")

    # Then the rate refusal is a wait (a throttle, not the quota) and the quota refusal is the quota's
    assert not isinstance(over_rate.value, SendQuotaExceeded)
    assert counters(account) == (2, 1, 1)
    assert len(sent_emails()) == 2


# ------------------------------------------------------------------------------------------- virtual sleep


def test_virtual_sleep_moves_the_simulated_clock_and_takes_no_real_time() -> None:
    real_sleep = time.sleep
    # Given a ticking simulated clock, as the local stack runs
    with time_machine.travel(T0, tick=True) as clock:
        simulated_start, real_start = time.time(), time.perf_counter()
        # When code sleeps an hour and a half second under virtual_sleep
        with virtual_sleep(clock) as slept:
            time.sleep(3600)
            time.sleep(0.5)
            with pytest.raises(ValueError, match="non-negative"):
                time.sleep(-1)
        simulated, real = time.time() - simulated_start, time.perf_counter() - real_start

    # Then the clock moved by the sleeps (and the little real time the test took), at once
    assert slept == [3600, 0.5]
    assert 3600.5 <= simulated < 3600.5 + 1
    assert real < 1
    # ...and time.sleep is the real one again
    assert time.sleep is real_sleep


def test_pacing_in_a_function_under_virtual_sleep_keeps_to_the_rate_on_the_simulated_clock(
    deployment: Deployment, emails: EmailHandler
) -> None:
    # Given a function that sends 42 emails, 14 at a time, sleeping a second between batches
    def paced(event: dict[str, Any], context: Any) -> list[str]:
        outcomes: list[str] = []
        for batch in range(3):
            if batch:
                time.sleep(1)
            outcomes += emails(event, context)
        return outcomes

    with (
        time_machine.travel(T0, tick=True) as clock,
        ses_account(max_send_rate=14, max_24_hour_send=1500) as account,
    ):
        real_start = time.perf_counter()
        # When it runs under virtual_sleep
        with virtual_sleep(clock) as slept:
            outcomes = deployment.invoke(DELIVERY, {"count": 14, "to": ["ana@example.net"]}, handler=paced)
        real = time.perf_counter() - real_start

    # Then every email went through, two simulated seconds passed, and no real ones
    assert outcomes == [SENT] * 42
    assert slept == [1, 1]
    assert counters(account) == (42, 0, 0)
    assert real < 1.5


def test_a_sleep_bound_before_virtual_sleep_began_still_waits_and_moves_no_clock() -> None:
    # Given time.sleep taken before, as a default argument `sleep=time.sleep` takes it at import
    bound_sleep = time.sleep
    with time_machine.travel(T0, tick=False) as clock, virtual_sleep(clock) as slept:
        # When it is called under virtual_sleep
        bound_sleep(0.01)

        # Then it was the real sleep: the simulated clock did not move
        assert time.time() == T0.timestamp()
        assert slept == []


def test_virtual_sleep_refuses_a_traveller_that_is_not_the_innermost_travel() -> None:
    # Given virtual_sleep on an outer travel, while an inner one holds the clock
    with time_machine.travel(T0, tick=False) as outer, virtual_sleep(outer):
        with time_machine.travel(T0 + timedelta(days=1), tick=False):
            # When code sleeps
            with pytest.raises(RuntimeError, match="innermost"):
                time.sleep(5)
            # Then it says so rather than leaving the clock where it was
            assert time.time() == T0.timestamp() + DAY_S
        # ...and the outer travel is where it was
        assert time.time() == T0.timestamp()
