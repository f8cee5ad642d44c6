"""The pages behind every unsubscribe link, as HTML: the preference page, the "unsubscribed" page,
and the short pages for a bad link, a refused request or a failure.

Plain semantic HTML that works without JavaScript: every control has a label, the grid of topics
and channels is a fieldset of fieldsets with legends, the page declares its language, and nothing
is told by colour alone (the topic the customer came from is named in its legend, problems are
under a heading). One small stylesheet, allowed by its hash in the Content-Security-Policy; no
scripts, images or anything else fetched. Every value put in a page is escaped here.
"""

import base64
import hashlib
import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from headsup.domain.channels import Channel
from headsup.domain.kinds import Topic
from headsup.domain.preferences import CHANNELS, TOPICS, Pause, Preferences, topic_channel
from headsup.logic.preference_form import Problem
from headsup.logic.preference_words import Words, language_name

# Contrast: text #1f2933 and #3e4c59 on white, white on #1a4f8b, all above 7:1 (WCAG AAA).
# Touch targets of at least 44 px: most customers open these links on a phone.
STYLE: Final = (
    "body{margin:0;font:1rem/1.5 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
    "color:#1f2933;background:#fff}"
    "main{max-width:40rem;margin:0 auto;padding:1rem}"
    "h1{font-size:1.5rem;line-height:1.25}h2{font-size:1.2rem;line-height:1.3;margin-top:1.5rem}"
    "fieldset{border:1px solid #52606d;border-radius:4px;margin:0 0 1rem;padding:.5rem 1rem 1rem}"
    "legend{font-weight:600;padding:0 .25rem}"
    ".current{border:3px solid #1a4f8b;background:#eef4fb}"
    ".choice{display:flex;align-items:center;gap:.5rem;min-height:44px}"
    "input[type=checkbox]{width:1.5rem;height:1.5rem;margin:0}"
    ".field{margin:1rem 0}.field label{display:block;font-weight:600;margin-bottom:.25rem}"
    "select{font:inherit;min-height:44px;max-width:100%;padding:.25rem;border:1px solid #52606d;"
    "border-radius:4px;background:#fff;color:#1f2933}"
    "button{font:inherit;font-weight:600;min-height:44px;padding:.5rem 1.25rem;border-radius:4px;"
    "cursor:pointer}"
    ".primary{background:#1a4f8b;color:#fff;border:2px solid #1a4f8b;font-size:1.1rem}"
    ".secondary{background:#fff;color:#1a4f8b;border:2px solid #1a4f8b}"
    ":focus-visible{outline:3px solid #1f2933;outline-offset:2px}"
    ".problems{border:3px solid #a61b1b;padding:0 1rem;margin:1rem 0}"
    ".status{border:3px solid #1d6b3a;padding:0 1rem;margin:1rem 0}"
    ".hint{color:#3e4c59}a{color:#1a4f8b}"
)
_BLANK: Final = re.compile(r"\{(\w+)\}")
_STYLE_HASH: Final = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()

PAGE_HEADERS: Final[Mapping[str, str]] = {
    "Content-Type": "text/html; charset=utf-8",
    # The page is about one customer's link: no browser or proxy may keep it.
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    # The URL holds the token: never send it on as a Referer.
    "Referrer-Policy": "no-referrer",
    # No scripts or images; the form may only post back here; no page may frame ours (a framed
    # one-button page invites clickjacking). Styles: the one stylesheet below, by its hash.
    "Content-Security-Policy": (
        "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none';"
        f" style-src 'sha256-{_STYLE_HASH}'"
    ),
    "X-Frame-Options": "DENY",
}


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    headers: Mapping[str, str] = field(default_factory=lambda: dict(PAGE_HEADERS))


@dataclass(frozen=True)
class PageView:
    """Everything the preference page shows, already decided."""

    words: Words
    business: str
    topic: Topic  # the link's: highlighted, and the one the big button unsubscribes from
    preferences: Preferences
    languages: tuple[str, ...]  # offered for notices
    account_language: str | None  # the language of the customer's account, when known
    paused_until: str | None  # written for the reader, while their pause lasts
    saved: tuple[str, ...] | None = None  # answering a save: what changed (empty: nothing)
    problems: tuple[Problem, ...] = ()


def preferences_page(view: PageView) -> str:
    words = view.words
    topic = words.topics[view.topic]
    question = fill(words.unsubscribe_question, topic=topic.full, business=view.business)
    unsubscribe = fill(words.unsubscribe_button, topic=topic.short)
    body = (
        _notes(view)
        + '<section aria-labelledby="unsubscribe-title">'
        + f'<h2 id="unsubscribe-title">{_esc(question)}</h2><p>{_esc(words.not_affected)}</p>'
        # No action attribute: each form posts back to this very URL, token included.
        + '<form method="post"><input type="hidden" name="confirm" value="yes">'
        + f'<input type="hidden" name="lang" value="{_esc(words.lang)}">'
        + f'<button type="submit" class="primary">{_esc(unsubscribe)}</button></form></section>'
        + '<section aria-labelledby="choices-title">'
        + f'<h2 id="choices-title">{_esc(words.choices_title)}</h2>'
        + '<form method="post">'
        + _grid(view)
        + _language_field(view)
        + _pause_field(view)
        + '<button type="submit" class="secondary" name="action" value="save">'
        + f"{_esc(words.save_button)}</button></form></section>"
        + f"<p>{_esc(fill(words.help, business=view.business))}</p>"
    )
    return page(words, fill(words.title, business=view.business), body)


def _notes(view: PageView) -> str:
    """What the last POST did, at the top: the save's result, or why nothing was changed."""
    words = view.words
    if view.problems:
        items = "".join(f"<li>{_esc(words.problems[problem])}</li>" for problem in view.problems)
        return (
            f'<div class="problems" role="alert"><h2>{_esc(words.problems_title)}</h2><ul>{items}</ul></div>'
        )
    if view.saved is not None:
        said = words.saved if view.saved else words.unchanged
        return f'<div class="status" role="status"><p>{_esc(said)}</p></div>'
    return ""


def _grid(view: PageView) -> str:
    words = view.words
    topics = "".join(_topic_fieldset(view, topic) for topic in TOPICS)
    return (
        f"<fieldset><legend>{_esc(words.grid_legend)}</legend>"
        f'<p class="hint">{_esc(words.grid_hint)}</p>{topics}</fieldset>'
    )


def _topic_fieldset(view: PageView, topic: Topic) -> str:
    words, current = view.words, topic is view.topic
    legend = _esc(_capitalised(words.topics[topic].full))
    if current:
        # Said in words, not only by the frame around it.
        legend += f" <strong>({_esc(words.came_from)})</strong>"
    boxes = "".join(_box(view, topic, channel) for channel in CHANNELS)
    css = "topic current" if current else "topic"
    return f'<fieldset class="{css}"><legend>{legend}</legend>{boxes}</fieldset>'


def _box(view: PageView, topic: Topic, channel: Channel) -> str:
    box_id = f"receive-{topic.value}-{channel.value}"
    checked = " checked" if view.preferences.receives(topic, channel) else ""
    return (
        f'<div class="choice"><input type="checkbox" id="{box_id}" name="receive"'
        f' value="{topic_channel(topic, channel)}"{checked}>'
        f'<label for="{box_id}">{_esc(view.words.channels[channel])}</label></div>'
    )


def _language_field(view: PageView) -> str:
    words, stored = view.words, view.preferences.language
    account = (
        fill(words.language_account_named, name=language_name(view.account_language))
        if view.account_language
        else words.language_account
    )
    options = [_option("", account, selected=not stored)]
    options += [
        _option(code, language_name(code), selected=code == stored, lang=code) for code in view.languages
    ]
    return (
        f'<div class="field"><label for="language">{_esc(words.language_label)}</label>'
        f'<select id="language" name="language">{"".join(options)}</select></div>'
    )


def _pause_field(view: PageView) -> str:
    words, until = view.words, view.paused_until
    # While paused, keeping the pause comes first (and is chosen): saving other choices must not end it.
    choices: list[tuple[Pause, str]] = [(Pause.KEEP, words.pauses[Pause.KEEP])] if until else []
    choices.append((Pause.NONE, words.resume if until else words.pauses[Pause.NONE]))
    choices += [(pause, words.pauses[pause]) for pause in (Pause.DAY, Pause.WEEK, Pause.MONTH)]
    options = "".join(
        _option(pause.value, text, selected=index == 0) for index, (pause, text) in enumerate(choices)
    )
    state, described = "", ""
    if until:
        state = f'<p id="pause-state" class="hint">{_esc(fill(words.paused_now, until=until))}</p>'
        described = ' aria-describedby="pause-state"'
    return (
        f'<div class="field"><label for="pause">{_esc(words.pause_label)}</label>'
        f'<select id="pause" name="pause"{described}>{options}</select>{state}</div>'
    )


def done_page(words: Words, business: str, topic: Topic) -> str:
    """After the one-click POST or the big button: unsubscribed from the link's topic."""
    return page(
        words,
        words.done_title,
        f"<p>{_esc(fill(words.done_body, business=business, topic=words.topics[topic].full))}</p>"
        f"<p>{_esc(words.not_affected)}</p>"
        # An empty href is this very URL: a GET, which shows the preference page.
        f'<p><a href="">{_esc(words.change_more)}</a></p>',
    )


def message_page(words: Words, title: str, paragraphs: Iterable[str]) -> str:
    return page(words, title, "".join(f"<p>{_esc(text)}</p>" for text in paragraphs))


def page(words: Words, title: str, body_html: str) -> str:
    """A whole page around `body_html`, which callers build from escaped text only."""
    return (
        f'<!doctype html><html lang="{_esc(words.lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{_esc(title)}</title><style>{STYLE}</style></head>"
        f"<body><main><h1>{_esc(title)}</h1>{body_html}</main></body></html>"
    )


def _option(value: str, text: str, *, selected: bool, lang: str | None = None) -> str:
    attributes = f' value="{_esc(value)}"' + (" selected" if selected else "")
    if lang:
        attributes += f' lang="{_esc(lang)}"'  # read out in its own language
    return f"<option{attributes}>{_esc(text)}</option>"


def fill(template: str, **values: str | None) -> str:
    """A sentence with its `{name}` blanks filled in one pass: braces inside a value (a business
    name, say) are kept as written, never filled in turn."""
    return _BLANK.sub(lambda blank: values.get(blank[1]) or "" if blank[1] in values else blank[0], template)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _esc(text: str) -> str:
    return html.escape(text, quote=True)
