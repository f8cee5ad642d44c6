"""The customer's sent log on PreferencesTable, written with the ledger's claim in one transaction,
against moto with both tables provisioned from template.yaml."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from headsup.adapters.ledger import AlreadyRecorded, DynamoLedger, Intent, Outcome, Status
from headsup.adapters.preferences import DynamoPreferenceStore
from headsup.adapters.sent_log import DynamoSentLogs
from headsup.domain.notices import NoticeRequest
from headsup.domain.preferences import ChangeSource
from headsup.domain.sent_log import SentLog, SentLogChanged
from moto import mock_aws

from emulator import Deployment, provision
from tests.unit.builders import notice_request

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CUSTOMER = "cust-1"
CAP = 3


@pytest.fixture
def deployment() -> Iterator[Deployment]:
    with mock_aws():
        yield provision()


@pytest.fixture
def preferences(deployment: Deployment) -> DynamoPreferenceStore:
    return DynamoPreferenceStore(deployment.ref("PreferencesTable"))


@pytest.fixture
def ledger(deployment: Deployment, preferences: DynamoPreferenceStore) -> DynamoLedger:
    sent_logs = DynamoSentLogs(deployment.ref("PreferencesTable"), preferences, keep=CAP)
    return DynamoLedger(
        deployment.ref("NoticeLedgerTable"), retention=timedelta(days=400), sent_logs=sent_logs
    )


def request_for(period: str) -> NoticeRequest:
    base = notice_request()
    return base.model_copy(update={"notice_id": f"{base.notice_id}-{period}"})


def send(ledger: DynamoLedger, period: str, at: datetime, log: SentLog | None = None) -> str:
    """Claim a notice to send it, admitting it to the log as read now (or as given)."""
    request = request_for(period)
    admit = ledger.sent_log(CUSTOMER) if log is None else log
    claim = ledger.claim(
        request,
        now=at,
        lease_until=at + timedelta(minutes=1),
        intent=Intent.SEND,
        channel="email",
        admit=admit,
    )
    ledger.record(claim, Outcome(Status.SENT, channel="email", counts_towards_cap=True), now=at)
    return request.notice_id


def stored_log(deployment: Deployment) -> dict[str, object]:
    item = boto3.client("dynamodb").get_item(
        TableName=deployment.ref("PreferencesTable"),
        Key={"customer_id": {"S": CUSTOMER}},
        ConsistentRead=True,
    )
    return item.get("Item", {})


def test_a_claim_to_send_admits_the_notice_to_the_customers_sent_log(
    ledger: DynamoLedger, deployment: Deployment
) -> None:
    # Given a customer with nothing sent yet
    assert ledger.sent_log(CUSTOMER) == SentLog()

    # When a notice is claimed to be sent
    notice_id = send(ledger, "a", NOW)

    # Then the claim and the log entry were written together
    item = stored_log(deployment)
    assert item["sent_log"] == {"M": {notice_id: {"S": NOW.isoformat()}}}
    assert item["sent_log_version"] == {"N": "1"}
    assert "revision" not in item  # the preference page's own counter is left alone
    log = ledger.sent_log(CUSTOMER)
    assert (log.version, log.sent_within_day(NOW)) == (1, [NOW])


def test_a_claim_on_a_log_that_changed_since_it_was_read_writes_nothing(
    ledger: DynamoLedger, deployment: Deployment
) -> None:
    # Given two deliveries that read the same empty log, the first of which claimed
    read_by_both = ledger.sent_log(CUSTOMER)
    send(ledger, "a", NOW, log=read_by_both)

    # When the second claims on what it read
    late = request_for("b")
    with pytest.raises(SentLogChanged):
        ledger.claim(
            late, now=NOW, lease_until=NOW + timedelta(minutes=1), intent=Intent.SEND, admit=read_by_both
        )

    # Then neither its claim nor its log entry was written; read again, the log shows the first
    assert ledger.get(late.notice_id) is None
    assert len(ledger.sent_log(CUSTOMER).entries) == 1


def test_a_settled_notice_is_still_reported_as_settled_when_its_claim_admits(ledger: DynamoLedger) -> None:
    send(ledger, "a", NOW)

    with pytest.raises(AlreadyRecorded):
        send(ledger, "a", NOW + timedelta(minutes=5))


def test_a_notice_that_did_not_reach_the_customer_gives_its_place_back(
    ledger: DynamoLedger, deployment: Deployment
) -> None:
    # Given a notice admitted with its claim
    request = request_for("a")
    claim = ledger.claim(
        request,
        now=NOW,
        lease_until=NOW + timedelta(minutes=1),
        intent=Intent.SEND,
        admit=ledger.sent_log(CUSTOMER),
    )

    # When SES refuses it for good
    ledger.record(claim, Outcome(Status.FAILED, reason="MessageRejected", channel="email"), now=NOW)

    # Then it no longer counts, and the log's version moved on
    item = stored_log(deployment)
    assert item["sent_log"] == {"M": {}}
    assert item["sent_log_version"] == {"N": "2"}


def test_a_released_claim_gives_its_place_back_until_its_retry(ledger: DynamoLedger) -> None:
    request = request_for("a")
    claim = ledger.claim(
        request,
        now=NOW,
        lease_until=NOW + timedelta(minutes=1),
        intent=Intent.SEND,
        admit=ledger.sent_log(CUSTOMER),
    )

    ledger.release(claim, error="Throttling", now=NOW)

    assert ledger.sent_log(CUSTOMER).entries == {}


def test_the_log_keeps_only_the_sends_that_can_still_decide_the_cap(ledger: DynamoLedger) -> None:
    # Given a customer sent one notice two days ago and four today
    send(ledger, "old", NOW - timedelta(days=2))
    today = [send(ledger, f"t{n}", NOW + timedelta(hours=n)) for n in range(4)]

    # Then the log holds the newest CAP of today's, nothing older
    assert set(ledger.sent_log(CUSTOMER).entries) == set(today[-CAP:])


def test_a_preference_saved_beside_the_log_keeps_it(
    ledger: DynamoLedger, preferences: DynamoPreferenceStore
) -> None:
    notice_id = send(ledger, "a", NOW)

    preferences.opt_out_topic(CUSTOMER, "tickets", source=ChangeSource.ONE_CLICK, now=NOW)

    preferences.forget(CUSTOMER)
    assert set(ledger.sent_log(CUSTOMER).entries) == {notice_id}
    assert "tickets" in preferences.get(CUSTOMER).opted_out_topics
