"""The account's sending limits (SES GetAccount) and the pace every delivery shares (DynamoDB).

The pace is a GCRA bucket ("generic cell rate algorithm", the virtual-scheduling form of a token
bucket): one item per lane in SendingPaceTable holds `tat`, the time (epoch seconds) at which the
lane's last reserved send is due. Reserving `count` sends moves it on by count / rate, from now
if the lane was idle, and the sends' places are the times between. One conditional UpdateItem per
batch, whatever the number of concurrent deliveries: DynamoDB's conditions make the reservations
of two of them never overlap. Why this and not the queue's MaximumConcurrency: docs/decisions.md,
"Pacing to the account".
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

import boto3

from headsup.adapters.dynamodb import ConditionFailed, DynamoTable, Update
from headsup.domain.pacing import Lane, SendQuota
from headsup.platform.errors import describe_error
from headsup.platform.observability import logger, metrics

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sesv2 import SESV2Client

# SES's limits change when AWS raises them (rarely); what was sent in the last 24 hours changes
# with every send, and each function counts its own sends in between (SendPacer).
QUOTA_REFRESH = timedelta(minutes=10)
_ATTEMPTS = 4  # reservations racing another's switch between "idle" and "busy"
_PLACES = Decimal("0.000001")  # microseconds: what the bucket's times are rounded to


class SendQuotaSource(Protocol):
    def quota(self, now: datetime) -> SendQuota | None: ...


class PaceBucket(Protocol):
    def reserve(self, lane: Lane, count: int, rate: float, now: datetime) -> "Reservation": ...

    def give_back(self, reservation: "Reservation", unused: int) -> None: ...


@dataclass(frozen=True)
class Reservation:
    """`count` places in a lane's pace: the first at `start`, then one every 1 / rate seconds."""

    lane: Lane
    start: datetime
    count: int
    rate: float
    tat: Decimal  # the lane's `tat` this reservation left, as written

    def place(self, index: int) -> datetime:
        return self.start + timedelta(seconds=index / self.rate)


class SesAccountQuota:
    """SES's SendQuota for this account, read at the first need and every QUOTA_REFRESH after.

    When GetAccount fails and nothing was read before, there is no quota to pace by: delivery then
    sends unpaced, and SES's own refusals (deferred, never failed) keep it within the limits.
    """

    def __init__(self, client: "SESV2Client | None" = None, *, refresh: timedelta = QUOTA_REFRESH) -> None:
        self._client = client or boto3.client("sesv2")
        self._refresh = refresh
        self._quota: SendQuota | None = None

    def quota(self, now: datetime) -> SendQuota | None:
        if self._quota is None or now - self._quota.read_at >= self._refresh:
            self._quota = self._read(now) or self._quota
        return self._quota

    def _read(self, now: datetime) -> SendQuota | None:
        try:
            limits: Any = self._client.get_account()["SendQuota"]
            quota = SendQuota(
                max_send_rate=float(limits["MaxSendRate"]),
                max_24_hour_send=float(limits["Max24HourSend"]),
                sent_last_24_hours=float(limits.get("SentLast24Hours", 0)),
                read_at=now,
            )
        except Exception as exc:  # noqa: BLE001 - pace by what was read before, or by SES's refusals
            logger.warning("SES sending quota not read", extra={"error": describe_error(exc)})
            metrics.add_metric(name="SendQuotaUnread", unit="Count", value=1)
            return None
        if quota.max_send_rate <= 0:
            return None  # not a rate to pace by (an account that cannot send is refused by SES)
        return quota


def _seconds(moment: datetime) -> Decimal:
    return Decimal(moment.timestamp()).quantize(_PLACES)


class DynamoPaceBucket(DynamoTable):
    """The lanes' GCRA times in SendingPaceTable (key `lane`: `ses#bulk`, `ses#urgent`)."""

    def __init__(self, table_name: str, client: "DynamoDBClient | None" = None) -> None:
        super().__init__(table_name, client)
        # The lane's tat as this function last saw it: when it is already past (or unknown), the
        # lane is taken to be idle and the reservation to start now; a refusal says which it is.
        # One write when the guess is right, a refused one and a second when it is not.
        self._last_tat: dict[Lane, Decimal] = {}

    def reserve(self, lane: Lane, count: int, rate: float, now: datetime) -> Reservation:
        cost = (Decimal(count) / Decimal(str(rate))).quantize(_PLACES)
        at = _seconds(now)
        for _ in range(_ATTEMPTS):
            idle = self._last_tat.get(lane, at - 1) < at
            try:
                tat = self._after_idle(lane, at, cost) if idle else self._after_busy(lane, at, cost)
            except ConditionFailed as refused:
                old = (refused.item or {}).get("tat")
                # The other branch's case: the lane's state as the refusal showed it.
                self._last_tat[lane] = Decimal(old) if old is not None else at - 1
                continue
            self._last_tat[lane] = tat
            start = datetime.fromtimestamp(float(tat - cost), UTC)
            return Reservation(lane, start, count, rate, tat)
        raise RuntimeError(f"pace lane {lane} contended {_ATTEMPTS} times in a row")

    def _after_busy(self, lane: Lane, at: Decimal, cost: Decimal) -> Decimal:
        """The lane has sends reserved from now on: this reservation follows the last of them."""
        update = Update(sets=["tat = tat + :cost"], values={":cost": cost, ":now": at})
        item = self._update(
            self._key(lane),
            update,
            ConditionExpression="tat >= :now",
            ReturnValues="UPDATED_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        return Decimal(item["tat"])

    def _after_idle(self, lane: Lane, at: Decimal, cost: Decimal) -> Decimal:
        """Nothing reserved from now on: this reservation starts now."""
        tat = at + cost
        update = Update(sets=["tat = :tat"], values={":tat": tat, ":now": at})
        self._update(
            self._key(lane),
            update,
            ConditionExpression="attribute_not_exists(tat) OR tat < :now",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
        return tat

    def give_back(self, reservation: Reservation, unused: int) -> None:
        """Return the last `unused` places of `reservation`, if nobody reserved after it (else
        they stay taken: the lane sends a little under its rate for a moment)."""
        if unused <= 0:
            return
        cost = (Decimal(unused) / Decimal(str(reservation.rate))).quantize(_PLACES)
        update = Update(sets=["tat = tat - :cost"], values={":cost": cost, ":tat": reservation.tat})
        try:
            self._update(self._key(reservation.lane), update, ConditionExpression="tat = :tat")
        except ConditionFailed:
            return
        self._last_tat[reservation.lane] = reservation.tat - cost

    @staticmethod
    def _key(lane: Lane) -> dict[str, str]:
        return {"lane": f"ses#{lane}"}
