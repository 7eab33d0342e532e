"""server.minutes: rendering is linear in the length of the notes, however they are laid
out (ReportLab lays a paragraph out again for every page it runs over, so the renderer
never hands it a paragraph longer than ``CHUNK_CHARS``)."""

from __future__ import annotations

import cProfile
import io
import math
import pstats

from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from server import minutes
from server.minutes import CHUNK_CHARS, MinutesContent, chunks, note_paragraphs
from tests.unit.test_minutes_render import full_content

WORDS = "Per vil male stua i blått, og Siw fra NAV ser på økonomien <b>&amp;</b> sparingen. "


def _notes(size: int) -> str:
    return (WORDS * (size // len(WORDS) + 1))[:size]


def _content(notes: str) -> MinutesContent:
    content = full_content()
    content["items"] = content["items"][:1]
    content["items"][0]["notes"] = notes
    return content


@given(
    line=st.text(alphabet=st.sampled_from("ab æ<&\t"), max_size=3000),
    limit=st.integers(min_value=2, max_value=400),
)
def test_chunks_give_the_line_back_in_bounded_pieces_cut_at_spaces(line: str, limit: int) -> None:
    pieces = chunks(line, limit)
    assert "".join(pieces) == line
    assert all(len(piece) <= limit for piece in pieces)
    # Every piece but the last is at least half full: the count is linear in the length.
    assert len(pieces) <= max(1, math.ceil(2 * len(line) / limit) + 1)
    for piece in pieces[:-1]:
        if " " in piece[limit // 2 :]:
            assert piece.endswith(" "), "a piece is cut after a space when there is one"


def test_a_long_line_becomes_pieces_that_continue_each_other() -> None:
    notes = "Første linje.\n" + _notes(5 * CHUNK_CHARS) + "\nSiste linje."
    paragraphs = note_paragraphs(notes)
    assert paragraphs[0] == ("Første linje.", False)
    assert paragraphs[-1] == ("Siste linje.", False)
    middle = paragraphs[1:-1]
    assert len(middle) >= 5 and all(len(text) <= CHUNK_CHARS for text, _ in middle)
    assert [joined for _, joined in middle] == [True] * (len(middle) - 1) + [False]
    assert "".join(text for text, _ in middle) == _notes(5 * CHUNK_CHARS).strip()


def _calls(notes: str) -> int:
    """Python function calls made while rendering: a count of work that does not depend
    on how busy the machine is."""
    profile = cProfile.Profile()
    profile.runcall(minutes.render_minutes_pdf, _content(notes))
    return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]


def test_pdf_work_grows_linearly_with_one_long_paragraph() -> None:
    base = _calls("")
    small = _calls(_notes(60_000)) - base
    large = _calls(_notes(240_000)) - base
    # Four times the text: four times the work (quadratic would be sixteen).
    assert 3.5 < large / small < 4.6, (small, large)


def test_a_one_megabyte_paragraph_renders_with_its_start_and_end() -> None:
    notes = "BEGYNNELSEN " + _notes(1024 * 1024) + " SLUTTEN"
    pdf = minutes.render_minutes_pdf(_content(notes))
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) > 100
    first, last = pages[0].extract_text(), "".join(p.extract_text() for p in pages[-3:])
    assert "BEGYNNELSEN" in first
    assert "SLUTTEN" in last
