"""Properties over arbitrary customer and bill records, as the business might write them.

Whatever an item holds (any text: unicode, control characters, markup, Jinja; huge, tiny, negative
or non-finite numbers; the wrong types; optional attributes missing), the contract parsing and the
bill-increase detector either produce a valid notice request or raise the project's own
InvalidBill / InvalidCustomer naming the fields at fault (never the values), and a notice renders
for every customer the contract accepts, with their data escaped in HTML and never run as a
template.

Deterministic for CI: derandomized, no example database, modest sizes.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from headsup.domain.bills.models import AMOUNT_LIMIT, Bill, InvalidBill
from headsup.domain.bills.rules import Thresholds, detect_increase
from headsup.domain.customer import Customer, InvalidCustomer, customer_from_item
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import NoticeRequest, make_notice_id
from headsup.domain.payloads import BillCorrectionPayload, BillIncreasePayload
from headsup.logic.bill_increase import BillIncreaseDetector
from headsup.platform.errors import InvalidRecord
from headsup.rendering.renderer import NoticeRenderer
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from markupsafe import escape

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
RENDERER = NoticeRenderer(TEMPLATES, business_name="Example Co", support_reply_to="support@example.com")
UNSUBSCRIBE = "https://notices.example.com/unsubscribe/token"
# Put into generated text: a value that breaks the contract must never be quoted in the error.
SENTINEL = "zqxPII"

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# ------------------------------------------------------------------------------ strategies

HOSTILE = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "{{ 7*7 }}",
        "{% raw %}",
        "{# unclosed",
        "\r\nBcc: x@evil.test",
        "مريم",
        "שרה",
        "\u202eevil",  # right-to-left override
        "🌻👩🏽‍🔧",
        "&amp; <b>",
        "\x00\x07\x1b",
        "'\"",
        "Zoë Ñúñez",
        SENTINEL,
    ]
)
texts = st.one_of(
    st.text(max_size=30),
    HOSTILE,
    st.tuples(st.text(max_size=8), HOSTILE, st.text(max_size=8)).map("".join),
    st.text(min_size=300, max_size=2000, alphabet="ab \n"),
)
numbers = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**6), max_value=10**6),
    st.decimals(),  # any magnitude, NaN and infinities too (DynamoDB itself refuses the last two)
    st.integers().map(Decimal),
    st.sampled_from([Decimal("1e30"), Decimal("-1e30"), Decimal("-5"), Decimal(0), Decimal("1E-130")]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts)
anything = st.one_of(
    scalars, st.lists(scalars, max_size=3), st.dictionaries(st.text(max_size=5), scalars, max_size=3)
)
periods = st.builds(
    lambda year, month: f"{year:04d}-{month:02d}", st.integers(1990, 2100), st.integers(1, 12)
)
iso_dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)).map(date.isoformat)
currencies = st.sampled_from(["USD", "EUR", "JPY", "BHD", "BRL"])
# In range for the contract, with any number of decimals, including the tiny.
valid_amounts = st.one_of(
    st.decimals(min_value=1, max_value=10**5, places=2),
    st.decimals(min_value=-1000, max_value=10**6, places=2),
    st.decimals(
        min_value=-(AMOUNT_LIMIT - 1), max_value=AMOUNT_LIMIT - 1, allow_nan=False, allow_infinity=False
    ),
    st.sampled_from([Decimal("0.0001"), Decimal("1E-130"), Decimal("999999999999999.99")]),
)
line_item = st.fixed_dictionaries(
    {},
    optional={"description": st.one_of(texts, numbers), "amount": st.one_of(numbers, texts, st.booleans())},
)
bill_items = st.fixed_dictionaries(
    # The key is always there and a string: DynamoDB refuses anything else.
    {"customer_id": st.one_of(st.just("cust-1"), texts.filter(bool)), "period": st.one_of(periods, texts)},
    optional={
        "amount": st.one_of(numbers, texts, st.booleans(), st.none()),
        "currency": st.one_of(currencies, texts, numbers),
        "due_date": st.one_of(iso_dates, texts, numbers, st.booleans()),
        "line_items": st.one_of(st.lists(line_item, max_size=4), texts, numbers),
        "note": anything,  # attributes headsup does not read
    },
)


@st.composite
def valid_bill_pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """An earlier and a later, higher bill of the same customer and currency, each valid."""
    currency = draw(currencies)
    descriptions = st.one_of(texts.filter(lambda text: text.strip() != ""), st.sampled_from(["Plan", "Data"]))
    line = st.fixed_dictionaries({"description": descriptions, "amount": valid_amounts})

    def one(period: str) -> dict[str, Any]:
        item: dict[str, Any] = {
            "customer_id": "cust-1",
            "period": period,
            "amount": draw(valid_amounts),
            "currency": currency,
            "line_items": draw(st.lists(line, max_size=4)),
        }
        if draw(st.booleans()):
            item["due_date"] = draw(iso_dates)
        return item

    earlier, later = one("2026-10"), one("2026-11")
    # A rise (when the limit allows): the case that reaches the customer. Other pairs cover the rest.
    factor = draw(st.sampled_from([Decimal(1), Decimal("1.1"), Decimal(2), Decimal(1000)]))
    rise = draw(st.decimals(min_value=Decimal("0.01"), max_value=10**6, places=2))
    earlier["amount"] = abs(earlier["amount"])
    later["amount"] = min(earlier["amount"] * factor + rise, AMOUNT_LIMIT - 1)
    return earlier, later


customer_items = st.fixed_dictionaries(
    {"customer_id": st.one_of(st.just("cust-1"), texts.filter(bool))},
    optional={
        "first_name": st.one_of(texts, numbers, st.none()),
        "last_name": st.one_of(texts, numbers),
        "email": st.one_of(st.just("ana@example.com"), texts, numbers),
        "phone": st.one_of(st.just("+14155550123"), texts, numbers),
        "locale": st.one_of(
            st.sampled_from(["en-US", "de-DE", "es-MX", "ar-EG", "he-IL", "ja-JP", "xx-YY"]), anything
        ),
        "timezone": st.one_of(st.sampled_from(["America/New_York", "Asia/Tokyo", "Mars/Olympus"]), anything),
        "channels": st.one_of(st.lists(st.sampled_from(["email", "sms", "fax"]), max_size=3), anything),
        "do_not_contact": st.one_of(st.booleans(), anything),
    },
)
# Customers the contract accepts, in the languages and zones they live in; the greeting is the
# part of their data every notice renders.
valid_customer_items = st.fixed_dictionaries(
    {
        "customer_id": st.just("cust-1"),
        "first_name": texts.filter(bool),
        "locale": st.sampled_from(["en-US", "de-DE", "es-MX", "es-ES", "ar-EG", "he-IL", "ja-JP", "xx-YY"]),
        "timezone": st.sampled_from(["America/New_York", "Asia/Tokyo", "Pacific/Chatham", "Mars/Olympus"]),
    },
    optional={
        "last_name": texts,
        "email": st.one_of(st.just("ana@example.com"), texts, numbers),
        "phone": st.one_of(st.just("+14155550123"), texts, numbers),
        "channels": st.lists(st.sampled_from(["email", "sms", "fax"]), max_size=3),
        "do_not_contact": st.booleans(),
    },
)


def read_customer(item: dict[str, Any]) -> Customer:
    return customer_from_item(item, default_locale="en-US", default_timezone="America/New_York")


def parsed[T](read: Callable[[dict[str, Any]], T], item: dict[str, Any]) -> T | InvalidRecord:
    """What reading `item` gives: the record, or the project's own validation error. Any other
    exception propagates and fails the property."""
    try:
        return read(item)
    except InvalidRecord as exc:
        return exc


# ------------------------------------------------------------------------------ contract parsing


@PROPERTY
@given(item=bill_items)
def test_a_bill_item_is_a_bill_or_an_invalid_bill_naming_fields_not_values(item: dict[str, Any]) -> None:
    bill = parsed(Bill.from_item, item)
    if isinstance(bill, InvalidBill):
        assert bill.problems
        assert bill.key == {"customer_id": item["customer_id"], "period": item["period"]}
        for problem in bill.problems:
            field = problem.split(":", 1)[0].split(".", 1)[0]
            assert field in Bill.model_fields or field == "item", problem
            assert SENTINEL not in problem, problem
    else:
        assert bill.amount.is_finite()
        assert -AMOUNT_LIMIT < bill.amount < AMOUNT_LIMIT


@PROPERTY
@given(item=customer_items)
def test_a_customer_item_is_a_customer_or_an_invalid_customer_naming_fields_not_values(
    item: dict[str, Any],
) -> None:
    customer = parsed(read_customer, item)
    if isinstance(customer, InvalidCustomer):
        assert customer.problems
        assert customer.key == {"customer_id": str(item["customer_id"])}
        for problem in customer.problems:
            assert SENTINEL not in problem, problem
    else:
        # Whatever was written, what the rest of the code reads is usable.
        assert customer.first_name
        assert customer.babel_locale is not None
        assert customer.zone is not None


# ------------------------------------------------------------------------------ the detector


class ListQueue:
    def __init__(self) -> None:
        self.requests: list[NoticeRequest] = []

    def put(self, request: NoticeRequest) -> None:
        self.requests.append(request)


class EarlierBill:
    """The customer's earlier bill as the repository would read it: validated, so it may raise."""

    def __init__(self, item: dict[str, Any] | None) -> None:
        self._item = item

    def previous_bill(self, customer_id: str, before_period: str) -> Bill | None:
        return None if self._item is None else Bill.from_item(self._item)


thresholds = st.builds(
    Thresholds,
    percent=st.sampled_from([Decimal(0), Decimal(10), Decimal("12.5")]),
    minimum=st.sampled_from([Decimal(0), Decimal("5.00")]),
)


@PROPERTY
@given(
    change=st.sampled_from(["INSERT", "MODIFY"]),
    # Half valid pairs (a notice, or a rise too small to tell), half anything
    images=st.booleans().flatmap(
        lambda valid: (
            valid_bill_pairs()
            if valid
            else st.one_of(st.tuples(bill_items, bill_items), st.tuples(st.none(), bill_items))
        )
    ),
    from_repository=st.booleans(),
    limits=thresholds,
)
def test_the_detector_queues_a_valid_request_or_raises_invalid_bill(
    change: str,
    images: tuple[dict[str, Any] | None, dict[str, Any]],
    from_repository: bool,
    limits: Thresholds,
) -> None:
    earlier, new_image = images
    queue = ListQueue()
    detector = BillIncreaseDetector(
        bills=EarlierBill(earlier if from_repository else None), queue=queue, thresholds=limits
    )
    old_image = None if from_repository else earlier
    try:
        queued = detector.on_bill_change(change, new_image, old_image)  # type: ignore[arg-type]
    except InvalidBill:
        event("rejected")
        assert queue.requests == []
        return
    if not queued:
        event("nothing to tell")
        assert queue.requests == []
        return
    event("notice queued")
    assert queue.requests == queued
    for request in queued:
        # It survives the queue: serialized, read back and validated against its kind, as delivery does.
        again = NoticeRequest.model_validate_json(request.model_dump_json())
        assert again == request
        assert again.asserts is not None
        assert again.asserts.facts["amount"] == format(new_image["amount"].normalize(), "f")
        if again.kind is NoticeKind.BILL_CORRECTION:
            correction = BillCorrectionPayload.model_validate(again.payload)
            assert correction.told_amount != correction.corrected_amount
            continue
        payload = BillIncreasePayload.model_validate(again.payload)
        assert payload.new_amount > payload.previous_amount > 0
        assert payload.difference > 0
        assert payload.currency == new_image.get("currency", "USD")


# ------------------------------------------------------------------------------ rendering


def bill_increase_request(previous: dict[str, Any], current: dict[str, Any]) -> NoticeRequest | None:
    payload = detect_increase(
        Bill.from_item(previous), Bill.from_item(current), Thresholds(Decimal(0), Decimal(0))
    )
    if payload is None:
        return None
    return NoticeRequest(
        notice_id=make_notice_id(NoticeKind.BILL_INCREASE, "cust-1", current["period"]),
        kind=NoticeKind.BILL_INCREASE,
        customer_id="cust-1",
        detected_at=datetime(2026, 11, 24, 16, 0, tzinfo=UTC),
        payload=payload.model_dump(mode="json"),
    )


@PROPERTY
@given(item=valid_customer_items, bills=valid_bill_pairs())
def test_any_valid_customer_gets_a_rendered_notice_with_their_data_escaped_and_inert(
    item: dict[str, Any], bills: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    customer = read_customer(item)
    previous, current = bills
    request = bill_increase_request(previous, current)
    if request is None:
        event("no increase")
        return

    email = RENDERER.render_email(request, customer, unsubscribe_url=UNSUBSCRIBE)
    sms = RENDERER.render_sms(request, customer)

    name = customer.first_name
    # The name is there as written (Jinja in it stays text), escaped in HTML; no markup from data
    assert str(escape(name)) in email.html
    assert "<script" not in email.html.lower()
    assert name in email.text
    # One-line subject, one-line SMS: nothing in the data can add a header or break the text
    for line in (email.subject, sms.text):
        assert "\r" not in line
        assert "\n" not in line
    assert sms.text.endswith(("Reply STOP to opt out.", "Baja: responda STOP."))
    for change in request.payload["changed_items"]:
        assert f"{escape(change['description'])}:" in email.html
        assert f"- {change['description']}:" in email.text
