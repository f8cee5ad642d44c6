"""SES bounces and complaints: stop emailing an address that cannot, or does not want to, receive.

SES publishes an event for every bounce and complaint on mail sent through SesConfigurationSet
to SesFeedbackTopic. For each one:

* a permanent bounce or a complaint suppresses the address for email in PreferencesTable, for the
  customer the notice was sent to (taken from the notice's ledger item: the event names the
  notice, not the customer), so delivery stops emailing it and falls back to another channel;
* every bounce and complaint is recorded on that ledger item (`feedback`, `feedback_at`), next to
  the outcome delivery recorded. The item's `status` is left alone: the notice *was* sent, and a
  notice has one recorded outcome;
* a transient or undetermined bounce (mailbox full, message too large, greylisting...) is only
  recorded: the address may well work tomorrow.

Email addresses are personal data: they are written to PreferencesTable and never logged.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from headsup.adapters.preferences import PreferenceStore
from headsup.domain.ses_feedback import SesFeedback
from headsup.platform.observability import logger, metrics


class FeedbackLedger(Protocol):
    def record_feedback(self, notice_id: str, *, feedback: str, at: datetime) -> str | None:
        """Record the feedback on the notice's ledger item and return the notice's customer id;
        None when the ledger has no such notice (nothing is written then)."""
        ...


class FeedbackResult(StrEnum):
    SUPPRESSED = "suppressed"  # address suppressed and the notice marked
    RECORDED = "recorded"  # notice marked; the address may still be used
    UNATTRIBUTED = "unattributed"  # no notice of ours to attribute it to: nothing written


class FeedbackRecorder:
    def __init__(self, *, ledger: FeedbackLedger, preferences: PreferenceStore) -> None:
        self._ledger = ledger
        self._preferences = preferences

    def record(self, feedback: SesFeedback, *, now: datetime) -> FeedbackResult:
        # SES's own time of the bounce or complaint, so a redelivered event writes the same values.
        at = feedback.occurred_at or now
        ids: dict[str, Any] = {
            "ses_message_id": feedback.ses_message_id,
            "notice_id": feedback.notice_id,
            "feedback": feedback.outcome,
            "recipient_count": len(feedback.recipients),
        }
        customer_id = (
            None
            if feedback.notice_id is None
            else self._ledger.record_feedback(feedback.notice_id, feedback=feedback.outcome, at=at)
        )
        if customer_id is None:
            # Not ours to act on: without the notice there is no customer to suppress the address for.
            logger.warning("SES feedback for no notice in the ledger; skipped", extra=ids)
            metrics.add_metric(name="FeedbackUnattributed", unit="Count", value=1)
            return FeedbackResult.UNATTRIBUTED
        ids["customer_id"] = customer_id
        if not feedback.suppresses:
            logger.info("SES feedback recorded on the notice; address kept", extra=ids)
            metrics.add_metric(name="FeedbackRecorded", unit="Count", value=1)
            return FeedbackResult.RECORDED
        for address in feedback.recipients:
            self._preferences.suppress_email(customer_id, address, reason=feedback.outcome, now=at)
        logger.info("Email address suppressed after SES feedback", extra=ids)
        metrics.add_metric(name="EmailsSuppressed", unit="Count", value=1)
        return FeedbackResult.SUPPRESSED
