"""Minutes rendering benchmark: seconds to render a PDF (and HTML) of minutes whose notes
are one long paragraph, or many lines, of a given size.

    .venv/bin/python bench/minutes.py                      # 100 KB, 500 KB, 1 MB
    .venv/bin/python bench/minutes.py --sizes 100000       # chosen sizes (characters)
    .venv/bin/python bench/minutes.py --lines              # 300-character lines
    .venv/bin/python bench/minutes.py --unchunked          # the old behaviour: a line is
                                                           # one ReportLab paragraph

Runs in this process (no worker): it measures the renderer, not the pool.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server import minutes
from tests.unit.test_minutes_render import full_content

WORDS = "Per vil male stua i blått, og Siw fra NAV ser på økonomien <b>&amp;</b> sparingen. "


def notes(size: int, lines: bool) -> str:
    text = (WORDS * (size // len(WORDS) + 1))[:size]
    if lines:
        text = "\n".join(text[i : i + 300] for i in range(0, size, 300))
    return text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 500_000, 1_000_000])
    parser.add_argument("--lines", action="store_true")
    parser.add_argument("--unchunked", action="store_true")
    args = parser.parse_args()
    if args.unchunked:
        minutes.CHUNK_CHARS = 10**12
    for size in args.sizes:
        content = full_content()
        content["items"] = content["items"][:1]
        content["items"][0]["notes"] = notes(size, args.lines)
        started = time.perf_counter()
        pdf = minutes.render_minutes_pdf(content)
        pdf_seconds = time.perf_counter() - started
        started = time.perf_counter()
        minutes.render_minutes_html(content)
        html_seconds = time.perf_counter() - started
        pieces = len(minutes.note_paragraphs(content["items"][0]["notes"]))
        print(
            f"{size:>9} chars  pdf {pdf_seconds:7.2f} s ({len(pdf):>8} bytes, {pieces} paragraphs)"
            f"  html {html_seconds:6.3f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
