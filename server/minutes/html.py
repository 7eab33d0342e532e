"""A page of the minutes as one standalone, accessible HTML5 document: landmarks, headings
in order, tables with captions and scoped headers, every text escaped, no scripts, no
inline styles (the stylesheet is served from 'self', which the CSP allows), and no links
out except the meeting's own video link."""

from __future__ import annotations

import html

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
from server.minutes.text import is_web_link, lines

# The pages' stylesheet (web/static/minutes.css, served by the app under /static).
STYLESHEET = "/static/minutes.css"

_CLASS = {"body": "", "muted": "", "part": ' class="part"'}


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _value(value: str, link: bool) -> str:
    if link and is_web_link(value):
        return f'<a href="{_e(value)}">{_e(value)}</a>'
    return _e(value)


def _grid(grid: Grid) -> list[str]:
    out = [
        "<table>",
        f"<caption>{_e(grid.caption)}</caption>",
        "<thead><tr>",
        *(f'<th scope="col">{_e(label)}</th>' for label in grid.columns),
        "</tr></thead>",
        "<tbody>",
    ]
    for first, *rest in grid.rows:
        cells = "".join(f"<td>{_e(cell)}</td>" for cell in rest)
        out.append(f'<tr><th scope="row">{_e(first)}</th>{cells}</tr>')
    return [*out, "</tbody>", "</table>"]


def _block(block: Block) -> list[str]:
    match block:
        case Para(text, style):
            return [f"<p{_CLASS[style]}>{_e(text)}</p>"]
        case Notes(text, empty):
            paragraphs = lines(text)
            if not paragraphs:
                return [f'<p class="empty">{_e(empty)}</p>']
            return [f"<p>{_e(line)}</p>" for line in paragraphs]
        case Facts(rows):
            items = [f"<dt>{_e(f.label)}</dt><dd>{_value(f.value, f.link)}</dd>" for f in rows]
            return ['<dl class="meta">', *items, "</dl>"]
        case Grid():
            return _grid(block)
        case Entries(entries):
            out = ["<ul>"]
            for entry in entries:
                parts = [f"<li><strong>{_e(entry.label)}:</strong> {_e(entry.text)}"]
                if entry.facts:
                    parts.append('<ul class="facts">')
                    parts += [f"<li>{_e(name)}: {_e(value)}</li>" for name, value in entry.facts]
                    parts.append("</ul>")
                parts.append("</li>")
                out.append("".join(parts))
            return [*out, "</ul>"]
        case Bullets(items):
            return ["<ul>", *(f"<li>{_e(item)}</li>" for item in items), "</ul>"]
        case Checksum(label, value):
            return [f'<p>{_e(label)}: <span class="checksum">{_e(value)}</span></p>']
        case Subheading(text):
            return [f"<h4>{_e(text)}</h4>"]
        case Section(anchor, heading, level, body):
            out = [
                f'<section aria-labelledby="{anchor}">',
                f'<h{level} id="{anchor}">{_e(heading)}</h{level}>',
            ]
            for part in body:
                out += _block(part)
            return [*out, "</section>"]
    raise TypeError(f"not a block of the minutes: {block!r}")


def render(page: Page) -> str:
    body = ["<header>", f"<h1>{_e(page.heading)}</h1>"]
    for block in page.header:
        body += _block(block)
    body += ["</header>", "<main>"]
    for block in page.main:
        body += _block(block)
    body.append("</main>")
    footer = page.footer
    if footer.heading:
        body += [
            f'<footer aria-labelledby="{footer.anchor}">',
            f'<h2 id="{footer.anchor}">{_e(footer.heading)}</h2>',
        ]
    else:
        body.append("<footer>")
    for block in footer.body:
        body += _block(block)
    body.append("</footer>")
    head = [
        "<!DOCTYPE html>",
        f'<html lang="{page.lang}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(page.title)}</title>",
        f'<link rel="stylesheet" href="{STYLESHEET}">',
        "</head>",
        "<body>",
    ]
    return "\n".join([*head, *body, "</body>", "</html>", ""])
