"""Notices in the customer's language: templates/<language>/<kind>/<file> when it exists, else the
English template at the root, file by file. Numbers and dates follow the customer's full locale
whichever language the words are in (an es-ES and an es-MX customer read the same Spanish text
with different amounts and clocks). Words and figures are in one language: a fr-FR customer, for
whom there are no French templates, reads English throughout, months and dates included, with
the number conventions of English as written in France (en_FR: "22,40 US$"); a customer whose
territory has no such English (ja-JP, ar-EG) gets international English (en_001).
"""

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from headsup.domain.kinds import NoticeKind
from headsup.domain.notices import NoticeRequest, make_notice_id
from headsup.rendering.renderer import (
    GSM7_BASIC,
    GSM7_EXTENDED,
    NoticeRenderer,
    RenderError,
    sms_encoding,
    sms_segments,
)

from tests.unit.builders import BILL_INCREASE_PAYLOAD, customer

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
DETECTED_AT = datetime(2026, 11, 24, 17, 20, tzinfo=UTC)
NBSP = "\u00a0"
NARROW_NBSP = "\u202f"

# Promised for 16:00 UTC, new deadline 18:15 UTC: 17:00 / 19:15 in Madrid, 10:00 AM / 12:15 PM in
# Mexico City (UTC-6, no daylight saving time since 2022).
CALLBACK_OVERDUE: dict[str, Any] = {
    "callback_id": "cb-42",
    "topic": "Router keeps dropping",
    "promised_at": "2026-11-24T16:00:00+00:00",
    "new_deadline": "2026-11-24T18:15:00+00:00",
    "agent_name": "Sam",
}
# Created 03:00 UTC on the 20th: already the 20th in Madrid, still the 19th in Mexico City.
TICKET_STALE: dict[str, Any] = {
    "ticket_id": "T-1001",
    "subject": "Invoice address is wrong",
    "created_at": "2026-11-20T03:00:00+00:00",
    "open_for_hours": 110,
}
TICKET_FOLLOW_UP: dict[str, Any] = {
    "ticket_id": "T-1001",
    "subject": "Invoice address is wrong",
    "solved_at": "2026-11-23T06:30:00+00:00",
}
ON_THE_WAY: dict[str, Any] = {
    "visit_id": "v-3001",
    "technician_first_name": "Carlos",
    "eta": "2026-11-24T17:50:00+00:00",
    "address_hint": "side gate, the bell is broken",
}
# Window 17:00-19:00 UTC: 18:00-20:00 in Madrid, 11:00 AM-1:00 PM in Mexico City.
RUNNING_LATE: dict[str, Any] = {
    "visit_id": "v-3001",
    "technician_first_name": "Carlos",
    "window_start": "2026-11-24T17:00:00+00:00",
    "window_end": "2026-11-24T19:00:00+00:00",
    "new_eta": "2026-11-24T19:45:00+00:00",
    "delay_reason": "previous job ran over",
}
# 05:15 UTC on the 25th: 0:15 on Nov 25 in New York, the day after the window.
PAST_MIDNIGHT = "2026-11-25T05:15:00+00:00"
DONE: dict[str, Any] = {"visit_id": "v-3001", "technician_first_name": "Carlos"}
# The bill increase above (132.40) corrected down after the customer was told.
BILL_CORRECTION: dict[str, Any] = {
    "period": "2026-11",
    "currency": "USD",
    "told_amount": "132.40",
    "corrected_amount": "117.40",
    "due_date": "2026-12-15",
    "due_date_changed": False,
}
# After the late visit above: 18:40 UTC instead of 19:45, back within the window that ends at 19:00
# (19:40 instead of 20:45 in Madrid, 12:40 p.m. instead of 1:45 p.m. in Mexico City).
ETA_EARLIER: dict[str, Any] = {
    "visit_id": "v-3001",
    "technician_first_name": "Carlos",
    "told_eta": RUNNING_LATE["new_eta"],
    "new_eta": "2026-11-24T18:40:00+00:00",
    "window_end": RUNNING_LATE["window_end"],
}

PAYLOADS: dict[NoticeKind, dict[str, Any]] = {
    NoticeKind.BILL_INCREASE: BILL_INCREASE_PAYLOAD,
    NoticeKind.BILL_CORRECTION: BILL_CORRECTION,
    NoticeKind.CALLBACK_OVERDUE: CALLBACK_OVERDUE,
    NoticeKind.TICKET_STALE: TICKET_STALE,
    NoticeKind.TICKET_FOLLOW_UP: TICKET_FOLLOW_UP,
    NoticeKind.VISIT_ON_THE_WAY: ON_THE_WAY,
    NoticeKind.VISIT_RUNNING_LATE: RUNNING_LATE,
    NoticeKind.VISIT_ETA_EARLIER: ETA_EARLIER,
    NoticeKind.VISIT_DONE: DONE,
}
CUSTOMER_KINDS = list(PAYLOADS)
CUSTOMER_FILES = ("email_subject.txt.j2", "email.html.j2", "email.txt.j2", "sms.txt.j2")
SPANISH_LOCALES = [("es-ES", "Europe/Madrid"), ("es-MX", "America/Mexico_City")]

ES_FOOTER = "Recibe este aviso porque es cliente de Example Co.\n"
EN_FOOTER = "You are receiving this notice because you are a customer of Example Co.\n"
ES_STOP = "Baja: responda STOP."
EN_STOP = "Reply STOP to opt out."
HTML_TAG = re.compile(r"</?[a-zA-Z!][^>]*>")


def notice(kind: NoticeKind, payload: dict[str, Any] | None = None) -> NoticeRequest:
    payload = PAYLOADS[kind] if payload is None else payload
    return NoticeRequest(
        notice_id=make_notice_id(kind, "cust-1", json.dumps(payload, sort_keys=True)),
        kind=kind,
        customer_id="cust-1",
        detected_at=DETECTED_AT,
        payload=payload,
    )


def make_renderer(templates: Path = TEMPLATES, business_name: str = "Example Co") -> NoticeRenderer:
    return NoticeRenderer(templates, business_name=business_name, support_reply_to="support@example.com")


@pytest.fixture
def renderer() -> NoticeRenderer:
    return make_renderer()


def folded(text: str) -> str:
    """Babel puts (narrow) no-break spaces in "132,40 US$" and "12:15 p.m."; compare on spaces."""
    return re.sub(r"\s+", " ", text)


def folded_lines(text: str) -> str:
    return re.sub(r"[^\S\n]+", " ", text)


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


# --- Spanish, with the customer's own locale for figures -----------------------------------------


@pytest.mark.parametrize(
    ("locale", "subject", "figures", "sms"),
    [
        (
            "es-ES",
            "Su factura de noviembre de 2026 sube 22,40 US$: le explicamos por qué",
            [f"132,40{NBSP}US$", f"110,00{NBSP}US$", f"20,4{NBSP}%", f"+5,00{NBSP}US$"],
            "Example Co: Hola, Ana. Su factura de nov: 132,40 US$ (+22,40 US$, 20,4 % frente a oct), "
            "sobre todo por Data add-on. Vence el 15 dic. Baja: responda STOP.",
        ),
        (
            "es-MX",
            "Su factura de noviembre de 2026 sube USD22.40: le explicamos por qué",
            ["USD132.40", "USD110.00", "20.4%", "+USD5.00"],
            "Example Co: Hola, Ana. Su factura de nov: USD132.40 (+USD22.40, 20.4% frente a oct), "
            "sobre todo por Data add-on. Vence el 15 dic. Baja: responda STOP.",
        ),
    ],
)
def test_spanish_customer_gets_the_bill_notice_in_spanish_with_their_locales_figures(
    renderer: NoticeRenderer, locale: str, subject: str, figures: list[str], sms: str
) -> None:
    # Given a Spanish-speaking customer in Spain or in Mexico
    person = customer(first_name="Ana", locale=locale)

    # When their bill notice is rendered
    email = renderer.render_email(notice(NoticeKind.BILL_INCREASE), person)
    text_message = renderer.render_sms(notice(NoticeKind.BILL_INCREASE), person)

    # Then every part is in Spanish, with amounts and dates as their locale writes them
    assert email.subject == subject
    for part in (email.text, email.html):
        assert "Hola, Ana:" in part
        assert "noviembre de 2026" in part
        assert "octubre de 2026" in part
        assert "15 de diciembre de 2026" in part
        assert "Data add-on: nuevo" in part
        for figure in figures:
            assert figure in part
        assert "Hi Ana" not in part
    assert email.text.endswith(ES_FOOTER)
    assert text_message.text == sms


def test_spanish_correction_is_worded_as_a_correction(renderer: NoticeRenderer) -> None:
    payload = {**BILL_INCREASE_PAYLOAD, "is_correction": True, "compared_period": "2026-11"}
    person = customer(locale="es-ES")

    email = renderer.render_email(notice(NoticeKind.BILL_INCREASE, payload), person)
    sms = renderer.render_sms(notice(NoticeKind.BILL_INCREASE, payload), person)

    assert email.subject == "Hemos corregido su factura de noviembre de 2026: ahora es de 132,40 US$"
    assert "Antes de la corrección" in email.html
    assert "Hemos corregido su factura de nov a 132,40 US$ (+22,40 US$)." in sms.text


@pytest.mark.parametrize(
    ("locale", "timezone", "subject_time", "deadline", "sms_time"),
    [
        ("es-ES", "Europe/Madrid", "antes de las 19:15", "el 24 de noviembre de 2026 a las 19:15.", "19:15."),
        (
            "es-MX",
            "America/Mexico_City",
            "antes de las 12:15 p.m.",
            "el 24 de noviembre de 2026 a las 12:15 p.m.",
            "12:15 p.m.",
        ),
    ],
)
def test_spanish_callback_apology_gives_the_new_time_on_the_customers_clock(
    renderer: NoticeRenderer, locale: str, timezone: str, subject_time: str, deadline: str, sms_time: str
) -> None:
    person = customer(first_name="Ana", locale=locale, timezone=timezone)
    request = notice(NoticeKind.CALLBACK_OVERDUE)

    email = renderer.render_email(request, person)
    sms = renderer.render_sms(request, person)

    assert email.subject == f"Disculpe, aún no le hemos devuelto la llamada: lo haremos {subject_time}"
    for part in (folded(email.text), folded(email.html)):
        assert "Hola, Ana:" in part
        assert "(o Sam, si está libre)" in part
        assert "Router keeps dropping" in part
    assert f"le llamará como muy tarde {deadline}\n" in folded_lines(email.text)
    assert f"le llamará como muy tarde {deadline}" in folded(HTML_TAG.sub("", email.html))
    assert f"le llamaremos antes de las {sms_time} {ES_STOP}" in sms.text
    # A time that ends in "p.m." ends the sentence without a second period.
    assert "p.m.." not in email.text + email.html + sms.text


@pytest.mark.parametrize(
    ("locale", "timezone", "new_eta", "window", "arrival", "sms_arrival", "subject"),
    [
        (
            "es-ES",
            "Europe/Madrid",
            RUNNING_LATE["new_eta"],
            "(de las 18:00 a las 20:00)",
            "llegará a las 20:45.",
            "Nueva hora de llegada: 20:45.",
            "Lo sentimos, Carlos se retrasa: llegará a las 20:45",
        ),
        # Spanish says "a la 1", not "a las 1": the article agrees with the hour.
        (
            "es-MX",
            "America/Mexico_City",
            RUNNING_LATE["new_eta"],
            "(de las 11:00 a.m. a la 1:00 p.m.)",
            "llegará a la 1:45 p.m.",
            "Nueva hora de llegada: 1:45 p.m.",
            "Lo sentimos, Carlos se retrasa: llegará a la 1:45 p.m.",
        ),
        # Past midnight on their clock, the new time carries its day.
        (
            "es-ES",
            "America/New_York",
            PAST_MIDNIGHT,
            "(de las 12:00 a las 14:00)",
            "llegará el 25 nov a las 0:15.",
            "Nueva hora de llegada: 25 nov, 0:15.",
            "Lo sentimos, Carlos se retrasa: llegará el 25 nov a las 0:15",
        ),
    ],
)
def test_spanish_late_visit_names_the_window_and_the_new_time_with_the_right_article(
    renderer: NoticeRenderer,
    locale: str,
    timezone: str,
    new_eta: str,
    window: str,
    arrival: str,
    sms_arrival: str,
    subject: str,
) -> None:
    person = customer(locale=locale, timezone=timezone)
    request = notice(NoticeKind.VISIT_RUNNING_LATE, {**RUNNING_LATE, "new_eta": new_eta})

    email = renderer.render_email(request, person)
    sms = renderer.render_sms(request, person)

    for part in (folded(email.text), folded(HTML_TAG.sub("", email.html))):
        assert f"Carlos no llegará dentro de la franja que le indicamos {window}." in part
        assert f"Ahora calculamos que {arrival}" in part
    assert email.subject == subject
    assert f"{sms_arrival} {ES_STOP}" in sms.text


def test_spanish_late_visit_without_a_new_time_says_it_will_follow(renderer: NoticeRenderer) -> None:
    request = notice(NoticeKind.VISIT_RUNNING_LATE, {**RUNNING_LATE, "new_eta": None, "delay_reason": None})
    person = customer(locale="es-ES", timezone="Europe/Madrid")

    email = renderer.render_email(request, person)
    sms = renderer.render_sms(request, person)

    assert email.subject == "Lo sentimos, Carlos se retrasa"
    assert "Todavía no tenemos una nueva hora de llegada" in email.text
    assert "El motivo" not in email.text
    assert "None" not in email.text + email.html + sms.text
    assert (
        sms.text
        == "Example Co: Lo sentimos, Ana: Carlos se retrasa. Le avisaremos pronto de la nueva hora. "
        + ES_STOP
    )


@pytest.mark.parametrize(
    ("locale", "figures", "subject", "sms"),
    [
        (
            "es-ES",
            ("132,40 US$", "117,40 US$", "15,00 US$"),
            "Disculpe, nos equivocamos con su factura de noviembre de 2026: "
            "es de 117,40 US$, no de 132,40 US$",
            "Example Co: Hola, Ana. Disculpe el error: su factura de nov es de 117,40 US$, no de 132,40 US$. "
            "Sigue venciendo el 15 dic. Baja: responda STOP.",
        ),
        (
            "es-MX",
            ("USD132.40", "USD117.40", "USD15.00"),
            "Disculpe, nos equivocamos con su factura de noviembre de 2026: es de USD117.40, no de USD132.40",
            "Example Co: Hola, Ana. Disculpe el error: su factura de nov es de USD117.40, no de USD132.40. "
            "Sigue venciendo el 15 dic. Baja: responda STOP.",
        ),
    ],
)
def test_spanish_bill_correction_names_both_figures_says_sorry_and_what_it_means(
    renderer: NoticeRenderer, locale: str, figures: tuple[str, str, str], subject: str, sms: str
) -> None:
    # Given a Spanish-speaking customer told 132.40 for a bill now corrected down to 117.40
    person = customer(first_name="Ana", locale=locale)
    request = notice(NoticeKind.BILL_CORRECTION)
    told, corrected, difference = figures

    # When the correction is rendered
    email = renderer.render_email(request, person)
    text_message = renderer.render_sms(request, person)

    # Then it is in Spanish, names what we said and what is right, apologises and says what changes
    assert email.subject == subject
    for part in (folded(email.text), folded(HTML_TAG.sub("", email.html))):
        assert "Hola, Ana:" in part
        assert f"Le dijimos que su factura de noviembre de 2026 era de {told}." in part
        assert (
            f"Fue un error nuestro y lo sentimos: la cantidad correcta es {corrected}, "
            f"{difference} menos de lo que le indicamos." in part
        )
        assert f"Lo que esto significa para usted: el total a pagar es ahora de {corrected}." in part
        assert "La fecha de vencimiento no cambia: sigue siendo el 15 de diciembre de 2026." in part
        assert "más de lo que le indicamos" not in part
    assert email.text.endswith(ES_FOOTER)
    assert text_message.text == sms


def test_spanish_bill_correction_upwards_with_a_new_due_date_says_more_and_the_new_date(
    renderer: NoticeRenderer,
) -> None:
    payload = {
        **BILL_CORRECTION,
        "corrected_amount": "140.00",
        "due_date": "2027-01-05",
        "due_date_changed": True,
    }
    person = customer(locale="es-ES")

    email = renderer.render_email(notice(NoticeKind.BILL_CORRECTION, payload), person)
    sms = renderer.render_sms(notice(NoticeKind.BILL_CORRECTION, payload), person)

    for part in (folded(email.text), folded(HTML_TAG.sub("", email.html))):
        assert "la cantidad correcta es 140,00 US$, 7,60 US$ más de lo que le indicamos." in part
        assert "También cambia la fecha de vencimiento: ahora vence el 5 de enero de 2027." in part
        assert "menos de lo que" not in part
        assert "no cambia" not in part
    assert "es de 140,00 US$, no de 132,40 US$. Ahora vence el 5 ene. " + ES_STOP in sms.text


@pytest.mark.parametrize("due_date_changed", [False, True])
def test_spanish_bill_correction_without_a_due_date_says_nothing_about_one(
    renderer: NoticeRenderer, due_date_changed: bool
) -> None:
    payload = {**BILL_CORRECTION, "due_date": None, "due_date_changed": due_date_changed}
    person = customer(first_name="Ana", locale="es-ES")

    email = renderer.render_email(notice(NoticeKind.BILL_CORRECTION, payload), person)
    sms = renderer.render_sms(notice(NoticeKind.BILL_CORRECTION, payload), person)

    assert "el total a pagar es ahora de 117,40 US$.\n\nSi tiene cualquier duda" in folded_lines(email.text)
    assert sms.text == (
        "Example Co: Hola, Ana. Disculpe el error: su factura de nov es de 117,40 US$, no de 132,40 US$. "
        + ES_STOP
    )
    for part in (email.subject, email.text, email.html, sms.text):
        assert "vence" not in part
        assert "None" not in part


@pytest.mark.parametrize(
    ("locale", "timezone", "arrival", "told", "window_end", "sms_arrival"),
    [
        ("es-ES", "Europe/Madrid", "a las 19:40", "a las 20:45", "a las 20:00.", "llega a las 19:40,"),
        # Spanish says "a la 1", not "a las 1": the article agrees with the hour.
        (
            "es-MX",
            "America/Mexico_City",
            "a las 12:40 p.m.",
            "a la 1:45 p.m.",
            "a la 1:00 p.m.",
            "llega a las 12:40 p.m.,",
        ),
    ],
)
def test_spanish_earlier_arrival_gives_both_times_and_says_it_is_back_within_the_window(
    renderer: NoticeRenderer,
    locale: str,
    timezone: str,
    arrival: str,
    told: str,
    window_end: str,
    sms_arrival: str,
) -> None:
    # Given a Spanish-speaking customer told a late time, and a technician now back within the window
    person = customer(first_name="Ana", locale=locale, timezone=timezone)
    request = notice(NoticeKind.VISIT_ETA_EARLIER)

    email = renderer.render_email(request, person)
    sms = renderer.render_sms(request, person)

    # Then it is good news, on their clock, with the right article before each time
    assert folded(email.subject) == f"Buenas noticias: Carlos llegará antes, {arrival}"
    for part in (folded(email.text), folded(HTML_TAG.sub("", email.html))):
        assert "Buenas noticias: Carlos llegará antes de lo que le dijimos." in part
        assert f"Ahora calculamos que llegará {arrival}, y no {told} como le indicamos." in part
        assert f"dentro de la franja que le dimos al principio, que termina {window_end}" in part
    assert folded(sms.text) == (
        f"Example Co: Buenas noticias, Ana: Carlos se adelanta y {sms_arrival} "
        f"dentro de la franja prevista. {ES_STOP}"
    )


@pytest.mark.parametrize(
    ("locale", "timezone", "new_eta", "told_eta", "arrival", "told"),
    [
        # 19:20 UTC: sooner than 19:45, still after the window's end (20:20 in Madrid)
        (
            "es-ES",
            "Europe/Madrid",
            "2026-11-24T19:20:00+00:00",
            RUNNING_LATE["new_eta"],
            "a las 20:20",
            "a las 20:45",
        ),
        # A time that ends in "p.m." ends the sentence without a second period
        (
            "es-MX",
            "America/Mexico_City",
            "2026-11-24T19:20:00+00:00",
            RUNNING_LATE["new_eta"],
            "a la 1:20 p.m.",
            "a la 1:45 p.m.",
        ),
        # Past midnight on their clock, both times carry their day
        (
            "es-ES",
            "America/New_York",
            PAST_MIDNIGHT,
            "2026-11-25T05:45:00+00:00",
            "el 25 nov a las 0:15",
            "el 25 nov a las 0:45",
        ),
    ],
)
def test_spanish_earlier_arrival_still_after_the_window_does_not_claim_to_be_on_time(
    renderer: NoticeRenderer, locale: str, timezone: str, new_eta: str, told_eta: str, arrival: str, told: str
) -> None:
    request = notice(NoticeKind.VISIT_ETA_EARLIER, {**ETA_EARLIER, "new_eta": new_eta, "told_eta": told_eta})
    person = customer(first_name="Ana", locale=locale, timezone=timezone)

    email = renderer.render_email(request, person)
    sms = renderer.render_sms(request, person)

    assert f"Ahora calculamos que llegará {arrival}, y no {told} como le indicamos." in folded(email.text)
    assert folded(sms.text) == (
        f"Example Co: Buenas noticias, Ana: Carlos se adelanta y llega {arrival.rstrip('.')}. {ES_STOP}"
    )
    for part in (email.text, email.html, sms.text):
        assert "franja" not in part
        assert "p.m.." not in part


@pytest.mark.parametrize(
    ("locale", "timezone", "opened"),
    [
        ("es-ES", "Europe/Madrid", "20 de noviembre de 2026"),
        ("es-MX", "America/Mexico_City", "19 de noviembre de 2026"),
    ],
)
@pytest.mark.parametrize(
    ("open_for_hours", "how_long"),
    [(1, "hace 1 hora"), (5, "hace 5 horas"), (47, "hace 47 horas"), (110, "hace 4 días")],
)
def test_spanish_stale_ticket_says_since_when_on_the_customers_calendar(
    renderer: NoticeRenderer, locale: str, timezone: str, opened: str, open_for_hours: int, how_long: str
) -> None:
    request = notice(NoticeKind.TICKET_STALE, {**TICKET_STALE, "open_for_hours": open_for_hours})
    email = renderer.render_email(request, customer(locale=locale, timezone=timezone))

    assert email.subject == "Seguimos trabajando en su solicitud: Invoice address is wrong"
    for part in (email.text, email.html):
        assert f"(ref. T-1001), abierta desde el {opened}, {how_long}." in part
        assert "support@example.com" in part


def test_spanish_follow_up_asks_whether_everything_works(renderer: NoticeRenderer) -> None:
    person = customer(first_name="Ana", locale="es-MX", timezone="America/Los_Angeles")
    request = notice(NoticeKind.TICKET_FOLLOW_UP)

    email = renderer.render_email(request, person)
    sms = renderer.render_sms(request, person)

    # Solved 06:30 UTC on the 23rd: still the 22nd in Los Angeles.
    assert email.subject == "¿Ya funciona todo bien? (Invoice address is wrong)"
    assert "El 22 de noviembre de 2026 marcamos como resuelta su solicitud" in email.text
    assert sms.text == (
        'Example Co: Hola, Ana. El 22 nov resolvimos su solicitud "Invoice address is wrong". '
        "¿Ya funciona todo bien? Si no, escriba a support@example.com y la retomaremos. " + ES_STOP
    )


# --- falling back to English ---------------------------------------------------------------------


def test_french_customer_reads_english_with_french_number_conventions(renderer: NoticeRenderer) -> None:
    # Given a customer whose language has no templates
    person = customer(first_name="Ana", locale="fr-FR", timezone="Europe/Paris")

    # When their bill notice is rendered
    email = renderer.render_email(notice(NoticeKind.BILL_INCREASE), person)
    sms = renderer.render_sms(notice(NoticeKind.BILL_INCREASE), person)

    # Then every word is English, months and dates included ("Your novembre 2026 bill" is neither
    # language), with the figures written as in France (en_FR: decimal comma, symbol after)
    assert email.subject == "Your November 2026 bill is 22,40 US$ higher: here is why"
    for part in (email.text, email.html):
        assert "Hi Ana," in part
        assert f"132,40{NBSP}US$" in part
        assert "(20,4%)" in part
        assert "15 December 2026" in part
        assert "novembre" not in part
    assert email.text.endswith(EN_FOOTER)
    assert '<html lang="en">' in email.html
    assert sms.text == (
        "Example Co: Hi Ana, your Nov bill is 132,40 US$, up 22,40 US$ (20,4%) on Oct, "
        "mostly Data add-on. Due 15 Dec. Reply STOP to opt out."
    )


@pytest.mark.parametrize(
    ("locale", "timezone"), [("ja-JP", "Asia/Tokyo"), ("ar-EG", "Africa/Cairo"), ("zh-CN", "Asia/Shanghai")]
)
@pytest.mark.parametrize("kind", CUSTOMER_KINDS)
def test_english_text_never_carries_dates_in_another_script(
    renderer: NoticeRenderer, kind: NoticeKind, locale: str, timezone: str
) -> None:
    # Given a customer whose language has no templates and whose territory no English in CLDR
    person = customer(first_name="Ana", locale=locale, timezone=timezone)

    sms = renderer.render_sms(notice(kind), person)
    email = renderer.render_email(notice(kind), person)

    # Then the SMS stays in the GSM-7 alphabet (a "11月22日" in it would make it UCS-2: 70
    # characters a segment instead of 160), and the email's figures are in English too
    assert sms_encoding(sms.text) == "GSM-7", sms.text
    written = email.subject + email.text
    assert all(ch < "\u0250" for ch in written if ch.isalpha()), written  # Latin letters only
    assert all(ch in "0123456789" for ch in written if ch.isdigit()), written  # and digits


@pytest.mark.parametrize("kind", CUSTOMER_KINDS)
def test_french_customer_gets_every_kind_in_english(renderer: NoticeRenderer, kind: NoticeKind) -> None:
    person = customer(locale="fr-FR", timezone="Europe/Paris")
    english = customer(locale="en-US", timezone="Europe/Paris")

    email = renderer.render_email(notice(kind), person)
    sms = renderer.render_sms(notice(kind), person)

    assert email.text.endswith(EN_FOOTER)
    assert sms.text.endswith(EN_STOP)
    # The same English template as an en-US customer's, numbers and dates aside.
    assert email.text.splitlines()[0] == renderer.render_email(notice(kind), english).text.splitlines()[0]


def write_templates(root: Path, kind: NoticeKind, files: dict[str, str]) -> None:
    folder = root / kind.value
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in files.items():
        (folder / name).write_text(source, encoding="utf-8")


def test_a_file_missing_in_the_language_falls_back_to_english_for_that_file_only(tmp_path: Path) -> None:
    # Given English templates for a kind and a Spanish translation missing its plain text part
    write_templates(
        tmp_path,
        NoticeKind.BILL_INCREASE,
        {name: f"EN {name} {{{{ customer.first_name }}}}" for name in CUSTOMER_FILES},
    )
    write_templates(
        tmp_path / "es",
        NoticeKind.BILL_INCREASE,
        {
            name: f"ES {name} {{{{ customer.first_name }}}}"
            for name in CUSTOMER_FILES
            if name != "email.txt.j2"
        },
    )
    renderer = make_renderer(tmp_path)
    request = notice(NoticeKind.BILL_INCREASE)

    # When a Spanish and an English customer get the notice
    spanish = renderer.render_email(request, customer(first_name="Ana", locale="es-MX"))
    spanish_sms = renderer.render_sms(request, customer(first_name="Ana", locale="es-MX"))
    english = renderer.render_email(request, customer(first_name="Ana", locale="en-GB"))

    # Then the Spanish customer gets every Spanish file there is, and English for the missing one
    assert spanish.subject == "ES email_subject.txt.j2 Ana"
    assert spanish.html == "ES email.html.j2 Ana"
    assert spanish.text == "EN email.txt.j2 Ana\n"
    assert spanish_sms.text == "ES sms.txt.j2 Ana"
    # And the English customer never sees the Spanish files
    assert english.subject == "EN email_subject.txt.j2 Ana"
    assert english.html == "EN email.html.j2 Ana"
    assert english.text == "EN email.txt.j2 Ana\n"


def test_a_kind_missing_in_the_language_falls_back_to_english(tmp_path: Path) -> None:
    write_templates(tmp_path, NoticeKind.VISIT_DONE, {name: f"EN {name}" for name in CUSTOMER_FILES})
    write_templates(
        tmp_path / "es", NoticeKind.VISIT_ON_THE_WAY, {name: f"ES {name}" for name in CUSTOMER_FILES}
    )

    sms = make_renderer(tmp_path).render_sms(notice(NoticeKind.VISIT_DONE), customer(locale="es-ES"))

    assert sms.text == "EN sms.txt.j2"


def test_a_kind_missing_in_every_language_is_a_render_error_naming_the_english_file(tmp_path: Path) -> None:
    write_templates(tmp_path / "es", NoticeKind.VISIT_DONE, {"email.html.j2": "ES"})

    with pytest.raises(RenderError, match=re.escape("visit_done/sms.txt.j2")) as raised:
        make_renderer(tmp_path).render_sms(notice(NoticeKind.VISIT_DONE), customer(locale="es-ES"))
    assert str(raised.value).startswith("visit_done/sms.txt.j2 failed")


def test_team_notices_stay_in_english_whatever_translations_exist(tmp_path: Path) -> None:
    payload = {**CALLBACK_OVERDUE, "customer_id": "cust-1", "minutes_late": 62, "level": 1}
    write_templates(
        tmp_path, NoticeKind.CALLBACK_ESCALATION, {"subject.txt.j2": "EN", "summary.txt.j2": "EN"}
    )
    write_templates(
        tmp_path / "es", NoticeKind.CALLBACK_ESCALATION, {"subject.txt.j2": "ES", "summary.txt.j2": "ES"}
    )

    rendered = make_renderer(tmp_path).render_escalation(notice(NoticeKind.CALLBACK_ESCALATION, payload))

    assert rendered.subject == "EN"
    assert json.loads(rendered.body)["summary"] == "EN"


# --- the same rules as in English ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "render"),
    [(name, "sms" if name == "sms.txt.j2" else "email") for name in CUSTOMER_FILES],
)
def test_spanish_template_with_an_undefined_value_is_an_error_not_an_english_fallback(
    tmp_path: Path, template: str, render: str
) -> None:
    # Given a complete English kind and a Spanish file that uses a value the notice does not have
    write_templates(
        tmp_path, NoticeKind.TICKET_STALE, {name: "Hi {{ customer.first_name }}" for name in CUSTOMER_FILES}
    )
    write_templates(
        tmp_path / "es",
        NoticeKind.TICKET_STALE,
        {template: "Hola, {{ customer.first_name }}: {{ notice.ticket_ref }}"},
    )
    renderer = make_renderer(tmp_path)
    request = notice(NoticeKind.TICKET_STALE)
    method = renderer.render_sms if render == "sms" else renderer.render_email

    # Then the Spanish customer's notice fails loudly, naming the Spanish file, rather than
    # silently going out in English or with a blank
    with pytest.raises(RenderError, match="ticket_ref") as raised:
        method(request, customer(locale="es-ES"))
    assert f"es/ticket_stale/{template}, line 1 failed" in str(raised.value)
    assert request.notice_id in str(raised.value)
    # while an English customer, whose template is fine, gets theirs
    method(request, customer(locale="en-US"))


HOSTILE = "<img src=x onerror=alert(1)> & {{ 7*7 }}"
HOSTILE_NAME = "<script>{{7*7}}</script>"


def with_hostile_text(kind: NoticeKind) -> dict[str, Any]:
    payload = dict(PAYLOADS[kind])
    if kind is NoticeKind.BILL_INCREASE:
        payload["changed_items"] = [{"description": HOSTILE, "previous_amount": None, "new_amount": "15.00"}]
    elif kind is NoticeKind.CALLBACK_OVERDUE:
        payload["topic"] = HOSTILE
        payload["agent_name"] = HOSTILE
    elif kind in (NoticeKind.TICKET_STALE, NoticeKind.TICKET_FOLLOW_UP):
        payload["subject"] = HOSTILE
    elif kind is NoticeKind.VISIT_ON_THE_WAY:
        payload["address_hint"] = HOSTILE
    elif kind is NoticeKind.VISIT_RUNNING_LATE:
        payload["delay_reason"] = HOSTILE
    elif kind is NoticeKind.VISIT_ETA_EARLIER:
        payload["technician_first_name"] = HOSTILE
    return payload


@pytest.mark.parametrize("kind", CUSTOMER_KINDS)
def test_spanish_html_escapes_customer_data_and_never_evaluates_it(
    renderer: NoticeRenderer, kind: NoticeKind
) -> None:
    request = notice(kind, with_hostile_text(kind))
    person = customer(first_name=HOSTILE_NAME, locale="es-ES")

    email = renderer.render_email(request, person)
    sms = renderer.render_sms(request, person)

    assert "Recibe este aviso" in email.html  # the Spanish layout
    assert "<script>" not in email.html
    assert "<img" not in email.html
    assert "&lt;script&gt;{{7*7}}&lt;/script&gt;" in email.html
    if kind not in (NoticeKind.VISIT_DONE, NoticeKind.BILL_CORRECTION):  # no free text of their own
        assert "&lt;img src=x onerror=alert(1)&gt; &amp; {{ 7*7 }}" in email.html
        assert HOSTILE in email.text  # plain text is shown as written
    for part in (email.subject, email.html, email.text, sms.text):
        assert "49" not in part


@pytest.mark.parametrize("kind", CUSTOMER_KINDS)
@pytest.mark.parametrize(("locale", "timezone"), SPANISH_LOCALES)
def test_every_spanish_email_is_clean_spanish_in_every_part(
    renderer: NoticeRenderer, kind: NoticeKind, locale: str, timezone: str
) -> None:
    email = renderer.render_email(notice(kind), customer(first_name="Ana", locale=locale, timezone=timezone))

    assert "\n" not in email.subject
    assert HTML_TAG.search(email.subject) is None
    assert HTML_TAG.search(email.text) is None
    assert email.text.endswith(f"\n\nExample Co\n\n--\n{ES_FOOTER}")
    assert "\n\n\n" not in email.text
    assert '<html lang="es">' in email.html
    assert '<p style="margin:0 0 16px;">Hola, Ana:</p>' in email.html
    for part in (email.subject, email.text, email.html):
        assert "{{" not in part
        assert "{%" not in part
        assert "None" not in part
        assert "p.m.." not in part
        for english in ("Hi ", "Thanks", "Reply ", "You are receiving", " your ", " we "):
            assert english not in part


# --- <html lang> -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "lang", "greeting"),
    [
        ("en-US", "en", "Hi Ana,"),
        ("en-GB", "en", "Hi Ana,"),
        ("de-DE", "en", "Hi Ana,"),
        ("fr-FR", "en", "Hi Ana,"),
        ("es-ES", "es", "Hola, Ana:"),
        ("es-MX", "es", "Hola, Ana:"),
        ("es-US", "es", "Hola, Ana:"),
        ("es-419", "es", "Hola, Ana:"),
    ],
)
@pytest.mark.parametrize("kind", CUSTOMER_KINDS)
def test_html_lang_is_the_language_the_email_is_written_in(
    renderer: NoticeRenderer, kind: NoticeKind, locale: str, lang: str, greeting: str
) -> None:
    email = renderer.render_email(notice(kind), customer(first_name="Ana", locale=locale))

    assert email.html.count("<html ") == 1
    assert f'<html lang="{lang}">' in email.html
    assert greeting in email.text
    assert greeting in email.html


def test_every_customer_kind_has_a_complete_spanish_translation() -> None:
    english_kinds = sorted(
        path.parent.name for path in TEMPLATES.glob("*/email.html.j2") if not path.parent.name.startswith("_")
    )
    assert english_kinds == sorted(kind.value for kind in CUSTOMER_KINDS)
    for kind in english_kinds:
        for name in CUSTOMER_FILES:
            assert (TEMPLATES / "es" / kind / name).is_file(), f"es/{kind}/{name}"
        html = (TEMPLATES / "es" / kind / "email.html.j2").read_text(encoding="utf-8")
        assert html.startswith('{% extends "es/_layouts/email.html.j2" %}')
    # Team notices are read by the team, in English: no translation of them is shipped.
    assert not (TEMPLATES / "es" / "callback_escalation").exists()


# --- SMS budgets -----------------------------------------------------------------------------------

LONG_BUSINESS_NAME = "Northern Lights Broadband & Telephone Company"  # 45 characters
LONG_FIRST_NAME = "Maximilian-Alexander"  # 20 characters
LONG_FREE_TEXT = "My fibre router keeps dropping the connection every evening around nine o'clock"
REASON_50 = "The van broke down on the highway, waiting for tow"
SMS_LOCALES = [*SPANISH_LOCALES, ("es-US", "America/New_York")]


def typical(kind: NoticeKind) -> dict[str, Any]:
    """As in the English budget tests: 10-letter names, a 30-character reason and a new arrival
    time that carries its day (in New York), the longest form a time takes."""
    payload = dict(PAYLOADS[kind])
    if "technician_first_name" in payload:
        payload["technician_first_name"] = "Maximilian"
    if kind is NoticeKind.VISIT_RUNNING_LATE:
        payload.update(delay_reason="Previous job took much longer.", new_eta=PAST_MIDNIGHT)
    return payload


def long_data(kind: NoticeKind) -> dict[str, Any]:
    payload = dict(PAYLOADS[kind])
    if kind is NoticeKind.BILL_INCREASE:
        payload.update(
            previous_amount="100000.00",
            new_amount="123456.78",
            difference="23456.78",
            changed_items=[
                {"description": LONG_FREE_TEXT, "previous_amount": None, "new_amount": "15000.00"}
            ],
        )
    if kind is NoticeKind.BILL_CORRECTION:
        payload.update(told_amount="123456.78", corrected_amount="100000.00")
    if kind is NoticeKind.CALLBACK_OVERDUE:
        payload.update(topic=LONG_FREE_TEXT, new_deadline=PAST_MIDNIGHT)
    if kind in (NoticeKind.TICKET_STALE, NoticeKind.TICKET_FOLLOW_UP):
        payload.update(subject=LONG_FREE_TEXT, ticket_id="TCK-2026-000123")
    if "technician_first_name" in payload:
        payload["technician_first_name"] = LONG_FIRST_NAME
    if kind is NoticeKind.VISIT_RUNNING_LATE:
        payload.update(delay_reason=REASON_50 * 4, new_eta=PAST_MIDNIGHT)
    return payload


def assert_tidy_spanish_sms(text: str, business_name: str = "Example Co") -> None:
    assert text.startswith(f"{business_name}: ")
    assert text.endswith(ES_STOP)
    assert "\n" not in text
    assert "  " not in text
    assert ".." not in text.replace("...", "")  # "p.m." ends a sentence without a second period


@pytest.mark.parametrize("kind", CUSTOMER_KINDS)
@pytest.mark.parametrize(("locale", "timezone"), SMS_LOCALES)
def test_spanish_sms_never_needs_more_than_two_segments(kind: NoticeKind, locale: str, timezone: str) -> None:
    # Given a 45-character business name, 20-character names, long free text and large amounts
    person = customer(first_name=LONG_FIRST_NAME, locale=locale, timezone=timezone)

    sms = (
        make_renderer(business_name=LONG_BUSINESS_NAME).render_sms(notice(kind, long_data(kind)), person).text
    )

    # Then it is still at most two GSM-7 segments
    assert is_gsm7(sms), sms
    assert sms_segments(sms) <= 2, (len(sms), sms)
    assert_tidy_spanish_sms(sms, LONG_BUSINESS_NAME)


@pytest.mark.parametrize("kind", CUSTOMER_KINDS)
@pytest.mark.parametrize(("locale", "timezone"), SMS_LOCALES)
def test_spanish_sms_costs_no_more_than_the_english_one_with_typical_data(
    kind: NoticeKind, locale: str, timezone: str
) -> None:
    # Given typical data, and the same notice for a Spanish and an English speaker
    renderer = make_renderer()
    request = notice(kind, typical(kind))
    spanish = renderer.render_sms(
        request, customer(first_name="Alexandria", locale=locale, timezone=timezone)
    ).text
    english = renderer.render_sms(
        request, customer(first_name="Alexandria", locale="en-US", timezone=timezone)
    ).text

    # Then the Spanish one is no more segments (1 wherever the English one is 1)
    assert is_gsm7(spanish), spanish
    assert sms_segments(spanish) <= sms_segments(english), (len(spanish), spanish, len(english), english)
    assert_tidy_spanish_sms(spanish)
    assert "Alexandria" in spanish


VISIT_KINDS = [
    NoticeKind.VISIT_ON_THE_WAY,
    NoticeKind.VISIT_RUNNING_LATE,
    NoticeKind.VISIT_ETA_EARLIER,
    NoticeKind.VISIT_DONE,
]
ONE_SEGMENT_KINDS = [NoticeKind.BILL_INCREASE, NoticeKind.BILL_CORRECTION, *VISIT_KINDS]


@pytest.mark.parametrize("kind", ONE_SEGMENT_KINDS)
@pytest.mark.parametrize(("locale", "timezone"), SMS_LOCALES)
def test_short_spanish_sms_fit_one_segment_with_typical_data(
    kind: NoticeKind, locale: str, timezone: str
) -> None:
    person = customer(first_name="Alexandria", locale=locale, timezone=timezone)
    sms = make_renderer().render_sms(notice(kind, typical(kind)), person).text
    assert sms_segments(sms) == 1, (len(sms), sms)


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        (
            NoticeKind.BILL_INCREASE,
            {**BILL_INCREASE_PAYLOAD, "is_correction": True, "compared_period": "2026-11"},
        ),
        (NoticeKind.BILL_INCREASE, {**BILL_INCREASE_PAYLOAD, "changed_items": [], "due_date": None}),
        (NoticeKind.BILL_CORRECTION, {**BILL_CORRECTION, "due_date_changed": True, "due_date": "2027-01-05"}),
        (NoticeKind.BILL_CORRECTION, {**BILL_CORRECTION, "corrected_amount": "140.00", "due_date": None}),
    ],
)
def test_spanish_bill_sms_variants_are_gsm7_and_one_segment(
    kind: NoticeKind, payload: dict[str, Any]
) -> None:
    sms = make_renderer().render_sms(notice(kind, payload), customer(locale="es-ES")).text
    assert is_gsm7(sms), sms
    assert sms_segments(sms) == 1
    assert_tidy_spanish_sms(sms)
    assert "None" not in sms


# A letter outside GSM-7 (\u00ed, \u00f3) in a name or in free text would turn the whole SMS into
# UCS-2, 67 characters a segment. SMS text therefore drops accents GSM-7 lacks (as carriers' smart
# encoding does) and keeps the ones it has (\u00e9, \u00f1); email keeps every letter as written.
ACCENTED: dict[NoticeKind, dict[str, Any]] = {
    NoticeKind.BILL_INCREASE: {
        "changed_items": [
            {"description": "L\u00ednea adicional", "previous_amount": None, "new_amount": "15.00"}
        ]
    },
    NoticeKind.BILL_CORRECTION: {},  # no free text: the customer's accented name alone
    NoticeKind.CALLBACK_OVERDUE: {"topic": "Conexi\u00f3n muy lenta"},
    NoticeKind.TICKET_STALE: {"subject": "Conexi\u00f3n muy lenta"},
    NoticeKind.TICKET_FOLLOW_UP: {"subject": "Conexi\u00f3n muy lenta"},
    NoticeKind.VISIT_ON_THE_WAY: {"technician_first_name": "Joaqu\u00edn"},
    NoticeKind.VISIT_RUNNING_LATE: {
        "technician_first_name": "Joaqu\u00edn",
        "delay_reason": "atasco en la autov\u00eda",
    },
    NoticeKind.VISIT_ETA_EARLIER: {"technician_first_name": "Joaqu\u00edn"},
    NoticeKind.VISIT_DONE: {"technician_first_name": "Joaqu\u00edn"},
}


@pytest.mark.parametrize("kind", CUSTOMER_KINDS)
def test_spanish_sms_with_accented_customer_data_stays_gsm7_within_two_segments(kind: NoticeKind) -> None:
    # Given a customer, technician or topic with letters outside GSM-7, and one GSM-7 has
    request = notice(kind, {**PAYLOADS[kind], **ACCENTED[kind]})

    sms = (
        make_renderer().render_sms(request, customer(first_name="Sof\u00eda Pe\u00f1a", locale="es-ES")).text
    )

    # Then the SMS stays GSM-7 (\u00ed becomes i, \u00f1 stays) and fits two segments
    assert "Sofia Pe\u00f1a" in sms
    assert is_gsm7(sms)
    assert sms_segments(sms) <= 2, (len(sms), sms)


def test_email_keeps_accented_names_as_written() -> None:
    request = notice(
        NoticeKind.VISIT_DONE, {**PAYLOADS[NoticeKind.VISIT_DONE], **ACCENTED[NoticeKind.VISIT_DONE]}
    )
    email = make_renderer().render_email(request, customer(first_name="Sof\u00eda", locale="es-ES"))
    assert "Sof\u00eda" in email.text
    assert "Joaqu\u00edn" in email.text
