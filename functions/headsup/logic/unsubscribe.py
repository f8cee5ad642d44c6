"""Unsubscribing from one topic through the signed link in every email (RFC 8058 one-click).

Two requests reach the same URL, `/unsubscribe/{token}`:

* POST is the unsubscribe. Mail clients send it with the body `List-Unsubscribe=One-Click` when
  the reader presses their "Unsubscribe" button (RFC 8058); our own confirmation page sends
  `confirm=yes`. Either opts the customer out of the token's topic at once and answers 200 with
  a short page: RFC 8058 clients do not follow redirects, so there is none.
* GET only shows a confirmation page with a button that POSTs. It changes nothing, because mail
  scanners and link previewers fetch every URL in a message: a GET that unsubscribed would
  unsubscribe customers who never asked.

A link that does not verify (tampered, truncated, signed with another key, or naming a topic we
do not have) gets the same 404 page whatever the reason, so the endpoint tells a prober nothing.
The token is never logged; the customer id and topic it carries are ids, and are.

No AWS here: the handler passes the signing key and a PreferenceStore in.
"""

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.errors import MessageError
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value
from enum import StrEnum
from typing import Final
from urllib.parse import parse_qsl

from headsup.adapters.preferences import PreferenceStore
from headsup.domain import unsubscribe_tokens as tokens
from headsup.domain.kinds import Topic
from headsup.platform.observability import logger, metrics

# What the customer is told they are leaving, in plain words.
TOPIC_DESCRIPTIONS: Final[Mapping[Topic, str]] = {
    Topic.BILLING: "billing notices (changes to your bill)",
    Topic.CALLBACKS: "callback notices (when a call we promised you is running late)",
    Topic.TICKETS: "support ticket updates",
    Topic.VISITS: "visit updates (technician on the way, running late, visit done)",
}

# Tokens we sign are ~100 characters; anything far longer is not one of ours and is refused
# before any work is done on it.
MAX_TOKEN_LENGTH: Final = 512
# The one-click body is 26 bytes and the confirmation form's 11; a form is never this large.
MAX_FORM_BYTES: Final = 4096
_MAX_FORM_FIELDS: Final = 20

PAGE_HEADERS: Final[Mapping[str, str]] = {
    "Content-Type": "text/html; charset=utf-8",
    # The page is about one customer's link: no browser or proxy may keep it.
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    # The URL holds the token: never send it on as a Referer.
    "Referrer-Policy": "no-referrer",
    # No scripts, styles or images; the form may only post back here; no page may frame ours
    # (a framed one-button page invites clickjacking).
    "Content-Security-Policy": (
        "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
}


class Action(StrEnum):
    """Which kind of POST asked to unsubscribe; stored as the opt-out's `last_change` source."""

    ONE_CLICK = "one_click"  # a mail client's RFC 8058 button
    CONFIRMATION_PAGE = "unsubscribe_page"  # the button on our GET page


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    headers: Mapping[str, str] = field(default_factory=lambda: dict(PAGE_HEADERS))


def read_form(body: bytes, content_type: str | None) -> dict[str, str]:
    """The fields of a form POST, names lower-cased, first value of each.

    RFC 8058 says the one-click POST SHOULD be multipart/form-data and MAY be
    application/x-www-form-urlencoded, so both are read. Anything unreadable is an empty form.
    """
    if len(body) > MAX_FORM_BYTES:
        return {}
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type == "multipart/form-data":
        return _read_multipart(body, content_type or "")
    try:
        pairs = parse_qsl(
            body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=_MAX_FORM_FIELDS
        )
    except ValueError:  # more fields than any of our forms has
        return {}
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name.strip().lower(), value)
    return form


def _read_multipart(body: bytes, content_type: str) -> dict[str, str]:
    try:
        message = BytesParser(policy=policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("ascii") + b"\r\n\r\n" + body
        )
        if not message.is_multipart():
            return {}
        form: dict[str, str] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if name is None or not isinstance(payload, bytes) or len(form) >= _MAX_FORM_FIELDS:
                continue
            key = collapse_rfc2231_value(name).strip().lower()
            form.setdefault(key, payload.decode("utf-8", errors="replace").strip())
        return form
    except (MessageError, UnicodeError, ValueError, LookupError):
        return {}


def requested_action(form: Mapping[str, str]) -> Action | None:
    if form.get("list-unsubscribe", "").strip().lower() == "one-click":
        return Action.ONE_CLICK
    if form.get("confirm", "").strip().lower() == "yes":
        return Action.CONFIRMATION_PAGE
    return None


class Unsubscribe:
    def __init__(self, *, key: bytes, store: PreferenceStore, business_name: str) -> None:
        self._key = key
        self._store = store
        self._business = business_name

    def confirmation_page(self, token: str) -> Response:
        """GET: ask; change nothing."""
        request = self._verify(token)
        if request is None:
            return self.invalid_link()
        logger.info("Unsubscribe confirmation shown", extra=_ids(request))
        metrics.add_metric(name="UnsubscribeConfirmationsShown", unit="Count", value=1)
        return Response(200, self._confirmation_html(request.topic, retry=False))

    def unsubscribe(self, token: str, form: Mapping[str, str], *, now: datetime) -> Response:
        """POST: opt the customer out of the token's topic. Repeating it changes nothing more."""
        request = self._verify(token)
        if request is None:
            return self.invalid_link()
        action = requested_action(form)
        if action is None:
            # A POST that is neither the one-click body nor our button: change nothing, offer the button.
            logger.warning("Unsubscribe POST without a recognised form; nothing changed", extra=_ids(request))
            return Response(400, self._confirmation_html(request.topic, retry=True))
        self._store.opt_out_topic(request.customer_id, request.topic, source=action.value, now=now)
        logger.info("Customer unsubscribed from a topic", extra={**_ids(request), "source": action.value})
        metrics.add_metric(name="Unsubscribes", unit="Count", value=1)
        return Response(200, self._done_html(request.topic))

    def invalid_link(self) -> Response:
        """The one answer to every link that does not verify, whatever the reason."""
        return Response(
            404,
            _page(
                "Link not valid",
                "<p>This unsubscribe link is not valid. It may have been cut short: try copying the"
                " whole link from the email, or use the unsubscribe option in your mail app.</p>"
                f"<p>Nothing was changed. If you need help, contact {self._esc(self._business)}.</p>",
            ),
        )

    def method_not_allowed(self) -> Response:
        return Response(
            405,
            _page("Not allowed", "<p>This address only answers to GET and POST.</p>"),
            headers={**PAGE_HEADERS, "Allow": "GET, POST"},
        )

    def unavailable(self) -> Response:
        return Response(
            503,
            _page(
                "Please try again",
                "<p>We could not record your request just now. Please try again in a few minutes.</p>",
            ),
            headers={**PAGE_HEADERS, "Retry-After": "60"},
        )

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
        if request.topic not in TOPIC_DESCRIPTIONS:
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

    def _confirmation_html(self, topic: str, *, retry: bool) -> str:
        intro = "<p>Nothing was changed yet.</p>" if retry else ""
        return _page(
            "Unsubscribe",
            f"{intro}<p>Stop receiving {self._esc(TOPIC_DESCRIPTIONS[Topic(topic)])}"
            f" from {self._esc(self._business)}?</p>"
            "<p>Other notices are not affected.</p>"
            # No action attribute: the form posts back to this very URL, token included.
            '<form method="post"><input type="hidden" name="confirm" value="yes">'
            '<button type="submit">Unsubscribe</button></form>',
        )

    def _done_html(self, topic: str) -> str:
        return _page(
            "Unsubscribed",
            f"<p>You are unsubscribed. {self._esc(self._business)} will no longer send you"
            f" {self._esc(TOPIC_DESCRIPTIONS[Topic(topic)])}.</p>"
            "<p>Other notices are not affected.</p>",
        )

    @staticmethod
    def _esc(text: str) -> str:
        return html.escape(text, quote=True)


def _ids(request: tokens.UnsubscribeRequest) -> dict[str, str]:
    return {"customer_id": request.customer_id, "topic": request.topic}


def _page(title: str, body_html: str) -> str:
    """A whole page around `body_html`, which callers build from escaped text only."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{html.escape(title)}</title></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{body_html}</main></body></html>"
    )
