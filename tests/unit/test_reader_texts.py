"""Texts written for the reader: the language asked for, Norwegian time in words."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from server.http.invite_routes import _letter_text
from server.http.messages import Said, reader_language, say, schema_said
from server.minutes import moment_text


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "nb"),
        ("", "nb"),
        ("de-DE,de;q=0.9", "nb"),
        ("nn-NO,nn;q=0.9,nb;q=0.8", "nn"),
        ("no", "nb"),
        ("en-GB,en;q=0.9", "en"),
        ("de;q=1,nb;q=0.5,en;q=0.7", "en"),
        ("en;q=0,nn", "nn"),
        ("en;q=zzz,nb", "nb"),
    ],
)
def test_the_readers_language_comes_from_accept_language(header: str | None, lang: str) -> None:
    assert reader_language(header) == lang


def test_every_message_is_in_each_language_with_the_same_parameters() -> None:
    from server.http.messages import _MESSAGES

    for key, texts in _MESSAGES.items():
        assert set(texts) == {"nb", "nn", "en"}, key
        names = {lang: sorted(re.findall(r"\{(\w+)\}", t)) for lang, t in texts.items()}
        assert names["nb"] == names["nn"] == names["en"], key


def test_a_schema_refusal_names_its_field() -> None:
    missing = schema_said("required", ["changes"], ["title"], {}, ())
    assert missing == Said("required", "changes.title", {})
    assert say(missing, "en") == "This field is required."
    long = schema_said("maxLength", ["title"], 300, "x" * 301, ())
    assert long.field == "title" and say(long, "nb") == "Teksten er for lang (høyst 300 tegn)."
    extra = schema_said("additionalProperties", [], False, {"a": 1, "zz": 2}, ("a",))
    assert extra.field is None and say(extra, "nn") == "Ukjent felt: zz."


def test_moments_are_norwegian_time_in_words() -> None:
    winter = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    summer = datetime(2027, 6, 8, 8, 0, tzinfo=UTC)
    assert moment_text(winter) == "tirsdag 8. desember 2026 kl. 10:00"
    assert moment_text(summer, "nn") == "tysdag 8. juni 2027 kl. 10:00"
    assert moment_text(winter, "en") == "Tuesday 8 December 2026 at 10:00"


def test_the_invitation_letter_gives_its_end_in_norwegian_time() -> None:
    text = _letter_text(
        "Siw",
        "Maria",
        "tjenesteyter",
        "https://x/invite/t",
        datetime(2026, 12, 8, 22, 30, tzinfo=UTC),
    )
    assert "gjelder til tirsdag 8. desember 2026 kl. 23:30." in text
    assert "until Tuesday 8 December 2026 at 23:30 (Norwegian time)" in text
    assert "UTC" not in text
