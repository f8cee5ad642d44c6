"""Form posts to `/unsubscribe/{token}`: reading the body, and validating the preference page's
choices strictly (any field, value or repetition the page does not send: nothing is changed).

RFC 8058 says the one-click POST SHOULD be multipart/form-data and MAY be
application/x-www-form-urlencoded, so both are read; the page itself posts urlencoded.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from email import policy
from email.errors import MessageError
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value
from enum import StrEnum
from typing import Final
from urllib.parse import parse_qsl

from headsup.domain.channels import Channel
from headsup.domain.kinds import Topic
from headsup.domain.preferences import CHANNELS, TOPICS, Choices, Pause, topic_channel

# The one-click body is 26 bytes, the confirmation form's ~20 and the preference form's ~300; a
# form of ours is never this large.
MAX_FORM_BYTES: Final = 4096
# The preference form has at most 8 boxes, a language, a pause and its button.
MAX_FORM_FIELDS: Final = 20

_BOXES: Final = {topic_channel(t, c): (t, c) for t in TOPICS for c in CHANNELS}
_SAVE_FIELDS: Final = frozenset({"action", "receive", "language", "pause"})


class Problem(StrEnum):
    """What is wrong with a POST; logged as is (never the values, which are the client's)."""

    NO_ACTION = "no_action"
    RECEIVE = "receive"
    LANGUAGE = "language"
    PAUSE = "pause"
    UNKNOWN_FIELD = "unknown_field"


@dataclass(frozen=True)
class Form:
    """A POST body's fields in order, names lower-cased; empty when it could not be read."""

    fields: tuple[tuple[str, str], ...] = ()
    too_large: bool = False

    @classmethod
    def of(cls, fields: Mapping[str, str]) -> "Form":
        return cls(tuple((name.strip().lower(), value) for name, value in fields.items()))

    def first_values(self) -> dict[str, str]:
        form: dict[str, str] = {}
        for name, value in self.fields:
            form.setdefault(name, value)
        return form

    def values(self, name: str) -> list[str]:
        return [value for field, value in self.fields if field == name]


def read_fields(body: bytes, content_type: str | None) -> Form:
    """Every field of a form POST. Anything unreadable (or with more fields than any form of ours)
    is an empty form; a body larger than any of ours is not read at all."""
    if len(body) > MAX_FORM_BYTES:
        return Form(too_large=True)
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type == "multipart/form-data":
        return _read_multipart(body, content_type or "")
    try:
        pairs = parse_qsl(
            body.decode("utf-8", errors="replace"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS
        )
    except ValueError:  # more fields than any of our forms has
        return Form()
    return Form(tuple((name.strip().lower(), value) for name, value in pairs))


def _read_multipart(body: bytes, content_type: str) -> Form:
    try:
        message = BytesParser(policy=policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("ascii") + b"\r\n\r\n" + body
        )
        if not message.is_multipart():
            return Form()
        fields: list[tuple[str, str]] = []
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if name is None or not isinstance(payload, bytes):
                continue
            if len(fields) >= MAX_FORM_FIELDS:
                return Form()
            key = collapse_rfc2231_value(name).strip().lower()
            fields.append((key, payload.decode("utf-8", errors="replace").strip()))
        return Form(tuple(fields))
    except (MessageError, UnicodeError, ValueError, LookupError):
        return Form()


def read_choices(form: Form, *, languages: Collection[str]) -> Choices | list[Problem]:
    """The preference page's save (`action=save`), or everything wrong with it.

    The page sends `receive` once per ticked box (`billing:email`...), one `language` (empty for
    "as in my account", or one of `languages`) and one `pause` (a `Pause` value). Anything else,
    a value it does not offer, or a field it sends once sent twice, is refused as a whole.
    """
    problems: list[Problem] = []
    if {name for name, _ in form.fields} - _SAVE_FIELDS:
        problems.append(Problem.UNKNOWN_FIELD)
    if form.values("action") != ["save"]:
        problems.append(Problem.NO_ACTION)
    boxes = form.values("receive")
    if len(set(boxes)) != len(boxes) or not set(boxes) <= _BOXES.keys():
        problems.append(Problem.RECEIVE)
    language = _single(form, "language", {"", *languages})
    if language is None:
        problems.append(Problem.LANGUAGE)
    pause = _single(form, "pause", {p.value for p in Pause})
    if pause is None:
        problems.append(Problem.PAUSE)
    if problems or language is None or pause is None:
        return problems
    receive = frozenset((Topic(_BOXES[box][0]), Channel(_BOXES[box][1])) for box in boxes)
    return Choices(receive=receive, language=language or None, pause=Pause(pause))


def _single(form: Form, name: str, allowed: Collection[str]) -> str | None:
    """The field's one value if it is one of `allowed`; None if it is missing, repeated or other."""
    values = form.values(name)
    if len(values) != 1 or values[0] not in allowed:
        return None
    return values[0]
