"""A notice as rendered for one channel: what is handed to SES, SNS SMS or the team topic."""

from dataclasses import dataclass


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class RenderedSms:
    text: str


@dataclass(frozen=True)
class RenderedEscalation:
    subject: str  # SNS: ASCII, at most 100 characters, one line
    body: str  # JSON: the notice's facts, plus a one-paragraph summary for people reading it
