"""The preference page's words, in English and Spanish, and which of them a request gets.

The page speaks the customer's language: the one they chose on it, else their account's, else
what their browser asks for (Accept-Language), else English. A language without words here is
shown in English; the notices' own languages are the templates' (see `template_languages`).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from babel import Locale, UnknownLocaleError

from headsup.domain.channels import Channel
from headsup.domain.kinds import NoticeKind, Topic
from headsup.domain.preferences import Pause
from headsup.logic.preference_form import Problem

# Notice templates at the root of templates/ are English; other languages are folders beside them.
BASE_LANGUAGE: Final = "en"
# Accept-Language is the client's to write: only so much of it is read.
_MAX_ACCEPT_LANGUAGE: Final = 256
_MAX_LANGUAGE_RANGES: Final = 16


@dataclass(frozen=True)
class TopicWords:
    short: str  # on the button: "Unsubscribe from <short>"
    full: str  # what they leave, in plain words


@dataclass(frozen=True)
class Words:
    lang: str
    title: str  # {business}
    came_from: str
    unsubscribe_question: str  # {topic}, {business}
    unsubscribe_button: str  # {topic}
    not_affected: str
    choices_title: str
    grid_legend: str
    grid_hint: str
    channels: Mapping[Channel, str]
    language_label: str
    language_account: str
    language_account_named: str  # {name}
    pause_label: str
    pauses: Mapping[Pause, str]
    resume: str  # Pause.NONE while paused
    paused_now: str  # {until}
    save_button: str
    saved: str
    unchanged: str
    problems_title: str
    problems: Mapping[Problem, str]
    done_title: str
    done_body: str  # {business}, {topic}
    change_more: str
    help: str  # {business}
    invalid_title: str
    invalid_body: str
    too_large_title: str
    too_large_body: str
    unavailable_title: str
    unavailable_body: str
    not_allowed_title: str
    not_allowed_body: str
    topics: Mapping[Topic, TopicWords]


ENGLISH: Final = Words(
    lang="en",
    title="Your notices from {business}",
    came_from="you came here from one of these",
    unsubscribe_question="Stop receiving {topic} from {business}?",
    unsubscribe_button="Unsubscribe from {topic}",
    not_affected="Other notices are not affected.",
    choices_title="Choose what we send you",
    grid_legend="Notices, and how you receive them",
    grid_hint="Ticked: you receive it. Untick what you do not want.",
    channels={Channel.EMAIL: "By email", Channel.SMS: "By text message (SMS)"},
    language_label="Language of our notices",
    language_account="As in my account",
    language_account_named="As in my account ({name})",
    pause_label="Pause all notices",
    pauses={
        Pause.KEEP: "Keep the pause",
        Pause.NONE: "Do not pause",
        Pause.DAY: "For 1 day",
        Pause.WEEK: "For 1 week",
        Pause.MONTH: "For 30 days",
    },
    resume="Resume now",
    paused_now="All notices are paused until {until}.",
    save_button="Save my choices",
    saved="Your choices are saved.",
    unchanged="Nothing to change: these were already your choices.",
    problems_title="Nothing was changed",
    problems={
        Problem.NO_ACTION: "Please use one of the buttons on this page.",
        Problem.RECEIVE: "One of the notice choices sent is not one we offer.",
        Problem.LANGUAGE: "Please choose a language from the list.",
        Problem.PAUSE: "Please choose a pause from the list.",
        Problem.UNKNOWN_FIELD: "The form sent something this page does not ask for.",
    },
    done_title="Unsubscribed",
    done_body="You are unsubscribed. {business} will no longer send you {topic}.",
    change_more="Change your other choices",
    help="If you need help, contact {business}.",
    invalid_title="Link not valid",
    invalid_body=(
        "This unsubscribe link is not valid. It may have been cut short: try copying the whole"
        " link from the email, or use the unsubscribe option in your mail app."
    ),
    too_large_title="Too much sent",
    too_large_body="That was far more than this page sends. Nothing was changed.",
    unavailable_title="Please try again",
    unavailable_body="We could not record your request just now. Please try again in a few minutes.",
    not_allowed_title="Not allowed",
    not_allowed_body="This address only answers to GET and POST.",
    topics={
        Topic.BILLING: TopicWords("billing notices", "billing notices (changes to your bill)"),
        Topic.CALLBACKS: TopicWords(
            "callback notices", "callback notices (when a call we promised you is running late)"
        ),
        Topic.TICKETS: TopicWords("support ticket updates", "support ticket updates"),
        Topic.VISITS: TopicWords(
            "visit updates", "visit updates (technician on the way, running late, visit done)"
        ),
    },
)

SPANISH: Final = Words(
    lang="es",
    title="Sus avisos de {business}",
    came_from="ha llegado aquí desde uno de estos avisos",
    unsubscribe_question="¿Dejar de recibir {topic} de {business}?",
    unsubscribe_button="Dejar de recibir {topic}",
    not_affected="Los demás avisos no cambian.",
    choices_title="Elija qué le enviamos",
    grid_legend="Avisos, y cómo recibirlos",
    grid_hint="Marcado: lo recibe. Desmarque lo que no quiera recibir.",
    channels={Channel.EMAIL: "Por correo electrónico", Channel.SMS: "Por mensaje de texto (SMS)"},
    language_label="Idioma de nuestros avisos",
    language_account="El de mi cuenta",
    language_account_named="El de mi cuenta ({name})",
    pause_label="Pausar todos los avisos",
    pauses={
        Pause.KEEP: "Mantener la pausa",
        Pause.NONE: "No pausar",
        Pause.DAY: "Durante 1 día",
        Pause.WEEK: "Durante 1 semana",
        Pause.MONTH: "Durante 30 días",
    },
    resume="Reanudar ahora",
    paused_now="Todos los avisos están en pausa hasta: {until}.",
    save_button="Guardar mis preferencias",
    saved="Sus preferencias se han guardado.",
    unchanged="No había nada que cambiar: ya eran sus preferencias.",
    problems_title="No se ha cambiado nada",
    problems={
        Problem.NO_ACTION: "Use uno de los botones de esta página.",
        Problem.RECEIVE: "Una de las opciones de avisos enviadas no es de las que ofrecemos.",
        Problem.LANGUAGE: "Elija un idioma de la lista.",
        Problem.PAUSE: "Elija una pausa de la lista.",
        Problem.UNKNOWN_FIELD: "El formulario envió algo que esta página no pide.",
    },
    done_title="Baja confirmada",
    done_body="Se ha dado de baja. {business} ya no le enviará {topic}.",
    change_more="Cambiar sus otras preferencias",
    help="Si necesita ayuda, contacte con {business}.",
    invalid_title="Enlace no válido",
    invalid_body=(
        "Este enlace para darse de baja no es válido. Puede que esté incompleto: copie el enlace"
        " entero del correo, o use la opción para darse de baja de su aplicación de correo."
    ),
    too_large_title="Se ha enviado demasiado",
    too_large_body="Se ha enviado mucho más de lo que envía esta página. No se ha cambiado nada.",
    unavailable_title="Inténtelo de nuevo",
    unavailable_body="No hemos podido guardar su solicitud. Inténtelo de nuevo en unos minutos.",
    not_allowed_title="No permitido",
    not_allowed_body="Esta dirección solo responde a GET y POST.",
    topics={
        Topic.BILLING: TopicWords("avisos de facturación", "avisos de facturación (cambios en su factura)"),
        Topic.CALLBACKS: TopicWords(
            "avisos de llamadas", "avisos de llamadas (cuando una llamada que le prometimos se retrasa)"
        ),
        Topic.TICKETS: TopicWords("novedades de sus solicitudes", "novedades de sus solicitudes de soporte"),
        Topic.VISITS: TopicWords(
            "avisos de visitas", "avisos de visitas (técnico en camino, retrasos, visita terminada)"
        ),
    },
)

WORDS: Final[Mapping[str, Words]] = {words.lang: words for words in (ENGLISH, SPANISH)}


def page_words(*candidates: str | None) -> Words:
    """The words of the first candidate language the page has words for; English if none."""
    for candidate in candidates:
        language = language_of(candidate)
        if language is not None and language in WORDS:
            return WORDS[language]
    return ENGLISH


def language_of(locale: str | None) -> str | None:
    """The language of a locale (`es-MX` -> `es`); None for anything Babel does not know."""
    if not locale:
        return None
    try:
        return Locale.parse(locale.strip().replace("-", "_")).language
    except (ValueError, UnknownLocaleError):
        return None


def language_name(code: str) -> str:
    """A language as its own speakers write it, capitalised as a menu entry: "Español"."""
    name = Locale.parse(code).get_language_name(code) or code
    return name[:1].upper() + name[1:]


def accepted_languages(header: str | None) -> list[str]:
    """The primary languages an Accept-Language header asks for, most wanted first (RFC 9110:
    `es-MX,es;q=0.9,en;q=0.5`). Malformed entries, `*` and q=0 are left out, never an error."""
    ranked: list[tuple[float, int, str]] = []
    for index, entry in enumerate((header or "")[:_MAX_ACCEPT_LANGUAGE].split(",")[:_MAX_LANGUAGE_RANGES]):
        tag, _, parameters = entry.partition(";")
        weight = _weight(parameters)
        language = tag.strip().split("-")[0].lower()
        if weight and language.isascii() and language.isalpha() and 2 <= len(language) <= 8:
            ranked.append((-weight, index, language))
    return [language for _, _, language in sorted(ranked)]


def _weight(parameters: str) -> float:
    """The q of an Accept-Language entry: 1 when absent, 0 when unreadable (so left out)."""
    name, _, value = parameters.strip().partition("=")
    if not name:
        return 1.0
    if name.strip().lower() != "q":
        return 0.0
    try:
        weight = float(value.strip())
    except ValueError:
        return 0.0
    return weight if 0.0 <= weight <= 1.0 else 0.0


def template_languages(templates_dir: Path | None) -> tuple[str, ...]:
    """The languages headsup writes notices in, read from the templates folder as the renderer
    looks them up (`<language>/<kind>/...`, English at the root): English first. Without the folder,
    English only."""
    if templates_dir is None or not templates_dir.is_dir():
        return (BASE_LANGUAGE,)
    kinds = {kind.value for kind in NoticeKind}
    found = {
        folder.name
        for folder in templates_dir.iterdir()
        if folder.is_dir()
        and folder.name not in kinds
        and language_of(folder.name) == folder.name
        and any((folder / kind).is_dir() for kind in kinds)
    }
    return (BASE_LANGUAGE, *sorted(found - {BASE_LANGUAGE}))


def offered_languages(templates: Iterable[str], stored: str | None) -> tuple[str, ...]:
    """The languages the page offers: the templates', and the customer's stored choice if the
    business wrote another one, so that saving other choices does not silently drop it."""
    offered = tuple(templates)
    if stored and stored not in offered and language_of(stored) == stored:
        return (*offered, stored)
    return offered
