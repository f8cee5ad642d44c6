"""`busy_day` and `busy_days`: the customers, then each source's records drawn from its scenario
table, all from one seeded `random.Random`."""

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sim.population.bills import BILL_STORIES, STORIES_SHARE, bills_for, tell_a_story
from sim.population.callbacks import CALLBACKS
from sim.population.customers import draw_customer, draw_preference
from sim.population.scenarios import Record, Scenario, Source, utc, zone_of
from sim.population.tickets import TICKETS
from sim.population.visits import VISITS

DAY_STARTS = time(8, 0)  # UTC; the day is 24 hours of sweeps from here
# Drawn in this order, each after the one before: reordering them changes every seed's data.
SOURCES: tuple[Source, ...] = (CALLBACKS, TICKETS, VISITS)


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


class _Generator:
    """One day's data; also the `Day` the scenarios play out in."""

    def __init__(self, rng: random.Random, count: int, day: date) -> None:
        if count < 1:
            raise ValueError("a busy day needs at least one customer")
        self.rng = rng
        self.count = count
        self.start = datetime.combine(day, DAY_STARTS, tzinfo=UTC)
        self.end = self.start + timedelta(hours=24)
        self.period = f"{day:%Y-%m}"
        self.customers: list[Record] = []
        self.preferences: list[Record] = []
        self.reachable: list[Record] = []  # contactable by email, no opt-outs: owners of must-haves
        self.texted: list[Record] = []  # texted first, no opt-outs: owners of the held-overnight stories
        self.changes: list[Record] = []
        self.ids = ""

    # ------------------------------------------------------------------ the whole day

    def build(self) -> dict[str, Any]:
        for n in range(self.count):
            self._customer(n)
        bills, corrections = bills_for(self.rng, self.customers, self.period)
        self._bill_stories(bills, corrections)
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
        customers: list[Record],
        preferences: list[Record],
        bills: list[Record],
        corrections: list[Record],
    ) -> dict[str, Any]:
        """The day's callbacks, tickets, visits and changes, with the records given."""
        records = {
            source.name: [
                source.record(self, k, scenario, owner)
                for k, (scenario, owner) in enumerate(self._plan(source))
            ]
            for source in SOURCES
        }
        # Stable order: by time, then by table and key, so equal seeds give equal lists.
        self.changes.sort(key=lambda c: (c["at"], c["table"], str(sorted(c["item"].items()))))
        return {
            "customers": customers,
            "preferences": preferences,
            "bills": bills,
            "corrections": corrections,
            "day": {"start": utc(self.start), "end": utc(self.end)},
            **records,
            "changes": self.changes,
        }

    def _plan(self, source: Source) -> list[tuple[Scenario[Any], Record]]:
        """Each scenario once (owned by reachable customers), then weighted draws, in shuffled order."""
        scenarios, weights = source.scenarios, [scenario.weight for scenario in source.scenarios]
        total = max(len(scenarios), round(self.count * source.share))
        plan = [
            (scenario, self.rng.choice(self._first_owners(scenario, self.customers)))
            for scenario in scenarios
        ]
        for _ in range(total - len(scenarios)):
            drawn = self.rng.choices(scenarios, weights)[0]
            plan.append((drawn, self.rng.choice(self._fitting(drawn, self.customers) or self.customers)))
        self.rng.shuffle(plan)
        return plan

    def _first_owners(self, scenario: Scenario[Any], candidates: list[Record]) -> list[Record]:
        """Who may own a scenario's guaranteed occurrence, of `candidates`: the reachable ones it
        fits (texted ones first, for a story about a text held overnight), else any it fits,
        else the reachable ones, else all of them."""
        pools = [self.texted] if scenario.texted else []
        pools += [self.reachable, self.customers]
        for pool in pools:
            if owners := self._fitting(scenario, _among(candidates, pool)):
                return owners
        return _among(candidates, self.reachable) or candidates

    def _fitting(self, scenario: Scenario[Any], candidates: list[Record]) -> list[Record]:
        fits = scenario.fits
        return candidates if fits is None else [c for c in candidates if fits(self, c)]

    def _bill_stories(self, bills: list[Record], corrections: list[Record]) -> None:
        """`BILL_STORIES`, each once, then drawn by weight, each for its own customer with a bill
        this month and last (and no correction among `corrections`): their bill goes up, and the
        business corrects it later in the day (see bills.tell_a_story)."""
        latest: dict[str, int] = {}  # customer id -> this month's bill's index in `bills`
        previous: dict[str, Record] = {}
        for index, bill in enumerate(bills):
            if bill["period"] == self.period:
                latest[bill["customer_id"]] = index
            else:
                previous[bill["customer_id"]] = bill  # bills come oldest first: the last is last month's
        corrected = {bill["customer_id"] for bill in corrections}
        free = [c for c in self.customers if c["customer_id"] in latest and c["customer_id"] in previous]
        free = [c for c in free if c["customer_id"] not in corrected]
        weights = [story.weight for story in BILL_STORIES]
        total = max(len(BILL_STORIES), round(self.count * STORIES_SHARE))
        for n in range(total):
            story = BILL_STORIES[n] if n < len(BILL_STORIES) else self.rng.choices(BILL_STORIES, weights)[0]
            owners = self._first_owners(story, free) if n < len(BILL_STORIES) else self._fitting(story, free)
            if not owners:
                continue
            owner = self.rng.choice(owners)
            free.remove(owner)
            index = latest[owner["customer_id"]]
            bills[index] = tell_a_story(self, story, bills[index], previous[owner["customer_id"]], owner)

    def _customer(self, n: int) -> None:
        customer, channels = draw_customer(self.rng, n)
        self.customers.append(customer)
        preference = draw_preference(self.rng, customer, self.start)
        if preference:
            self.preferences.append(preference)
            return
        if customer.get("do_not_contact"):
            return
        if customer.get("email") and channels != ["sms"]:
            self.reachable.append(customer)
        if channels and channels[0] == "sms" and not str(customer.get("phone", "99")).endswith("99"):
            self.texted.append(customer)  # an SMS number SNS has not opted out (those end in 99)

    # ------------------------------------------------------------------ the Day the scenarios play in

    def change(self, at: datetime, table: str, item: Record) -> None:
        # The day is (start, end]: no sweep of the day would see a change at or after its last,
        # and one planned before the start (a cancellation well ahead) happens as the day opens.
        if at >= self.end:
            return
        at = max(at, self.start + timedelta(minutes=1))
        self.changes.append({"at": utc(at), "table": table, "item": dict(item)})

    def local_slot(
        self, customer: Record, earliest: datetime, latest: datetime, hours: tuple[int, int]
    ) -> datetime:
        zone = zone_of(customer)
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

    def stamp(self, moment: datetime, customer: Record) -> str:
        """ISO 8601 with an offset: UTC, or the customer's own clock (both are in the contract)."""
        if self.rng.random() < 0.5:
            return utc(moment)
        return moment.astimezone(ZoneInfo(customer.get("timezone") or "UTC")).isoformat()


def _among(candidates: list[Record], pool: list[Record]) -> list[Record]:
    """The `candidates` that are in `pool`, in their order."""
    ids = {customer["customer_id"] for customer in pool}
    return [customer for customer in candidates if customer["customer_id"] in ids]
