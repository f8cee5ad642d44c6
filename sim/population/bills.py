"""The bills: two or three months of them per customer, this month's changed from last month's as
the `BILL_CHANGES` table says (about 30 % up enough for a notice), and a few corrections; and the
`BILL_STORIES`: a bill that went up, corrected later in the day, while the customer's text about
it waits for the morning or after the email about it went out."""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sim.population.scenarios import (
    Day,
    Record,
    Scenario,
    by_roll,
    morning_after,
    quarter_between,
    texts_wait,
)

BILLS_ARRIVE = time(7, 30)  # UTC, before the simulated day's first sweep: night in the Americas
TABLE = "BillsTable"
TAXES = "Taxes and fees"
USAGE = "Extra data usage"
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)

# Plan prices in each currency's units; add-ons and usage are fractions of the plan.
PLANS: dict[str, tuple[str, ...]] = {
    "USD": ("35.00", "55.00", "70.00", "89.99", "120.00"),
    "EUR": ("25.00", "39.99", "49.00", "65.00"),
    "GBP": ("20.00", "32.50", "45.00", "60.00"),
    "MXN": ("399.00", "599.00", "899.00"),
    "JPY": ("3980", "5480", "7980"),
    "AUD": ("45.00", "65.00", "89.00"),
}
TAX_RATE = Decimal("0.08")
ADD_ONS = ("Data add-on", "International calls", "Streaming bundle", "Device instalment", "Roaming")

Items = list[tuple[str, Decimal]]  # (description, amount), the plan first; taxes are added per bill
# (rng, last month's items, currency) -> this month's items
type BillChange = Callable[[random.Random, Items, str], Items]


def _money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal("1") if currency == "JPY" else Decimal("0.01"), rounding=ROUND_HALF_UP)


def _percent_of_plan(rng: random.Random, items: Items, currency: str, low: int, high: int) -> Decimal:
    return _money(items[0][1] * Decimal(rng.randint(low, high)) / 100, currency)


def _price_rise(rng: random.Random, items: Items, currency: str) -> Items:
    return [("Monthly plan", _percent_of_plan(rng, items, currency, 112, 135)), *items[1:]]


def _new_add_on(rng: random.Random, items: Items, currency: str) -> Items:
    names = [name for name, _ in items]
    name = rng.choice([a for a in ADD_ONS if a not in names])
    return [*items, (name, _percent_of_plan(rng, items, currency, 15, 40))]


def _usage(rng: random.Random, items: Items, currency: str) -> Items:
    return [*items, (USAGE, _percent_of_plan(rng, items, currency, 20, 60))]


# Each as likely as the others when a bill goes up enough to tell the customer.
BILL_RISES: tuple[BillChange, ...] = (_price_rise, _new_add_on, _usage)


def _slightly_up(rng: random.Random, items: Items, currency: str) -> Items:
    return [("Monthly plan", _percent_of_plan(rng, items, currency, 101, 106)), *items[1:]]


def _down(rng: random.Random, items: Items, currency: str) -> Items:
    if len(items) > 1:
        return items[:1]  # an add-on ended
    plan = items[0][1]
    return [("Monthly plan", plan), ("Loyalty discount", _money(-plan * Decimal("0.1"), currency))]


# This month's bill after last month's; weights in percent of the customers with both.
BILL_CHANGES: tuple[Scenario[BillChange], ...] = (
    Scenario("up", 30, lambda rng, items, currency: rng.choice(BILL_RISES)(rng, items, currency)),
    Scenario("slightly_up", 8, _slightly_up),  # below BillIncreasePercent: no notice
    Scenario("same", 37, lambda rng, items, currency: list(items)),
    Scenario("down", 25, _down),
)


def bills_for(rng: random.Random, customers: list[Record], period: str) -> tuple[list[Record], list[Record]]:
    """The customers' bills up to `period` (`YYYY-MM`), and the corrections of some of this month's.
    Takes each customer's `currency` off them: it is the bills', not a customer attribute."""
    year, month = int(period[:4]), int(period[5:])
    periods = [
        f"{(year * 12 + month - 1 - back) // 12}-{(month - 1 - back) % 12 + 1:02d}" for back in (2, 1, 0)
    ]
    bills: list[Record] = []
    corrections: list[Record] = []
    for customer in customers:
        currency = customer.pop("currency")
        if rng.random() < 0.06:
            continue  # no bill this month (paused, or billed elsewhere)
        history = 1 if rng.random() < 0.05 else (3 if rng.random() < 0.2 else 2)
        customer_bills = _history(rng, customer["customer_id"], periods[-history:], currency)
        bills.extend(customer_bills)
        if history > 1 and rng.random() < 0.04:
            corrections.append(_correction(rng, customer_bills[-1], currency))
    return bills, corrections


def _history(rng: random.Random, customer_id: str, periods: list[str], currency: str) -> list[Record]:
    """One bill per period: the same items every month, and this month's changed (if there was a last)."""
    items = _line_items(rng, currency)
    bills = []
    for index, period in enumerate(periods):
        if index == len(periods) - 1 and len(periods) > 1:
            items = by_roll(rng.random(), BILL_CHANGES).play(rng, items, currency)
        bills.append(_bill(rng, customer_id, period, items, currency))
    return bills


def _line_items(rng: random.Random, currency: str) -> Items:
    plan = Decimal(rng.choice(PLANS[currency]))
    items = [("Monthly plan", plan)]
    if rng.random() < 0.4:
        items.append((rng.choice(ADD_ONS), _money(plan * Decimal(rng.randint(10, 30)) / 100, currency)))
    return items


def _priced(items: Items, currency: str) -> Record:
    """A bill's `amount` and `line_items` for `items`, with their taxes."""
    subtotal = sum((amount for _, amount in items), Decimal(0))
    taxes = _money(max(subtotal, Decimal(0)) * TAX_RATE, currency)
    line_items = [{"description": name, "amount": amount} for name, amount in items]
    line_items.append({"description": TAXES, "amount": taxes})
    return {"amount": _money(subtotal + taxes, currency), "line_items": line_items}


def _items_of(bill: Record) -> Items:
    """A bill's items, without its taxes."""
    return [
        (line["description"], line["amount"]) for line in bill["line_items"] if line["description"] != TAXES
    ]


def _bill(rng: random.Random, customer_id: str, period: str, items: Items, currency: str) -> Record:
    year, month = int(period[:4]), int(period[5:])
    due_year, due_month = (year + 1, 1) if month == 12 else (year, month + 1)
    bill: Record = {"customer_id": customer_id, "period": period, **_priced(items, currency)}
    if currency != "USD" or rng.random() < 0.7:  # USD is the contract's default
        bill["currency"] = currency
    if rng.random() < 0.9:
        bill["due_date"] = f"{due_year}-{due_month:02d}-{rng.choice([1, 10, 15, 20, 28]):02d}"
    return bill


def _correction(rng: random.Random, bill: Record, currency: str) -> Record:
    """The business reissues the current bill: a missed charge (up) or a credit (down)."""
    amount = bill["amount"]
    up = rng.random() < 0.5
    adjustment = _money(
        abs(amount) * Decimal(rng.randint(12, 25) if up else -rng.randint(5, 15)) / 100,
        currency,
    )
    description = "Equipment rental (missed last cycle)" if up else "Credit for service outage"
    return {
        **bill,
        "amount": _money(amount + adjustment, currency),
        "line_items": [*bill["line_items"], {"description": description, "amount": adjustment}],
    }


# ---------------------------------------------------------------------- the bill stories


@dataclass(frozen=True)
class Story:
    """This month's bill went up (extra data usage), or if not `rose` stayed as it was; the business
    corrects it to `corrected` of its items: `held`, before 08:00 on the customer's clock, while a
    text about the rise waits for the morning (bills arrive at night in the Americas); else in
    their working hours, after an email about the rise (if any) went out at once."""

    corrected: BillChange
    held: bool
    rose: bool = True


def _usage_waived(rng: random.Random, items: Items, currency: str) -> Items:
    return [(name, amount) for name, amount in items if name != USAGE]


def _usage_cut(rng: random.Random, items: Items, currency: str) -> Items:
    """Still a rise worth telling (60 % of 40 % of the plan is over 10 % of any bill), a smaller one."""
    share = Decimal(rng.randint(60, 75)) / 100
    return [(name, _money(amount * share, currency) if name == USAGE else amount) for name, amount in items]


def _missed_charge(rng: random.Random, items: Items, currency: str) -> Items:
    return [*items, ("Equipment rental (missed last cycle)", _percent_of_plan(rng, items, currency, 12, 25))]


def _outage_credit(rng: random.Random, items: Items, currency: str) -> Items:
    return [*items, ("Credit for service outage", -_percent_of_plan(rng, items, currency, 5, 15))]


def _usage_missed(rng: random.Random, items: Items, currency: str) -> Items:
    """40 to 60 % of the plan: a rise worth telling on any bill (the add-on is 30 % at most)."""
    return [*items, (USAGE, _percent_of_plan(rng, items, currency, 40, 60))]


def _held_overnight(day: Day, customer: Record) -> bool:
    """A text sent when the bills arrive waits for a morning an hour or more into the day."""
    arrived = datetime.combine(day.start.date(), BILLS_ARRIVE, tzinfo=UTC)
    return texts_wait(customer, arrived) and morning_after(customer, arrived) >= day.start + HOUR


def _emailed_first(day: Day, customer: Record) -> bool:
    return bool(customer.get("email")) and (customer.get("channels") or ["email"])[0] == "email"


# Weights relative to one another; STORIES_SHARE of the customers have one (each story at least once).
BILL_STORIES: tuple[Scenario[Story], ...] = (
    # No longer a rise: the text about it must not go at 08:00, and there was nothing to correct
    Scenario("held_then_waived", 3, Story(_usage_waived, held=True), _held_overnight, texted=True),
    # Still a rise, smaller or bigger: the text waiting is replaced by one with the right figures
    Scenario("held_then_cut", 3, Story(_usage_cut, held=True), _held_overnight, texted=True),
    Scenario("held_then_up", 2, Story(_missed_charge, held=True), _held_overnight, texted=True),
    # The customer was told at once: a correction of the figure they were given follows
    Scenario("told_then_up", 3, Story(_missed_charge, held=False), _emailed_first),
    Scenario("told_then_down", 3, Story(_outage_credit, held=False), _emailed_first),
    # Nothing to tell, until a missed charge makes it a rise: the customer hears of the rise alone
    Scenario("same_then_up", 2, Story(_usage_missed, held=False, rose=False), _emailed_first),
)
STORIES_SHARE = 0.04


def tell_a_story(
    day: Day, story: Scenario[Story], bill: Record, previous: Record, customer: Record
) -> Record:
    """`bill` (this month's) made a rise on `previous` (last month's: the same items and some extra
    data usage), or the same as it if the `story`'s bill never `rose`; its correction goes to the
    day at the story's time."""
    currency = bill.get("currency", "USD")
    items = _items_of(previous)
    if story.play.rose:
        items = _usage_missed(day.rng, items, currency)
    risen = {**bill, **_priced(items, currency)}
    corrected = {**risen, **_priced(story.play.corrected(day.rng, items, currency), currency)}
    if story.play.held:
        morning = morning_after(customer, datetime.combine(day.start.date(), BILLS_ARRIVE, tzinfo=UTC))
        # from 05:00 on their clock to a quarter hour before the text about the rise would go
        at = quarter_between(day.rng, max(morning - 3 * HOUR, day.start + 15 * MINUTE), morning - 15 * MINUTE)
    else:
        at = day.local_slot(customer, day.start + HOUR, day.end - HOUR, (9, 18))
    day.change(at, TABLE, corrected)
    return risen
