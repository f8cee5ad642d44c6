import pytest
from headsup.domain.channels import Channel, NoRoute, Route, choose_route, normalised_e164

from tests.unit.builders import customer


def never_opted_out(phone: str) -> bool:
    return False


def test_first_channel_in_the_customers_order_is_used() -> None:
    person = customer(channels=["sms", "email"], phone="+14155550123")
    assert choose_route(person, never_opted_out) == Route(Channel.SMS, "+14155550123")


def test_default_channel_is_email() -> None:
    assert choose_route(customer(), never_opted_out) == Route(Channel.EMAIL, "ana@example.com")


def test_unusable_first_channel_falls_through_to_the_next() -> None:
    person = customer(channels=["email", "sms"], email=None, phone="+14155550123")
    assert choose_route(person, never_opted_out) == Route(Channel.SMS, "+14155550123")


def test_opted_out_number_is_never_used() -> None:
    person = customer(channels=["sms"], phone="+14155550199")
    route = choose_route(person, lambda phone: phone.endswith("99"))
    assert route == NoRoute("no_channel", "sms: number opted out")


def test_do_not_contact_wins_over_everything() -> None:
    route = choose_route(customer(do_not_contact=True), never_opted_out)
    assert isinstance(route, NoRoute)
    assert route.reason == "do_not_contact"


def test_no_usable_channel_says_why_without_personal_data() -> None:
    person = customer(channels=["email", "sms", "fax"], email="not-an-address", phone="12345")
    route = choose_route(person, never_opted_out)
    assert isinstance(route, NoRoute)
    assert route.reason == "no_channel"
    assert route.detail == "email: no valid address; sms: no valid E.164 phone; fax: unknown channel"
    assert "12345" not in route.detail


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+14155550123", "+14155550123"),
        ("+44 20 7946 0958", "+442079460958"),
        ("4155550123", None),
        (None, None),
    ],
)
def test_phone_numbers_are_normalised_to_e164(raw: str | None, expected: str | None) -> None:
    assert normalised_e164(raw) == expected
