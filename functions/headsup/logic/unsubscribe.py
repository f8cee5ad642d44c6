"""The page behind every unsubscribe link: unsubscribe from one topic at once, or choose what to
receive and how, in which language, and pause everything for a while.

Requests to `/unsubscribe/{token}`, the signed link in every email (RFC 8058 one-click):

* GET shows the customer's preferences: every topic on every channel as a checkbox, the link's
  topic highlighted with one big "unsubscribe" button, the language of their notices, and a
  pause. It changes nothing, because mail scanners and link previewers fetch every URL in a
  message: a GET that unsubscribed would unsubscribe customers who never asked.
* POST with the body `List-Unsubscribe=One-Click` (a mail client's button, RFC 8058) or our big
  button's `confirm=yes` opts the customer out of the token's topic at once and answers 200 with
  a short page: RFC 8058 clients do not follow redirects, so there is none.
* POST `action=save` saves the page's choices. They are validated strictly: any field, value or
  repetition the page does not send gets 400 and the page again, with nothing changed; a body
  larger than any form of ours gets 413. Saving the same choices twice changes nothing.

Each change is recorded in PreferencesTable with its time and source (`one_click`,
`unsubscribe_page`, `preference_page`). A link that does not verify (tampered, truncated, signed
with another key, or naming a topic we do not have) gets the same 404 page whatever the reason,
so the endpoint tells a prober nothing. The token is never logged; the customer id and topic it
carries are ids, and are.

No AWS here: the handler passes the signing key and the adapters in.
"""

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale

from headsup.adapters.customers import CustomerPlace, CustomerPlaces
from headsup.adapters.preferences import PreferenceEditor
from headsup.domain import unsubscribe_tokens as tokens
from headsup.domain.kinds import Topic
from headsup.domain.preferences import ChangeSource, Preferences
from headsup.logic.preference_form import MAX_FORM_BYTES, Form, Problem, read_choices, read_fields
from headsup.logic.preference_page import (
    PAGE_HEADERS,
    PageView,
    Response,
    done_page,
    fill,
    message_page,
    preferences_page,
)
from headsup.logic.preference_words import (
    BASE_LANGUAGE,
    Words,
    accepted_languages,
    language_of,
    offered_languages,
    page_words,
)
from headsup.platform.observability import logger, metrics
from headsup.rendering.formatting import LocaleFormatter

__all__ = [
    "MAX_FORM_BYTES",
    "MAX_TOKEN_LENGTH",
    "PAGE_HEADERS",
    "Action",
    "Response",
    "Unsubscribe",
    "read_form",
    "requested_action",
]

# Tokens we sign are ~100 characters; anything far longer is not one of ours and is refused
# before any work is done on it.
MAX_TOKEN_LENGTH: Final = 512
_TOPICS: Final = frozenset(topic.value for topic in Topic)


class Action(StrEnum):
    """What a POST asks for; the value is the change's source (`ChangeSource`)."""

    ONE_CLICK = "one_click"  # a mail client's RFC 8058 button
    CONFIRMATION_PAGE = "unsubscribe_page"  # the big button on our page
    SAVE = "preference_page"  # the choices saved on our page


def read_form(body: bytes, content_type: str | None) -> dict[str, str]:
    """The fields of a form POST, names lower-cased, first value of each; anything unreadable is
    an empty form."""
    return read_fields(body, content_type).first_values()


def requested_action(form: Mapping[str, str]) -> Action | None:
    if form.get("list-unsubscribe", "").strip().lower() == "one-click":
        return Action.ONE_CLICK
    if form.get("confirm", "").strip().lower() == "yes":
        return Action.CONFIRMATION_PAGE
    if form.get("action") == "save":
        return Action.SAVE
    return None


@dataclass(frozen=True)
class _Visit:
    """One verified request: whose link, when, and the languages the browser asked for."""

    request: tokens.UnsubscribeRequest
    now: datetime
    accept_language: str | None


class Unsubscribe:
    def __init__(
        self,
        *,
        key: bytes,
        store: PreferenceEditor,
        business_name: str,
        languages: tuple[str, ...] = (BASE_LANGUAGE,),
        places: CustomerPlaces | None = None,
    ) -> None:
        """`languages`: those headsup writes notices in (`template_languages`); `places`: where
        the customer's account locale and timezone are read, when the function may."""
        self._key = key
        self._store = store
        self._business = business_name
        self._languages = languages
        self._places = places

    def confirmation_page(
        self, token: str, *, now: datetime | None = None, accept_language: str | None = None
    ) -> Response:
        """GET: the preference page; change nothing."""
        request = self._verify(token)
        if request is None:
            return self.invalid_link(accept_language)
        page = self._page(_Visit(request, now or datetime.now(UTC), accept_language))
        logger.info("Preference page shown", extra=_ids(request))
        metrics.add_metric(name="PreferencePagesShown", unit="Count", value=1)
        return Response(200, page)

    def unsubscribe(
        self, token: str, form: Mapping[str, str] | Form, *, now: datetime, accept_language: str | None = None
    ) -> Response:
        """POST: one-click, the big button, or the page's choices. Repeating any changes nothing more."""
        request = self._verify(token)
        if request is None:
            return self.invalid_link(accept_language)
        visit = _Visit(request, now, accept_language)
        fields = form if isinstance(form, Form) else Form.of(form)
        if fields.too_large:
            logger.warning("Preference POST too large; nothing changed", extra=_ids(request))
            words = page_words(*accepted_languages(accept_language))
            return Response(413, message_page(words, words.too_large_title, [words.too_large_body]))
        action = requested_action(fields.first_values())
        if action is Action.SAVE:
            return self._save(visit, fields)
        if action is not None:
            return self._opt_out(visit, action, fields)
        # Neither the one-click body, nor one of our forms: change nothing, offer the page.
        logger.warning("Unsubscribe POST without a recognised form; nothing changed", extra=_ids(request))
        return Response(400, self._page(visit, problems=(Problem.NO_ACTION,)))

    def invalid_link(self, accept_language: str | None = None) -> Response:
        """The one answer to every link that does not verify, whatever the reason."""
        words = page_words(*accepted_languages(accept_language))
        help_text = fill(words.help, business=self._business)
        return Response(404, message_page(words, words.invalid_title, [words.invalid_body, help_text]))

    def method_not_allowed(self, accept_language: str | None = None) -> Response:
        words = page_words(*accepted_languages(accept_language))
        return Response(
            405,
            message_page(words, words.not_allowed_title, [words.not_allowed_body]),
            headers={**PAGE_HEADERS, "Allow": "GET, POST"},
        )

    def unavailable(self, accept_language: str | None = None) -> Response:
        words = page_words(*accepted_languages(accept_language))
        return Response(
            503,
            message_page(words, words.unavailable_title, [words.unavailable_body]),
            headers={**PAGE_HEADERS, "Retry-After": "60"},
        )

    def _opt_out(self, visit: _Visit, action: Action, form: Form) -> Response:
        """Out of the token's topic, with no read first: a one-click client only waits for the 200."""
        request = visit.request
        self._store.opt_out_topic(request.customer_id, request.topic, source=action.value, now=visit.now)
        logger.info("Customer unsubscribed from a topic", extra={**_ids(request), "source": action.value})
        metrics.add_metric(name="Unsubscribes", unit="Count", value=1)
        # Our button says which language its page was in; a mail client may say nothing.
        words = page_words(form.first_values().get("lang"), *accepted_languages(visit.accept_language))
        return Response(200, done_page(words, self._business, Topic(request.topic)))

    def _save(self, visit: _Visit, form: Form) -> Response:
        request = visit.request
        current = self._store.get(request.customer_id)
        choices = read_choices(form, languages=offered_languages(self._languages, current.language))
        if isinstance(choices, list):
            logger.warning(
                "Preference form refused; nothing changed", extra={**_ids(request), "problems": choices}
            )
            metrics.add_metric(name="PreferenceFormsRefused", unit="Count", value=1)
            return Response(400, self._page(visit, problems=tuple(choices), preferences=current))
        saved = self._store.change(
            request.customer_id,
            lambda preferences: preferences.choosing(choices, visit.now),
            source=ChangeSource.PREFERENCE_PAGE,
            now=visit.now,
        )
        # How many things changed, never which: preferences are the customer's own business.
        logger.info("Preferences saved", extra={**_ids(request), "changes": len(saved.what)})
        metrics.add_metric(name="PreferencesSaved", unit="Count", value=1)
        return Response(200, self._page(visit, saved=saved.what, preferences=saved.preferences))

    def _page(
        self,
        visit: _Visit,
        *,
        saved: tuple[str, ...] | None = None,
        problems: tuple[Problem, ...] = (),
        preferences: Preferences | None = None,
    ) -> str:
        """The preference page in the customer's language: the one they chose, else their
        account's, else their browser's, else English."""
        customer_id = visit.request.customer_id
        preferences = preferences or self._store.get(customer_id)
        place = self._places.get(customer_id) if self._places is not None else None
        account_locale = _account_locale(place)
        words = page_words(preferences.language, account_locale, *accepted_languages(visit.accept_language))
        view = PageView(
            words=words,
            business=self._business,
            topic=Topic(visit.request.topic),
            preferences=preferences,
            languages=offered_languages(self._languages, preferences.language),
            account_language=language_of(account_locale),
            paused_until=_pause_text(preferences.paused_at(visit.now), words, account_locale, place),
            saved=saved,
            problems=problems,
        )
        return preferences_page(view)

    def _verify(self, token: str) -> tokens.UnsubscribeRequest | None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return self._rejected("malformed token")
        try:
            request = tokens.verify(self._key, token)
        except tokens.InvalidToken as exc:
            # The reason is one of a few fixed phrases; the token itself is never logged.
            return self._rejected(str(exc))
        if not request.customer_id:
            return self._rejected("no customer id")
        if request.topic not in _TOPICS:
            # Signed by us, so the ids are ours to log; but there is nothing to opt out of.
            logger.warning(
                "Unsubscribe token names an unknown topic",
                extra={"customer_id": request.customer_id, "topic": request.topic[:64]},
            )
            metrics.add_metric(name="InvalidUnsubscribeLinks", unit="Count", value=1)
            return None
        return request

    @staticmethod
    def _rejected(reason: str) -> None:
        logger.warning("Invalid unsubscribe token", extra={"reason": reason})
        metrics.add_metric(name="InvalidUnsubscribeLinks", unit="Count", value=1)
        return None


def _ids(request: tokens.UnsubscribeRequest) -> dict[str, str]:
    return {"customer_id": request.customer_id, "topic": request.topic}


def _account_locale(place: CustomerPlace | None) -> str | None:
    """The customer's account locale if the business wrote one Babel knows."""
    locale = None if place is None else place.locale
    return locale if language_of(locale) is not None else None


def _pause_text(
    until: datetime | None, words: Words, account_locale: str | None, place: CustomerPlace | None
) -> str | None:
    """When the pause ends, on the customer's clock (UTC when we do not know it), named, in the
    page's language with their region's conventions when the account is in that language too."""
    if until is None:
        return None
    zone = ZoneInfo("UTC")
    if place is not None and place.timezone:
        # A timezone the business mistyped leaves UTC, named as such.
        with contextlib.suppress(ValueError, ZoneInfoNotFoundError):
            zone = ZoneInfo(place.timezone)
    locale = Locale(words.lang)
    if account_locale is not None and language_of(account_locale) == words.lang:
        locale = Locale.parse(account_locale.replace("-", "_"))
    return f"{LocaleFormatter(locale, zone).datetime(until)} ({zone.key})"
