"""Seeded, realistic busy days of business data, in the shape of sim/sample_data.json.

`busy_day(customers=300)` gives customers across timezones, locales and channel preferences
(some reachable only by email or only by phone, a few phones SNS treats as opted out, a few
`do_not_contact`), two or three months of bills each (about 30 % of the new ones up, with the
line items that changed), callbacks promised across the day (kept, late, missed, cancelled,
moved), tickets of every priority (warned, breached, updated in time, solved, followed up) and
technician visits (on time, running late with reasons, slipping again, no-shows, cancelled),
with the business's and the technicians' changes at their times under `changes`.

Everything is drawn from one `random.Random(seed)`: the same arguments always give the same
data. Every record keeps docs/data-contract.md, and every notice kind the system has occurs at
least once whatever the number of customers (each scenario is used once before any is drawn
at random, by reachable customers).

`busy_days(days=N)` continues the first day with N - 1 more for the same customers: each brings
new callbacks, tickets and visits (ids such as `cb-d2-00001`, so no day's collide with
another's) and their changes, but no customers, preferences, bills or corrections (those are
stored already, and bills come monthly). Day n draws from its own `random.Random(f"{seed}/day{n}")`,
so it is the same however many days are asked for. A later day's window is half-open: its
`start` is the previous day's `end`, whose sweep belongs to the previous day; everything of the
day happens after it, up to and including its `end`.

Keys, as in sample_data.json: `customers`, `bills`, `corrections` (later versions of some
current bills, put after the first detection), `day` (`start`/`end` of the simulated day),
`callbacks`, `tickets`, `visits`, `changes` (`{"at", "table", "item"}`), plus `preferences`:
PreferencesTable items (topic and channel opt-outs, a suppressed address), to be put with
`LocalPipeline.put_items("PreferencesTable", ...)` before the day starts. `simulate_day` runs it
all through a LocalPipeline, and `simulate_days` runs `busy_days` one day after the other.
"""

import random
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import time_machine

if TYPE_CHECKING:
    from sim.pipeline import LocalPipeline

BILLS_ARRIVE = time(7, 30)  # UTC, before the simulated day's first sweep
DAY_STARTS = time(8, 0)  # UTC; the day is 24 hours of sweeps from here
CALLBACK_SHARE = 0.2  # callbacks per customer
TICKET_SHARE = 0.25
VISIT_SHARE = 0.15


@dataclass(frozen=True)
class Region:
    timezone: str
    locales: tuple[str, ...]
    currency: str
    phone_prefix: str  # E.164 prefix; the customer's number ends in 4 more digits
    email_tld: str
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    weight: int


REGIONS: tuple[Region, ...] = (
    Region(
        "America/Los_Angeles",
        ("en-US", "en-US", "en-US", "es-US"),
        "USD",
        "+1415555",
        "com",
        ("Ana", "Michael", "Jessica", "David", "Sofia", "Kevin", "Emily", "Luis"),
        ("Souza", "Johnson", "Nguyen", "Garcia", "Kim", "Patel", "Lopez", "Miller"),
        5,
    ),
    Region(
        "America/New_York",
        ("en-US", "en-US", "en-US", "es-US"),
        "USD",
        "+1212555",
        "com",
        ("James", "Olivia", "Robert", "Emma", "Carlos", "Grace", "Daniel", "Maya"),
        ("Smith", "Brown", "Davis", "Rodriguez", "Wilson", "Cohen", "Baker", "Ortiz"),
        6,
    ),
    Region(
        "America/Chicago",
        ("en-US",),
        "USD",
        "+1312555",
        "com",
        ("Tyler", "Hannah", "Jacob", "Megan"),
        ("Anderson", "Kowalski", "Thompson", "Martinez"),
        2,
    ),
    Region(
        "America/Mexico_City",
        ("es-MX",),
        "MXN",
        "+52551234",
        "com.mx",
        ("Alejandro", "Guadalupe", "José", "Fernanda", "Miguel"),
        ("Hernández", "García", "Martínez", "Ramírez", "Flores"),
        2,
    ),
    Region(
        "Europe/London",
        ("en-GB",),
        "GBP",
        "+44791112",
        "co.uk",
        ("Oliver", "Amelia", "Harry", "Priya", "George", "Isla"),
        ("Taylor", "Shah", "Evans", "Wright", "Hughes", "O'Brien"),
        4,
    ),
    Region(
        "Europe/Berlin",
        ("de-DE", "de-DE", "en-US"),
        "EUR",
        "+491511234",
        "de",
        ("Jonas", "Lea", "Lukas", "Anna", "Felix", "Jürgen"),
        ("Weber", "Müller", "Schmidt", "Fischer", "Becker", "Schäfer"),
        4,
    ),
    Region(
        "Europe/Madrid",
        ("es-ES",),
        "EUR",
        "+3461200",
        "es",
        ("Lucía", "Javier", "Carmen", "Pablo", "Marta"),
        ("García", "Fernández", "López", "Sánchez", "Pérez"),
        3,
    ),
    Region(
        "Asia/Tokyo",
        ("ja-JP", "en-US"),
        "JPY",
        "+81901234",
        "jp",
        ("Yuki", "Haruto", "Sakura", "Ren", "Aoi"),
        ("Tanaka", "Suzuki", "Takahashi", "Watanabe", "Sato"),
        2,
    ),
    Region(
        "Australia/Sydney",
        ("en-AU",),
        "AUD",
        "+6141234",
        "com.au",
        ("Jack", "Charlotte", "William", "Mia", "Noah"),
        ("Wilson", "Nguyen", "Walker", "Kelly", "Ryan"),
        2,
    ),
)

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
CALLBACK_TOPICS = (
    "internet drops every evening",
    "question about the last bill",
    "moving my contract to a new address",
    "router lights blinking red",
    "wants to upgrade the plan",
    "refund for the outage last week",
    "porting a number from another provider",
)
TEAMS = ("broadband", "billing", "moves", "mobile", None)
AGENTS = ("Sam", "Priya (Team Lead)", "Marco", "Aiko", None, None)
TICKET_SUBJECTS = (
    "Router replacement not delivered",
    "Cannot log in to the app",
    "Charged twice for October",
    "Slow speeds since Tuesday",
    "SIM card not activated",
    "Wrong address on the invoice",
    "TV channels missing",
)
TECHNICIANS = ("Carlos Mendes", "Dana Lee", "Lukas Braun", "Keiko Mori", "Tom Walsh", "Inés Romero")
DELAY_REASONS = (
    "previous job ran over",
    "traffic on the motorway",
    "waiting for a part from the depot",
    "road closed, taking a detour",
    "",  # the app sent no reason
)
ADDRESS_HINTS = ("side gate, the bell is broken", "flat 3B, buzzer on the left", "back door", None, None)

CALLBACK_SCENARIOS = ("kept", "late_then_done", "missed", "cancelled", "moved")
CALLBACK_WEIGHTS = (45, 15, 20, 10, 10)
TICKET_SCENARIOS = (
    "urgent_breach",
    "urgent_saved",
    "high_breach",
    "high_warned",
    "normal_stale",
    "low_stale",
    "follow_up",
    "solved_today",
    "quiet",
    "pending",
    "closed",
)
TICKET_WEIGHTS = (6, 6, 8, 8, 10, 6, 10, 10, 20, 8, 8)
VISIT_SCENARIOS = ("on_time", "late", "late_twice", "no_show", "cancelled")
VISIT_WEIGHTS = (40, 20, 10, 15, 15)


def busy_day(customers: int = 300, seed: int = 7, day: date = date(2026, 11, 24)) -> dict[str, Any]:
    """A day of `customers` customers' data, the same for the same arguments."""
    return _Generator(random.Random(seed), customers, day).build()  # noqa: S311 - simulation, not secrets


def busy_days(
    customers: int = 300, seed: int = 7, first_day: date = date(2026, 11, 24), days: int = 1
) -> list[dict[str, Any]]:
    """`days` consecutive days of the same `customers` customers, from `first_day`.

    The first is `busy_day(customers, seed, first_day)`. Each later one, for `first_day + n`
    days, has empty `customers`, `preferences`, `bills` and `corrections`, and new callbacks,
    tickets and visits (each scenario at least once, as on the first day) with their changes.
    Its `day.start` is the previous day's `day.end`: that sweep ran on the previous day, so the
    day's window is (start, end] and its changes all fall inside it.
    """
    if days < 1:
        raise ValueError("busy days are at least one day")
    later = [
        # The customers are drawn again from `seed`, exactly as the first day draws them, so the
        # same people (and the same reachable ones) own the new callbacks, tickets and visits.
        _Generator(random.Random(seed), customers, first_day).later_day(  # noqa: S311 - simulation
            number,
            random.Random(f"{seed}/day{number}"),  # noqa: S311 - simulation, not secrets
        )
        for number in range(2, days + 1)
    ]
    return [busy_day(customers, seed, first_day), *later]


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ascii(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal("1") if currency == "JPY" else Decimal("0.01"), rounding=ROUND_HALF_UP)


class _Generator:
    def __init__(self, rng: random.Random, count: int, day: date) -> None:
        if count < 1:
            raise ValueError("a busy day needs at least one customer")
        self.rng = rng
        self.count = count
        self.start = datetime.combine(day, DAY_STARTS, tzinfo=UTC)
        self.end = self.start + timedelta(hours=24)
        self.period = f"{day:%Y-%m}"
        self.customers: list[dict[str, Any]] = []
        self.preferences: list[dict[str, Any]] = []
        self.reachable: list[dict[str, Any]] = []  # contactable by email, no opt-outs: owners of must-haves
        self.changes: list[dict[str, Any]] = []
        self.ids = ""  # between an id's prefix and its number: "" on the first day, "d2-" on the second

    # ------------------------------------------------------------------ the whole day

    def build(self) -> dict[str, Any]:
        for n in range(self.count):
            self._customer(n)
        bills, corrections = self._bills()
        return self._day(self.customers, self.preferences, bills, corrections)

    def later_day(self, number: int, rng: random.Random) -> dict[str, Any]:
        """Day `number` (2 or more) for the customers `build` draws first, whose own draws come from `rng`."""
        for n in range(self.count):
            self._customer(n)  # the same draws as `build`'s, from the same seed: the same customers
        self.rng = rng
        self.start += timedelta(days=number - 1)
        self.end += timedelta(days=number - 1)
        self.ids = f"d{number}-"
        return self._day([], [], [], [])

    def _day(
        self,
        customers: list[dict[str, Any]],
        preferences: list[dict[str, Any]],
        bills: list[dict[str, Any]],
        corrections: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """The day's callbacks, tickets, visits and changes, with the records given."""
        callbacks = [
            self._callback(k, s, owner)
            for k, (s, owner) in enumerate(self._plan(CALLBACK_SHARE, CALLBACK_SCENARIOS, CALLBACK_WEIGHTS))
        ]
        tickets = [
            self._ticket(k, s, owner)
            for k, (s, owner) in enumerate(self._plan(TICKET_SHARE, TICKET_SCENARIOS, TICKET_WEIGHTS))
        ]
        visits = [
            self._visit(k, s, owner)
            for k, (s, owner) in enumerate(self._plan(VISIT_SHARE, VISIT_SCENARIOS, VISIT_WEIGHTS))
        ]
        # Stable order: by time, then by table and key, so equal seeds give equal lists.
        self.changes.sort(key=lambda c: (c["at"], c["table"], str(sorted(c["item"].items()))))
        return {
            "customers": customers,
            "preferences": preferences,
            "bills": bills,
            "corrections": corrections,
            "day": {"start": _utc(self.start), "end": _utc(self.end)},
            "callbacks": callbacks,
            "tickets": tickets,
            "visits": visits,
            "changes": self.changes,
        }

    def _plan(
        self, share: float, scenarios: Sequence[str], weights: Sequence[int]
    ) -> list[tuple[str, dict[str, Any]]]:
        """Each scenario once (owned by reachable customers), then weighted draws, in shuffled order."""
        total = max(len(scenarios), round(self.count * share))
        owners = self.reachable or self.customers
        plan = [(scenario, self.rng.choice(owners)) for scenario in scenarios]
        plan += [
            (self.rng.choices(scenarios, weights)[0], self.rng.choice(self.customers))
            for _ in range(total - len(scenarios))
        ]
        self.rng.shuffle(plan)
        return plan

    def _change(self, at: datetime, table: str, item: dict[str, Any]) -> None:
        at = max(at, self.start + timedelta(minutes=1))
        self.changes.append({"at": _utc(at), "table": table, "item": dict(item)})

    def _local_slot(
        self, customer: dict[str, Any], earliest: datetime, latest: datetime, hours: tuple[int, int]
    ) -> datetime:
        """A quarter-hour time in the customer's working hours, between `earliest` and `latest` (UTC)."""
        zone = ZoneInfo(customer.get("timezone") or "America/New_York")
        first_local = earliest.astimezone(zone).date() - timedelta(days=1)
        candidates = []
        for offset in range(4):
            local_day = first_local + timedelta(days=offset)
            for hour in range(*hours):
                for minute in (0, 15, 30, 45):
                    moment = datetime.combine(local_day, time(hour, minute), tzinfo=zone).astimezone(UTC)
                    if earliest <= moment <= latest:
                        candidates.append(moment)
        if not candidates:  # a zone whose working hours miss the range: any quarter hour in it
            quarters = int((latest - earliest) / timedelta(minutes=15))
            return earliest + timedelta(minutes=15 * self.rng.randint(0, max(quarters, 0)))
        return self.rng.choice(candidates)

    def _stamp(self, moment: datetime, customer: dict[str, Any]) -> str:
        """ISO 8601 with an offset: UTC, or the customer's own clock (both are in the contract)."""
        if self.rng.random() < 0.5:
            return _utc(moment)
        return moment.astimezone(ZoneInfo(customer.get("timezone") or "UTC")).isoformat()

    # ------------------------------------------------------------------ customers

    def _customer(self, n: int) -> None:
        rng = self.rng
        region = rng.choices(REGIONS, [r.weight for r in REGIONS])[0]
        first, last = rng.choice(region.first_names), rng.choice(region.last_names)
        customer_id = f"cust-{n + 1:05d}"
        customer: dict[str, Any] = {"customer_id": customer_id, "first_name": first, "last_name": last}
        # The last digit is never 9, so only the numbers made to end in 99 are opted out in SNS.
        phone = f"{region.phone_prefix}{n % 1000:03d}{n * 7 % 9}"
        if rng.random() < 0.03:
            phone = phone[:-2] + "99"
        email = f"{_ascii(first)}.{_ascii(last)}.{n}@example.{region.email_tld}"
        contact = rng.random()
        if contact < 0.12:  # email only
            customer["email"] = email
            channels: list[str] | None = rng.choice([["email"], None])
        elif contact < 0.22:  # phone only
            customer["phone"] = phone
            channels = ["sms"] if rng.random() < 0.9 else ["email"]  # a few point at a channel they lack
        else:
            customer["email"], customer["phone"] = email, phone
            channels = rng.choices(
                [None, ["email"], ["email", "sms"], ["sms", "email"], ["sms"]], [15, 30, 25, 20, 10]
            )[0]
        if channels is not None:
            customer["channels"] = channels
        if rng.random() < 0.94:  # the rest get the template's defaults
            customer["locale"] = rng.choice(region.locales)
            customer["timezone"] = region.timezone
        if rng.random() < 0.03:
            customer["do_not_contact"] = True
        elif rng.random() < 0.1:
            customer["do_not_contact"] = False
        customer["currency"] = region.currency  # used for bills below; removed before returning
        self.customers.append(customer)

        preference = self._preference(customer)
        if preference:
            self.preferences.append(preference)
        elif customer.get("email") and not customer.get("do_not_contact") and channels != ["sms"]:
            self.reachable.append(customer)

    def _preference(self, customer: dict[str, Any]) -> dict[str, Any] | None:
        rng = self.rng
        roll = rng.random()
        item: dict[str, Any] = {"customer_id": customer["customer_id"]}
        if roll < 0.06:
            item["opted_out_topics"] = set(rng.sample(["billing", "callbacks", "tickets", "visits"], 1))
        elif roll < 0.08 and customer.get("email") and customer.get("phone"):
            item["opted_out_channels"] = {rng.choice(["email", "sms"])}
        elif roll < 0.09 and customer.get("email"):
            item["suppressed_email"] = customer["email"]
            item["suppressed_reason"] = "bounce"
        else:
            return None
        days_ago = rng.randint(1, 200)
        item["updated_at"] = _utc(self.start - timedelta(days=days_ago, minutes=rng.randint(0, 1439)))
        item["last_change"] = rng.choice(["one_click", "unsubscribe_page"])
        return item

    # ------------------------------------------------------------------ bills

    def _bills(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        year, month = int(self.period[:4]), int(self.period[5:])
        periods = [
            f"{(year * 12 + month - 1 - back) // 12}-{(month - 1 - back) % 12 + 1:02d}" for back in (2, 1, 0)
        ]
        bills: list[dict[str, Any]] = []
        corrections: list[dict[str, Any]] = []
        for customer in self.customers:
            currency = customer.pop("currency")
            if self.rng.random() < 0.06:
                continue  # no bill this month (paused, or billed elsewhere)
            history = 1 if self.rng.random() < 0.05 else (3 if self.rng.random() < 0.2 else 2)
            items = self._line_items(currency)
            customer_bills = []
            for index, period in enumerate(periods[-history:]):
                if index == history - 1 and history > 1:
                    items = self._next_items(items, currency)
                customer_bills.append(self._bill(customer["customer_id"], period, items, currency))
            bills.extend(customer_bills)
            if history > 1 and self.rng.random() < 0.04:
                corrections.append(self._correction(customer_bills[-1], currency))
        return bills, corrections

    def _line_items(self, currency: str) -> list[tuple[str, Decimal]]:
        plan = Decimal(self.rng.choice(PLANS[currency]))
        items = [("Monthly plan", plan)]
        if self.rng.random() < 0.4:
            items.append(
                (self.rng.choice(ADD_ONS), _money(plan * Decimal(self.rng.randint(10, 30)) / 100, currency))
            )
        return items

    def _next_items(self, items: list[tuple[str, Decimal]], currency: str) -> list[tuple[str, Decimal]]:
        """This month's items after last month's: up (~30 %), slightly up, the same, or down."""
        rng = self.rng
        roll = rng.random()
        plan = items[0][1]
        if roll < 0.30:
            change = rng.choice(["price_rise", "new_add_on", "usage"])
            if change == "price_rise":
                return [
                    ("Monthly plan", _money(plan * Decimal(rng.randint(112, 135)) / 100, currency)),
                    *items[1:],
                ]
            names = [name for name, _ in items]
            if change == "new_add_on":
                name = rng.choice([a for a in ADD_ONS if a not in names])
                return [*items, (name, _money(plan * Decimal(rng.randint(15, 40)) / 100, currency))]
            return [*items, ("Extra data usage", _money(plan * Decimal(rng.randint(20, 60)) / 100, currency))]
        if roll < 0.38:  # below BillIncreasePercent: no notice
            return [
                ("Monthly plan", _money(plan * Decimal(rng.randint(101, 106)) / 100, currency)),
                *items[1:],
            ]
        if roll < 0.75:
            return list(items)
        if len(items) > 1:
            return items[:1]  # an add-on ended
        return [("Monthly plan", plan), ("Loyalty discount", _money(-plan * Decimal("0.1"), currency))]

    def _bill(
        self, customer_id: str, period: str, items: list[tuple[str, Decimal]], currency: str
    ) -> dict[str, Any]:
        subtotal = sum((amount for _, amount in items), Decimal(0))
        taxes = _money(max(subtotal, Decimal(0)) * TAX_RATE, currency)
        line_items = [{"description": name, "amount": amount} for name, amount in items]
        line_items.append({"description": "Taxes and fees", "amount": taxes})
        year, month = int(period[:4]), int(period[5:])
        due_year, due_month = (year + 1, 1) if month == 12 else (year, month + 1)
        bill: dict[str, Any] = {
            "customer_id": customer_id,
            "period": period,
            "amount": _money(subtotal + taxes, currency),
            "line_items": line_items,
        }
        if currency != "USD" or self.rng.random() < 0.7:  # USD is the contract's default
            bill["currency"] = currency
        if self.rng.random() < 0.9:
            bill["due_date"] = f"{due_year}-{due_month:02d}-{self.rng.choice([1, 10, 15, 20, 28]):02d}"
        return bill

    def _correction(self, bill: dict[str, Any], currency: str) -> dict[str, Any]:
        """The business reissues the current bill: a missed charge (up) or a credit (down)."""
        amount = bill["amount"]
        up = self.rng.random() < 0.5
        adjustment = _money(
            abs(amount) * Decimal(self.rng.randint(12, 25) if up else -self.rng.randint(5, 15)) / 100,
            currency,
        )
        description = "Equipment rental (missed last cycle)" if up else "Credit for service outage"
        return {
            **bill,
            "amount": _money(amount + adjustment, currency),
            "line_items": [*bill["line_items"], {"description": description, "amount": adjustment}],
        }

    # ------------------------------------------------------------------ callbacks

    def _callback(self, k: int, scenario: str, customer: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        promised = self._local_slot(
            customer, self.start + timedelta(minutes=40), self.end - timedelta(hours=3), (9, 19)
        )
        callback: dict[str, Any] = {
            "callback_id": f"cb-{self.ids}{k + 1:05d}",
            "customer_id": customer["customer_id"],
            "promised_at": self._stamp(promised, customer),
            "status": "pending",
            "topic": rng.choice(CALLBACK_TOPICS),
        }
        if agent := rng.choice(AGENTS):
            callback["agent_name"] = agent
        if team := rng.choice(TEAMS):
            callback["team"] = team
        table = "CallbacksTable"
        if scenario == "kept":  # called back before the grace period ends
            self._change(
                promised + timedelta(minutes=rng.randint(-45, 10)), table, {**callback, "status": "done"}
            )
        elif scenario == "late_then_done":  # after the apology, before the new deadline
            self._change(
                promised + timedelta(minutes=rng.randint(25, 50)), table, {**callback, "status": "done"}
            )
        elif scenario == "missed":  # past the new deadline too; someone calls at last, hours later
            done_at = promised + timedelta(hours=rng.randint(2, 4))
            if done_at < self.end:
                self._change(done_at, table, {**callback, "status": "done"})
        elif scenario == "cancelled":
            self._change(
                promised - timedelta(minutes=rng.randint(20, 120)), table, {**callback, "status": "cancelled"}
            )
        else:  # moved: a new promise two hours later, then kept or not
            later = promised + timedelta(hours=2)
            moved = {**callback, "promised_at": self._stamp(later, customer)}
            self._change(promised - timedelta(minutes=30), table, moved)
            if rng.random() < 0.5:
                self._change(later + timedelta(minutes=5), table, {**moved, "status": "done"})
        return callback

    # ------------------------------------------------------------------ tickets

    def _ticket(self, k: int, scenario: str, customer: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        start = self.start

        def hours_before(low: float, high: float) -> datetime:
            return start - timedelta(minutes=15 * rng.randint(int(low * 4), int(high * 4)))

        priority, status = "normal", "open"
        solved_at: datetime | None = None
        later: list[tuple[timedelta, str]] = []  # (after updated_at, what the agent does)
        if scenario == "urgent_breach":  # warned, breached, then answered and solved
            priority, updated = "urgent", hours_before(0, 2)
            later = [(timedelta(hours=rng.randint(5, 6)), "open"), (timedelta(hours=8), "solved")]
        elif scenario == "urgent_saved":  # warned, answered before the breach
            priority, updated = "urgent", hours_before(0, 2)
            later = [(timedelta(hours=3, minutes=30), "open"), (timedelta(hours=5), "solved")]
        elif scenario == "high_breach":
            priority, updated = "high", hours_before(20, 23)
        elif scenario == "high_warned":  # warned in the day, answered before the breach
            priority, updated = "high", hours_before(10, 16)
            later = [(timedelta(hours=22), "open")]
        elif scenario == "normal_stale":
            updated = hours_before(60, 70)
        elif scenario == "low_stale":
            priority, updated = "low", hours_before(150, 165)
        elif scenario == "follow_up":  # solved yesterday: asked today whether all is well
            status, updated = "solved", hours_before(1, 22)
            solved_at = updated
            priority = rng.choice(["high", "normal", "low"])
        elif scenario == "solved_today":
            updated = hours_before(4, 30)
            later = [(start - updated + timedelta(minutes=15 * rng.randint(4, 48)), "solved")]
        elif scenario == "quiet":  # inside its SLA all day
            priority, updated = rng.choice(["normal", "low"]), hours_before(0, 20)
        elif scenario == "pending":  # waiting on the customer: no clock
            status, priority, updated = "pending", "high", hours_before(30, 60)
        else:
            status, updated = "closed", hours_before(30, 200)
        created = updated - timedelta(hours=rng.randint(1, 72))
        ticket: dict[str, Any] = {
            "ticket_id": f"t-{self.ids}{k + 1:05d}",
            "customer_id": customer["customer_id"],
            "subject": rng.choice(TICKET_SUBJECTS),
            "status": status,
            "created_at": _utc(created),
            "updated_at": _utc(updated),
        }
        if priority != "normal" or rng.random() < 0.5:
            ticket["priority"] = priority
        if solved_at is not None:
            ticket["solved_at"] = _utc(solved_at)
        current = ticket
        for after, new_status in later:
            at = updated + after
            if at >= self.end:
                break
            current = {**current, "status": new_status, "updated_at": _utc(at)}
            if new_status == "solved":
                current["solved_at"] = _utc(at)
            self._change(at, "TicketsTable", current)
        return ticket

    # ------------------------------------------------------------------ visits

    def _visit(self, k: int, scenario: str, customer: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        window_start = self._local_slot(
            customer, self.start + timedelta(hours=2), self.end - timedelta(hours=7), (8, 17)
        )
        window_end = window_start + timedelta(hours=rng.choice([2, 2, 3]))
        visit: dict[str, Any] = {
            "visit_id": f"v-{self.ids}{k + 1:05d}",
            "customer_id": customer["customer_id"],
            "window_start": _utc(window_start),
            "window_end": _utc(window_end),
            "eta": _utc(window_start + timedelta(minutes=30)),
            "status": "scheduled",
            "technician_name": rng.choice(TECHNICIANS),
        }
        if hint := rng.choice(ADDRESS_HINTS):
            visit["address_hint"] = hint
        table = "VisitsTable"

        visit_now = dict(visit)

        def update(at: datetime, **fields: Any) -> None:
            nonlocal visit_now
            visit_now = {
                **visit_now,
                **{name: _utc(v) if isinstance(v, datetime) else v for name, v in fields.items()},
            }
            self._change(at, table, visit_now)

        if scenario == "on_time":
            eta = window_start + timedelta(minutes=5 * rng.randint(0, 12))
            update(window_start - timedelta(minutes=20), status="en_route", eta=eta)
            arrived = max(eta, window_start - timedelta(minutes=5))
            update(arrived, status="arrived")
            update(arrived + timedelta(minutes=5 * rng.randint(9, 24)), status="done")
        elif scenario in ("late", "late_twice"):
            update(
                window_start + timedelta(minutes=15),
                status="en_route",
                eta=window_start + timedelta(minutes=60),
            )
            eta = window_end + timedelta(minutes=5 * rng.randint(4, 9))
            reason = rng.choice(DELAY_REASONS)
            slip: dict[str, Any] = {"eta": eta} | ({"delay_reason": reason} if reason else {})
            update(window_end - timedelta(minutes=30), **slip)
            if scenario == "late_twice":  # slips again by at least VisitSlipMinutes: told again
                eta += timedelta(minutes=5 * rng.randint(4, 6))
                update(window_end + timedelta(minutes=5), eta=eta, delay_reason="the first job took longer")
            else:  # a small further slip: not worth another message
                eta += timedelta(minutes=5)
                update(window_end - timedelta(minutes=10), eta=eta)
            update(eta, status="arrived")
            update(eta + timedelta(minutes=60), status="done")
        elif scenario == "no_show":  # nothing from the app until after the window: the sweep notices
            eta = window_end + timedelta(minutes=50)
            update(window_end + timedelta(minutes=20), status="en_route", eta=eta)
            update(eta, status="arrived")
            update(eta + timedelta(minutes=60), status="done")
        else:
            update(window_start - timedelta(hours=rng.randint(1, 3)), status="cancelled")
        return visit


def simulate_day(
    pipeline: "LocalPipeline", data: dict[str, Any], on_tick: Callable[[datetime], None] | None = None
) -> list[datetime]:
    """Run a busy day through `pipeline`: customers and their preferences, the bills at 07:30 UTC
    (then the corrections), and the day's sweeps with the business's changes at their times
    (`on_tick(tick)` after each, e.g. to show progress).

    Returns the sweep ticks. Provision the pipeline at or before 07:30 UTC of the day: moto's
    queues keep their own timestamps, so the clock must only move forward. This is a first day;
    `simulate_days` runs the days after it.
    """
    start = datetime.fromisoformat(data["day"]["start"])
    pipeline.put_customers(data["customers"])
    pipeline.put_items("PreferencesTable", data["preferences"])
    bills_at = datetime.combine(start.date(), BILLS_ARRIVE, tzinfo=UTC)
    with time_machine.travel(bills_at, tick=True):
        _put_bills(pipeline, data)
    return _run_day(pipeline, data, start, on_tick)


def simulate_days(
    pipeline: "LocalPipeline",
    days_data: Sequence[dict[str, Any]],
    on_tick: Callable[[datetime], None] | None = None,
) -> list[datetime]:
    """Run `busy_days`' days through `pipeline`, one after the other; returns every sweep tick.

    The first day runs as `simulate_day` runs it. Each later day continues from the previous
    day's last sweep, which is never run again: its sweeps are its schedule's ticks after that
    one, up to its `end` (with `busy_days`' windows, `start` + one interval to `end`). Its
    records (customers, preferences and bills too, if it has any) are put halfway between the
    previous day's last sweep and its own first: after the one, as the clock only moves
    forward, and before the other, so its first sweep sees them as the first day's does.
    """
    ticks: list[datetime] = []
    for data in days_data:
        if ticks:
            ticks += _next_day(pipeline, data, ticks[-1], on_tick)
        else:
            ticks = simulate_day(pipeline, data, on_tick)
    return ticks


def _next_day(
    pipeline: "LocalPipeline",
    data: dict[str, Any],
    previous_sweep: datetime,
    on_tick: Callable[[datetime], None] | None,
) -> list[datetime]:
    """A later day, after `previous_sweep` (see `simulate_days`)."""
    start, end = (datetime.fromisoformat(data["day"][edge]) for edge in ("start", "end"))
    if start < previous_sweep:
        raise ValueError(
            f"the day from {start:%Y-%m-%d %H:%M} starts before the last sweep, {previous_sweep}"
        )
    first = start
    while first <= previous_sweep:
        first += pipeline.sweep.interval()
    if first > end:
        raise ValueError(f"the day from {start:%Y-%m-%d %H:%M} has no sweep after {previous_sweep}")
    with time_machine.travel(previous_sweep + (first - previous_sweep) / 2, tick=True):
        pipeline.put_customers(data["customers"])
        pipeline.put_items("PreferencesTable", data["preferences"])
        if data["bills"] or data["corrections"]:
            _put_bills(pipeline, data)
        return _run_day(pipeline, data, first, on_tick)


def _put_bills(pipeline: "LocalPipeline", data: dict[str, Any]) -> None:
    """The bills, detected and their notices delivered; then the corrections, after the first detection."""
    pipeline.put_bills(data["bills"])
    pipeline.run()
    pipeline.put_bills(data["corrections"])
    pipeline.run()


def _run_day(
    pipeline: "LocalPipeline",
    data: dict[str, Any],
    first_sweep: datetime,
    on_tick: Callable[[datetime], None] | None,
) -> list[datetime]:
    """The day's callbacks, tickets and visits, then its sweeps from `first_sweep` to its end,
    each followed by the business's changes up to its time."""
    pipeline.put_callbacks(data["callbacks"])
    pipeline.put_tickets(data["tickets"])
    pipeline.put_visits(data["visits"])
    changes = list(data["changes"])

    def business(tick: datetime) -> None:
        while changes and datetime.fromisoformat(changes[0]["at"]) <= tick:
            change = changes.pop(0)
            pipeline.put_items(change["table"], [change["item"]])
        if on_tick is not None:
            on_tick(tick)

    ticks = pipeline.run_schedule(first_sweep, datetime.fromisoformat(data["day"]["end"]), on_tick=business)
    if changes:
        raise RuntimeError(f"{len(changes)} change(s) fell after the day's last sweep")
    return ticks
