"""What a customer chose, as PreferencesTable keeps it, and what it means for a notice. Pure.

Opt-outs come at three widths: a whole topic (billing, callbacks, tickets, visits: the one-click
link), a whole channel (email, SMS), or one topic on one channel ("billing by SMS", from the
preference page). A customer receives a topic on a channel when none of the three says otherwise.
On top of that: a pause (every notice skipped until a time), a preferred language (notices in it
rather than in their account's locale), and an email address suppressed after a bounce or complaint.

An item written before the preference page existed has only the first two widths and the
suppressed address; read here, it means exactly what it meant before.
"""

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final

from babel import Locale, UnknownLocaleError

from headsup.domain.channels import Channel
from headsup.domain.kinds import Topic

TOPICS: Final = tuple(Topic)
CHANNELS: Final = tuple(Channel)
# The history kept on the item: enough to answer "why did they stop getting bills?" for years of
# ordinary use, and a bound a replayed or scripted request cannot grow past (400 KB item limit).
MAX_CHANGES: Final = 50


class ChangeSource(StrEnum):
    """Where a change came from; stored with it (`changes[].source`, `last_change`)."""

    ONE_CLICK = "one_click"  # a mail client's RFC 8058 button
    UNSUBSCRIBE_PAGE = "unsubscribe_page"  # the one-button "unsubscribe from <topic>" on our page
    PREFERENCE_PAGE = "preference_page"  # the choices saved on our page
    SMS_KEYWORD = "sms_keyword"  # STOP and the like, replied to an SMS
    BOUNCE = "bounce"  # SES: the address bounced for good
    COMPLAINT = "complaint"  # SES: the recipient marked a notice as spam


class Pause(StrEnum):
    """The pause choices offered: keep what is set, none, or for a fixed length from now."""

    KEEP = "keep"
    NONE = "none"
    DAY = "1d"
    WEEK = "1w"
    MONTH = "1m"


PAUSE_LENGTHS: Final = {
    Pause.DAY: timedelta(days=1),
    Pause.WEEK: timedelta(days=7),
    Pause.MONTH: timedelta(days=30),
}


def topic_channel(topic: str, channel: str) -> str:
    """How one topic on one channel is written in `opted_out_topic_channels`: `billing:sms`."""
    return f"{topic}:{channel}"


_KNOWN_PAIRS: Final = frozenset(topic_channel(t, c) for t in TOPICS for c in CHANNELS)


@dataclass(frozen=True)
class Choices:
    """What the customer asked for on the preference page, validated."""

    receive: frozenset[tuple[Topic, Channel]]  # the boxes ticked: every other one is off
    language: str | None  # None: their account's language
    pause: Pause


@dataclass(frozen=True)
class Change:
    """One entry of the item's history: when, from where, and what changed (no personal data)."""

    at: datetime
    source: str
    what: tuple[str, ...]


@dataclass(frozen=True)
class Preferences:
    customer_id: str
    opted_out_topics: frozenset[str] = frozenset()
    opted_out_channels: frozenset[str] = frozenset()
    suppressed_email: str | None = None  # personal data: never logged
    opted_out_topic_channels: frozenset[str] = frozenset()  # `billing:sms`...
    paused_until: datetime | None = None
    language: str | None = None  # "es": notices in this language; None: the account's locale

    def email_suppressed(self, address: str | None) -> bool:
        return (
            bool(address)
            and self.suppressed_email is not None
            and (self.suppressed_email.strip().lower() == (address or "").strip().lower())
        )

    def receives(self, topic: str, channel: str) -> bool:
        """One box of the preference page: does this topic come to them on this channel?"""
        return (
            topic not in self.opted_out_topics
            and channel not in self.opted_out_channels
            and topic_channel(topic, channel) not in self.opted_out_topic_channels
        )

    def channels_off_for(self, topic: str) -> frozenset[str]:
        """The channels the customer turned off for this topic alone."""
        return frozenset(c for c in CHANNELS if topic_channel(topic, c) in self.opted_out_topic_channels)

    def paused_at(self, now: datetime) -> datetime | None:
        """When their pause ends, if it has not yet."""
        if self.paused_until is None or now >= self.paused_until:
            return None
        return self.paused_until

    def choosing(self, choices: Choices, now: datetime) -> "Preferences":
        """The preferences once `choices` are saved, written the one way they can be.

        A topic with every box off is stored as a topic opt-out, a channel with every box off as a
        channel opt-out (so the ledger says `opted_out_topic` rather than `no_channel`, and a topic
        added later is not sent on a channel they turned off everywhere); the boxes left are stored
        one by one. Entries headsup does not know (written by the business) are kept as they are.
        The same choices therefore always give the same item, whatever it was before: a repeated
        save changes nothing.
        """
        off = {(t, c) for t in TOPICS for c in CHANNELS} - choices.receive
        topics = {t for t in TOPICS if all((t, c) in off for c in CHANNELS)}
        channels = {c for c in CHANNELS if all((t, c) in off for t in TOPICS)}
        pairs = {topic_channel(t, c) for t, c in off if t not in topics and c not in channels}
        return replace(
            self,
            opted_out_topics=frozenset(topics) | (self.opted_out_topics - set(TOPICS)),
            opted_out_channels=frozenset(channels) | (self.opted_out_channels - set(CHANNELS)),
            opted_out_topic_channels=frozenset(pairs) | (self.opted_out_topic_channels - _KNOWN_PAIRS),
            paused_until=_pause_end(choices.pause, self.paused_until, now),
            language=choices.language,
        )


def _pause_end(pause: Pause, current: datetime | None, now: datetime) -> datetime | None:
    if pause is Pause.KEEP:
        return current
    if pause is Pause.NONE:
        return None
    # Rounded up to the hour, so saving the same choice twice in a row (a double click, a resend)
    # gives the same time and changes nothing.
    end = now.astimezone(UTC) + PAUSE_LENGTHS[pause]
    return datetime.fromtimestamp(math.ceil(end.timestamp() / 3600) * 3600, tz=UTC)


def changes_between(before: Preferences, after: Preferences, now: datetime) -> tuple[str, ...]:
    """What a customer would notice changed, in words for the history (no personal data). Only
    what they receive counts: the same choices written another way are no change."""
    what = [
        f"{t} by {c}: {'on' if after.receives(t, c) else 'off'}"
        for t in TOPICS
        for c in CHANNELS
        if before.receives(t, c) != after.receives(t, c)
    ]
    paused_before, paused_after = before.paused_at(now), after.paused_at(now)
    if paused_after != paused_before:
        what.append("pause ended" if paused_after is None else f"paused until {paused_after.isoformat()}")
    if after.language != before.language:
        what.append(f"language: {after.language or 'account default'}")
    return tuple(what)


def effective_locale(customer_locale: str, preferences: Preferences) -> str:
    """The locale a customer's notices are written in: the language they chose on the preference
    page, with their account's region where that pair exists ("es" for an en-US customer gives
    es-US: Spanish words, US dates and amounts); else their account's locale, unchanged.

    A language that is not a locale at all (a typo the business wrote) is ignored.
    """
    language = (preferences.language or "").strip().lower()
    if not language:
        return customer_locale
    try:
        current = Locale.parse(customer_locale, sep="-")
        chosen = Locale.parse(language)
    except (ValueError, UnknownLocaleError):
        return customer_locale
    if chosen.language == current.language:
        return customer_locale
    if current.territory:
        try:
            return str(Locale.parse(f"{chosen.language}_{current.territory}")).replace("_", "-")
        except UnknownLocaleError:
            pass
    return chosen.language
