"""Headless Chromium through Playwright, to look at the outbox page as a person would.

The browser is Debian's `chromium` package (`make chromium` installs it), not one Playwright
downloads: this machine and CI reach package registries only. Set CHROMIUM to use another build.
"""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

# --no-sandbox: Chromium refuses to run as root (containers, CI) with its sandbox on. The rest stop
# it calling Google's services at start-up, which a closed network refuses, many calls at a time.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
SENT_EMAIL = 'details.notice[data-status="sent"][data-channel="email"]'
SENT_SMS = 'details.notice[data-status="sent"][data-channel="sms"]'


class NoChromium(RuntimeError):
    pass


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise NoChromium("Chromium not found: `make chromium` installs Debian's package (or set CHROMIUM)")
    return path


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


def open_notice(page: Page, selector: str, index: int = 0) -> None:
    """Expand one notice row, as a click on it would, and wait for its email to render."""
    notice = page.locator(selector).nth(index)
    notice.locator("summary").first.click()
    if notice.get_attribute("data-channel") == "email":
        notice.frame_locator("iframe.email").locator("body").wait_for()


def screenshot(
    page_path: Path, png: Path, *, open_first: int = 2, width: int = 1280, height: int = 1500
) -> Path:
    """The top of the page (the run, the chart, the first rows) with the first `open_first` sent
    notices expanded, alternating email and SMS, so the picture shows what customers get."""
    png.parent.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(page_path.resolve().as_uri())
        opened = {SENT_EMAIL: 0, SENT_SMS: 0}
        for n in range(open_first):
            selector = SENT_EMAIL if n % 2 == 0 else SENT_SMS
            if page.locator(selector).count() > opened[selector]:
                open_notice(page, selector, opened[selector])
                opened[selector] += 1
        page.evaluate("window.scrollTo(0, 0)")  # opening a row scrolls it into view
        page.screenshot(path=str(png))
    return png
