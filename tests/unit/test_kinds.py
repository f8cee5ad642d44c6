"""The one table of notice kinds: every kind is in it, and the views of it agree with it."""

from headsup.domain.kinds import KINDS, SMS_FIRST_KINDS, TEAM_KINDS, Audience, NoticeKind, Topic
from headsup.domain.payloads import Payload


def test_every_kind_has_exactly_one_row() -> None:
    assert set(KINDS) == set(NoticeKind)


def test_each_row_names_a_topic_an_audience_and_its_own_payload_model() -> None:
    models = [spec.payload for spec in KINDS.values()]
    assert all(
        isinstance(spec.topic, Topic) and isinstance(spec.audience, Audience) for spec in KINDS.values()
    )
    assert all(issubclass(model, Payload) for model in models)
    assert len(set(models)) == len(models)


def test_team_notices_are_the_escalations_the_sla_warning_and_what_customers_answer_or_text() -> None:
    assert {
        NoticeKind.CALLBACK_ESCALATION,
        NoticeKind.TICKET_ESCALATION,
        NoticeKind.TICKET_SLA_WARNING,
        NoticeKind.TICKET_ANSWER,
        NoticeKind.CALLBACK_ANSWER,
        NoticeKind.VISIT_ANSWER,
        NoticeKind.CUSTOMER_MESSAGE,
    } == TEAM_KINDS


def test_only_the_technicians_time_critical_notices_go_by_sms_first() -> None:
    assert {
        NoticeKind.VISIT_ON_THE_WAY,
        NoticeKind.VISIT_RUNNING_LATE,
        NoticeKind.VISIT_ETA_EARLIER,
    } == SMS_FIRST_KINDS
    assert not SMS_FIRST_KINDS & TEAM_KINDS
