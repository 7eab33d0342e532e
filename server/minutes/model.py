"""The minutes' content: what a finalised meeting recorded, already filtered to what the
reader may see (server.meeting_service builds it; everything in this package renders it)."""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

MeetingKind = Literal["group", "one-to-one"]
RoleName = Literal["owner", "guardian", "relative", "coordinator", "service"]
AttendanceMark = Literal["present", "left", "absent", "invited"]
DecisionKind = Literal[
    "continue", "adjust", "stop", "new_measure", "evaluation", "next_meeting", "next_evaluation"
]


class MeetingInfo(TypedDict):
    id: str
    title: str
    plan_id: str
    plan_title: str
    kind: MeetingKind
    starts_at: str
    ends_at: str
    place: str
    video_url: str


class AttendanceEntry(TypedDict):
    participant: str
    name: str
    role: RoleName
    organisation: str
    service: str
    attendance: AttendanceMark


class DecisionEntry(TypedDict):
    id: str
    kind: DecisionKind
    summary: str
    measure_title: str | None
    responsible_name: str | None
    due: str | None
    section: NotRequired[str]
    # The decision's own facts (see decision_details), so that its sentence is written at
    # render time in the reader's language. Minutes finalised before this existed have
    # only the stored bokmål summary.
    details: NotRequired[dict[str, str]]
    text: NotRequired[str]  # with_texts: the sentence in the reader's language


class MinutesItem(TypedDict):
    id: str
    title: str
    section: str
    section_title: str
    notes: str
    decisions: list[DecisionEntry]


class NextMeeting(TypedDict):
    starts_at: str | None
    place: str


class MinutesContent(TypedDict):
    meeting: MeetingInfo
    version: int
    supersedes: int | None
    reason: str
    approved_by: str
    approved_at: str
    finalised_by: str
    finalised_at: str
    hash: str
    attendance: list[AttendanceEntry]
    items: list[MinutesItem]
    next_meeting: NextMeeting | None
    next_evaluation: str | None
