"""The plan on paper (server/planprint.py): a PDF of the parts of the plan the reader may
see, in their language, made in a worker process; checked by its text."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.conftest import Demo, LiveServer


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


async def printed(live: LiveServer, token: str, plan: str, lang: str = "nb") -> str:
    async with live.http(token) as http:
        response = await http.get(f"/api/plans/{plan}/print?lang={lang}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    return pdf_text(response.content)


async def test_the_owner_prints_the_whole_plan(live: LiveServer, demo: Demo) -> None:
    per = demo.per
    text = await printed(live, demo.token(per, "per"), per["id"])
    assert "Individuell plan: Pers plan" in text
    assert "Planen er for: Per Hansen" in text
    assert "Automatisk sparing 500 kr i måneden" in text
    assert "Ansvarlig: Siw Nilsen" in text
    assert "Spare 500 kroner i måneden til ferien." in text  # a sub-goal from the document
    assert "Jeg er 47 år" in text  # the owner's own words
    english = await printed(live, demo.token(per, "per"), per["id"], "en")
    assert "Individual plan: Pers plan" in english and "Responsible: Siw Nilsen" in english


async def test_the_school_prints_only_what_it_may_see(live: LiveServer, demo: Demo) -> None:
    charlotte = demo.charlotte
    text = await printed(live, demo.token(charlotte, "skole"), charlotte["id"])
    assert "Tilrettelagt opplegg for ett fag" in text
    for secret in ("Berit", "Tone", "DPS", "Samtaler", "terapi", "Psykisk"):
        assert secret not in text, secret
    assert "Utskriften har bare de delene av planen du har lov til å se." in text
    async with live.http(demo.token(demo.per, "siw")) as outsider:
        response = await outsider.get(f"/api/plans/{charlotte['id']}/print")
    assert response.status_code == 404
