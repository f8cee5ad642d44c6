"""The page behind every unsubscribe link, through the logic with in-memory adapters: what GET shows
(and that it changes nothing), what a save changes (exactly what was posted, once), what is refused,
and the page's HTML: its language, labels, fieldsets and stylesheet."""

import base64
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from headsup.adapters.customers import CustomerPlace
from headsup.domain import unsubscribe_tokens as tokens
from headsup.domain.preferences import Preferences
from headsup.logic.preference_form import read_fields
from headsup.logic.preference_page import PAGE_HEADERS, STYLE, fill
from headsup.logic.unsubscribe import Response, Unsubscribe

from tests.unit.test_unsubscribe import FORM, KEY, NOW, ONE_CLICK, InMemoryPreferences, bad_tokens

TOKEN = tokens.sign(KEY, "cust-1", "billing")
EVERYTHING = [f"{t}:{c}" for t in ("billing", "callbacks", "tickets", "visits") for c in ("email", "sms")]


@dataclass
class Places:
    places: dict[str, CustomerPlace] = field(default_factory=dict)

    def get(self, customer_id: str) -> CustomerPlace | None:
        return self.places.get(customer_id)


def service(store: InMemoryPreferences, places: Places | None = None) -> Unsubscribe:
    return Unsubscribe(
        key=KEY, store=store, business_name="Example Co", languages=("en", "es"), places=places
    )


def post(store: InMemoryPreferences, pairs: list[tuple[str, str]], **options: str) -> Response:
    body = urlencode(pairs).encode()
    return service(store).unsubscribe(TOKEN, read_fields(body, FORM), now=NOW, **options)


def saving(*boxes: str, language: str = "", pause: str = "keep") -> list[tuple[str, str]]:
    return [
        ("action", "save"),
        *(("receive", box) for box in boxes),
        ("language", language),
        ("pause", pause),
    ]


class Page(HTMLParser):
    """What a browser and a screen reader get from the HTML: its parts, by tag."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def checked(self) -> set[str]:
        return {str(a["value"]) for a in self.all("input") if a.get("type") == "checkbox" and "checked" in a}

    def selected(self, select_id: str) -> str | None:
        inside, found = False, None
        for tag, attrs in self.tags:
            if tag == "select":
                inside = attrs.get("id") == select_id
            elif tag == "option" and inside and "selected" in attrs:
                found = attrs.get("value")
        return found


# --------------------------------------------------------------------------------------- GET


def test_get_shows_every_topic_on_every_channel_as_stored_and_changes_nothing() -> None:
    # Given a customer who turned billing off by SMS, and visits off entirely
    store = InMemoryPreferences(
        {
            "cust-1": Preferences(
                "cust-1",
                opted_out_topics=frozenset({"visits"}),
                opted_out_topic_channels=frozenset({"billing:sms"}),
            )
        }
    )

    # When they open a billing email's link
    response = service(store).confirmation_page(TOKEN, now=NOW)

    # Then the boxes say what they receive, billing is where they came from, and nothing changed
    assert response.status == 200
    page = Page(response.body)
    assert page.checked() == set(EVERYTHING) - {"billing:sms", "visits:email", "visits:sms"}
    assert "you came here from one of these" in response.body
    assert re.search(r'<fieldset class="topic current"><legend>Billing notices', response.body)
    assert "Unsubscribe from billing notices" in response.body
    assert store.changes == []


def test_get_is_in_the_language_they_chose_then_their_accounts_then_their_browsers() -> None:
    chose_spanish = InMemoryPreferences({"cust-1": Preferences("cust-1", language="es")})
    account_in_mexico = Places({"cust-1": CustomerPlace("es-MX", "America/Mexico_City")})
    account_in_us = Places({"cust-1": CustomerPlace("en-US", "America/New_York")})

    def lang(response: Response) -> str:
        return re.search(r'<html lang="(\w+)"', response.body)[1]  # type: ignore[index]

    assert lang(service(chose_spanish, account_in_us).confirmation_page(TOKEN, accept_language="en")) == "es"
    assert lang(service(InMemoryPreferences(), account_in_mexico).confirmation_page(TOKEN)) == "es"
    assert (
        lang(service(InMemoryPreferences(), account_in_us).confirmation_page(TOKEN, accept_language="es"))
        == "en"
    )
    assert (
        lang(service(InMemoryPreferences()).confirmation_page(TOKEN, accept_language="es-ES,en;q=0.5"))
        == "es"
    )
    assert lang(service(InMemoryPreferences()).confirmation_page(TOKEN, accept_language="fr, ja")) == "en"
    assert (
        lang(
            service(
                InMemoryPreferences(), Places({"cust-1": CustomerPlace("xx-YY", None)})
            ).confirmation_page(TOKEN)
        )
        == "en"
    )


def test_the_language_menu_names_the_accounts_language_and_selects_the_stored_choice() -> None:
    mexico = Places({"cust-1": CustomerPlace("es-MX", "America/Mexico_City")})

    unset = Page(service(InMemoryPreferences(), mexico).confirmation_page(TOKEN).body)
    english = Page(
        service(InMemoryPreferences({"cust-1": Preferences("cust-1", language="en")}), mexico)
        .confirmation_page(TOKEN)
        .body
    )

    assert unset.selected("language") == ""
    assert "El de mi cuenta (Español)" in unset.text
    assert english.selected("language") == "en"
    assert [a["value"] for a in english.all("option") if a.get("lang")] == ["en", "es"]


def test_a_pause_is_shown_on_the_customers_clock_and_kept_unless_changed() -> None:
    store = InMemoryPreferences(
        {"cust-1": Preferences("cust-1", paused_until=datetime(2026, 12, 1, 13, tzinfo=UTC))}
    )
    places = Places({"cust-1": CustomerPlace("en-US", "America/New_York")})

    page = Page(service(store, places).confirmation_page(TOKEN, now=NOW).body)
    over = Page(service(store, places).confirmation_page(TOKEN, now=datetime(2026, 12, 2, tzinfo=UTC)).body)

    assert "All notices are paused until Dec 1, 2026, 8:00\u202fAM (America/New_York)." in page.text
    assert page.selected("pause") == "keep"
    assert over.selected("pause") == "none"
    assert not [t for t in over.text if "paused until" in t]


def test_a_pause_without_a_known_clock_is_shown_in_utc() -> None:
    store = InMemoryPreferences(
        {"cust-1": Preferences("cust-1", paused_until=datetime(2026, 12, 1, 13, tzinfo=UTC))}
    )
    mistyped = Places({"cust-1": CustomerPlace("es-ES", "Europe/Atlantis")})

    page = service(store, mistyped).confirmation_page(TOKEN, now=NOW).body

    assert "1 dic 2026, 13:00 (UTC)" in page


# -------------------------------------------------------------------------------------- saves


def test_a_save_changes_exactly_what_was_posted_and_records_it() -> None:
    store = InMemoryPreferences()

    # Untick billing by SMS and every visit box, choose Spanish, pause a week
    ticked = [box for box in EVERYTHING if box not in {"billing:sms", "visits:email", "visits:sms"}]
    response = post(store, saving(*ticked, language="es", pause="1w"))

    assert response.status == 200
    saved = store.get("cust-1")
    assert saved.opted_out_topics == {"visits"}
    assert saved.opted_out_topic_channels == {"billing:sms"}
    assert saved.opted_out_channels == frozenset()
    assert saved.language == "es"
    assert saved.paused_until == NOW + timedelta(days=7)
    assert store.changes == [
        ("cust-1", "billing by sms: off", "preference_page"),
        ("cust-1", "visits by email: off", "preference_page"),
        ("cust-1", "visits by sms: off", "preference_page"),
        ("cust-1", f"paused until {(NOW + timedelta(days=7)).isoformat()}", "preference_page"),
        ("cust-1", "language: es", "preference_page"),
    ]
    # The answer is the page again, in the language just chosen, saying it is saved
    assert '<html lang="es"' in response.body
    assert "Sus preferencias se han guardado." in response.body
    assert Page(response.body).checked() == set(ticked)


def test_saving_the_same_choices_again_changes_nothing() -> None:
    store = InMemoryPreferences()
    choices = saving(*EVERYTHING[2:], pause="1d")

    first, second = post(store, choices), post(store, choices)

    assert (first.status, second.status) == (200, 200)
    assert len(store.changes) == 3  # billing by email, billing by sms, the pause: once
    assert "Nothing to change: these were already your choices." in second.body


def test_saving_the_page_as_shown_changes_nothing() -> None:
    store = InMemoryPreferences({"cust-1": Preferences("cust-1", opted_out_channels=frozenset({"sms"}))})
    shown = Page(service(store).confirmation_page(TOKEN, now=NOW).body)

    post(store, saving(*sorted(shown.checked()), language="", pause=str(shown.selected("pause"))))

    assert store.changes == []


@pytest.mark.parametrize(
    "pairs",
    [
        saving("billing:fax"),
        saving(language="fr"),
        saving(pause="forever"),
        [*saving(), ("shadow", "1")],
        [*saving(), ("language", "es")],
        saving(language="🙂"),
        saving(language="\u202eאבג"),
        [("action", "save")],
    ],
)
def test_a_refused_save_changes_nothing_and_shows_the_page_again_with_why(
    pairs: list[tuple[str, str]],
) -> None:
    store = InMemoryPreferences({"cust-1": Preferences("cust-1", opted_out_topics=frozenset({"tickets"}))})

    response = post(store, pairs)

    assert response.status == 400
    assert store.changes == []
    assert store.get("cust-1") == Preferences("cust-1", opted_out_topics=frozenset({"tickets"}))
    assert '<div class="problems" role="alert"><h2>Nothing was changed</h2>' in response.body
    assert 'name="confirm" value="yes"' in response.body


def test_a_huge_body_is_413_and_changes_nothing() -> None:
    store = InMemoryPreferences()
    body = urlencode([*saving(*EVERYTHING), ("receive", "x" * 10_000)]).encode()

    response = service(store).unsubscribe(TOKEN, read_fields(body, FORM), now=NOW, accept_language="es")

    assert response.status == 413
    assert store.changes == []
    assert '<html lang="es"' in response.body


@pytest.mark.parametrize("token", list(bad_tokens().values()))
def test_a_save_with_a_bad_link_gets_the_same_404_and_changes_nothing(token: str) -> None:
    store = InMemoryPreferences()

    response = service(store).unsubscribe(token, read_fields(urlencode(saving()).encode(), FORM), now=NOW)

    assert (response.status, response.body) == (404, service(store).invalid_link().body)
    assert store.changes == []


def test_one_click_still_opts_out_of_the_links_topic_after_a_save() -> None:
    store = InMemoryPreferences()
    post(store, saving(*EVERYTHING, language="es"))

    response = service(store).unsubscribe(TOKEN, read_fields(ONE_CLICK, FORM), now=NOW)

    assert response.status == 200
    assert store.get("cust-1").opted_out_topics == {"billing"}
    assert store.get("cust-1").language == "es"
    assert store.changes[-1] == ("cust-1", "billing", "one_click")


def test_the_big_buttons_answer_is_in_the_pages_language() -> None:
    store = InMemoryPreferences()

    response = post(store, [("confirm", "yes"), ("lang", "es")])

    assert response.status == 200
    assert '<html lang="es"' in response.body
    assert "ya no le enviará avisos de facturación" in response.body
    assert store.changes == [("cust-1", "billing", "unsubscribe_page")]


# -------------------------------------------------------------------------------------- the HTML


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_control_has_a_label_and_the_grid_is_fieldsets_with_legends(language: str) -> None:
    store = InMemoryPreferences({"cust-1": Preferences("cust-1", paused_until=NOW + timedelta(days=1))})
    body = service(store).confirmation_page(TOKEN, now=NOW, accept_language=language).body
    page = Page(body)

    controls = [a for a in page.all("input") if a.get("type") != "hidden"] + page.all("select")
    labelled = {a.get("for") for a in page.all("label")}
    assert controls
    assert all(control.get("id") in labelled for control in controls)
    assert len(page.all("fieldset")) == 5
    assert body.count("<legend>") == 5
    assert all(button.get("type") == "submit" for button in page.all("button"))
    assert [t for t, _ in page.tags].count("h1") == 1
    assert page.all("script") == page.all("img") == page.all("link") == []
    assert f'<html lang="{language}">' in body


def test_the_stylesheet_is_the_one_the_content_security_policy_allows() -> None:
    body = service(InMemoryPreferences()).confirmation_page(TOKEN).body
    style = re.search(r"<style>(.*?)</style>", body, re.S)[1]  # type: ignore[index]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()

    assert style == STYLE
    assert f"style-src 'sha256-{digest}'" in PAGE_HEADERS["Content-Security-Policy"]
    assert "default-src 'none'" in PAGE_HEADERS["Content-Security-Policy"]


def test_values_from_outside_are_escaped_everywhere() -> None:
    hostile = '<script>alert("x")</script> {business} & Co'
    store = InMemoryPreferences({"cust-1": Preferences("cust-1", language='"><script>')})
    unsubscribe = Unsubscribe(key=KEY, store=store, business_name=hostile, languages=("en", "es"))

    body = unsubscribe.confirmation_page(TOKEN, now=NOW).body

    assert "<script>" not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; {business} &amp; Co" in body


def test_blanks_are_filled_once_so_braces_in_a_value_stay_as_written() -> None:
    assert (
        fill("{business} will stop {topic}", business="{topic} Inc", topic="bills")
        == "{topic} Inc will stop bills"
    )
