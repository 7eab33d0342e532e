"""A page of the minutes as an A4 PDF, drawn with ReportLab from the same layout as the
web page (its built-in Latin-1 fonts cover æøå). Every text is escaped for ReportLab's
paragraph markup; long notes are laid out in pieces so the work stays linear."""

from __future__ import annotations

import io
from collections.abc import Callable

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    BaseDocTemplate,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from server.minutes.layout import (
    Block,
    Bullets,
    Checksum,
    Entries,
    Facts,
    Grid,
    Notes,
    Page,
    Para,
    Section,
    Subheading,
)
from server.minutes.text import note_paragraphs
from server.minutes.words import words

_MARKUP = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})

Styles = dict[str, ParagraphStyle]


def _x(text: str) -> str:
    """Text for ReportLab's paragraph markup (which is XML-like), escaped in one pass."""
    return text.translate(_MARKUP)


def _pdf_styles() -> Styles:
    sheet = getSampleStyleSheet()
    base = ParagraphStyle(
        "body",
        parent=sheet["Normal"],
        fontName="Helvetica",
        fontSize=10.5,
        leading=14,
        spaceAfter=4,
    )
    return {
        "title": ParagraphStyle(
            "title",
            parent=sheet["Title"],
            fontName="Helvetica-Bold",
            fontSize=18,
            leading=22,
            alignment=0,
            spaceAfter=8,
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=sheet["Heading2"],
            fontName="Helvetica-Bold",
            fontSize=14,
            leading=18,
            spaceBefore=12,
            spaceAfter=6,
        ),
        "h3": ParagraphStyle(
            "h3",
            parent=sheet["Heading3"],
            fontName="Helvetica-Bold",
            fontSize=12,
            leading=15,
            spaceBefore=10,
            spaceAfter=4,
        ),
        "h4": ParagraphStyle(
            "h4", parent=base, fontName="Helvetica-Bold", spaceBefore=4, spaceAfter=2
        ),
        "body": base,
        "joined": ParagraphStyle("joined", parent=base, spaceAfter=0),
        "muted": ParagraphStyle("muted", parent=base, textColor=colors.HexColor("#444444")),
        "bullet": ParagraphStyle("bullet", parent=base, leftIndent=14, bulletIndent=2),
        "cell": ParagraphStyle("cell", parent=base, spaceAfter=0),
        "head": ParagraphStyle("head", parent=base, fontName="Helvetica-Bold", spaceAfter=0),
        "mono": ParagraphStyle("mono", parent=base, fontName="Courier", fontSize=9),
    }


_STYLE = {"body": "body", "muted": "muted", "part": "muted"}


def _grid(grid: Grid, s: Styles) -> Flowable:
    rows = [[Paragraph(_x(label), s["head"]) for label in grid.columns]]
    rows += [[Paragraph(_x(cell), s["cell"]) for cell in row] for row in grid.rows]
    widths = [w * mm for w in grid.widths_mm] if grid.widths_mm else None
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 1, colors.HexColor("#999999")),
                ("LINEBELOW", (0, 1), (-1, -1), 0.5, colors.HexColor("#dddddd")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f2f2f2")),
            ]
        )
    )
    return table


def _block(block: Block, s: Styles) -> list[Flowable]:
    match block:
        case Para(text, style):
            return [Paragraph(_x(text), s[_STYLE[style]])]
        case Notes(text, empty):
            pieces = [
                Paragraph(_x(piece), s["joined" if continued else "body"])
                for piece, continued in note_paragraphs(text)
            ]
            return pieces or [Paragraph(_x(empty), s["body"])]
        case Facts(rows):
            return [Paragraph(f"<b>{_x(f.label)}:</b> {_x(f.value)}", s["body"]) for f in rows]
        case Grid():
            return [_grid(block, s)]
        case Entries(entries):
            out: list[Flowable] = []
            for entry in entries:
                text = f"<b>{_x(entry.label)}:</b> {_x(entry.text)}"
                if entry.facts:
                    text += "<br/>" + " · ".join(f"{_x(n)}: {_x(v)}" for n, v in entry.facts)
                out.append(Paragraph(text, s["bullet"], bulletText="–"))
            return out
        case Bullets(items):
            return [Paragraph(_x(item), s["bullet"], bulletText="–") for item in items]
        case Checksum(label, value):
            return [Paragraph(_x(f"{label}:"), s["body"]), Paragraph(_x(value), s["mono"])]
        case Subheading(text):
            return [Paragraph(_x(text), s["h4"])]
        case Section(_, heading, level, body, keep):
            return _section(Paragraph(_x(heading), s[f"h{level}"]), body, keep, s)
    raise TypeError(f"not a block of the minutes: {block!r}")


def _section(heading: Flowable, body: tuple[Block, ...], keep: int, s: Styles) -> list[Flowable]:
    """The heading kept on one page with the first ``keep`` blocks (the last of them with
    its first paragraph only), then the rest."""
    together: list[Flowable] = [heading]
    rest: list[Flowable] = []
    for n, part in enumerate(body):
        drawn = _block(part, s)
        if n < keep - 1:
            together += drawn
        elif n == keep - 1:
            together += drawn[:1]
            rest += drawn[1:]
        else:
            rest += drawn
    return [KeepTogether(together) if len(together) > 1 else heading, *rest]


def _page_footer(text: str, page_label: str) -> Callable[[Canvas, BaseDocTemplate], None]:
    if len(text) > 90:
        text = text[:89].rstrip() + "…"

    def draw(canvas: Canvas, doc: BaseDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(20 * mm, 12 * mm, text)
        canvas.drawRightString(A4[0] - 20 * mm, 12 * mm, page_label.format(page=doc.page))
        canvas.restoreState()

    return draw


def render(page: Page) -> bytes:
    s = _pdf_styles()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=22 * mm,
        title=page.title,
        author="Planrom",
        subject=page.subject,
        creator="Planrom",
        lang=page.lang,
        invariant=True,
    )
    story: list[Flowable] = [Paragraph(_x(page.heading), s["title"])]
    for block in (*page.header, *page.main):
        story += _block(block, s)
    story.append(Spacer(1, 4 * mm))
    footer = page.footer
    if footer.heading:
        heading = Paragraph(_x(footer.heading), s["h2"])
        story += _section(heading, footer.body, len(footer.body), s)
    else:
        for block in footer.body:
            story += _block(block, s)
    draw = _page_footer(page.running, words(page.lang).page)
    doc.build(story, onFirstPage=draw, onLaterPages=draw)
    return buffer.getvalue()
