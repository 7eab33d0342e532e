"""server.minutes: the finalised minutes as HTML, PDF and the owner's one-page summary."""

from __future__ import annotations

import copy
import html
import io
import itertools
import re
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader

from server.minutes import (
    AttendanceMark,
    DecisionKind,
    MinutesContent,
    RoleName,
    layout,
    render_minutes_html,
    render_minutes_pdf,
    render_owner_summary_html,
)

HASH = "3f" * 32
THERAPY_TITLE = "Samtaler med Berit"
THERAPY_NOTE = "Berit: dette er et fortrolig terapinotat"
THERAPY_DECISION = "Terapien fortsetter hver uke."


def full_content() -> MinutesContent:
    """Per's meeting, unfiltered: the therapy item is one not every reader may see."""
    return {
        "meeting": {
            "id": "mote0001",
            "title": "Ansvarsgruppemøte for Per & co",
            "plan_id": "plan0001",
            "plan_title": "Pers plan – bolig, økonomi og fritid",
            "kind": "group",
            # 09:00 UTC is 10:00 in Oslo in November (UTC+1).
            "starts_at": "2026-11-24T09:00:00+00:00",
            "ends_at": "2026-11-24T10:30:00+00:00",
            "place": "Bofellesskapet på Åsen, stua",
            "video_url": "https://video.example/rom/per",
        },
        "version": 2,
        "supersedes": 1,
        "reason": "Feil beløp på sparingen",
        "approved_by": "Per Ås",
        "approved_at": "2026-11-24T10:35:00+00:00",
        "finalised_by": "Maria Løvås",
        "finalised_at": "2026-11-24T11:00:00Z",
        "hash": HASH,
        "attendance": [
            {
                "participant": "per00001",
                "name": "Per Ås",
                "role": "owner",
                "organisation": "",
                "service": "",
                "attendance": "present",
            },
            {
                "participant": "mari0001",
                "name": "Maria Løvås",
                "role": "coordinator",
                "organisation": "Bergen kommune",
                "service": "Bolig",
                "attendance": "present",
            },
            {
                "participant": "siw00001",
                "name": "Siw <NAV>",
                "role": "service",
                "organisation": "NAV Årstad",
                "service": "Økonomi",
                "attendance": "left",
            },
            {
                "participant": "ali00001",
                "name": "Ali",
                "role": "service",
                "organisation": "Dagsenteret",
                "service": "Aktivitet",
                "attendance": "absent",
            },
        ],
        "items": [
            {
                "id": "item0001",
                "title": "Sparing til ferie",
                "section": "sokonomi",
                "section_title": "Økonomi",
                "notes": "Siw: sparingen på 500 kr går fint.\n\n"
                "<script>alert('x')</script> & mer\r\nPer vil reise til Ålesund.",
                "decisions": [
                    {
                        "id": "dec00001",
                        "kind": "continue",
                        "summary": "Den automatiske sparingen på 500 kr i måneden fortsetter.",
                        "measure_title": "Automatisk sparing",
                        "responsible_name": "Siw <NAV>",
                        "due": "2027-03-01",
                    },
                ],
            },
            {
                "id": "item0002",
                "title": "Dagsenteret <faste dager>",
                "section": "saktiv01",
                "section_title": "Aktivitet",
                "notes": "Per er med to dager i uka.\nLederen sender melding om morgenen.",
                "decisions": [
                    {
                        "id": "dec00002",
                        "kind": "adjust",
                        "summary": "Per går på dagsenteret tirsdag og torsdag i en liten gruppe.",
                        "measure_title": "Dagsenter",
                        "responsible_name": "Ali",
                        "due": "2027-01-15",
                    },
                    {
                        "id": "dec00003",
                        "kind": "new_measure",
                        "summary": "Personalet følger Per til bussen.",
                        "measure_title": "Følge til bussen",
                        "responsible_name": "Maria Løvås",
                        "due": None,
                    },
                    {
                        "id": "dec00004",
                        "kind": "next_meeting",
                        "summary": "Neste møte er i februar.",
                        "measure_title": None,
                        "responsible_name": None,
                        "due": None,
                    },
                ],
            },
            {
                "id": "item0003",
                "title": THERAPY_TITLE,
                "section": "sterapi1",
                "section_title": "Psykisk helse",
                "notes": THERAPY_NOTE,
                "decisions": [
                    {
                        "id": "dec00005",
                        "kind": "continue",
                        "summary": THERAPY_DECISION,
                        "measure_title": "Terapi",
                        "responsible_name": "Berit",
                        "due": "2027-02-01",
                    },
                ],
            },
        ],
        "next_meeting": {"starts_at": "2027-02-16T09:00:00Z", "place": "Bofellesskapet"},
        "next_evaluation": "2027-05-24",
    }


def filtered_content() -> MinutesContent:
    """The same minutes as a reader without consent to the therapy section gets them."""
    content = copy.deepcopy(full_content())
    content["items"] = [i for i in content["items"] if i["section"] != "sterapi1"]
    return content


class Outline(HTMLParser):
    """Collects tags, headings (level, text) and attributes of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, dict[str, str | None]]] = []
        self.headings: list[tuple[int, str]] = []
        self._heading: int | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.append((tag, dict(attrs)))
        if re.fullmatch(r"h[1-6]", tag):
            self._heading, self._text = int(tag[1]), []

    def handle_endtag(self, tag: str) -> None:
        if self._heading is not None and tag == f"h{self._heading}":
            self.headings.append((self._heading, "".join(self._text).strip()))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._text.append(data)


def outline(document: str) -> Outline:
    parser = Outline()
    parser.feed(document)
    parser.close()
    return parser


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


# --- HTML --------------------------------------------------------------------------------


def test_html_is_a_standalone_document_with_headings_in_order() -> None:
    page = render_minutes_html(filtered_content())
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="nb">' in page
    assert (
        "<title>Referat: Ansvarsgruppemøte for Per &amp; co – tirsdag 24. november 2026"
        "</title>" in page
    )
    parsed = outline(page)
    assert "script" not in parsed.tags
    # One stylesheet from the app itself (the CSP allows no inline styles), nothing else.
    assert (
        parsed.tags.count("link") == 1 and "img" not in parsed.tags and "style" not in parsed.tags
    )
    assert '<link rel="stylesheet" href="/static/minutes.css">' in page
    assert not any("src" in attrs for _, attrs in parsed.attrs)
    levels = [level for level, _ in parsed.headings]
    assert levels[0] == 1 and levels.count(1) == 1
    # No level is skipped on the way down.
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels))
    texts = [text for _, text in parsed.headings]
    assert texts[0] == "Referat: Ansvarsgruppemøte for Per & co"
    assert texts.index("Deltakere") < texts.index("Sakene") < texts.index("Om referatet")


def test_html_attendance_is_a_table_with_caption_and_header_scopes() -> None:
    page = render_minutes_html(filtered_content())
    parsed = outline(page)
    assert "caption" in parsed.tags
    scopes = [attrs.get("scope") for tag, attrs in parsed.attrs if tag == "th"]
    assert scopes.count("col") == 4
    assert scopes.count("row") == 4  # one per participant
    assert "<caption>Hvem som var invitert, og hvem som var med</caption>" in page
    assert (
        '<th scope="row">Maria Løvås</th><td>Koordinator</td>'
        "<td>Bolig, Bergen kommune</td><td>Til stede</td>" in page
    )
    assert "Gikk før møtet var ferdig" in page
    assert "Ikke til stede" in page


def test_html_escapes_text_from_the_content() -> None:
    content = filtered_content()
    content["meeting"]["video_url"] = 'https://video.example/"onmouseover="alert(1)'
    page = render_minutes_html(content)
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; mer" in page
    assert "Siw &lt;NAV&gt;" in page and "Siw <NAV>" not in page
    assert "Dagsenteret &lt;faste dager&gt;" in page
    assert "Per &amp; co" in page
    assert 'href="https://video.example/&quot;onmouseover=&quot;alert(1)"' in page
    assert "onmouseover" not in [name for _, attrs in outline(page).attrs for name in attrs]


def test_html_makes_only_web_addresses_into_links() -> None:
    content = filtered_content()
    content["meeting"]["video_url"] = "javascript:alert(1)"
    page = render_minutes_html(content)
    assert "javascript:alert(1)" in page
    assert 'href="javascript' not in page
    assert '<a href="https://video.example/rom/per">' in render_minutes_html(filtered_content())


def test_html_notes_become_one_paragraph_per_line() -> None:
    page = render_minutes_html(filtered_content())
    assert (
        "<p>Siw: sparingen på 500 kr går fint.</p>\n"
        "<p>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; mer</p>\n"
        "<p>Per vil reise til Ålesund.</p>" in page
    )
    assert "<p>Per er med to dager i uka.</p>\n<p>Lederen sender melding om morgenen.</p>" in page
    assert "<p></p>" not in page


def test_html_shows_every_item_and_decision() -> None:
    content = filtered_content()
    page = render_minutes_html(content)
    headings = [text for _, text in outline(page).headings]
    assert "1. Sparing til ferie" in headings
    assert "2. Dagsenteret <faste dager>" in headings
    for item in content["items"]:
        for decision in item["decisions"]:
            assert decision["summary"] in page
    assert "<strong>Juster:</strong>" in page and "<strong>Nytt tiltak:</strong>" in page
    assert "<li>Ansvarlig: Ali</li><li>Frist: fredag 15. januar 2027</li>" in page
    assert "Del av planen: Økonomi" in page


def test_html_leaves_out_an_item_that_is_not_in_the_content() -> None:
    assert THERAPY_TITLE in render_minutes_html(full_content())
    page = render_minutes_html(filtered_content())
    for secret in (THERAPY_TITLE, THERAPY_NOTE, THERAPY_DECISION, "Psykisk helse", "Berit"):
        assert secret not in page
    assert "3." not in [text[:2] for _, text in outline(page).headings]


def test_html_shows_times_in_oslo_time() -> None:
    page = render_minutes_html(filtered_content())
    assert "tirsdag 24. november 2026 kl. 10:00–11:30" in page
    assert "tirsdag 16. februar 2027 kl. 10:00, Bofellesskapet" in page
    summer = filtered_content()
    summer["meeting"]["starts_at"] = "2026-06-02T08:00:00Z"  # UTC+2 in summer
    summer["meeting"]["ends_at"] = "2026-06-02T09:00:00Z"
    assert "tirsdag 2. juni 2026 kl. 10:00–11:00" in render_minutes_html(summer)


def test_html_footer_has_version_correction_approval_and_hash() -> None:
    page = render_minutes_html(filtered_content())
    footer = page[page.index("<footer") :]
    assert "<p>Versjon 2.</p>" in footer
    assert "Erstatter versjon 1." in footer
    assert "Grunn til rettelsen: Feil beløp på sparingen." in footer
    assert "Godkjent av Per Ås, tirsdag 24. november 2026 kl. 11:35." in footer
    assert "Ferdigstilt av Maria Løvås, tirsdag 24. november 2026 kl. 12:00." in footer
    assert HASH in footer
    first = full_content() | {"version": 1, "supersedes": None, "reason": ""}
    first_footer = render_minutes_html(first).split("<footer", 1)[1]
    assert "Erstatter" not in first_footer and "Grunn til rettelsen" not in first_footer


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        (
            "nn",
            [
                '<html lang="nn">',
                "Deltakarar",
                "Kven som var inviterte",
                "Planeigar",
                "tysdag 24. november 2026 kl. 10:00",
                "Dette vart bestemt",
                "Ansvarleg: Ali",
            ],
        ),
        (
            "en",
            [
                '<html lang="en">',
                "Participants",
                "Who was invited",
                "Plan owner",
                "Tuesday 24 November 2026 at 10:00",
                "What was decided",
                "Responsible: Ali",
                "Friday 15 January 2027",
            ],
        ),
        ("de", ['<html lang="nb">', "Deltakere", "tirsdag 24. november 2026 kl. 10:00"]),
    ],
)
def test_html_language_changes_the_ui_strings(lang: str, words: list[str]) -> None:
    page = render_minutes_html(filtered_content(), lang)
    for word in words:
        assert word in page
    if lang != "de":
        assert "Deltakere" not in page and "tirsdag 24." not in page


@pytest.mark.parametrize("lang", ["nb", "nn", "en"])
def test_every_role_mark_and_kind_is_shown_in_words(lang: str) -> None:
    content = filtered_content()
    content["meeting"]["kind"] = "one-to-one"
    marks: list[AttendanceMark] = ["present", "left", "absent", "invited"]
    roles: list[RoleName] = ["owner", "guardian", "relative", "coordinator", "service"]
    kinds: list[DecisionKind] = [
        "continue",
        "adjust",
        "stop",
        "new_measure",
        "evaluation",
        "next_meeting",
        "next_evaluation",
    ]
    content["attendance"] = [
        {
            "participant": f"p{n:07d}",
            "name": f"Person {n}",
            "role": role,
            "organisation": "",
            "service": "",
            "attendance": marks[n % len(marks)],
        }
        for n, role in enumerate(roles)
    ]
    content["items"][0]["decisions"] = [
        {
            "id": f"d{n:07d}",
            "kind": kind,
            "summary": f"Vedtak {n}.",
            "measure_title": None,
            "responsible_name": None,
            "due": None,
        }
        for n, kind in enumerate(kinds)
    ]
    page = render_minutes_html(content, lang)
    for raw in [*marks, *roles, *kinds, "one-to-one"]:
        assert f">{raw}<" not in page and f"<strong>{raw}:</strong>" not in page
    assert page.count("<tr>") == 1 + len(roles)


# --- PDF ---------------------------------------------------------------------------------


def test_pdf_is_a4_and_holds_the_items_notes_and_decisions() -> None:
    data = render_minutes_pdf(filtered_content())
    assert data.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(data))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    text = pdf_text(data)
    assert "Referat: Ansvarsgruppemøte for Per & co" in text
    assert "Sparing til ferie" in text and "Dagsenteret <faste dager>" in text
    assert "Siw: sparingen på 500 kr går fint." in text
    assert "Per vil reise til Ålesund." in text
    assert "<script>alert('x')</script> & mer" in text
    assert "Den automatiske sparingen på 500 kr i måneden fortsetter." in text
    assert "Personalet følger Per til bussen." in text
    assert "Maria Løvås" in text and "NAV Årstad" in text
    assert "tirsdag 24. november 2026 kl. 10:00" in text
    assert "Versjon 2" in text and HASH in text
    assert reader.metadata is not None and reader.metadata.title is not None
    assert "Ansvarsgruppemøte for Per" in reader.metadata.title


def test_pdf_leaves_out_an_item_that_is_not_in_the_content() -> None:
    assert THERAPY_NOTE in pdf_text(render_minutes_pdf(full_content()))
    text = pdf_text(render_minutes_pdf(filtered_content()))
    for secret in (THERAPY_TITLE, THERAPY_NOTE, THERAPY_DECISION, "Psykisk helse"):
        assert secret not in text


def test_pdf_treats_markup_in_the_content_as_text() -> None:
    content = filtered_content()
    content["items"][0]["notes"] = '<b>ikke fet</b> <para> <font name="x"> a & b &amp;'
    text = pdf_text(render_minutes_pdf(content))
    assert '<b>ikke fet</b> <para> <font name="x"> a & b &amp;' in text


def test_pdf_long_minutes_run_over_pages_with_a_footer_on_each() -> None:
    content = filtered_content()
    content["items"][0]["notes"] = "\n".join(f"Linje {n} med æøå." for n in range(200))
    reader = PdfReader(io.BytesIO(render_minutes_pdf(content)))
    assert len(reader.pages) > 2
    last = reader.pages[-1].extract_text()
    assert f"Side {len(reader.pages)}" in last
    assert "Versjon 2" in reader.pages[1].extract_text()
    assert "Linje 199 med æøå." in pdf_text(render_minutes_pdf(content))


def test_pdf_language_changes_the_ui_strings() -> None:
    english = pdf_text(render_minutes_pdf(filtered_content(), "en"))
    assert "Participants" in english and "What was decided" in english
    assert "Deltakere" not in english
    nynorsk = pdf_text(render_minutes_pdf(filtered_content(), "nn"))
    assert "Deltakarar" in nynorsk and "tysdag 24. november 2026" in nynorsk


# --- the owner's summary ------------------------------------------------------------------


def test_owner_summary_lists_who_does_what_by_when() -> None:
    page = render_owner_summary_html(filtered_content(), "Per Ås")
    assert '<html lang="nb">' in page and "<script" not in page
    headings = [text for _, text in outline(page).headings]
    assert headings[1:] == ["Dette ble vi enige om", "Hvem gjør hva, og når", "Neste gang"]
    assert "Hei, Per Ås!" in page
    rows = re.findall(r'<tr><th scope="row">(.*?)</th><td>(.*?)</td><td>(.*?)</td></tr>', page)
    # Soonest deadline first; no deadline last; "next meeting" is not a task.
    assert rows == [
        ("Ali", "Dagsenter", "fredag 15. januar 2027"),
        ("Siw &lt;NAV&gt;", "Automatisk sparing", "mandag 1. mars 2027"),
        ("Maria Løvås", "Følge til bussen", "Ikke bestemt"),
    ]
    assert "<li>Nytt tiltak: Personalet følger Per til bussen.</li>" in page
    assert "Neste møte er tirsdag 16. februar 2027 kl. 10:00." in page
    assert "Vi møtes her: Bofellesskapet." in page
    assert "Planen skal evalueres innen mandag 24. mai 2027." in page


def test_owner_summary_leaves_out_an_item_that_is_not_in_the_content() -> None:
    assert "Berit" in render_owner_summary_html(full_content(), "Per")
    page = render_owner_summary_html(filtered_content(), "Per")
    assert "Berit" not in page and THERAPY_DECISION not in page and "Terapi" not in page


def test_owner_summary_without_decisions_or_next_meeting_says_so() -> None:
    content = filtered_content()
    for item in content["items"]:
        item["decisions"] = []
    content["next_meeting"] = None
    content["next_evaluation"] = None
    page = render_owner_summary_html(content, "<Per>")
    assert "Hei, &lt;Per&gt;!" in page
    assert "Vi bestemte ikke noe nytt i dette møtet." in page
    assert "Ingen har fått nye oppgaver med frist." in page
    assert "Neste møte er ikke bestemt ennå." in page
    assert "<table>" not in page and "evalueres" not in page


def test_owner_summary_in_nynorsk_and_english() -> None:
    nynorsk = render_owner_summary_html(filtered_content(), "Per", "nn")
    assert "Dette vart vi einige om" in nynorsk and "Kven gjer kva, og når" in nynorsk
    english = render_owner_summary_html(filtered_content(), "Per", "en")
    assert "What we agreed" in english and "Who does what, and by when" in english
    assert "Friday 15 January 2027" in english and "Dette ble" not in english


def _page_texts(blocks: tuple[layout.Block, ...]) -> list[str]:
    out: list[str] = []
    for block in blocks:
        match block:
            case layout.Para(text) | layout.Subheading(text):
                out.append(text)
            case layout.Notes(text, empty):
                out += text.splitlines() or [empty]
            case layout.Facts(rows):
                out += [f"{row.label}" for row in rows] + [row.value for row in rows]
            case layout.Grid(_, columns, rows):  # the caption is for screen readers
                out += [*columns, *(cell for row in rows for cell in row if cell)]
            case layout.Entries(entries):
                out += [e.label for e in entries] + [e.text for e in entries]
                out += [value for e in entries for _, value in e.facts]
            case layout.Bullets(items):
                out += list(items)
            case layout.Checksum(label, value):
                out += [label, value]
            case layout.Section(_, heading, _, body):
                out += [heading, *_page_texts(body)]
    return out


@pytest.mark.parametrize("lang", ["nb", "nn", "en"])
def test_html_and_pdf_draw_the_same_page(lang: str) -> None:
    """One layout, two drawings: every text of the neutral page is in the web page and in
    the PDF, so the two cannot say different things (the PDF once said «Endre» where the
    screen said «Juster»)."""
    content = full_content()
    page = layout.minutes_page(content, lang)
    texts = [page.heading, *_page_texts((*page.header, *page.main, *page.footer.body))]
    texts.append(page.footer.heading)
    assert len(texts) > 40
    html_text = " ".join(
        html.unescape(re.sub(r"<[^>]+>", " ", render_minutes_html(content, lang))).split()
    )
    pdf = " ".join(pdf_text(render_minutes_pdf(content, lang)).split())
    for text in texts:
        words = " ".join(text.split())
        assert words in html_text, words
        # The PDF wraps long lines; compare the words of shorter texts only.
        if len(words) < 60:
            assert words in pdf, words
