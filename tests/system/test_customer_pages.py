"""Every page customers see (cli.pages.PAGES), in each of its locales, looked at in headless Chromium.

`headsup pages` renders each page through its real function on the local stack (a GET of a real
signed link through the emulator's HTTP API, with an Accept-Language header for the locale); the
browser then checks it as its customers would meet it: axe-core finds no accessibility violation
(its default run: the WCAG 2.0, 2.1 and 2.2 A and AA rules, and its best practices), `<html lang>`
says the language the page was asked for, and the form works without JavaScript. Each page and
locale is a test id of its own, so a failure names the page, the locale and the check.
"""

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from _pytest.mark import ParameterSet
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from cli.browser import chromium
from cli.main import main
from cli.pages import PAGES, VIEWPORT

# Its tests share one module-scoped rendering: they stay on one xdist worker, so it is built once.
pytestmark = pytest.mark.xdist_group("customer_pages")

# What a page does not do yet, by (check, page, locale): each of these tests is expected to fail
# (strict: once the page is fixed it passes, which fails the run until its line here is removed).
KNOWN_PROBLEMS: dict[tuple[str, str, str], str] = {}
SUBMIT = "button:not([type]), button[type=submit], input[type=submit], input[type=image]"


def cases(check: str) -> list[ParameterSet]:
    """One test per page and locale, with the known problem of `check` marked where there is one."""
    params = []
    for page in PAGES:
        for locale in page.locales:
            reason = KNOWN_PROBLEMS.get((check, page.name, locale))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(page.name, locale, id=f"{page.name}-{locale}", marks=marks))
    return params


def violation_report(violations: list[dict[str, Any]]) -> str:
    """Each violation with its rule, impact and every element it was found on, to fix it from."""
    lines = [f"{len(violations)} axe-core violation(s):"]
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} "
            f"[{', '.join(violation['tags'])}] {violation['helpUrl']}"
        )
        for node in violation["nodes"]:
            target = " ".join(str(selector) for selector in node["target"])
            lines.append(f"    at {target}: {node['html']}")
            lines.extend(f"       {line}" for line in (node.get("failureSummary") or "").splitlines())
    return "\n".join(lines)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pages")
    assert main(["pages", "--out", str(folder / "html"), "--screenshots", str(folder / "png")]) == 0
    return folder


@pytest.fixture(scope="module")
def browser(rendered: Path) -> Iterator[Browser]:
    # After `rendered`: its screenshots start Playwright too, and the sync API does not nest.
    with chromium() as browser:
        yield browser


@contextmanager
def opened(browser: Browser, html: Path, *, javascript: bool = True) -> Iterator[Page]:
    """The page in a fresh browser context; it must fetch nothing and log no error."""
    context = browser.new_context(viewport=VIEWPORT, java_script_enabled=javascript)
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        page.goto(html.resolve().as_uri())
        yield page
    finally:
        context.close()
    assert [url for url in requests if not url.startswith(("file://", "about:", "data:"))] == []
    assert errors == []


def html_of(rendered: Path, name: str, locale: str) -> Path:
    return rendered / "html" / f"{name}.{locale}.html"


@pytest.mark.parametrize(("name", "locale"), cases("axe"))
def test_the_page_has_no_accessibility_violations(
    browser: Browser, rendered: Path, name: str, locale: str
) -> None:
    with opened(browser, html_of(rendered, name, locale)) as page:
        results = Axe().run(page)

    violations = results.response["violations"]
    assert violations == [], violation_report(violations)


@pytest.mark.parametrize(("name", "locale"), cases("lang"))
def test_the_page_is_in_the_language_it_was_asked_for(
    browser: Browser, rendered: Path, name: str, locale: str
) -> None:
    with opened(browser, html_of(rendered, name, locale)) as page:
        lang = page.locator("html").get_attribute("lang") or ""

    # "es" or a regional "es-ES" both declare Spanish to a screen reader
    assert lang.split("-")[0].lower() == locale, f'<html lang="{lang}"> for a page asked for in {locale}'


@pytest.mark.parametrize(("name", "locale"), cases("no-js"))
def test_the_page_works_without_javascript(browser: Browser, rendered: Path, name: str, locale: str) -> None:
    with opened(browser, html_of(rendered, name, locale), javascript=False) as page:
        forms = page.locator("form")
        assert forms.count() >= 1
        for form in forms.all():
            buttons = form.locator(SUBMIT)
            assert buttons.count() >= 1, "a form with no submit button"
            for button in buttons.all():
                assert button.is_visible()
                assert button.is_enabled()


@pytest.mark.parametrize(("name", "locale"), cases("screenshot"))
def test_the_screenshot_is_a_picture_of_the_whole_page(rendered: Path, name: str, locale: str) -> None:
    png = (rendered / "png" / f"{name}.{locale}.png").read_bytes()

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert width == VIEWPORT["width"]
    assert height >= VIEWPORT["height"]


def test_axe_finds_and_reports_what_a_broken_page_gets_wrong(browser: Browser) -> None:
    # Given a page with no language, an unnamed button and an image without alt text
    page = browser.new_page()
    page.set_content('<html><body><form><button></button><img src="data:,"></form></body></html>')

    # When axe-core runs on it
    violations = Axe().run(page).response["violations"]
    page.close()

    # Then it finds each, and the report names the rule, its impact and the element
    assert {"html-has-lang", "button-name", "image-alt"} <= {v["id"] for v in violations}
    report = violation_report(violations)
    assert "- button-name (critical): Buttons must have discernible text" in report
    assert "    at button: <button></button>" in report
