"""What a customer chose: the topics and channels they opted out of, and a suppressed email address
(after a bounce or complaint)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Preferences:
    customer_id: str
    opted_out_topics: frozenset[str] = frozenset()
    opted_out_channels: frozenset[str] = frozenset()
    suppressed_email: str | None = None  # personal data: never logged

    def email_suppressed(self, address: str | None) -> bool:
        return (
            bool(address)
            and self.suppressed_email is not None
            and (self.suppressed_email.strip().lower() == (address or "").strip().lower())
        )
