"""Answers, written where they belong: on the notice's ledger item (once), and on the business's
item the notice was about (the ticket, callback or visit), which is what makes them act."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from headsup.adapters.dynamodb import ConditionFailed, DynamoTable, Update
from headsup.domain.answers import Answer, AnswerLink, effect_on_item
from headsup.domain.assertions import SourceTable
from headsup.domain.recheck import source_key_fields

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class Recorded(StrEnum):
    RECORDED = "recorded"
    ALREADY = "already"  # the notice was answered before: nothing changes
    UNKNOWN = "unknown"  # no such notice of this customer and kind


@dataclass(frozen=True)
class AnswerOutcome:
    recorded: Recorded
    subject: str | None = None  # `tickets/t-1`: the item the notice was about
    previous: str | None = None  # for ALREADY: the answer given first


class DynamoAnswerLedger(DynamoTable):
    def record(  # noqa: PLR0913 - the answer, and where, when and by what message it came
        self,
        link: AnswerLink,
        answer: Answer,
        *,
        slot: datetime | None,
        source: str,
        now: datetime,
        reference: str | None = None,
    ) -> AnswerOutcome:
        """One conditional write: only the notice the link names, of the customer and kind it
        names, and only its first answer. A second tap, a replayed SMS or a race is told apart
        from an unknown notice by the item returned with the failed condition.

        `reference`: the inbound SMS that carried the answer, kept as `answer_reference`. The
        same message again finds its own answer there and gets RECORDED: acting on it once more
        writes the same values (a retry completes what a failure interrupted)."""
        update = Update(
            sets=["answer = :answer", "answered_at = :now", "answer_source = :source"],
            values={
                ":answer": answer.value,
                ":now": now.isoformat(),
                ":source": source,
                ":customer": link.customer_id,
                ":kind": link.kind.value,
            },
        )
        if slot is not None:
            update.sets.append("answer_slot = :slot")
            update.values[":slot"] = slot.isoformat()
        if reference is not None:
            update.sets.append("answer_reference = :reference")
            update.values[":reference"] = reference
        condition = (
            "attribute_exists(notice_id) AND customer_id = :customer AND kind = :kind"
            " AND attribute_not_exists(answer)"
        )
        try:
            item = self._update(
                {"notice_id": link.notice_id},
                update,
                ConditionExpression=condition,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ConditionFailed as failed:
            old = failed.item or {}
            if (
                old.get("customer_id") == link.customer_id
                and old.get("kind") == link.kind
                and "answer" in old
            ):
                if reference is not None and old.get("answer_reference") == reference:
                    return AnswerOutcome(Recorded.RECORDED, old.get("subject"))
                return AnswerOutcome(Recorded.ALREADY, old.get("subject"), str(old["answer"]))
            return AnswerOutcome(Recorded.UNKNOWN)
        return AnswerOutcome(Recorded.RECORDED, item.get("subject"))


class _BusinessTable(DynamoTable):
    def update_if(self, key: dict[str, str], update: Update, condition: str) -> bool:
        try:
            self._update(key, update, ConditionExpression=condition)
        except ConditionFailed:
            return False
        return True


class DynamoAnswerEffects:
    """The business's tables, by SourceTable: the answer is written on the item, only if the item
    is the customer's (never another customer's, whatever a link or a reply claims)."""

    def __init__(self, tables: dict[SourceTable, str], client: "DynamoDBClient | None" = None) -> None:
        self._tables = {table: _BusinessTable(name, client) for table, name in tables.items()}

    def apply(
        self, subject: str, customer_id: str, answer: Answer, *, slot: datetime | None, now: datetime
    ) -> bool:
        """False when the item is gone or not the customer's (nothing written then)."""
        table_name, _, key_text = subject.partition("/")
        table = SourceTable(table_name)
        key = dict(zip(source_key_fields(table), key_text.split("/"), strict=True))
        always, pending_only = effect_on_item(answer, now=now, slot=slot)
        written = self._write(table, key, always, customer_id, only_pending=False)
        if written and pending_only:
            # The promise moves only while the callback is still to be made.
            self._write(table, key, pending_only, customer_id, only_pending=True)
        return written

    def _write(
        self,
        table: SourceTable,
        key: dict[str, str],
        values: dict[str, object],
        customer_id: str,
        *,
        only_pending: bool,
    ) -> bool:
        names = {f"#a{i}": name for i, name in enumerate(values)}
        update = Update(
            sets=[f"#a{i} = :v{i}" for i in range(len(values))],
            values={f":v{i}": value for i, value in enumerate(values.values())} | {":customer": customer_id},
            names=names,
        )
        condition = "customer_id = :customer"
        if only_pending:
            update.names["#status"] = "status"
            update.values[":pending"] = "pending"
            condition += " AND #status = :pending"
        try:
            self._tables[table]._update(key, update, ConditionExpression=condition)
        except ConditionFailed:
            return False
        return True


def subject_reference(subject: str) -> str:
    """`tickets/t-1` -> `t-1`: what the team knows the item by."""
    return subject.partition("/")[2]
