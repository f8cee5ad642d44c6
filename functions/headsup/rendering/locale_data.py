"""Keep one locale's CLDR data from leaking into another's (a Babel 2.18 bug), in a warm Lambda.

Babel loads a locale's data as a shallow copy of its parent's, so nested tables (month and day
names by context) are shared with `root`. When it resolves an alias (stand-alone abbreviated
months -> format abbreviated months) it writes the result back into that shared table. After a
Hebrew customer's notice, a French, Spanish, Italian, Portuguese or Dutch customer's "nov." came
out in Hebrew in the same process (python-babel/babel#1234; 41 of 45 locales checked were
affected, 0 once fixed).

The fix resolves aliases without writing back. The write-back also hid a second bug: resolving an
alias that points at a partial table merged with an alias dropped the partial part; resolution
now goes through the same lookup that merges it. Verified against unpatched Babel, each locale
in a fresh process: identical month, day, quarter and era names, date, time and number formats.
Remove when Babel fixes the bug (tests/unit/test_locale_data.py says when).
"""

from typing import Any

from babel.localedata import Alias, LocaleDataDict, merge


def _resolve(self: Alias, data: Any) -> Any:
    """The aliased value, each step through LocaleDataDict so aliases and partial tables on the
    way are resolved and merged (as `Alias.resolve` meant to), never written back."""
    node = data if isinstance(data, LocaleDataDict) else LocaleDataDict(data)
    for key in self.keys:
        node = node[key]
    return node


def _getitem(self: LocaleDataDict, key: str | int | None) -> Any:
    """`LocaleDataDict.__getitem__` without storing what it resolved into data other locales share.

    What it resolved is kept on the wrapper itself instead: a locale's wrappers are its own (made
    from its Locale, with its own `base`), while the dicts they wrap may be shared. Every figure
    Babel formats looks up a dozen keys, which a cached Locale then resolves once."""
    resolved = self.__dict__.get("_resolved")
    if resolved is None:
        resolved = self.__dict__["_resolved"] = {}
    elif key in resolved:
        return resolved[key]
    value = self._data[key]
    if isinstance(value, Alias):
        value = value.resolve(self.base)
    if isinstance(value, tuple):  # a partial table merged with an alias
        alias, others = value
        value = alias.resolve(self.base).copy()
        merge(value, others)
    if isinstance(value, dict):
        value = LocaleDataDict(value, base=self.base)
    resolved[key] = value
    return value


def _setitem(self: LocaleDataDict, key: str | int | None, value: Any) -> None:
    self._data[key] = value
    self.__dict__.get("_resolved", {}).pop(key, None)


def _delitem(self: LocaleDataDict, key: str | int | None) -> None:
    del self._data[key]
    self.__dict__.get("_resolved", {}).pop(key, None)


def isolate_locales() -> None:
    """Apply the fix (idempotent). Done on import of the formatting module, before any notice."""
    Alias.resolve = _resolve  # type: ignore[method-assign]
    LocaleDataDict.__getitem__ = _getitem  # type: ignore[method-assign]
    LocaleDataDict.__setitem__ = _setitem  # type: ignore[method-assign]
    LocaleDataDict.__delitem__ = _delitem  # type: ignore[method-assign]
