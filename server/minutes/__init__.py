"""Finalised meeting minutes as HTML, PDF and a one-page summary for the plan owner.

Pure rendering: the input is the minutes *content* (``model``), already filtered to what
the reader may see. Nothing here reads a database or knows about the web framework.

- ``words``: labels and decision sentences in bokmål, nynorsk and English;
- ``text``: dates in Oslo time (via ``server.dates``), notes, decisions as sentences;
- ``layout``: the content walked once into a neutral page of blocks;
- ``html`` and ``pdf``: the same page drawn as an HTML document and an A4 PDF.
"""

from __future__ import annotations

from datetime import datetime

from server import dates
from server.minutes import html as _html
from server.minutes import pdf as _pdf
from server.minutes.layout import RENDERER_VERSION, minutes_page, summary_page
from server.minutes.model import (
    AttendanceEntry,
    AttendanceMark,
    DecisionEntry,
    DecisionKind,
    MeetingInfo,
    MeetingKind,
    MinutesContent,
    MinutesItem,
    NextMeeting,
    RoleName,
)
from server.minutes.text import (
    CHUNK_CHARS,
    chunks,
    decision_details,
    decision_sentence,
    note_paragraphs,
    with_texts,
)
from server.minutes.words import language

STYLESHEET = _html.STYLESHEET

__all__ = [
    "CHUNK_CHARS",
    "RENDERER_VERSION",
    "STYLESHEET",
    "AttendanceEntry",
    "AttendanceMark",
    "DecisionEntry",
    "DecisionKind",
    "MeetingInfo",
    "MeetingKind",
    "MinutesContent",
    "MinutesItem",
    "NextMeeting",
    "RoleName",
    "chunks",
    "decision_details",
    "decision_sentence",
    "language",
    "moment_text",
    "note_paragraphs",
    "render_minutes_html",
    "render_minutes_pdf",
    "render_owner_summary_html",
    "with_texts",
]


def render_minutes_html(content: MinutesContent, lang: str = "nb") -> str:
    """The minutes as one standalone, accessible HTML5 document."""
    return _html.render(minutes_page(content, lang))


def render_minutes_pdf(content: MinutesContent, lang: str = "nb") -> bytes:
    """The minutes as an A4 PDF."""
    return _pdf.render(minutes_page(content, lang))


def render_owner_summary_html(content: MinutesContent, owner_name: str, lang: str = "nb") -> str:
    """One page in plain language for the plan owner."""
    return _html.render(summary_page(content, owner_name, lang))


def moment_text(moment: datetime, lang: str = "nb") -> str:
    """A moment as a person reads it: 'tirsdag 1. desember 2026 kl. 10:00', Oslo time."""
    return dates.moment_text(moment, language(lang))
