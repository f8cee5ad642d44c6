"""A customer as the business writes them to CustomersTable (docs/data-contract.md), validated."""

from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from headsup.platform.errors import InvalidRecord, contract_problems, dynamodb_type
from headsup.platform.observability import logger


class InvalidCustomer(InvalidRecord):
    kind = "customer"


class Customer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    customer_id: Annotated[str, Field(min_length=1)]
    first_name: Annotated[str, Field(min_length=1)]
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    locale: str
    timezone: str
    # Kept as written: unknown entries are reported as unusable channels, not a broken record.
    channels: tuple[str, ...] = ("email",)
    do_not_contact: bool = False

    @property
    def babel_locale(self) -> Locale:
        return babel_locale(self.locale)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache(maxsize=256)
def babel_locale(tag: str) -> Locale:
    """`es-MX` as Babel's Locale, parsed once per tag (a few dozen in practice): every figure of
    every notice asks for it."""
    return Locale.parse(tag, sep="-")


def customer_from_item(item: dict[str, Any], *, default_locale: str, default_timezone: str) -> Customer:
    """Validate a CustomersTable item, filling contract defaults.

    A locale or timezone that Babel / the tz database do not know falls back to the default
    (logged): a typo in a preference must not stop a customer hearing about their bill.
    """
    customer_id = str(item.get("customer_id", ""))
    data = {**item}
    data["locale"] = _known_locale(data.get("locale"), default_locale, customer_id)
    data["timezone"] = _known_timezone(data.get("timezone"), default_timezone, customer_id)
    if data.get("channels") is None:
        data.pop("channels", None)
    for channel_field in ("email", "phone"):
        data[channel_field] = _contact_text(data.get(channel_field), channel_field, customer_id)
    try:
        return Customer.model_validate(data)
    except ValidationError as exc:
        raise InvalidCustomer({"customer_id": customer_id}, contract_problems(exc)) from exc


def _contact_text(value: object, field: str, customer_id: str) -> str | None:
    """An address or phone written as something other than a string (a phone stored as a number)
    makes that channel unusable, as any other bad format does; the customer stays reachable on
    the others."""
    if value is None or isinstance(value, str):
        return value
    logger.warning(
        "Contact field is not a string; channel unusable",
        extra={"customer_id": customer_id, "field": field, "type": dynamodb_type(value)},
    )
    return None


def _known_locale(value: object, default: str, customer_id: str) -> str:
    if not value:
        return default
    try:
        babel_locale(str(value))
    except (ValueError, UnknownLocaleError):
        logger.warning("Unknown locale, using default", extra={"customer_id": customer_id})
        return default
    return str(value)


def _known_timezone(value: object, default: str, customer_id: str) -> str:
    if not value:
        return default
    try:
        ZoneInfo(str(value))
    except (ValueError, ZoneInfoNotFoundError):
        logger.warning("Unknown timezone, using default", extra={"customer_id": customer_id})
        return default
    return str(value)
