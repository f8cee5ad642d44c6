"""The 1,000-record batches of the throughput benchmark, made of sim.samples' records.

`detection_inputs`: what the pure detection step is given, as the streams and the sweep give it
(CPU throughput). `EVENTS`: for each batch-driven handler, a 1,000-record event in the real AWS
shape, read back from moto after the records were written (memory). sim.samples is imported
inside the functions: it loads the functions' code, which reads its environment at import, so it
must come after the template's environment is applied (as Lambda does).
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sim.population import busy_day

BATCH = 1_000
AT = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)  # 08:00 in Los Angeles, 17:00 in Berlin

Input = tuple[str, dict[str, Any], dict[str, Any] | None]  # (source, item, the item before)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# ============================================================================ CPU: detection inputs


def detection_inputs(count: int) -> list[Input]:
    """(scenario, item, previous item) for `count` notices: 10 notices per round of 8 scenarios."""
    customers = busy_day(customers=count, seed=3)["customers"]
    inputs: list[Input] = []
    k = 0
    while len(inputs) * 10 // 8 < count:
        inputs += _round(k, customers[k % len(customers)]["customer_id"])
        k += 1
    # One customer per input, so that the daily cap holds back only what it would on a real day.
    for index, (_, item, previous) in enumerate(inputs):
        item["customer_id"] = customers[index % len(customers)]["customer_id"]
        if previous is not None:
            previous["customer_id"] = item["customer_id"]
    return inputs


def _round(k: int, customer_id: str) -> list[Input]:
    """One of each: a bill that went up, an overdue callback, three tickets (past their SLA, near
    it, solved a day ago) and three visit changes (on the way, running late, done)."""
    from sim.samples import sample_bills, sample_callback, sample_ticket, sample_visit

    visit = sample_visit(f"v-{k}", customer_id, AT)
    ticket = sample_ticket(f"t-{k}", customer_id, AT - timedelta(days=2))
    solved = _iso(AT - timedelta(hours=25))
    late = {"status": "en_route", "eta": _iso(AT + timedelta(hours=2, minutes=40)), "delay_reason": "traffic"}
    return [
        ("bill", sample_bills(customer_id)[1], None),
        ("callback", sample_callback(f"cb-{k}", customer_id, AT - timedelta(hours=1)), None),
        ("ticket", {**ticket, "updated_at": _iso(AT - timedelta(hours=4, minutes=10))}, None),
        (
            "ticket",
            {**ticket, "ticket_id": f"tw-{k}", "updated_at": _iso(AT - timedelta(hours=3, minutes=30))},
            None,
        ),
        (
            "ticket",
            {**ticket, "ticket_id": f"tf-{k}", "status": "solved", "updated_at": solved, "solved_at": solved},
            None,
        ),
        ("visit", {**visit, "status": "en_route"}, visit),
        ("visit", {**visit, **late}, {**visit, "status": "en_route"}),
        ("visit", {**visit, "status": "done"}, {**visit, "status": "arrived"}),
    ]


# ============================================================================ memory: handler events


def _stream_records(source: Any) -> list[dict[str, Any]]:
    return [record for batch in source.poll_batches() for record in batch.records]


def _customers(pipeline: Any) -> list[dict[str, Any]]:
    customers: list[dict[str, Any]] = busy_day(customers=BATCH, seed=5)["customers"]
    pipeline.put_customers(customers)
    return customers


def event_for_bills(pipeline: Any) -> dict[str, Any]:
    from sim.samples import sample_bills

    bills = [sample_bills(c["customer_id"]) for c in _customers(pipeline)]
    pipeline.put_bills([previous for previous, _ in bills])
    _stream_records(pipeline.bills_stream)  # earlier months, already seen by the detector
    pipeline.put_bills([current for _, current in bills])
    return {"Records": _stream_records(pipeline.bills_stream)}


def _callbacks(customers: list[dict[str, Any]], promised_at: datetime) -> list[dict[str, Any]]:
    from sim.samples import sample_callback

    return [sample_callback(f"cb-{n:05d}", c["customer_id"], promised_at) for n, c in enumerate(customers)]


def event_for_indexer(pipeline: Any) -> dict[str, Any]:
    pipeline.put_callbacks(_callbacks(_customers(pipeline), AT + timedelta(hours=2)))
    return {"Records": _stream_records(pipeline.callbacks_stream)}


def event_for_visits(pipeline: Any) -> dict[str, Any]:
    from sim.samples import sample_visit

    visits = [
        sample_visit(f"v-{n:05d}", c["customer_id"], AT + timedelta(hours=1))
        for n, c in enumerate(_customers(pipeline))
    ]
    pipeline.put_visits(visits)
    _stream_records(pipeline.visits_stream)  # scheduled the day before
    pipeline.put_visits([{**v, "status": "en_route"} for v in visits])
    return {"Records": _stream_records(pipeline.visits_stream)}


def event_for_sweep(pipeline: Any) -> dict[str, Any]:
    pipeline.put_callbacks(_callbacks(_customers(pipeline), AT - timedelta(minutes=30)))
    pipeline.callbacks_stream.deliver(retry_failures=True)  # the indexer puts each in the due index
    event: dict[str, Any] = pipeline.sweep.event(AT)
    return event


def event_for_delivery(pipeline: Any) -> dict[str, Any]:
    from headsup.adapters.notice_queue import SqsNoticeQueue
    from headsup.domain.kinds import NoticeKind
    from headsup.domain.notices import make_notice_id

    from emulator import lambda_sqs_record, queue_messages
    from sim.samples import sample_request

    customers = _customers(pipeline)
    queue = SqsNoticeQueue(pipeline.notice_queue.queue_url)
    sample = sample_request(NoticeKind.BILL_INCREASE)  # the payload `headsup preview` shows
    for customer in customers:
        queue.put(
            sample.model_copy(
                update={
                    "notice_id": make_notice_id(NoticeKind.BILL_INCREASE, customer["customer_id"], "2026-11"),
                    "customer_id": customer["customer_id"],
                    "detected_at": AT,
                }
            )
        )
    messages = queue_messages(pipeline.deployment, "NoticeQueue")
    arn, region = pipeline.notice_queue.queue_arn, pipeline.deployment.region
    return {"Records": [lambda_sqs_record(message, arn, region) for message in messages]}


EVENTS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "BillIncreaseDetectorFunction": event_for_bills,
    "DueIndexerFunction": event_for_indexer,
    "VisitDetectorFunction": event_for_visits,
    "DueSweepFunction": event_for_sweep,
    "NoticeDeliveryFunction": event_for_delivery,
}
