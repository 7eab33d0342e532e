"""server.ics: RFC 5545 invitations written by hand, checked against the icalendar package."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import icalendar
import pytest

from server.ics import InviteMeeting, Method, fold, invitation

OSLO_WINTER = timezone(timedelta(hours=1))
NOW = datetime(2026, 11, 1, 8, 30, 15, tzinfo=UTC)
BASE = "https://planrom.example"
LONG_TITLE = (
    "Ansvarsgruppemøte for Per: sparing til ferie, dagsenteret på faste dager, "
    "følge til bussen og økonomi – æøå ÆØÅ"
)


def meeting(**changes: str) -> InviteMeeting:
    base: InviteMeeting = {
        "id": "mote0001",
        "title": "Ansvarsgruppemøte for Per",
        "starts_at": datetime(2026, 11, 24, 10, 0, tzinfo=OSLO_WINTER),
        "ends_at": datetime(2026, 11, 24, 11, 30, tzinfo=OSLO_WINTER),
        "place": "Bofellesskapet på Åsen, stua",
        "video_url": "",
    }
    for key in ("title", "place", "video_url"):
        if key in changes:
            base[key] = changes[key]
    return base


def make(
    m: InviteMeeting | None = None,
    *,
    method: Method = "REQUEST",
    sequence: int = 0,
    email: str | None = "siw@nav.example",
    organizer_email: str | None = None,
) -> bytes:
    return invitation(
        m or meeting(),
        attendee_name="Siw Årstad",
        attendee_email=email,
        organizer_name="Maria Løvås",
        base_url=BASE,
        sequence=sequence,
        method=method,
        now=NOW,
        organizer_email=organizer_email,
    )


def event_of(data: bytes) -> icalendar.Event:
    calendar = icalendar.Calendar.from_ical(data)
    assert isinstance(calendar, icalendar.Calendar)
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, icalendar.Event)
    return event


def unfolded(data: bytes) -> list[str]:
    return data.decode("utf-8").replace("\r\n ", "").split("\r\n")


def test_request_parses_with_uid_sequence_method_and_utc_times() -> None:
    data = make(sequence=3)
    calendar = icalendar.Calendar.from_ical(data)
    assert str(calendar["PRODID"]) == "-//Planrom//Planrom//NO"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["METHOD"]) == "REQUEST"
    event = event_of(data)
    assert str(event["UID"]) == "mote0001@planrom"
    assert int(str(event["SEQUENCE"])) == 3
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event.decoded("DTSTART") == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
    assert event.decoded("DTSTAMP") == NOW
    lines = unfolded(data)
    assert "DTSTART:20261124T090000Z" in lines and "DTEND:20261124T103000Z" in lines
    assert "DTSTAMP:20261101T083015Z" in lines
    assert str(event["SUMMARY"]) == "Ansvarsgruppemøte for Per"
    assert str(event["LOCATION"]) == "Bofellesskapet på Åsen, stua"


def test_lines_end_in_crlf_and_fold_at_75_octets() -> None:
    data = make(meeting(title=LONG_TITLE, place=LONG_TITLE))
    assert data.endswith(b"END:VCALENDAR\r\n")
    assert data.count(b"\n") == data.count(b"\r\n")
    assert data.count(b"\r") == data.count(b"\r\n")
    physical = data.split(b"\r\n")[:-1]
    assert max(len(line) for line in physical) == 75  # something was folded, to the limit
    assert all(len(line) <= 75 for line in physical)
    for line in physical:
        line.decode("utf-8")  # no character is split across lines
    continuations = [line for line in physical if line.startswith(b" ")]
    assert len(continuations) >= 4
    assert str(event_of(data)["SUMMARY"]) == LONG_TITLE
    escaped = LONG_TITLE.replace(",", "\\,")
    assert f"SUMMARY:{escaped}" in unfolded(data)


def test_fold_never_splits_a_multibyte_character() -> None:
    folded = fold("X:" + "æ" * 100)
    lines = folded.split(b"\r\n")
    assert lines[-1] == b""
    assert [len(line) for line in lines[:-1]] == [74, 75, 55]
    assert all(line.startswith(b" ") for line in lines[1:-1])
    assert b"".join(line.removeprefix(b" ") for line in lines).decode() == "X:" + "æ" * 100
    assert fold("short") == b"short\r\n"


def test_text_values_are_escaped() -> None:
    title = "Møte; sparing, bolig \\ dagsenter\nandre linje"
    data = make(meeting(title=title, place="Stua, 2. etg; inngang B"))
    lines = unfolded(data)
    assert "SUMMARY:Møte\\; sparing\\, bolig \\\\ dagsenter\\nandre linje" in lines
    assert "LOCATION:Stua\\, 2. etg\\; inngang B" in lines
    event = event_of(data)
    assert str(event["SUMMARY"]) == title
    assert str(event["LOCATION"]) == "Stua, 2. etg; inngang B"
    assert all(not line.startswith("andre linje") for line in lines)


def test_cancel_is_cancelled_with_a_higher_sequence() -> None:
    request = event_of(make(sequence=2))
    cancel_data = make(method="CANCEL", sequence=3)
    cancel = event_of(cancel_data)
    assert str(icalendar.Calendar.from_ical(cancel_data)["METHOD"]) == "CANCEL"
    assert str(cancel["STATUS"]) == "CANCELLED"
    assert str(cancel["UID"]) == str(request["UID"])
    assert int(str(cancel["SEQUENCE"])) > int(str(request["SEQUENCE"]))
    assert "avlyst" in str(cancel["DESCRIPTION"])
    assert "avlyst" not in str(request["DESCRIPTION"])


def test_url_is_the_video_link_or_the_meeting_page() -> None:
    page = f"{BASE}/mote/mote0001"
    without = event_of(make())
    assert str(without["URL"]) == page
    assert page in str(without["DESCRIPTION"])
    video = "https://video.example/rom/per?pin=123"
    with_video = event_of(make(meeting(video_url=video)))
    assert str(with_video["URL"]) == video
    description = str(with_video["DESCRIPTION"])
    assert video in description and page in description
    assert "Ansvarsgruppemøte for Per" in description
    trailing = invitation(
        meeting(),
        attendee_name="Siw",
        attendee_email=None,
        organizer_name="Maria",
        base_url=BASE + "/",
        sequence=0,
        method="REQUEST",
        now=NOW,
    )
    assert str(event_of(trailing)["URL"]) == page


def test_organizer_and_attendee_carry_names_and_mailto() -> None:
    data = make(organizer_email="maria@kommune.example")
    event = event_of(data)
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:siw@nav.example"
    assert attendee.params["CN"] == "Siw Årstad"
    organizer = event["ORGANIZER"]
    assert str(organizer) == "mailto:maria@kommune.example"
    assert organizer.params["CN"] == "Maria Løvås"


def test_without_email_there_is_no_attendee_and_the_organizer_is_the_page() -> None:
    event = event_of(make(email=None))
    assert "ATTENDEE" not in event
    assert str(event["ORGANIZER"]) == f"{BASE}/mote/mote0001"
    assert event["ORGANIZER"].params["CN"] == "Maria Løvås"


def test_quotes_in_names_cannot_break_the_parameter() -> None:
    data = invitation(
        meeting(),
        attendee_name='Siw "NAV": økonomi; Årstad',
        attendee_email="siw@nav.example",
        organizer_name="",
        base_url=BASE,
        sequence=0,
        method="REQUEST",
        now=NOW,
    )
    event = event_of(data)
    assert event["ATTENDEE"].params["CN"] == "Siw 'NAV': økonomi; Årstad"
    assert str(event["ATTENDEE"]) == "mailto:siw@nav.example"
    assert "ORGANIZER:" + f"{BASE}/mote/mote0001" in unfolded(data)  # no empty CN


def test_naive_times_unknown_methods_and_negative_sequences_are_refused() -> None:
    naive = meeting()
    naive["starts_at"] = datetime(2026, 11, 24, 10, 0)
    with pytest.raises(ValueError, match="starts_at"):
        make(naive)
    with pytest.raises(ValueError, match="now"):
        invitation(
            meeting(),
            attendee_name="Siw",
            attendee_email=None,
            organizer_name="Maria",
            base_url=BASE,
            sequence=0,
            method="REQUEST",
            now=datetime(2026, 1, 1),
        )
    with pytest.raises(ValueError, match="method"):
        make(method="PUBLISH")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="sequence"):
        make(sequence=-1)
