import pytest
from headsup.domain.customer import InvalidCustomer, customer_from_item


def test_defaults_fill_what_the_contract_leaves_optional() -> None:
    person = customer_from_item(
        {"customer_id": "c1", "first_name": "Ana"}, default_locale="en-GB", default_timezone="Europe/London"
    )
    assert (person.locale, person.timezone, person.channels, person.do_not_contact) == (
        "en-GB",
        "Europe/London",
        ("email",),
        False,
    )


def test_unknown_locale_and_timezone_fall_back_to_defaults() -> None:
    person = customer_from_item(
        {"customer_id": "c1", "first_name": "Ana", "locale": "xx-NOPE", "timezone": "Mars/Olympus"},
        default_locale="en-US",
        default_timezone="America/New_York",
    )
    assert (person.locale, person.timezone) == ("en-US", "America/New_York")


def test_missing_first_name_is_an_invalid_customer() -> None:
    with pytest.raises(InvalidCustomer, match="first_name"):
        customer_from_item({"customer_id": "c1"}, default_locale="en-US", default_timezone="UTC")


def test_a_phone_stored_as_a_number_makes_sms_unusable_not_the_customer_invalid() -> None:
    from decimal import Decimal

    from headsup.domain.channels import Channel, Route, choose_route

    person = customer_from_item(
        {
            "customer_id": "c1",
            "first_name": "Ana",
            "email": "ana@example.com",
            "phone": Decimal(4915112345678),
            "channels": ["sms", "email"],
        },
        default_locale="en-US",
        default_timezone="UTC",
    )
    assert person.phone is None
    assert choose_route(person, lambda _: False) == Route(Channel.EMAIL, "ana@example.com")
