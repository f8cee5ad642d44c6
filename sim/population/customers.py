"""The customers: where they live (timezone, locale, currency, names), how they can be reached, and
the preferences a few of them have already stored."""

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sim.population.scenarios import Record, Scenario, by_roll, utc


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

Channels = list[str] | None
# (rng, customer, their email, their phone) -> their channels; stores the addresses they gave.
type ContactPlay = Callable[[random.Random, Record, str, str], Channels]


def _email_only(rng: random.Random, customer: Record, email: str, phone: str) -> Channels:
    customer["email"] = email
    return rng.choice([["email"], None])


def _phone_only(rng: random.Random, customer: Record, email: str, phone: str) -> Channels:
    customer["phone"] = phone
    return ["sms"] if rng.random() < 0.9 else ["email"]  # a few point at a channel they lack


def _both(rng: random.Random, customer: Record, email: str, phone: str) -> Channels:
    customer["email"], customer["phone"] = email, phone
    return rng.choices([None, ["email"], ["email", "sms"], ["sms", "email"], ["sms"]], [15, 30, 25, 20, 10])[
        0
    ]


# How a customer can be reached (weights in percent): play stores the addresses and returns the
# channels they asked for (None: the template's default order).
CONTACTS: tuple[Scenario[ContactPlay], ...] = (
    Scenario("email_only", 12, _email_only),
    Scenario("phone_only", 10, _phone_only),
    Scenario("email_and_phone", 78, _both),
)


def draw_customer(rng: random.Random, n: int) -> tuple[Record, Channels]:
    """Customer `n` (from 0), with a `currency` for their bills (not a customer attribute: the bills
    take it off), and the channels they asked for."""
    region = rng.choices(REGIONS, [r.weight for r in REGIONS])[0]
    first, last = rng.choice(region.first_names), rng.choice(region.last_names)
    customer: Record = {"customer_id": f"cust-{n + 1:05d}", "first_name": first, "last_name": last}
    # The last digit is never 9, so only the numbers made to end in 99 are opted out in SNS.
    phone = f"{region.phone_prefix}{n % 1000:03d}{n * 7 % 9}"
    if rng.random() < 0.03:
        phone = phone[:-2] + "99"
    email = f"{_ascii(first)}.{_ascii(last)}.{n}@example.{region.email_tld}"
    channels = by_roll(rng.random(), CONTACTS).play(rng, customer, email, phone)
    if channels is not None:
        customer["channels"] = channels
    if rng.random() < 0.94:  # the rest get the template's defaults
        customer["locale"] = rng.choice(region.locales)
        customer["timezone"] = region.timezone
    if rng.random() < 0.03:
        customer["do_not_contact"] = True
    elif rng.random() < 0.1:
        customer["do_not_contact"] = False
    customer["currency"] = region.currency
    return customer, channels


def draw_preference(rng: random.Random, customer: Record, start: datetime) -> Record | None:
    """The PreferencesTable item the customer stored before the day `start`s, if any."""
    roll = rng.random()
    item: Record = {"customer_id": customer["customer_id"]}
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
    item["updated_at"] = utc(start - timedelta(days=days_ago, minutes=rng.randint(0, 1439)))
    item["last_change"] = rng.choice(["one_click", "unsubscribe_page"])
    return item


def _ascii(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())
