"""Messages the API shows to people, in the reader's language (nb, nn or en).

A refusal about one field of a request carries a :class:`Said`: the key of a message here
and its parameters. The error reply's ``message`` is then written in the reader's language
(from the ``Accept-Language`` header; bokmål when none of ours is asked for) and the reply
names the ``field`` it is about, so that a form can show the message beside that field.
Messages without a key stay as written (bokmål).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from dataclasses import field as _field

__all__ = ["LANGUAGES", "Said", "reader_language", "say", "schema_said"]

LANGUAGES = ("nb", "nn", "en")

_MESSAGES: dict[str, dict[str, str]] = {
    # JSON-schema validation (server.http.common.read_body)
    "required": {
        "nb": "Dette feltet må fylles ut.",
        "nn": "Dette feltet må fyllast ut.",
        "en": "This field is required.",
    },
    "too-long": {
        "nb": "Teksten er for lang (høyst {limit} tegn).",
        "nn": "Teksten er for lang (høgst {limit} teikn).",
        "en": "The text is too long (at most {limit} characters).",
    },
    "empty": {
        "nb": "Dette feltet kan ikke være tomt.",
        "nn": "Dette feltet kan ikkje vere tomt.",
        "en": "This field cannot be empty.",
    },
    "choice": {
        "nb": "Velg et av alternativene.",
        "nn": "Vel eitt av alternativa.",
        "en": "Choose one of the options.",
    },
    "format": {
        "nb": "Verdien har feil form.",
        "nn": "Verdien har feil form.",
        "en": "The value is not in the right form.",
    },
    "type": {
        "nb": "Verdien har feil type.",
        "nn": "Verdien har feil type.",
        "en": "The value has the wrong type.",
    },
    "unknown-field": {
        "nb": "Ukjent felt: {name}.",
        "nn": "Ukjent felt: {name}.",
        "en": "Unknown field: {name}.",
    },
    "too-many": {
        "nb": "For mange (høyst {limit}).",
        "nn": "For mange (høgst {limit}).",
        "en": "Too many (at most {limit}).",
    },
    "nothing-changed": {
        "nb": "Skriv minst én endring.",
        "nn": "Skriv minst éi endring.",
        "en": "Give at least one change.",
    },
    "out-of-range": {
        "nb": "Tallet er utenfor det som er tillatt.",
        "nn": "Talet er utanfor det som er tillate.",
        "en": "The number is out of range.",
    },
    "invalid": {
        "nb": "Ugyldig verdi.",
        "nn": "Ugyldig verdi.",
        "en": "Invalid value.",
    },
    # dates and times (server.http.render)
    "not-a-date": {
        "nb": "Skriv en gyldig dato.",
        "nn": "Skriv ein gyldig dato.",
        "en": "Enter a valid date.",
    },
    "not-a-moment": {
        "nb": "Skriv en gyldig dato og et klokkeslett.",
        "nn": "Skriv ein gyldig dato og eit klokkeslett.",
        "en": "Enter a valid date and time.",
    },
    "no-time-zone": {
        "nb": "Tidspunktet mangler tidssone.",
        "nn": "Tidspunktet manglar tidssone.",
        "en": "The time has no time zone.",
    },
    # the usefulness survey (server.http.survey_routes)
    "survey-occasion": {
        "nb": "Fant ikke møtet. Du kan svare etter møter som har ferdig referat.",
        "nn": "Fann ikkje møtet. Du kan svare etter møte som har ferdig referat.",
        "en": "Meeting not found. You can answer after meetings with finalised minutes.",
    },
    "survey-answer": {
        "nb": "Svar på alle spørsmålene.",
        "nn": "Svar på alle spørsmåla.",
        "en": "Please answer every question.",
    },
    "survey-answered": {
        "nb": "Du har allerede svart for dette møtet. Takk!",
        "nn": "Du har allereie svart for dette møtet. Takk!",
        "en": "You have already answered for this meeting. Thank you!",
    },
    # decisions (server.http.meeting_routes.record_decision)
    "decision-needs": {
        "nb": "Dette må fylles ut for et slikt vedtak.",
        "nn": "Dette må fyllast ut for eit slikt vedtak.",
        "en": "This is required for this kind of decision.",
    },
    "which-measure": {
        "nb": "Velg tiltaket som evalueres.",
        "nn": "Vel tiltaket som blir evaluert.",
        "en": "Choose the measure being evaluated.",
    },
    "next-meeting-past": {
        "nb": "Neste møte må være fram i tid.",
        "nn": "Neste møte må vere fram i tid.",
        "en": "The next meeting must be in the future.",
    },
    "ends-before-start": {
        "nb": "Møtet må slutte etter at det begynner.",
        "nn": "Møtet må slutte etter at det byrjar.",
        "en": "The meeting must end after it starts.",
    },
    "next-evaluation-past": {
        "nb": "Neste evaluering må være fram i tid.",
        "nn": "Neste evaluering må vere fram i tid.",
        "en": "The next evaluation must be in the future.",
    },
    # plans (server.http.plan_routes)
    "period-ends-before-start": {
        "nb": "Planperioden kan ikke slutte før den begynner.",
        "nn": "Planperioden kan ikkje slutte før han byrjar.",
        "en": "The plan period cannot end before it starts.",
    },
    "owner-name-needed": {
        "nb": "Skriv navnet på den planen er for.",
        "nn": "Skriv namnet på den planen er for.",
        "en": "Enter the name of the person the plan is for.",
    },
    "sections-needed": {
        "nb": "Velg minst én del av planen.",
        "nn": "Vel minst éin del av planen.",
        "en": "Choose at least one part of the plan.",
    },
    "not-an-email": {
        "nb": "Skriv en gyldig e-postadresse, for eksempel navn@eksempel.no.",
        "nn": "Skriv ei gyldig e-postadresse, til dømes namn@døme.no.",
        "en": "Enter a valid e-mail address, such as name@example.org.",
    },
    "email-needed": {
        "nb": "Skriv e-postadressen invitasjonen skal sendes til.",
        "nn": "Skriv e-postadressa invitasjonen skal sendast til.",
        "en": "Enter the e-mail address to send the invitation to.",
    },
    "national-id-needed": {
        "nb": "Skriv fødselsnummeret (11 siffer) til den invitasjonen gjelder.",
        "nn": "Skriv fødselsnummeret (11 siffer) til den invitasjonen gjeld.",
        "en": "Enter the national identity number (11 digits) of the person invited.",
    },
}


@dataclass(frozen=True)
class Said:
    """A message by key, the field it is about, and its parameters."""

    key: str
    field: str | None = None
    params: Mapping[str, object] = _field(default_factory=dict)


def say(said: Said, lang: str) -> str:
    texts = _MESSAGES[said.key]
    return texts.get(lang, texts["nb"]).format(**said.params)


def reader_language(accept_language: str | None) -> str:
    """The first of nb, nn and en in an Accept-Language header ('no' is bokmål); nb if
    none is there. Quality values are honoured; ties keep the header's order."""
    ranked: list[tuple[float, int, str]] = []
    for n, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, rest = part.strip().partition(";")
        quality = 1.0
        if rest.strip().startswith("q="):
            try:
                quality = float(rest.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary == "no":
            primary = "nb"
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, n, primary))
    return min(ranked)[2] if ranked else "nb"


# jsonschema keyword → message key
_SCHEMA_KEYS = {
    "required": "required",
    "maxLength": "too-long",
    "minLength": "empty",
    "enum": "choice",
    "const": "choice",
    "pattern": "format",
    "format": "format",
    "type": "type",
    "additionalProperties": "unknown-field",
    "maxItems": "too-many",
    "maxProperties": "too-many",
    "minProperties": "nothing-changed",
    "minimum": "out-of-range",
    "maximum": "out-of-range",
    "exclusiveMinimum": "out-of-range",
    "exclusiveMaximum": "out-of-range",
}


def schema_said(
    validator: str,
    path: list[str],
    validator_value: object,
    instance: object,
    known: Iterable[str] = (),
) -> Said:
    """The message for one JSON-schema error: ``path`` is where in the body it is,
    ``validator`` the failing keyword, ``known`` the properties the object may have. The
    field is the path joined with dots (for a missing property: the property's)."""
    key = _SCHEMA_KEYS.get(validator, "invalid")
    params: dict[str, object] = {}
    where = list(path)
    if validator == "required" and isinstance(validator_value, list) and isinstance(instance, dict):
        missing = next((name for name in validator_value if name not in instance), None)
        if missing is not None:
            where.append(str(missing))
    if key in ("too-long", "too-many"):
        params["limit"] = validator_value
    if key == "unknown-field":
        extra = sorted(set(instance) - set(known)) if isinstance(instance, dict) else []
        params["name"] = ", ".join(str(e) for e in extra)[:80]
    if key == "format" and where and where[-1] == "email":
        key = "not-an-email"  # say what an e-mail address looks like
    return Said(key, ".".join(where) or None, params)
