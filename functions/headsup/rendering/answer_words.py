"""The answer pages' words, in the languages headsup writes notices in (English, Spanish)."""

from dataclasses import dataclass, field

from headsup.domain.answers import Answer
from headsup.domain.kinds import NoticeKind


@dataclass(frozen=True)
class PageText:
    lang: str
    question_title: str
    questions: dict[NoticeKind, str]
    labels: dict[Answer, str]  # CALL_LATER's has `{time}`
    later_label: str  # CALL_LATER in an email, which opens the page with the times offered
    retry: str
    thanks_title: str
    thanks: dict[Answer, str]
    already_title: str
    already_body: str
    invalid_title: str
    invalid_body: str
    extra: dict[str, str] = field(default_factory=dict)


ENGLISH = PageText(
    lang="en",
    question_title="Your answer",
    questions={
        NoticeKind.TICKET_FOLLOW_UP: "Is everything working now?",
        NoticeKind.CALLBACK_OVERDUE: "When should {business} call you?",
        NoticeKind.VISIT_ON_THE_WAY: "Does the technician's arrival time work for you?",
        NoticeKind.VISIT_RUNNING_LATE: "Does the new arrival time work for you?",
        NoticeKind.VISIT_DONE: "How did the visit go?",
    },
    labels={
        Answer.FIXED: "Yes, it's fixed",
        Answer.NOT_FIXED: "No, still a problem",
        Answer.CALL_NOW: "Call me now",
        Answer.CALL_LATER: "Call me at {time}",
        Answer.FINE: "That's fine",
        Answer.RESCHEDULE: "Please reschedule",
        Answer.ALL_GOOD: "All good",
        Answer.NOT_RIGHT: "Something's not right",
    },
    later_label="Call me later",
    retry="Please choose one of the answers below. Nothing was changed.",
    thanks_title="Thank you",
    thanks={
        Answer.FIXED: "Thank you for letting us know. We're glad it's fixed.",
        Answer.NOT_FIXED: (
            "Sorry it's still not right. We've reopened your ticket and the team will get back to you."
        ),
        Answer.CALL_NOW: "We'll call you within the next 15 minutes.",
        Answer.CALL_LATER: "We'll call you at the time you chose.",
        Answer.FINE: "Thank you. The technician is on the way.",
        Answer.RESCHEDULE: "We'll contact you to find a better time.",
        Answer.ALL_GOOD: "Thank you for letting us know.",
        Answer.NOT_RIGHT: "Sorry about that. The team will contact you to put it right.",
    },
    already_title="Already answered",
    already_body="We already have your answer to this message. Nothing was changed.",
    invalid_title="Link not valid",
    invalid_body=(
        "This link is not valid or has expired. Nothing was changed. If you need help, reply to the"
        " message or contact us."
    ),
)

SPANISH = PageText(
    lang="es",
    question_title="Su respuesta",
    questions={
        NoticeKind.TICKET_FOLLOW_UP: "¿Ya funciona todo?",
        NoticeKind.CALLBACK_OVERDUE: "¿Cuándo quiere que {business} le llame?",
        NoticeKind.VISIT_ON_THE_WAY: "¿Le viene bien la hora de llegada del técnico?",
        NoticeKind.VISIT_RUNNING_LATE: "¿Le viene bien la nueva hora de llegada?",
        NoticeKind.VISIT_DONE: "¿Qué tal fue la visita?",
    },
    labels={
        Answer.FIXED: "Sí, está resuelto",
        Answer.NOT_FIXED: "No, sigue el problema",
        Answer.CALL_NOW: "Llámenme ahora",
        Answer.CALL_LATER: "Llámenme el {time}",
        Answer.FINE: "Me viene bien",
        Answer.RESCHEDULE: "Prefiero otra fecha",
        Answer.ALL_GOOD: "Todo bien",
        Answer.NOT_RIGHT: "Algo no está bien",
    },
    later_label="Llámenme más tarde",
    retry="Elija una de las respuestas de abajo. No se ha cambiado nada.",
    thanks_title="Gracias",
    thanks={
        Answer.FIXED: "Gracias por decírnoslo. Nos alegra que esté resuelto.",
        Answer.NOT_FIXED: (
            "Sentimos que siga sin funcionar. Hemos reabierto su incidencia y el equipo se pondrá en"
            " contacto con usted."
        ),
        Answer.CALL_NOW: "Le llamaremos en los próximos 15 minutos.",
        Answer.CALL_LATER: "Le llamaremos a la hora que ha elegido.",
        Answer.FINE: "Gracias. El técnico va de camino.",
        Answer.RESCHEDULE: "Nos pondremos en contacto con usted para buscar otra hora.",
        Answer.ALL_GOOD: "Gracias por decírnoslo.",
        Answer.NOT_RIGHT: "Lo sentimos. El equipo se pondrá en contacto con usted para solucionarlo.",
    },
    already_title="Ya respondido",
    already_body="Ya tenemos su respuesta a este mensaje. No se ha cambiado nada.",
    invalid_title="Enlace no válido",
    invalid_body=(
        "Este enlace no es válido o ha caducado. No se ha cambiado nada. Si necesita ayuda, responda al"
        " mensaje o póngase en contacto con nosotros."
    ),
)

_BY_LANGUAGE = {"en": ENGLISH, "es": SPANISH}


def page_text(locale: str) -> PageText:
    """The words for `locale` (`es-ES` -> Spanish); English for a language we do not write."""
    return _BY_LANGUAGE.get(locale.replace("_", "-").split("-")[0].lower(), ENGLISH)
