"""Signed unsubscribe links, on the business's own configured base URL only."""

from urllib.parse import quote

from headsup.domain import unsubscribe_tokens as tokens


class UnsubscribeLinks:
    def __init__(self, base_url: str, *, key: bytes) -> None:
        self._base_url = base_url.rstrip("/")
        self._key = key

    def __call__(self, customer_id: str, topic: str) -> str:
        return f"{self._base_url}/unsubscribe/{quote(tokens.sign(self._key, customer_id, topic), safe='')}"
