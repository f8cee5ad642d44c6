"""`headsup pages` on the template's stack in moto: each customer page is what its real function
serves for a real signed link, asked for in each locale. (The browser's checks of those pages, axe-core
included, are in tests/system/test_customer_pages.py.)"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from headsup.domain import unsubscribe_tokens as tokens
from rich.console import Console

from cli import pages
from cli.main import main
from cli.pages import PAGES, CustomerPage, PageNotServed, render_pages, served_html, unsubscribe_link
from emulator import HttpResponse
from sim.pipeline import LocalPipeline


@pytest.fixture
def on_this_stack(pipeline: LocalPipeline, monkeypatch: pytest.MonkeyPatch) -> LocalPipeline:
    """The command renders on the test's stack instead of provisioning one of its own."""

    @contextmanager
    def this_stack() -> Iterator[LocalPipeline]:
        yield pipeline

    monkeypatch.setattr(pages, "local_stack", this_stack)
    return pipeline


def test_every_page_is_rendered_in_every_locale_through_its_function(
    pipeline: LocalPipeline, lambda_logs: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the API records what each request asked for
    asked: list[tuple[str, str]] = []
    request = pipeline.unsubscribe_api.request

    def recording(method: str, path: str, **parts: Any) -> HttpResponse:
        asked.append((method, parts["headers"]["Accept-Language"]))
        return request(method, path, **parts)

    monkeypatch.setattr(pipeline.unsubscribe_api, "request", recording)

    # When every page is rendered
    rendered = render_pages(pipeline, tmp_path / "pages")

    # Then each page is a file per locale, a whole HTML page with its form
    expected = [(page.name, locale) for page in PAGES for locale in page.locales]
    assert [(page.name, page.locale) for page in rendered] == expected
    for page in rendered:
        assert page.html == tmp_path / "pages" / f"{page.name}.{page.locale}.html"
        html = page.html.read_text()
        assert html.lower().startswith("<!doctype html>")
        assert "<form" in html.lower()
    # ... the unsubscribe page asked for with a GET in each locale, as a browser set to it would
    assert sorted(set(asked)) == [("GET", "en"), ("GET", "es")]


def test_the_unsubscribe_page_is_the_one_a_billing_email_links_to(pipeline: LocalPipeline) -> None:
    # When the page's link is built
    link = unsubscribe_link(pipeline, "cust-ana", "billing")

    # Then it is on the API, signed with the deployed key, for that customer and topic
    assert link.startswith(f"{pipeline.unsubscribe_api.base_url}/unsubscribe/")
    secret = boto3.client("secretsmanager", region_name=pipeline.deployment.region).get_secret_value(
        SecretId=pipeline.deployment.ref("UnsubscribeSigningKey")
    )["SecretString"]
    signed = tokens.verify(tokens.signing_key(secret), link.rsplit("/", 1)[1])
    assert signed == tokens.UnsubscribeRequest("cust-ana", "billing")
    # ... and the function serves its page for it
    assert served_html(pipeline.unsubscribe_api, urlsplit(link).path, "en")


def test_a_page_that_is_not_served_says_what_came_back(pipeline: LocalPipeline) -> None:
    with pytest.raises(PageNotServed, match=r"GET /unsubscribe/\.\.\. answered 404 text/html"):
        served_html(pipeline.unsubscribe_api, "/unsubscribe/not-a-token", "en")


def test_the_command_writes_every_page_in_every_locale(
    on_this_stack: LocalPipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pages", "--out", str(tmp_path)]) == 0

    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        f"{page.name}.{locale}.html" for page in PAGES for locale in page.locales
    )
    assert f"{len(list(tmp_path.iterdir()))} customer page(s)" in capsys.readouterr().out


def test_the_command_fails_with_the_reason_when_a_page_is_not_served(
    on_this_stack: LocalPipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = CustomerPage(
        "broken", lambda pipeline, locale: served_html(pipeline.unsubscribe_api, "/unsubscribe/x", locale)
    )

    assert pages.write_pages(tmp_path, None, Console(), pages=(broken,)) == 1

    assert "GET /unsubscribe/... answered 404" in capsys.readouterr().out
