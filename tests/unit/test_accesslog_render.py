"""server.accesslog's pure parts: times in Norway, grounds in words, and the exports
(CSV a spreadsheet will not run, a PDF whose size grows with its lines)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from pypdf import PdfReader

from server import accesslog
from server.dates import when_text


def line(text: str, at: datetime, name: str = "Siw Nilsen", count: int = 14) -> dict[str, Any]:
    w = accesslog.words("nb")
    return {
        "when": when_text(at, at, count, w.lang),
        "person": {"name": name},
        "text": text,
        "count": count,
        "why": accesslog.grounds_text({"kind": "consent", "version": 3, "level": "read"}, w),
        "from": at.isoformat(),
        "to": at.isoformat(),
    }


def test_times_are_norwegian_summer_and_winter() -> None:
    winter = datetime(2026, 12, 1, 9, 14, tzinfo=UTC)  # 10.14 in Oslo
    summer = datetime(2026, 6, 1, 9, 14, tzinfo=UTC)  # 11.14 in Oslo
    assert when_text(winter, winter, 1, "nb") == "tirsdag 1. desember 2026, kl. 10:14"
    assert when_text(winter, winter, 14, "nb") == "tirsdag 1. desember 2026, kl. 10–11"
    assert when_text(summer, summer, 1, "nb") == "mandag 1. juni 2026, kl. 11:14"
    assert when_text(summer, summer, 2, "en") == "Monday 1 June 2026, at 11–12"
    late = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)  # 00.30 the next day in Oslo
    assert when_text(late, late, 3, "nb") == "onsdag 2. desember 2026, kl. 00–01"


def test_grounds_in_words() -> None:
    nb, nn = accesslog.words("nb"), accesslog.words("nn")
    consent = accesslog.grounds_json("consent:3:read")
    assert accesslog.grounds_text(consent, nb) == "ifølge samtykke versjon 3: lese"
    assert accesslog.grounds_text(consent, nn) == "ifølgje samtykke versjon 3: lese"
    assert accesslog.grounds_text(accesslog.grounds_json("consent:7"), nb) == (
        "ifølge samtykke versjon 7"
    )
    assert accesslog.grounds_text(accesslog.grounds_json("owner"), nb) == "som planeier"
    guardian = accesslog.grounds_json("guardian:2031-05-02")
    assert accesslog.grounds_text(guardian, nb) == "som foresatt (til 2. mai 2031)"
    assert accesslog.grounds_json("") is None and accesslog.grounds_text(None, nb) == ""


def test_csv_cells_never_become_formulas() -> None:
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    text = accesslog.render_csv(
        [line('=HYPERLINK("http://x") endret «Bolig»', at, name="=1+1")],
        accesslog.words("nb"),
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][1] == "'=1+1" and rows[1][2].startswith("'=HYPERLINK")
    assert rows[1][4] == "ifølge samtykke versjon 3: lese"
    assert rows[1][5] == "2026-12-01T10:00:00+01:00"


def test_the_pdf_holds_every_line_and_grows_linearly() -> None:
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    many = [
        line(f"Siw Nilsen endret «Arbeid og aktivitet» {n} ganger", start - timedelta(hours=n))
        for n in range(1, 601)
    ]
    w = accesslog.words("nb")
    small = accesslog.render_pdf(many[:60], w, plan_title="Pers plan", made_at=start, capped=False)
    large = accesslog.render_pdf(many, w, plan_title="Pers plan", made_at=start, capped=True)
    reader = PdfReader(io.BytesIO(large))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Innsynslogg: Pers plan" in text
    assert "Bare de 5000 nyeste linjene er med." in text
    assert "Siw Nilsen endret «Arbeid og aktivitet» 600 ganger" in text
    assert text.count("ifølge samtykke versjon 3: lese") == 600
    pages_small = len(PdfReader(io.BytesIO(small)).pages)
    assert len(reader.pages) <= 12 * pages_small  # ten times the lines, about ten times the pages
