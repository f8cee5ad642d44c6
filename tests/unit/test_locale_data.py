"""One customer's locale never leaks into the next one's in the same (warm) process.

Run in fresh interpreters: the leak depends on which locales a process loaded first, and this
test session has loaded many already."""

import subprocess
import sys
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
# Hebrew first, then locales whose data has not been loaded yet.
HEBREW_THEN_OTHERS = """
import datetime as dt
from zoneinfo import ZoneInfo
from babel import Locale
{setup}
from headsup.rendering.formatting import LocaleFormatter
for name in ["he_IL", "fr_FR", "es_ES", "it_IT", "pt_BR", "nl_NL"]:
    fmt = LocaleFormatter(Locale.parse(name), ZoneInfo("UTC"))
    print(fmt.short_month("2026-11"), fmt.month("2026-11"), sep="|")
"""
HEBREW_NOV = "\u05e0\u05d5\u05d1\u05f3"  # with a geresh, the abbreviation mark
EXPECTED = [
    f"{HEBREW_NOV}|נובמבר 2026",
    "nov.|novembre 2026",
    "nov|noviembre de 2026",
    "nov|novembre 2026",
    "nov.|novembro de 2026",
    "nov|november 2026",
]


def months_in_a_fresh_process(setup: str = "") -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", HEBREW_THEN_OTHERS.format(setup=setup)],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(FUNCTIONS)},
    )
    return result.stdout.splitlines()


def test_month_names_after_a_hebrew_customer_are_the_next_customers_own() -> None:
    assert months_in_a_fresh_process() == EXPECTED


def test_babel_still_leaks_without_the_fix() -> None:
    # Babel's own behaviour, with the fix undone before anything is formatted. When this fails,
    # Babel has fixed python-babel/babel#1234: headsup.rendering.locale_data can go.
    undo = (
        "import babel.localedata as data\n"
        "resolve, getitem = data.Alias.resolve, data.LocaleDataDict.__getitem__\n"
        "import headsup.rendering.formatting\n"
        "data.Alias.resolve, data.LocaleDataDict.__getitem__ = resolve, getitem"
    )
    leaked = months_in_a_fresh_process(undo)
    assert leaked[0] == EXPECTED[0]
    assert leaked[1].startswith(HEBREW_NOV), "Babel no longer leaks Hebrew month names: remove the fix"
