"""The shared pace in SendingPaceTable (GCRA, conditional writes) and the account's quota read
with GetAccount, against moto with the table provisioned from template.yaml."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from headsup.adapters.pace import DynamoPaceBucket, SesAccountQuota
from headsup.domain.pacing import Lane
from moto import mock_aws

from emulator import Deployment, provision

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.fixture
def deployment() -> Iterator[Deployment]:
    with mock_aws():
        yield provision()


def bucket(deployment: Deployment) -> DynamoPaceBucket:
    return DynamoPaceBucket(deployment.ref("SendingPaceTable"))


def test_an_idle_lane_starts_now_and_the_next_reservation_follows_the_last(deployment: Deployment) -> None:
    pace = bucket(deployment)
    first = pace.reserve(Lane.BULK, 10, 20.0, NOW)
    second = pace.reserve(Lane.BULK, 10, 20.0, NOW + timedelta(seconds=0.1))

    assert first.start == NOW
    assert [first.place(i) for i in (1, 9)] == [NOW + timedelta(seconds=0.05), NOW + timedelta(seconds=0.45)]
    assert second.start == NOW + timedelta(seconds=0.5)  # after the first's ten places, not at 0.1 s
    # The other lane has its own pace
    assert pace.reserve(Lane.URGENT, 1, 1.0, NOW).start == NOW


def test_two_functions_sharing_the_table_never_get_the_same_places(deployment: Deployment) -> None:
    # Each function guesses the lane's state from what it last saw; a wrong guess costs a refused
    # write, never an overlap
    one, two = bucket(deployment), bucket(deployment)
    places: list[datetime] = []
    for step in range(6):
        pace = one if step % 2 else two
        reservation = pace.reserve(Lane.BULK, 5, 10.0, NOW + timedelta(seconds=step * 0.01))
        places += [reservation.place(i) for i in range(5)]

    assert len(set(places)) == 30
    assert max(places) - min(places) == timedelta(seconds=2.9)  # 30 places, 0.1 s apart, no gap


def test_a_lane_idle_again_restarts_from_now_not_from_its_old_time(deployment: Deployment) -> None:
    pace = bucket(deployment)
    pace.reserve(Lane.BULK, 10, 10.0, NOW)  # busy until NOW + 1 s
    later = NOW + timedelta(seconds=30)
    assert pace.reserve(Lane.BULK, 1, 10.0, later).start == later  # no burst of 300 saved up


def test_unused_places_are_given_back_only_while_nobody_reserved_after_them(deployment: Deployment) -> None:
    pace, other = bucket(deployment), bucket(deployment)
    mine = pace.reserve(Lane.BULK, 10, 10.0, NOW)
    pace.give_back(mine, 8)
    assert other.reserve(Lane.BULK, 1, 10.0, NOW).start == NOW + timedelta(seconds=0.2)

    taken = pace.reserve(Lane.BULK, 10, 10.0, NOW)  # from 0.3 s to 1.3 s
    after = other.reserve(Lane.BULK, 1, 10.0, NOW)
    pace.give_back(taken, 5)  # not the tail any more: kept, so the two never overlap
    assert after.start == NOW + timedelta(seconds=1.3)
    assert other.reserve(Lane.BULK, 1, 10.0, NOW).start == NOW + timedelta(seconds=1.4)


class Ses:
    """GetAccount's answers in turn (an exception is raised)."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls = 0

    def get_account(self) -> dict[str, Any]:
        self.calls += 1
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return {"SendQuota": {"MaxSendRate": answer, "Max24HourSend": 50_000.0, "SentLast24Hours": 10.0}}


def test_the_quota_is_read_once_per_refresh_and_a_failed_read_keeps_the_last() -> None:
    ses = Ses(14.0, RuntimeError("endpoint down"), 50.0)
    quota = SesAccountQuota(ses, refresh=timedelta(minutes=10))  # type: ignore[arg-type]

    first = quota.quota(NOW)
    assert first is not None
    assert (first.max_send_rate, first.sent_last_24_hours) == (14.0, 10.0)
    assert quota.quota(NOW + timedelta(minutes=9)) is first
    assert quota.quota(NOW + timedelta(minutes=10)) is first  # the read failed: the last one stands
    newer = quota.quota(NOW + timedelta(minutes=11))
    assert newer is not None
    assert newer.max_send_rate == 50.0
    assert ses.calls == 3


def test_without_any_quota_read_delivery_is_unpaced() -> None:
    quota = SesAccountQuota(Ses(RuntimeError("AccessDenied")))  # type: ignore[arg-type]
    assert quota.quota(NOW) is None


def test_the_local_stack_answers_get_account_as_ses_v2_does(deployment: Deployment) -> None:
    answer = boto3.client("sesv2", region_name=deployment.region).get_account()
    read = SesAccountQuota(boto3.client("sesv2", region_name=deployment.region)).quota(NOW)
    assert answer["SendQuota"]["MaxSendRate"] > 0
    assert answer["ProductionAccessEnabled"] is True
    assert read is not None
    assert read.max_send_rate == answer["SendQuota"]["MaxSendRate"]
