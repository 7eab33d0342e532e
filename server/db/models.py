"""SQLAlchemy tables. Portable between SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        date: Date(),
        dict[str, Any]: JSON(),
    }


class Attributed:
    """Every plan record carries its version and who changed it last, and when."""

    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(32))


class Person(Base):
    __tablename__ = "persons"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    created_at: Mapped[datetime]


class Identity(Base):
    """A sign-in identity (issuer + subject) bound to a person."""

    __tablename__ = "identities"
    issuer: Mapped[str] = mapped_column(String(300), primary_key=True)
    subject: Mapped[str] = mapped_column(String(300), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    created_at: Mapped[datetime]


class AuthToken(Base):
    """Bearer tokens, stored only as their SHA-256."""

    __tablename__ = "auth_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "demo" | "api"
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class WebSession(Base):
    """Server-side browser sessions; the cookie carries only a signed random id."""

    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    via: Mapped[str] = mapped_column(String(16))  # "demo" | "oidc"
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    user_agent: Mapped[str] = mapped_column(String(300), default="")


class PlanRow(Attributed, Base):
    __tablename__ = "plans"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    period_from: Mapped[date]
    period_to: Mapped[date | None] = mapped_column(default=None)
    evaluation_months: Mapped[int] = mapped_column(Integer)
    next_evaluation: Mapped[date]
    created_at: Mapped[datetime]
    # The owner's birth date when known (a child's plan): guardians' default end date.
    owner_born: Mapped[date | None] = mapped_column(default=None)
    # The owner's choice: relatives may answer the usefulness survey too.
    survey_relatives: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class SectionRow(Attributed, Base):
    __tablename__ = "sections"
    __table_args__ = (UniqueConstraint("plan_id", "key"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class ParticipantRow(Attributed, Base):
    __tablename__ = "participants"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    person_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    service: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A guardian's full access ends at the start of this day (Europe/Oslo); None: the
    # default (the owner's 18th birthday when known, else no end). Migration 0010.
    access_until: Mapped[date | None] = mapped_column(default=None)
    access_answered: Mapped[date | None] = mapped_column(default=None)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class MeasureRow(Attributed, Base):
    __tablename__ = "measures"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    section_id: Mapped[str] = mapped_column(ForeignKey("sections.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    responsible_id: Mapped[str | None] = mapped_column(ForeignKey("participants.id"))
    goal_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    frequency: Mapped[str] = mapped_column(String(300), default="")
    starts: Mapped[date | None] = mapped_column(default=None)
    ends: Mapped[date | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16))
    evaluate_by: Mapped[date | None] = mapped_column(default=None)


class ConsentRow(Base):
    """Consent versions are immutable: a change is a new row."""

    __tablename__ = "consent_versions"
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    signed_by: Mapped[str] = mapped_column(String(32))
    recorded_by: Mapped[str] = mapped_column(String(32))
    signed_at: Mapped[datetime]
    purpose: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None] = mapped_column(default=None)
    grants: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    recorded_by_person: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(16), default="in-app")  # in-app | paper
    sign_in: Mapped[str] = mapped_column(String(32), default="")
    form_id: Mapped[str | None] = mapped_column(String(32), default=None)


class ConsentForm(Base):
    """A signed paper consent form (PDF, JPEG or PNG), kept as uploaded."""

    __tablename__ = "consent_forms"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by_person: Mapped[str] = mapped_column(String(32))
    uploaded_at: Mapped[datetime]
    used_in_version: Mapped[int | None] = mapped_column(Integer, default=None)


class Notification(Base):
    """A notice to one participant (the owner or a guardian) of a change they did not
    make. It holds no plan content: the text is built from kind and actor when read."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_participant", "participant_id", "created_at"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    participant_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))  # consent-changed
    actor_name: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str] = mapped_column(String(16))
    consent_version: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None] = mapped_column(default=None)


class RecordVersion(Base):
    """Every version of every plan record: who changed what, when (Historikk)."""

    __tablename__ = "record_versions"
    __table_args__ = (
        UniqueConstraint("entity", "entity_id", "version"),
        Index("ix_record_versions_plan", "plan_id", "id"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    change: Mapped[str] = mapped_column(String(16))  # create | update | archive | remove
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_by: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime]


class AccessLogRow(Base):
    """The owner-visible access log (innsynslogg). Append-only; a hash chain per plan."""

    __tablename__ = "access_log"
    __table_args__ = (UniqueConstraint("plan_id", "seq"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    person_id: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(16))  # open | change | denied | revoked | sign
    target: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # Why access was allowed, when it was ("consent:3:read", "owner", "guardian").
    grounds: Mapped[str] = mapped_column(String(64), default="", server_default="")


class YClient(Base):
    """A Yjs clientID bound to the person who first used it."""

    __tablename__ = "yclients"
    client_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    bound_at: Mapped[datetime]


class DocUpdate(Base):
    """The append-only update log of every Yjs document."""

    __tablename__ = "doc_updates"
    __table_args__ = (Index("ix_doc_updates_doc_id", "doc", "id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    doc: Mapped[str] = mapped_column(String(120))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    person_id: Mapped[str | None] = mapped_column(String(32))
    origin: Mapped[str] = mapped_column(String(16))  # client | server
    at: Mapped[datetime]
    # Set when the update failed validation on load or by `planrom doctor`: never applied.
    quarantined_at: Mapped[datetime | None] = mapped_column(default=None)
    quarantine_reason: Mapped[str | None] = mapped_column(String(200), default=None)


class DocSnapshot(Base):
    """A compacted state of a document up to and including update ``upto``."""

    __tablename__ = "doc_snapshots"
    doc: Mapped[str] = mapped_column(String(120), primary_key=True)
    upto: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    at: Mapped[datetime]


class MeetingRow(Attributed, Base):
    """A responsibility-group meeting; ``state`` is collab.meeting's stored form."""

    __tablename__ = "meetings"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # group | one-to-one
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(300), default="")
    video_url: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    ics_sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class DecisionRow(Base):
    """A structured decision recorded against an agenda item."""

    __tablename__ = "meeting_decisions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), index=True)
    plan_id: Mapped[str] = mapped_column(String(32), index=True)
    item_id: Mapped[str] = mapped_column(String(32))
    section_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(24))
    measure_id: Mapped[str | None] = mapped_column(String(32), default=None)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    removed_at: Mapped[datetime | None] = mapped_column(default=None)
    applied_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class MinutesRow(Base):
    """An immutable, hashed version of a meeting's minutes; corrections add versions."""

    __tablename__ = "meeting_minutes"
    __table_args__ = (UniqueConstraint("meeting_id", "version"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    meeting_id: Mapped[str] = mapped_column(ForeignKey("meetings.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    supersedes: Mapped[int | None] = mapped_column(Integer, default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class AccessLogHead(Base):
    """The newest entry of each plan's access log, so a cut-off tail is detected too."""

    __tablename__ = "access_log_heads"
    plan_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class AccessDenialRow(Base):
    """Refused attempts of one person on one plan on one day (UTC), counted.

    Outside the hash chain: the day's first refusals are chained rows of the access log
    (``first_seq`` is the first of them); the count only says how many there were in
    all. See ``server.db.denials`` and ADR 0009.
    """

    __tablename__ = "access_denials"
    __table_args__ = (UniqueConstraint("plan_id", "person_id", "day"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str] = mapped_column(String(32))  # "" when nobody was signed in
    day: Mapped[date]
    actor: Mapped[str] = mapped_column(String(200))
    outsider: Mapped[bool] = mapped_column(Boolean)  # no role in the plan at the first refusal
    count: Mapped[int] = mapped_column(Integer)  # every refusal of the day
    logged: Mapped[int] = mapped_column(Integer)  # of which written as access-log rows
    first_seq: Mapped[int] = mapped_column(Integer)  # the access-log entry they hang on
    first_at: Mapped[datetime]
    last_at: Mapped[datetime]
    last_target: Mapped[str] = mapped_column(String(200))
    last_detail: Mapped[str] = mapped_column(Text, default="")


class RenderedMinutes(Base):
    """Minutes (or the owner's summary) rendered once for one reader's view, language and
    format. ``key`` is a SHA-256 of everything the rendering depends on (the minutes
    version, the content filtered to the reader, language, format, renderer version), so
    equal views share a row; finalised minutes never change, so rows are never updated."""

    __tablename__ = "rendered_minutes"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    minutes_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("meeting_minutes.id"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(8))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class PendingEffect(Base):
    """Something that must happen after a transaction commits (a document edit a
    decision makes), stored in that transaction so that a crash before it is done loses
    nothing: ``server.effects`` carries it out, retrying, and marks it done. ``not_before``
    is also the lease of the process that claimed it; ``attempts`` counts claims."""

    __tablename__ = "pending_effects"
    __table_args__ = (Index("ix_pending_effects_due", "done_at", "not_before"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    doc: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    person_id: Mapped[str] = mapped_column(String(32))  # on whose behalf the edit is made
    created_at: Mapped[datetime]
    not_before: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str] = mapped_column(Text, default="")


class Reminder(Base):
    """Something waiting for one person (an overdue measure, minutes to approve, …): in
    their in-app inbox, and in an e-mail digest unless they chose in-app only. ``thing``
    names what it is about, so the same thing is never reminded twice. It holds no plan
    content: the text is written from ``kind`` when read, and e-mails only count kinds."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("person_id", "thing"),
        Index("ix_reminders_person", "person_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(32))
    plan_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    thing: Mapped[str] = mapped_column(String(200))
    href: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    emailed_at: Mapped[datetime | None] = mapped_column(default=None)
    read_at: Mapped[datetime | None] = mapped_column(default=None)


class ReminderChoice(Base):
    """How a person wants reminders: ``email`` (a digest, and the inbox) or ``in-app``."""

    __tablename__ = "reminder_choices"
    person_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime]


class JobLease(Base):
    """Which process runs a scheduled job until when: one at a time across processes."""

    __tablename__ = "job_leases"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime]


class UnitMember(Base):
    """A member of the coordinating unit (koordinerende enhet): sees every plan's status,
    never its content (server/unit.py)."""

    __tablename__ = "unit_members"
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(64))


class SurveyAnswer(Base):
    """The owner's (or a guardian's) answer to the usefulness survey after one meeting
    (collab/survey.py). ``shared``: the coordinator may read it; otherwise only the
    coordinating unit's aggregates (of five or more answers) count it."""

    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("person_id", "occasion"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    person_id: Mapped[str] = mapped_column(String(32))
    occasion: Mapped[str] = mapped_column(String(64))  # "meeting:<id>"
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    shared: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]


class StandInRow(Base):
    """A deputy for the coordinator for a period (collab.model.StandIn)."""

    __tablename__ = "stand_ins"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    participant_id: Mapped[str] = mapped_column(String(32))
    for_participant_id: Mapped[str] = mapped_column(String(32))
    starts: Mapped[date]
    ends: Mapped[date]
    set_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class HandoverRow(Base):
    """The outgoing coordinator's handover note, and the incoming one's acceptance."""

    __tablename__ = "handovers"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    from_participant_id: Mapped[str] = mapped_column(String(32))
    from_name: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime]
    to_participant_id: Mapped[str | None] = mapped_column(String(32), default=None)
    to_name: Mapped[str | None] = mapped_column(String(200), default=None)
    handed_at: Mapped[datetime | None] = mapped_column(default=None)
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)


class TransitionRow(Base):
    """A named event in the plan's life (new school, turning 18, leaving hospital or
    prison) that calls for a review of consent and the group."""

    __tablename__ = "transitions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    day: Mapped[date]
    recorded_by: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime]
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)


class Appointment(Base):
    """The coordinating unit appointed a plan's coordinator, recording the owner's wish."""

    __tablename__ = "appointments"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    participant_id: Mapped[str] = mapped_column(String(32))
    owner_wish: Mapped[str] = mapped_column(Text)
    appointed_by: Mapped[str] = mapped_column(String(32))
    appointed_at: Mapped[datetime]
