"""What the inbound SMS function reads and keeps: who has a number on file (CustomersTable's
PhoneIndex), what a customer was recently sent (the ledger's CustomerNoticesIndex), and which inbound
messages were handled already (DueItemsTable, `inbound_sms#<id>`, kept a week)."""

from datetime import datetime, timedelta
from typing import Any, Final

from headsup.adapters.dynamodb import (
    ConditionFailed,
    DynamoTable,
    Update,
    batch_get_items,
    to_item,
    to_python,
)
from headsup.domain.channels import normalised_e164
from headsup.domain.inbound_sms import Sender, SentNotice

PHONE_INDEX: Final = "PhoneIndex"
CUSTOMER_NOTICES_INDEX: Final = "CustomerNoticesIndex"
# More customers than this on one number is a data problem, not a family: the team gets the message.
_MAX_SHARING: Final = 10
# A customer is sent at most MaxNoticesPerDay notices a day, plus the technician's; a few days of
# them is a handful. The newest are what a reply can be about.
_RECENT_LIMIT: Final = 25
# The index is keyed by when a notice was first claimed; a notice held overnight (quiet hours, the
# cap) is sent up to a day later. Looking this much further back finds it; `sent_at` then decides.
_HELD_AT_MOST: Final = timedelta(days=2)
_INBOUND_PREFIX: Final = "inbound_sms#"
# SNS retries a failed delivery for hours and Lambda an asynchronous invocation for up to six:
# a week outlasts both.
INBOUND_KEPT: Final = timedelta(days=7)
# Exactly what InboundSmsFunction's policy lets it read of a customer (dynamodb:Attributes).
SENDER_FIELDS: Final = ("customer_id", "phone", "locale", "timezone", "do_not_contact")


class DynamoSenders(DynamoTable):
    """CustomersTable, by the phone on file."""

    def find(self, phone: str) -> list[Sender]:
        """The customers whose `phone` is `phone` (E.164). The index is eventually consistent, so
        each is read again and kept only if its phone is still that number."""
        response = self._client.query(
            TableName=self._table,
            IndexName=PHONE_INDEX,
            KeyConditionExpression="phone = :phone",
            ExpressionAttributeValues=to_item({":phone": phone}),
            Limit=_MAX_SHARING,
        )
        ids = sorted({str(to_python(item)["customer_id"]) for item in response.get("Items", [])})
        found = []
        for customer_id in ids:
            item = self._sender_fields(customer_id)
            written = item.get("phone") if item is not None else None
            if item is None or not isinstance(written, str) or normalised_e164(written) != phone:
                continue
            found.append(
                Sender(
                    customer_id=customer_id,
                    locale=_text(item.get("locale")),
                    timezone=_text(item.get("timezone")),
                    do_not_contact=item.get("do_not_contact") is True,
                )
            )
        return found

    def _sender_fields(self, customer_id: str) -> dict[str, Any] | None:
        """Only what a reply needs: never the name or the address."""
        response = self._client.get_item(
            TableName=self._table,
            Key=to_item({"customer_id": customer_id}),
            ConsistentRead=True,
            ProjectionExpression=", ".join(f"#{name}" for name in SENDER_FIELDS),
            ExpressionAttributeNames={f"#{name}": name for name in SENDER_FIELDS},
        )
        raw = response.get("Item")
        return None if raw is None else to_python(raw)


class DynamoRecentNotices(DynamoTable):
    """The ledger: a customer's notices sent since a time, newest first."""

    def sent_since(self, customer_id: str, since: datetime) -> list[SentNotice]:
        created_since = (since - _HELD_AT_MOST).isoformat()
        response = self._client.query(
            TableName=self._table,
            IndexName=CUSTOMER_NOTICES_INDEX,
            KeyConditionExpression="customer_id = :customer AND created_at >= :since",
            ExpressionAttributeValues=to_item({":customer": customer_id, ":since": created_since}),
            ScanIndexForward=False,
            Limit=_RECENT_LIMIT,
        )
        keys = [to_item({"notice_id": to_python(item)["notice_id"]}) for item in response.get("Items", [])]
        if not keys:
            return []
        items = [to_python(item) for item in batch_get_items(self._client, self._table, keys)]
        notices = [
            _sent_notice(item)
            for item in items
            if item.get("customer_id") == customer_id and _sent_since(item, since)
        ]
        return sorted(notices, key=lambda notice: notice.sent_at, reverse=True)


def _sent_since(item: dict[str, Any], since: datetime) -> bool:
    """Did the notice reach the customer (`sent_at`, set only then) at or after `since`?"""
    try:
        return datetime.fromisoformat(str(item["sent_at"])) >= since
    except (KeyError, ValueError, TypeError):  # never sent, or a time written by hand
        return False


def _sent_notice(item: dict[str, Any]) -> SentNotice:
    return SentNotice(
        notice_id=str(item["notice_id"]),
        kind=str(item.get("kind", "")),
        status=str(item.get("status", "")),
        sent_at=str(item.get("sent_at", "")),
        subject=_text(item.get("subject")),
        answer=_text(item.get("answer")),
        answer_reference=_text(item.get("answer_reference")),
    )


class DynamoInboundLog(DynamoTable):
    """DueItemsTable: one item per inbound message handled, so a message SNS delivers twice is
    acted on and replied to once. Ids and the result only: never the number or the words."""

    def seen(self, inbound_message_id: str) -> bool:
        return self._get({"item_key": _INBOUND_PREFIX + inbound_message_id}) is not None

    def finish(self, inbound_message_id: str, result: str, *, customer_id: str | None, now: datetime) -> bool:
        """Record the message handled; False if it already was (another copy got here first)."""
        update = Update(
            sets=["handled = :result", "handled_at = :now", "expires_at = :expires"],
            values={
                ":result": result,
                ":now": now.isoformat(),
                ":expires": int((now + INBOUND_KEPT).timestamp()),
            },
        )
        if customer_id is not None:
            update.sets.append("customer_id = :customer")
            update.values[":customer"] = customer_id
        try:
            self._update(
                {"item_key": _INBOUND_PREFIX + inbound_message_id},
                update,
                ConditionExpression="attribute_not_exists(item_key)",
            )
        except ConditionFailed:
            return False
        return True

    def forget(self, inbound_message_id: str) -> None:
        """Undo `finish` when the reply could not be sent, so a retry handles the message again."""
        self._client.delete_item(
            TableName=self._table, Key=to_item({"item_key": _INBOUND_PREFIX + inbound_message_id})
        )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
