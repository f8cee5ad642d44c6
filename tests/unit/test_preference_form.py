"""What reaches the preference page from outside: the POSTed form (read, then validated strictly),
the browser's Accept-Language, and the languages the templates folder holds. Pure, no AWS."""

from pathlib import Path
from urllib.parse import urlencode

import pytest
from headsup.domain.channels import Channel
from headsup.domain.kinds import Topic
from headsup.domain.preferences import Choices, Pause
from headsup.handlers.settings import UnsubscribeSettings
from headsup.logic.preference_form import MAX_FORM_BYTES, Form, Problem, read_choices, read_fields
from headsup.logic.preference_words import (
    ENGLISH,
    SPANISH,
    WORDS,
    accepted_languages,
    offered_languages,
    page_words,
    template_languages,
)
from headsup.logic.unsubscribe import Action, read_form, requested_action
from headsup.platform.settings import SettingsError
from hypothesis import given
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
FORM = "application/x-www-form-urlencoded"
LANGUAGES = ("en", "es")


def save(*pairs: tuple[str, str]) -> Form:
    return read_fields(urlencode([("action", "save"), *pairs]).encode(), FORM)


VALID = (("receive", "billing:email"), ("receive", "visits:sms"), ("language", "es"), ("pause", "1w"))


# ------------------------------------------------------------------------------------ the save


def test_a_save_is_read_into_the_choices_it_names() -> None:
    chosen = read_choices(save(*VALID), languages=LANGUAGES)

    assert chosen == Choices(
        receive=frozenset({(Topic.BILLING, Channel.EMAIL), (Topic.VISITS, Channel.SMS)}),
        language="es",
        pause=Pause.WEEK,
    )


def test_no_box_ticked_and_the_account_language_are_choices_too() -> None:
    chosen = read_choices(save(("language", ""), ("pause", "keep")), languages=LANGUAGES)

    assert chosen == Choices(receive=frozenset(), language=None, pause=Pause.KEEP)


def test_the_pages_own_post_is_a_save() -> None:
    assert requested_action(save(*VALID).first_values()) is Action.SAVE


@pytest.mark.parametrize(
    ("pairs", "problems"),
    [
        ((*VALID, ("receive", "billing:fax")), [Problem.RECEIVE]),  # an unknown channel
        ((*VALID, ("receive", "marketing:email")), [Problem.RECEIVE]),  # an unknown topic
        ((*VALID, ("receive", "billing:email")), [Problem.RECEIVE]),  # a box twice
        ((*VALID, ("receive", "BILLING:EMAIL")), [Problem.RECEIVE]),  # not as the page writes it
        ((("language", "fr"), ("pause", "none")), [Problem.LANGUAGE]),  # no templates in French
        ((("language", "es"), ("language", "en"), ("pause", "none")), [Problem.LANGUAGE]),
        ((("pause", "none"),), [Problem.LANGUAGE]),  # missing
        ((("language", "es"), ("pause", "forever")), [Problem.PAUSE]),
        ((("language", "es"), ("pause", "-1d")), [Problem.PAUSE]),
        ((("language", "es"), ("pause", " 1d")), [Problem.PAUSE]),
        ((*VALID, ("admin", "true")), [Problem.UNKNOWN_FIELD]),
        ((*VALID, ("confirm", "no")), [Problem.UNKNOWN_FIELD]),
        ((*VALID, ("action", "save")), [Problem.NO_ACTION]),  # the button twice
        ((("language", "🙂"), ("pause", "1d")), [Problem.LANGUAGE]),
        ((("language", "עברית"), ("pause", "\u202e1d")), [Problem.LANGUAGE, Problem.PAUSE]),  # RTL
        ((("receive", "x" * 3000), ("language", "es"), ("pause", "1d")), [Problem.RECEIVE]),
    ],
)
def test_anything_the_page_does_not_send_is_refused_as_a_whole(
    pairs: tuple[tuple[str, str], ...], problems: list[Problem]
) -> None:
    assert read_choices(save(*pairs), languages=LANGUAGES) == problems


def test_a_form_without_the_button_says_so() -> None:
    form = read_fields(b"language=es&pause=1d", FORM)

    assert read_choices(form, languages=LANGUAGES) == [Problem.NO_ACTION]


@given(st.lists(st.tuples(st.text(max_size=30), st.text(max_size=30)), max_size=25))
def test_any_form_is_choices_or_problems_never_an_error(pairs: list[tuple[str, str]]) -> None:
    form = read_fields(urlencode(pairs).encode(), FORM)

    chosen = read_choices(form, languages=LANGUAGES)

    assert isinstance(chosen, Choices) or (isinstance(chosen, list) and chosen)


# ---------------------------------------------------------------------------------- the body


def test_a_body_larger_than_any_form_of_ours_is_not_read() -> None:
    body = urlencode([*VALID, ("action", "save"), ("x", "y" * 10_000)]).encode()

    form = read_fields(body, FORM)

    assert form.too_large
    assert form.fields == ()
    assert read_form(body, FORM) == {}


def test_more_fields_than_any_form_of_ours_is_an_empty_form() -> None:
    body = "&".join(["receive=billing:email"] * 21).encode()

    assert read_fields(body, FORM) == Form()


def test_a_multipart_save_is_read_like_an_urlencoded_one() -> None:
    parts = [("action", "save"), ("receive", "tickets:email"), ("language", ""), ("pause", "none")]
    body = (
        b"".join(
            b'--b\r\nContent-Disposition: form-data; name="'
            + n.encode()
            + b'"\r\n\r\n'
            + v.encode()
            + b"\r\n"
            for n, v in parts
        )
        + b"--b--\r\n"
    )

    form = read_fields(body, "multipart/form-data; boundary=b")

    assert read_choices(form, languages=LANGUAGES) == Choices(
        frozenset({(Topic.TICKETS, Channel.EMAIL)}), None, Pause.NONE
    )


def test_field_names_are_read_case_blind_and_values_as_sent() -> None:
    form = read_fields(b"Action=save&LANGUAGE=es&Pause=1d", FORM)

    assert form.fields == (("action", "save"), ("language", "es"), ("pause", "1d"))
    assert len(b"Action=save&LANGUAGE=es&Pause=1d") < MAX_FORM_BYTES


def test_undecodable_bytes_are_replaced_and_refused_not_an_error() -> None:
    form = read_fields(b"action=save&language=\xff\xfe&pause=1d", FORM)

    assert read_choices(form, languages=LANGUAGES) == [Problem.LANGUAGE]


# --------------------------------------------------------------------------------- languages


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es-MX,es;q=0.9,en;q=0.5", ["es", "es", "en"]),
        ("en;q=0.2, fr-CA ;q=0.8,de", ["de", "fr", "en"]),
        ("es;q=0, en", ["en"]),  # q=0: not wanted
        ("*", []),
        ("es;q=abc,en;q=2,fr;level=1,de;q=0.5", ["de"]),  # malformed weights are left out
        ("", []),
        (None, []),
        ("x" * 10_000, []),
        (",".join(["en"] * 1000), ["en"] * 16),  # only so many ranges are read
        ("ar-EG, he;q=0.9", ["ar", "he"]),
        ("🙂,es", ["es"]),
    ],
)
def test_accept_language_gives_the_languages_wanted_most_first(
    header: str | None, expected: list[str]
) -> None:
    assert accepted_languages(header) == expected


def test_the_page_speaks_the_first_language_it_has_words_for() -> None:
    assert page_words(None, "fr-FR", "es-MX", "en") is SPANISH
    assert page_words("de", None) is ENGLISH
    assert page_words() is ENGLISH


def test_every_language_has_every_word() -> None:
    for words in WORDS.values():
        for name, value in vars(words).items():
            assert value, f"{words.lang}: {name} is empty"
        assert set(words.topics) == set(Topic)
        assert set(words.channels) == set(Channel)
        assert set(words.pauses) == set(Pause)
        assert set(words.problems) == set(Problem)


def test_the_languages_offered_are_the_template_folders_english_first() -> None:
    assert template_languages(REPO / "templates") == ("en", "es")


def test_only_a_language_folder_with_notice_templates_counts(tmp_path: Path) -> None:
    # Given a folder like templates/, with a kind at the root, a layout folder, a real translation,
    # a language folder with no notice in it, and a folder that is not a language at all
    for folder in ("bill_increase", "_layouts", "es/bill_increase", "fr/_layouts", "xx/bill_increase"):
        (tmp_path / folder).mkdir(parents=True)

    assert template_languages(tmp_path) == ("en", "es")
    assert template_languages(tmp_path / "missing") == ("en",)
    assert template_languages(None) == ("en",)


def test_a_stored_language_the_templates_lack_is_still_offered() -> None:
    assert offered_languages(("en", "es"), "fr") == ("en", "es", "fr")
    assert offered_languages(("en", "es"), "es") == ("en", "es")
    assert offered_languages(("en", "es"), "not-a-language") == ("en", "es")
    assert offered_languages(("en", "es"), None) == ("en", "es")


def test_the_function_refuses_a_templates_folder_without_templates(tmp_path: Path) -> None:
    # An empty /opt: the layer was left off UnsubscribeFunction
    env = {
        "PREFERENCES_TABLE_NAME": "prefs",
        "UNSUBSCRIBE_KEY_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:k",
        "BUSINESS_NAME": "Example Co",
    }

    with pytest.raises(SettingsError, match="holds no notice templates"):
        UnsubscribeSettings.from_env({**env, "TEMPLATES_DIR": str(tmp_path)})
    assert UnsubscribeSettings.from_env({**env, "TEMPLATES_DIR": str(REPO / "templates")}).templates_dir
    assert UnsubscribeSettings.from_env(env).templates_dir is None
