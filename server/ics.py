"""Calendar invitations (RFC 5545 / iTIP RFC 5546), written by hand.

One VCALENDAR with one VEVENT per invitee. The UID is stable per meeting, so a changed
meeting (higher SEQUENCE) updates the event in the invitee's calendar, and a CANCEL
removes it. Lines end in CRLF and are folded at 75 octets without splitting a UTF-8
character; text values are escaped.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal, TypedDict

from server.minutes import moment_text

__all__ = ["InviteMeeting", "Method", "fold", "invitation"]

PRODID = "-//Planrom//Planrom//NO"
MAX_OCTETS = 75

Method = Literal["REQUEST", "CANCEL"]


class InviteMeeting(TypedDict):
    id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    place: str
    video_url: str


# Control characters are not allowed in TEXT (RFC 5545 §3.3.11), except HTAB.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _text(value: str) -> str:
    """Escape a TEXT value: backslash, semicolon, comma and newlines."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL.sub("", value.replace("\t", " "))
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _cn(name: str) -> str:
    """';CN="name"', or nothing for no name. A quoted parameter value cannot hold DQUOTE or
    control characters."""
    name = re.sub(r"[\x00-\x1f\x7f]+", " ", name).replace('"', "'").strip()
    return f';CN="{name}"' if name else ""


def _uri(value: str) -> str:
    """A URI value is not TEXT: no escaping, but no whitespace or control characters."""
    return re.sub(r"[\x00-\x20\x7f]", "", value)


def _utc(moment: datetime, name: str) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> bytes:
    """One content line as UTF-8, folded so no physical line exceeds 75 octets (CRLF
    excluded); continuation lines start with one space, which counts toward the 75."""
    out = bytearray()
    width = 0
    for char in line:
        encoded = char.encode("utf-8")
        if width + len(encoded) > MAX_OCTETS:
            out += b"\r\n "
            width = 1
        out += encoded
        width += len(encoded)
    return bytes(out + b"\r\n")


def _meeting_page(base_url: str, meeting_id: str) -> str:
    # The web client's meeting page (web/src/main.js routes /mote/<id>; /meetings/<id>,
    # which older invitations carry, opens the same page).
    return f"{base_url.rstrip('/')}/mote/{meeting_id}"


def _description(meeting: InviteMeeting, page: str, method: Method) -> str:
    lines = []
    if method == "CANCEL":
        lines.append("Møtet er avlyst, eller du er ikke lenger invitert.")
    lines.append(f"Møte i Planrom: {meeting['title']}.")
    # Norwegian time in words, as everywhere a person reads a time (DTSTART stays UTC).
    lines.append(f"Tid: {moment_text(meeting['starts_at'])}")
    if meeting["place"]:
        lines.append(f"Sted: {meeting['place']}")
    if meeting["video_url"]:
        lines.append(f"Video: {meeting['video_url']}")
    lines.append(f"Sakslisten og møtet: {page}")
    return "\n".join(lines)


def invitation(
    meeting: InviteMeeting,
    *,
    attendee_name: str,
    attendee_email: str | None,
    organizer_name: str,
    base_url: str,
    sequence: int,
    method: Method,
    now: datetime,
    organizer_email: str | None = None,
) -> bytes:
    """The invitation (REQUEST) or cancellation (CANCEL) of one meeting for one invitee.

    ORGANIZER and ATTENDEE carry the name as CN; their address is a mailto: when an
    e-mail is known. Without one, the organizer's address is the meeting's page and the
    attendee line is left out (an ATTENDEE needs an address).
    """
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"method must be REQUEST or CANCEL, not {method!r}")
    if sequence < 0:
        raise ValueError("sequence must not be negative")
    page = _meeting_page(base_url, meeting["id"])
    video = meeting["video_url"].strip()
    url = video if video.startswith(("https://", "http://")) else page
    organizer = f"mailto:{organizer_email}" if organizer_email else page
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{_uri(meeting['id'])}@planrom",
        f"SEQUENCE:{sequence}",
        f"DTSTAMP:{_utc(now, 'now')}",
        f"DTSTART:{_utc(meeting['starts_at'], 'starts_at')}",
        f"DTEND:{_utc(meeting['ends_at'], 'ends_at')}",
        f"SUMMARY:{_text(meeting['title'])}",
    ]
    if meeting["place"]:
        lines.append(f"LOCATION:{_text(meeting['place'])}")
    lines += [
        f"URL:{_uri(url)}",
        f"DESCRIPTION:{_text(_description(meeting, page, method))}",
        f"STATUS:{'CANCELLED' if method == 'CANCEL' else 'CONFIRMED'}",
        f"ORGANIZER{_cn(organizer_name)}:{_uri(organizer)}",
    ]
    if attendee_email:
        lines.append(
            f"ATTENDEE{_cn(attendee_name)};ROLE=REQ-PARTICIPANT;"
            f"PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:{_uri(attendee_email)}"
        )
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return b"".join(fold(line) for line in lines)
