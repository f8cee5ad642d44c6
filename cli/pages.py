"""The pages customers see, rendered through the real functions on the local stack.

Some of what headsup sends links to a page the HTTP API serves: today the unsubscribe page
(UnsubscribeFunction, `/unsubscribe/{token}`). Each such page is one entry of `PAGES`: a name, the
locales it is shown in, and a function that gets its HTML from a provisioned `LocalPipeline` the
way a customer's browser would: a GET of a real signed link, through the emulator's HTTP API (the
template's route, API Gateway's payload 2.0 event, the function's own handler), with an
`Accept-Language` header for the locale. Adding a page is one entry:

    CustomerPage("preferences", preferences_page),  # preferences_page(pipeline, locale) -> html

`headsup pages` writes each page in each locale to a file (and a screenshot of it, from headless
Chromium); tests/system/test_customer_pages.py runs axe-core on each and checks that it declares
its language and works without JavaScript.

headsup modules are imported inside the functions, not here: the template's environment must be in
place before the functions' code loads (see cli.main).
"""

import contextlib
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import boto3
from rich.console import Console
from rich.table import Table

from emulator import HttpApiSource
from sim.pipeline import LocalPipeline, lambda_output_to, load_sample_data

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

LOCALES = ("en", "es")
# Phone-sized: most customers open these links from an email on their phone.
VIEWPORT: "ViewportSize" = {"width": 420, "height": 760}
# The sample customer whose links the pages are rendered for (sim/sample_data.json).
SAMPLE_CUSTOMER = "cust-1001"
# The preference page speaks the customer's chosen language, then their account's, then the
# browser's: a sample customer with no locale on file lets Accept-Language choose the page's.
NO_LOCALE_CUSTOMER = "cust-1004"

RenderPage = Callable[[LocalPipeline, str], str]


@dataclass(frozen=True)
class CustomerPage:
    """One page the HTTP API serves to customers; `render(pipeline, locale)` returns its HTML."""

    name: str
    render: RenderPage
    locales: tuple[str, ...] = LOCALES


@dataclass(frozen=True)
class RenderedPage:
    name: str
    locale: str
    html: Path


class PageNotServed(RuntimeError):
    """The function answered the page's GET with something other than a 200 HTML page."""


def served_html(api: HttpApiSource, path: str, locale: str) -> str:
    """The HTML a browser asking for `locale` gets for a GET of `path` on `api`, through the real
    function. Anything but a 200 HTML page is an error that says what came back."""
    response = api.request("GET", path, headers={"Accept-Language": locale, "Accept": "text/html"})
    content_type = response.headers.get("content-type", "")
    if response.status != 200 or not content_type.startswith("text/html"):
        detail = "; ".join(api.function_errors[-1:]) or response.body[:200]
        raise PageNotServed(
            f"GET /{path.strip('/').split('/')[0]}/... answered {response.status} {content_type}: {detail}"
        )
    return response.body


def unsubscribe_link(pipeline: LocalPipeline, customer_id: str, topic: str) -> str:
    """The unsubscribe link NoticeDeliveryFunction puts in an email: its base URL, its signing key
    (the UnsubscribeSigningKey secret), the same link builder."""
    from headsup.domain.unsubscribe_tokens import signing_key
    from headsup.rendering.links import UnsubscribeLinks

    deployment = pipeline.deployment
    secrets = boto3.client("secretsmanager", region_name=deployment.region)
    secret = secrets.get_secret_value(SecretId=deployment.ref("UnsubscribeSigningKey"))["SecretString"]
    base_url = deployment.function_env("NoticeDeliveryFunction")["UNSUBSCRIBE_BASE_URL"]
    return UnsubscribeLinks(base_url, key=signing_key(secret))(customer_id, topic)


def unsubscribe_page(pipeline: LocalPipeline, locale: str) -> str:
    """What a customer sees on opening the unsubscribe link of a billing email."""
    link = unsubscribe_link(pipeline, NO_LOCALE_CUSTOMER, "billing")
    return served_html(pipeline.unsubscribe_api, urlsplit(link).path, locale)


def answer_page(kind: str) -> Callable[[LocalPipeline, str], str]:
    """What a customer sees on tapping an answer in an email of `kind`: the link built as
    NoticeDeliveryFunction builds it (AnswerLinks, its key and base URL), for a customer whose
    locale is the page's (the link carries it: the page needs no read to speak it)."""

    def page(pipeline: LocalPipeline, locale: str) -> str:
        from headsup.domain.customer import Customer
        from headsup.domain.kinds import NoticeKind
        from headsup.domain.unsubscribe_tokens import signing_key
        from headsup.rendering.links import AnswerLinks

        from sim.samples import sample_request

        deployment = pipeline.deployment
        secrets = boto3.client("secretsmanager", region_name=deployment.region)
        secret = secrets.get_secret_value(SecretId=deployment.ref("UnsubscribeSigningKey"))["SecretString"]
        env = deployment.function_env("NoticeDeliveryFunction")
        links = AnswerLinks(
            env["UNSUBSCRIBE_BASE_URL"],
            key=signing_key(secret),
            kinds=frozenset(env["ANSWER_KINDS"].split(",")),
            valid_for=timedelta(days=int(env["ANSWER_LINK_DAYS"])),
        )
        customer = Customer(
            customer_id=SAMPLE_CUSTOMER, first_name="Ana", locale=locale, timezone="America/Los_Angeles"
        )
        link = links(sample_request(NoticeKind(kind)), customer, datetime.now(UTC))
        if link is None:
            raise PageNotServed(f"{kind} notices carry no answer link (AnswerKinds)")
        return served_html(HttpApiSource(deployment, "AnswerFunction"), urlsplit(link).path, locale)

    return page


# The customer pages, each rendered in each of its locales. A page that cannot be produced yet is
# not listed; add one entry when it can be.
PAGES: tuple[CustomerPage, ...] = (
    CustomerPage("preferences", unsubscribe_page),  # what every unsubscribe link opens
    CustomerPage("answer-ticket-follow-up", answer_page("ticket_follow_up")),
    CustomerPage("answer-callback-overdue", answer_page("callback_overdue")),
    CustomerPage("answer-visit-running-late", answer_page("visit_running_late")),
    CustomerPage("answer-visit-done", answer_page("visit_done")),
)


@contextlib.contextmanager
def local_stack() -> Iterator[LocalPipeline]:
    """template.yaml provisioned into a fresh moto mock, with the sample customers; the functions'
    logs go nowhere (as in Lambda, they are not the operator's terminal)."""
    from moto import mock_aws

    with mock_aws():
        with contextlib.redirect_stdout(io.StringIO()):
            pipeline = LocalPipeline.provision()
        pipeline.put_customers(load_sample_data()["customers"])
        with lambda_output_to(io.StringIO(), pipeline.deployment):
            yield pipeline


def render_pages(
    pipeline: LocalPipeline, out: Path, pages: Iterable[CustomerPage] = PAGES
) -> list[RenderedPage]:
    """Every page in every one of its locales, written to `out/<name>.<locale>.html`."""
    out.mkdir(parents=True, exist_ok=True)
    rendered = []
    for page in pages:
        for locale in page.locales:
            path = out / f"{page.name}.{locale}.html"
            path.write_text(page.render(pipeline, locale), encoding="utf-8")
            rendered.append(RenderedPage(page.name, locale, path))
    return rendered


def screenshot_pages(rendered: Iterable[RenderedPage], folder: Path) -> list[Path]:
    """A PNG of each page as headless Chromium shows it: `folder/<name>.<locale>.png`, whole page."""
    from cli.browser import chromium

    folder.mkdir(parents=True, exist_ok=True)
    shots = []
    with chromium() as browser:
        for page in rendered:
            tab = browser.new_page(viewport=VIEWPORT)
            tab.goto(page.html.resolve().as_uri())
            shot = folder / f"{page.name}.{page.locale}.png"
            tab.screenshot(path=str(shot), full_page=True)
            tab.close()
            shots.append(shot)
    return shots


def write_pages(
    out: Path, screenshots: Path | None, console: Console, pages: Iterable[CustomerPage] = PAGES
) -> int:
    """`headsup pages`: every page in every locale to `out`, on a fresh local stack, and a PNG of
    each to `screenshots`. Exit 1 if a page is not served."""
    try:
        with local_stack() as pipeline:
            rendered = render_pages(pipeline, out, pages)
    except PageNotServed as exc:
        console.print(f"[red]{exc}[/red]", markup=True, highlight=False)
        return 1
    shots = screenshot_pages(rendered, screenshots) if screenshots else []
    console.print(pages_table(rendered, shots))
    return 0


def pages_table(rendered: Sequence[RenderedPage], shots: Sequence[Path]) -> Table:
    table = Table(title=f"{len(rendered)} customer page(s)")
    for column in ("page", "locale", "html") + (("screenshot",) if shots else ()):
        table.add_column(column, overflow="fold")
    for index, page in enumerate(rendered):
        table.add_row(page.name, page.locale, str(page.html), *([str(shots[index])] if shots else []))
    return table
