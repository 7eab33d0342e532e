"""The minutes' words in bokmål, nynorsk and English: labels, headings and the sentences a
decision is written in. Dates and times come from ``server.dates``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Words:
    """Every piece of fixed text, in one language. A missing field is a type error."""

    lang: str
    minutes: str
    plan: str
    when: str
    place: str
    video: str
    meeting_kind: str
    kinds: dict[str, str]
    attendance: str
    attendance_caption: str
    col_name: str
    col_role: str
    col_service: str
    col_attendance: str
    roles: dict[str, str]
    marks: dict[str, str]
    nobody: str
    items: str
    no_items: str
    item_section: str
    notes: str
    no_notes: str
    decisions: str
    no_decisions: str
    decision_kinds: dict[str, str]
    measure: str
    responsible: str
    due: str
    ahead: str
    next_meeting: str
    next_evaluation: str
    not_decided: str
    about: str
    version: str
    supersedes: str  # {version}
    reason: str
    approved: str
    finalised: str
    checksum: str
    checksum_note: str
    filtered_note: str
    page: str  # {page}
    summary_title: str
    greeting: str  # {name}
    summary_intro: str  # {when}
    agreed: str
    nothing_agreed: str
    who_what_when: str
    who_caption: str
    col_who: str
    col_what: str
    col_by: str
    not_set: str
    no_tasks: str
    next_time: str
    next_meeting_at: str  # {when}
    next_meeting_place: str  # {place}
    next_evaluation_by: str  # {when}
    nothing_planned: str
    questions: str


_NB = Words(
    lang="nb",
    minutes="Referat",
    plan="Plan",
    when="Tid",
    place="Sted",
    video="Videolenke",
    meeting_kind="Type møte",
    kinds={"group": "Ansvarsgruppemøte", "one-to-one": "Møte mellom planeier og koordinator"},
    attendance="Deltakere",
    attendance_caption="Hvem som var invitert, og hvem som var med",
    col_name="Navn",
    col_role="Rolle",
    col_service="Tjeneste",
    col_attendance="Oppmøte",
    roles={
        "owner": "Planeier",
        "guardian": "Verge",
        "relative": "Pårørende",
        "coordinator": "Koordinator",
        "service": "Tjenesteyter",
    },
    marks={
        "present": "Til stede",
        "left": "Gikk før møtet var ferdig",
        "absent": "Ikke til stede",
        "invited": "Invitert",
    },
    nobody="Ingen deltakere er registrert.",
    items="Sakene",
    no_items="Det er ingen saker i dette referatet.",
    item_section="Del av planen",
    notes="Notater",
    no_notes="Ingen notater.",
    decisions="Dette ble bestemt",
    no_decisions="Ingen vedtak.",
    decision_kinds={
        "continue": "Fortsett",
        "adjust": "Juster",
        "stop": "Avslutt",
        "new_measure": "Nytt tiltak",
        "evaluation": "Evaluering",
        "next_meeting": "Neste møte",
        "next_evaluation": "Neste evaluering",
    },
    measure="Tiltak",
    responsible="Ansvarlig",
    due="Frist",
    ahead="Veien videre",
    next_meeting="Neste møte",
    next_evaluation="Neste evaluering",
    not_decided="Ikke bestemt ennå.",
    about="Om referatet",
    version="Versjon",
    supersedes="Erstatter versjon {version}",
    reason="Grunn til rettelsen",
    approved="Godkjent av",
    finalised="Ferdigstilt av",
    checksum="Kontrollsum (SHA-256)",
    checksum_note="Kontrollsummen gjelder hele referatet slik det ble lagret. "
    "Ingen kan endre et ferdig referat. En rettelse blir en ny versjon.",
    filtered_note="Du ser bare de delene av planen du har lov til å se.",
    page="Side {page}",
    summary_title="Kort om møtet",
    greeting="Hei, {name}!",
    summary_intro="Her er det viktigste fra møtet {when}.",
    agreed="Dette ble vi enige om",
    nothing_agreed="Vi bestemte ikke noe nytt i dette møtet.",
    who_what_when="Hvem gjør hva, og når",
    who_caption="Oppgaver fra møtet",
    col_who="Hvem",
    col_what="Hva",
    col_by="Innen",
    not_set="Ikke bestemt",
    no_tasks="Ingen har fått nye oppgaver med frist.",
    next_time="Neste gang",
    next_meeting_at="Neste møte er {when}.",
    next_meeting_place="Vi møtes her: {place}.",
    next_evaluation_by="Planen skal evalueres innen {when}.",
    nothing_planned="Neste møte er ikke bestemt ennå.",
    questions="Spør koordinatoren din hvis noe er uklart.",
)

_NN = Words(
    lang="nn",
    minutes="Referat",
    plan="Plan",
    when="Tid",
    place="Stad",
    video="Videolenkje",
    meeting_kind="Type møte",
    kinds={"group": "Ansvarsgruppemøte", "one-to-one": "Møte mellom planeigar og koordinator"},
    attendance="Deltakarar",
    attendance_caption="Kven som var inviterte, og kven som var med",
    col_name="Namn",
    col_role="Rolle",
    col_service="Teneste",
    col_attendance="Oppmøte",
    roles={
        "owner": "Planeigar",
        "guardian": "Verje",
        "relative": "Pårørande",
        "coordinator": "Koordinator",
        "service": "Tenesteytar",
    },
    marks={
        "present": "Til stades",
        "left": "Gjekk før møtet var ferdig",
        "absent": "Ikkje til stades",
        "invited": "Invitert",
    },
    nobody="Ingen deltakarar er registrerte.",
    items="Sakene",
    no_items="Det er ingen saker i dette referatet.",
    item_section="Del av planen",
    notes="Notat",
    no_notes="Ingen notat.",
    decisions="Dette vart bestemt",
    no_decisions="Ingen vedtak.",
    decision_kinds={
        "continue": "Hald fram",
        "adjust": "Juster",
        "stop": "Avslutt",
        "new_measure": "Nytt tiltak",
        "evaluation": "Evaluering",
        "next_meeting": "Neste møte",
        "next_evaluation": "Neste evaluering",
    },
    measure="Tiltak",
    responsible="Ansvarleg",
    due="Frist",
    ahead="Vegen vidare",
    next_meeting="Neste møte",
    next_evaluation="Neste evaluering",
    not_decided="Ikkje bestemt enno.",
    about="Om referatet",
    version="Versjon",
    supersedes="Erstattar versjon {version}",
    reason="Grunn til rettinga",
    approved="Godkjent av",
    finalised="Ferdigstilt av",
    checksum="Kontrollsum (SHA-256)",
    checksum_note="Kontrollsummen gjeld heile referatet slik det vart lagra. "
    "Ingen kan endre eit ferdig referat. Ei retting blir ein ny versjon.",
    filtered_note="Du ser berre dei delane av planen du har lov til å sjå.",
    page="Side {page}",
    summary_title="Kort om møtet",
    greeting="Hei, {name}!",
    summary_intro="Her er det viktigaste frå møtet {when}.",
    agreed="Dette vart vi einige om",
    nothing_agreed="Vi bestemde ikkje noko nytt i dette møtet.",
    who_what_when="Kven gjer kva, og når",
    who_caption="Oppgåver frå møtet",
    col_who="Kven",
    col_what="Kva",
    col_by="Innan",
    not_set="Ikkje bestemt",
    no_tasks="Ingen har fått nye oppgåver med frist.",
    next_time="Neste gong",
    next_meeting_at="Neste møte er {when}.",
    next_meeting_place="Vi møtest her: {place}.",
    next_evaluation_by="Planen skal evaluerast innan {when}.",
    nothing_planned="Neste møte er ikkje bestemt enno.",
    questions="Spør koordinatoren din om noko er uklart.",
)

_EN = Words(
    lang="en",
    minutes="Minutes",
    plan="Plan",
    when="Time",
    place="Place",
    video="Video link",
    meeting_kind="Type of meeting",
    kinds={
        "group": "Responsibility group meeting",
        "one-to-one": "Meeting between the plan owner and the coordinator",
    },
    attendance="Participants",
    attendance_caption="Who was invited, and who took part",
    col_name="Name",
    col_role="Role",
    col_service="Service",
    col_attendance="Attendance",
    roles={
        "owner": "Plan owner",
        "guardian": "Guardian",
        "relative": "Relative",
        "coordinator": "Coordinator",
        "service": "Service",
    },
    marks={
        "present": "Present",
        "left": "Left before the end",
        "absent": "Not present",
        "invited": "Invited",
    },
    nobody="No participants are recorded.",
    items="Agenda items",
    no_items="There are no agenda items in these minutes.",
    item_section="Part of the plan",
    notes="Notes",
    no_notes="No notes.",
    decisions="What was decided",
    no_decisions="No decisions.",
    decision_kinds={
        "continue": "Continue",
        "adjust": "Adjust",
        "stop": "Stop",
        "new_measure": "New measure",
        "evaluation": "Evaluation",
        "next_meeting": "Next meeting",
        "next_evaluation": "Next evaluation",
    },
    measure="Measure",
    responsible="Responsible",
    due="Due",
    ahead="What happens next",
    next_meeting="Next meeting",
    next_evaluation="Next evaluation",
    not_decided="Not decided yet.",
    about="About these minutes",
    version="Version",
    supersedes="Replaces version {version}",
    reason="Reason for the correction",
    approved="Approved by",
    finalised="Finalised by",
    checksum="Checksum (SHA-256)",
    checksum_note="The checksum covers the whole minutes as they were stored. "
    "Nobody can change finalised minutes. A correction is a new version.",
    filtered_note="You only see the parts of the plan you are allowed to see.",
    page="Page {page}",
    summary_title="The meeting in short",
    greeting="Hi, {name}!",
    summary_intro="Here is what matters most from the meeting on {when}.",
    agreed="What we agreed",
    nothing_agreed="We did not decide anything new in this meeting.",
    who_what_when="Who does what, and by when",
    who_caption="Tasks from the meeting",
    col_who="Who",
    col_what="What",
    col_by="By",
    not_set="Not decided",
    no_tasks="Nobody was given new tasks with a deadline.",
    next_time="Next time",
    next_meeting_at="The next meeting is {when}.",
    next_meeting_place="We meet here: {place}.",
    next_evaluation_by="The plan will be evaluated by {when}.",
    nothing_planned="The next meeting is not decided yet.",
    questions="Ask your coordinator if anything is unclear.",
)

LANGUAGES = {"nb": _NB, "nn": _NN, "en": _EN}


@dataclass(frozen=True)
class Says:
    """The sentences a decision is written in, in one language ({title} comes quoted)."""

    quote: str  # {text}
    cont: str  # {title}
    stop: str  # {title}
    reason: str  # {text}
    adjust: str  # {title} {changes}
    adjust_plain: str  # {title}
    changes: dict[str, str]  # {value}
    no_end: str
    new: str  # {title}
    new_who: str  # {who}
    new_from: str  # {date}
    works: str  # {text}
    fails: str  # {text}
    why: str  # {text}
    outcome: str  # {text}
    outcomes: dict[str, str]
    next_meeting: str  # {when}
    next_evaluation: str  # {date}
    note: str  # {text}


SAYS = {
    "nb": Says(
        quote="«{text}»",
        cont="{title} fortsetter som før.",
        stop="{title} avsluttes.",
        reason="Begrunnelse: {text}",
        adjust="{title} justeres: {changes}.",
        adjust_plain="{title} justeres.",
        changes={
            "new_title": "nytt navn {value}",
            "new_frequency": "hyppighet {value}",
            "new_responsible": "ny ansvarlig {value}",
            "new_starts": "starter {value}",
            "new_ends": "varer til {value}",
            "new_evaluate_by": "evalueres innen {value}",
        },
        no_end="uten sluttdato",
        new="{title}.",
        new_who="Ansvarlig: {who}.",
        new_from="Starter {date}.",
        works="Dette virker (behold det): {text}",
        fails="Dette virker ikke: {text}",
        why="Hvorfor: {text}",
        outcome="Hva gjør vi nå: {text}.",
        outcomes={
            "continue": "Fortsetter",
            "adjust": "Justerer",
            "stop": "Avslutter",
            "new": "Prøver noe nytt",
        },
        next_meeting="{when}.",
        next_evaluation="Innen {date}.",
        note="Notat: {text}",
    ),
    "nn": Says(
        quote="«{text}»",
        cont="{title} held fram som før.",
        stop="{title} blir avslutta.",
        reason="Grunngiving: {text}",
        adjust="{title} blir justert: {changes}.",
        adjust_plain="{title} blir justert.",
        changes={
            "new_title": "nytt namn {value}",
            "new_frequency": "hyppigheit {value}",
            "new_responsible": "ny ansvarleg {value}",
            "new_starts": "startar {value}",
            "new_ends": "varer til {value}",
            "new_evaluate_by": "blir evaluert innan {value}",
        },
        no_end="utan sluttdato",
        new="{title}.",
        new_who="Ansvarleg: {who}.",
        new_from="Startar {date}.",
        works="Dette verkar (behald det): {text}",
        fails="Dette verkar ikkje: {text}",
        why="Kvifor: {text}",
        outcome="Kva gjer vi no: {text}.",
        outcomes={
            "continue": "Held fram",
            "adjust": "Justerer",
            "stop": "Avsluttar",
            "new": "Prøver noko nytt",
        },
        next_meeting="{when}.",
        next_evaluation="Innan {date}.",
        note="Notat: {text}",
    ),
    "en": Says(
        quote="“{text}”",
        cont="{title} continues as before.",
        stop="{title} stops.",
        reason="Reason: {text}",
        adjust="{title} is adjusted: {changes}.",
        adjust_plain="{title} is adjusted.",
        changes={
            "new_title": "new name {value}",
            "new_frequency": "how often {value}",
            "new_responsible": "new person responsible {value}",
            "new_starts": "starts {value}",
            "new_ends": "lasts until {value}",
            "new_evaluate_by": "evaluated by {value}",
        },
        no_end="no end date",
        new="{title}.",
        new_who="Responsible: {who}.",
        new_from="Starts {date}.",
        works="This works (keep it): {text}",
        fails="This does not work: {text}",
        why="Why: {text}",
        outcome="What we do now: {text}.",
        outcomes={
            "continue": "Continue",
            "adjust": "Adjust",
            "stop": "Stop",
            "new": "Try something new",
        },
        next_meeting="{when}.",
        next_evaluation="By {date}.",
        note="Note: {text}",
    ),
}


def words(lang: str) -> Words:
    return LANGUAGES.get(lang, _NB)


def language(lang: str | None) -> str:
    """The language a rendering will be in: nb, nn or en (anything else is bokmål)."""
    return lang if lang in LANGUAGES else "nb"


def says(lang: str) -> Says:
    return SAYS.get(lang, SAYS["nb"])
