"""One-click unsubscribe (RFC 8058): the logic with an in-memory store, then the real handler on
moto with template.yaml provisioned, driven with HTTP API payload 2.0 events as API Gateway sends them."""

import base64
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest
from headsup.adapters.preferences import Saved
from headsup.domain import unsubscribe_tokens as tokens
from headsup.domain.preferences import Preferences, changes_between
from headsup.domain.unsubscribe_tokens import signing_key
from headsup.logic.unsubscribe import (
    MAX_FORM_BYTES,
    Action,
    Unsubscribe,
    read_form,
    requested_action,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
KEY = b"k" * 64
OTHER_KEY = b"o" * 64
ONE_CLICK = b"List-Unsubscribe=One-Click"
FORM = "application/x-www-form-urlencoded"


@dataclass
class InMemoryPreferences:
    """Keeps the PreferenceEditor's rules: opting out of a topic twice is the same as once, and a
    save that changes nothing writes nothing."""

    stored: dict[str, Preferences] = field(default_factory=dict)
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (customer, what, source)

    @property
    def topics(self) -> dict[str, set[str]]:
        return {c: set(p.opted_out_topics) for c, p in self.stored.items() if p.opted_out_topics}

    def get(self, customer_id: str) -> Preferences:
        return self.stored.get(customer_id, Preferences(customer_id))

    def opt_out_topic(self, customer_id: str, topic: str, *, source: str, now: datetime) -> None:
        current = self.get(customer_id)
        if topic not in current.opted_out_topics:
            self.stored[customer_id] = replace(current, opted_out_topics=current.opted_out_topics | {topic})
            self.changes.append((customer_id, topic, source))

    def suppress_email(self, customer_id: str, address: str, *, reason: str, now: datetime) -> None:
        raise AssertionError("unsubscribing never suppresses an address")

    def change(
        self, customer_id: str, edit: Callable[[Preferences], Preferences], *, source: str, now: datetime
    ) -> Saved:
        before = self.get(customer_id)
        after = edit(before)
        what = changes_between(before, after, now)
        if not what:
            return Saved(before, ())
        self.stored[customer_id] = after
        self.changes.extend((customer_id, entry, source) for entry in what)
        return Saved(after, what)


def service(store: InMemoryPreferences, business: str = "Example Co") -> Unsubscribe:
    return Unsubscribe(key=KEY, store=store, business_name=business)


def bad_tokens(key: bytes = KEY) -> dict[str, str]:
    """One of each way a link can be wrong; every one must get the same answer."""
    good = tokens.sign(key, "cust-1", "billing")
    payload, mac = good.split(".")
    forged_payload = base64.urlsafe_b64encode(b'{"v":1,"c":"cust-2","t":"billing"}').rstrip(b"=").decode()
    return {
        "tampered_payload": f"{forged_payload}.{mac}",
        "tampered_signature": f"{payload}.{mac[:-2]}{'AA' if mac[-2:] != 'AA' else 'BB'}",
        "truncated": good[: len(good) - 10],
        "payload_only": payload,
        "other_key": tokens.sign(OTHER_KEY, "cust-1", "billing"),
        "unknown_topic": tokens.sign(key, "cust-1", "marketing"),
        "no_customer": tokens.sign(key, "", "billing"),
        "not_base64": "!!!.???",
        "empty": "",
        "huge": "A" * 5000 + "." + "B" * 43,
    }


# ------------------------------------------------------------------------------------------- logic


def test_one_click_post_opts_out_of_that_topic_only() -> None:
    # Given a link for billing notices
    store = InMemoryPreferences()
    token = tokens.sign(KEY, "cust-1", "billing")

    # When the mail client sends the RFC 8058 POST
    response = service(store).unsubscribe(token, read_form(ONE_CLICK, FORM), now=NOW)

    # Then billing, and only billing, is opted out, recorded as a one-click opt-out
    assert response.status == 200
    assert store.topics == {"cust-1": {"billing"}}
    assert store.changes == [("cust-1", "billing", "one_click")]
    assert "Location" not in response.headers
    assert "billing notices" in response.body


def test_the_confirmation_pages_button_unsubscribes_too() -> None:
    store = InMemoryPreferences()
    token = tokens.sign(KEY, "cust-1", "visits")

    response = service(store).unsubscribe(token, read_form(b"confirm=yes", FORM), now=NOW)

    assert response.status == 200
    assert store.changes == [("cust-1", "visits", "unsubscribe_page")]


def test_get_shows_a_confirmation_page_that_changes_nothing() -> None:
    # Given a link, as a mail scanner would prefetch it
    store = InMemoryPreferences()
    token = tokens.sign(KEY, "cust-1", "tickets")

    # When it is fetched
    response = service(store).confirmation_page(token)

    # Then the page asks, names the topic in plain words, and offers a button that POSTs back here
    assert response.status == 200
    assert store.changes == []
    assert "support ticket updates" in response.body
    assert "Example Co" in response.body
    assert '<form method="post">' in response.body
    assert 'name="confirm" value="yes"' in response.body


def test_repeating_the_post_is_harmless() -> None:
    store = InMemoryPreferences()
    token = tokens.sign(KEY, "cust-1", "callbacks")
    unsubscribe = service(store)

    first = unsubscribe.unsubscribe(token, {"list-unsubscribe": "One-Click"}, now=NOW)
    second = unsubscribe.unsubscribe(token, {"list-unsubscribe": "One-Click"}, now=NOW)

    assert (first.status, second.status) == (200, 200)
    assert first.body == second.body
    assert store.topics == {"cust-1": {"callbacks"}}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_every_bad_link_gets_the_same_generic_answer_and_changes_nothing(method: str) -> None:
    store = InMemoryPreferences()
    unsubscribe = service(store)
    answers = set()

    for token in bad_tokens().values():
        response = (
            unsubscribe.confirmation_page(token)
            if method == "GET"
            else unsubscribe.unsubscribe(token, {"list-unsubscribe": "One-Click"}, now=NOW)
        )
        answers.add((response.status, response.body))

    assert answers == {(404, unsubscribe.invalid_link().body)}
    assert store.changes == []


def test_a_post_with_neither_form_changes_nothing_and_offers_the_button() -> None:
    store = InMemoryPreferences()
    token = tokens.sign(KEY, "cust-1", "billing")

    response = service(store).unsubscribe(token, read_form(b"something=else", FORM), now=NOW)

    assert response.status == 400
    assert store.changes == []
    assert 'name="confirm" value="yes"' in response.body


def test_everything_put_in_a_page_is_html_escaped() -> None:
    # Given a business name with markup in it
    store = InMemoryPreferences()
    token = tokens.sign(KEY, "cust-1", "billing")
    unsubscribe = service(store, business='<script>alert("x")</script> & Co')

    # Then no page carries it unescaped
    for response in (
        unsubscribe.confirmation_page(token),
        unsubscribe.unsubscribe(token, {"confirm": "yes"}, now=NOW),
        unsubscribe.invalid_link(),
    ):
        assert "<script>" not in response.body
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in response.body


def test_pages_carry_the_security_headers() -> None:
    token = tokens.sign(KEY, "cust-1", "billing")

    for response in (
        service(InMemoryPreferences()).confirmation_page(token),
        service(InMemoryPreferences()).invalid_link(),
    ):
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_the_one_click_body_is_read_in_both_encodings_rfc_8058_allows() -> None:
    multipart = (
        b"--b0undary\r\n"
        b'Content-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
        b"One-Click\r\n"
        b"--b0undary--\r\n"
    )

    assert (
        requested_action(read_form(multipart, "multipart/form-data; boundary=b0undary")) is Action.ONE_CLICK
    )
    assert requested_action(read_form(ONE_CLICK, FORM)) is Action.ONE_CLICK
    assert requested_action(read_form(ONE_CLICK, None)) is Action.ONE_CLICK


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"List-Unsubscribe=One-Click&" + b"x" * MAX_FORM_BYTES, FORM),  # far larger than any form of ours
        (b"&".join([b"a=1"] * 50) + b"&List-Unsubscribe=One-Click", FORM),  # too many fields
        (b"List-Unsubscribe=One-Click", "multipart/form-data; boundary=none"),  # not multipart at all
        (b"", FORM),
    ],
)
def test_unreadable_forms_ask_for_nothing(body: bytes, content_type: str) -> None:
    assert requested_action(read_form(body, content_type)) is None


def test_the_key_is_the_secret_strings_bytes_as_delivery_signs_with() -> None:
    assert signing_key("abc123") == b"abc123"
