"""The one place that decides who may read or write what.

Every HTTP route and Socket.IO event asks these functions; nothing else decides access.
Each answer is a :class:`Decision` with a reason, so refusals can be explained and logged.

Rules (PRODUCT.md, PROTOCOL.md):
- The owner and a guardian may read and write everything in the plan.
- Everyone else, the coordinator included, has exactly what the consent version in force
  grants them, per section: ``none`` < ``own`` < ``read`` < ``edit``.
- ``own`` shows only the measures the participant is responsible for.
- A removed participant, or a person who is not a participant, has nothing.
- Expired, not yet valid or withdrawn consent grants nothing.
- A closed plan and an archived section stay readable (with consent) but nobody writes
  them; a meeting's minutes are written only while it is live or ended. Live sessions
  follow these decisions at every change (``server.realtime.hub`` re-decides): what may
  still be read is downgraded to read-only, what may not is revoked.
- A plan nobody has signed consent for yet is *being set up* (:func:`in_setup`): the
  coordinator sees its set-up — the plan's title and period, the group and the section
  titles, enough to invite the owner and prepare the first consent — but no section
  text, no measures and no documents; services see nothing. Only the owner and
  guardians read content.
- Consent is the owner's or a guardian's own act: signed in-app by themselves, or on
  paper and recorded by the coordinator with the signed form attached. Nobody widens
  their own access; only the owner or a guardian adds or replaces a coordinator or
  delegates a meeting's chair.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from collab.consent import (
    ALWAYS_FULL_ACCESS,
    ConsentVersion,
    Grant,
    needs_no_consent,
    widens_own,
)
from collab.guardians import GuardianNotice, full_access_ended, notices, oslo_day
from collab.meeting import TABLE as MEETING_RULES
from collab.meeting import Actor as MeetingActor
from collab.meeting import AgendaItem, MeetingState, MoveItem, is_chair, may_write_item
from collab.meeting import Approve as ApproveMinutes
from collab.meeting import Cancel as CancelMeeting
from collab.meeting import Command as MeetingCommand
from collab.meeting import End as EndMeeting
from collab.meeting import Finalize as FinalizeMinutes
from collab.meeting import Goto as GotoItem
from collab.meeting import Pen as GivePen
from collab.meeting import Start as StartMeeting
from collab.model import Level, Measure, Participant, Plan, PlanStatus, Role, Section, StandIn
from collab.refusal import RefusalCode, Refused


@dataclass(frozen=True)
class Principal:
    """An authenticated person, however they signed in."""

    person: str
    name: str = ""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    code: RefusalCode | None = None
    message: str | None = None  # a refusal worded for the person (bokmål), when given

    def __bool__(self) -> bool:
        return self.allowed

    def refused(self) -> Refused:
        """This decision as a refusal (``forbidden`` when it names no code)."""
        return Refused(self.code or "forbidden", self.reason, self.message)


def _allow(reason: str) -> Decision:
    return Decision(True, reason)


def _deny(reason: str, code: RefusalCode = "forbidden", message: str | None = None) -> Decision:
    return Decision(False, reason, code, message)


@dataclass(frozen=True)
class PlanContext:
    """What policy needs to know about one plan at one moment."""

    plan: Plan
    consent: ConsentVersion | None
    sections: Mapping[str, Section]
    now: datetime
    stand_ins: tuple[StandIn, ...] = ()

    def actor(self, principal: Principal) -> Participant | None:
        who = self.plan.participant_for_person(principal.person)
        return self.as_now(who) if who is not None else None

    def as_now(self, who: Participant) -> Participant | None:
        """The participant as they act now. A guardian whose full access has ended
        (``collab.guardians``) is like a removed participant, unless the consent in force
        grants them something: then they have exactly that, like a relative."""
        if not full_access_ended(who, self.now):
            if standing_in_for(self, who) is not None:
                # A deputy acts as the coordinator while standing in (and only then).
                return replace(who, role=Role.COORDINATOR)
            return who
        consent = self.consent
        if consent is not None and consent.in_force(self.now):
            if any(g.participant == who.id and g.level is not Level.NONE for g in consent.grants):
                return replace(who, role=Role.RELATIVE)
        return None


def section_level(ctx: PlanContext, principal: Principal, section: str) -> tuple[Level, str]:
    """The level a person has on a section now, and why."""
    who = ctx.actor(principal)
    if who is None:
        return Level.NONE, "not a participant in this plan"
    if section not in ctx.sections:
        return Level.NONE, "no such section"
    if who.role in ALWAYS_FULL_ACCESS:
        return Level.EDIT, f"{who.role.value} of the plan"
    if ctx.consent is None:
        return Level.NONE, "no consent has been signed"
    if not ctx.consent.in_force(ctx.now):
        return Level.NONE, "consent is not in force (expired or not yet valid)"
    level = ctx.consent.level(who.id, section, ctx.now)
    coordinator = standing_in_for(ctx, who)
    if coordinator is not None:
        # Sees what the coordinator sees, while standing in.
        theirs = ctx.consent.level(coordinator.id, section, ctx.now)
        if theirs.rank > level.rank:
            return theirs, (
                f"standing in for the coordinator: consent version {ctx.consent.version} "
                f"grants them {theirs.value}"
            )
    return level, f"consent version {ctx.consent.version} grants {level.value}"


def standing_in_for(ctx: PlanContext, who: Participant) -> Participant | None:
    """The coordinator ``who`` stands in for today (Oslo time), if any."""
    today = oslo_day(ctx.now)
    for stand_in in ctx.stand_ins:
        if stand_in.participant == who.id and stand_in.starts <= today < stand_in.ends:
            coordinator = ctx.plan.participant(stand_in.for_participant)
            if (
                coordinator is not None
                and coordinator.active
                and coordinator.role is Role.COORDINATOR
            ):
                return coordinator
    return None


def in_setup(ctx: PlanContext) -> bool:
    """No consent has ever been signed for the plan: it is being set up."""
    return ctx.consent is None


def _is_full(ctx: PlanContext, principal: Principal) -> Participant | None:
    who = ctx.actor(principal)
    return who if who is not None and who.role in ALWAYS_FULL_ACCESS else None


def _writable(ctx: PlanContext, allowed: Decision, section: Section | None = None) -> Decision:
    """``allowed``, unless the plan is closed or the section archived (nobody writes then).

    Decisions are falsy when refused, so this must not be written as ``refusal or allowed``.
    """
    if ctx.plan.status is not PlanStatus.ACTIVE:
        return _deny("the plan is closed", "conflict")
    if section is not None and section.archived:
        return _deny("the section is archived", "conflict")
    return allowed


# --- plans -------------------------------------------------------------------------


def check_see_plan(ctx: PlanContext, principal: Principal) -> Decision:
    """May the person know the plan exists (its title, their own role)?"""
    who = ctx.actor(principal)
    if who is None:
        return _deny("not a participant in this plan", "not-found")
    return _allow(f"participant as {who.role.value}")


def check_manage_plan(ctx: PlanContext, principal: Principal) -> Decision:
    """Plan period, evaluation cadence, sections and participants (structure, not content)."""
    seen = check_see_plan(ctx, principal)
    if not seen:
        return seen
    who = ctx.actor(principal)
    assert who is not None
    if who.role in ALWAYS_FULL_ACCESS or who.role is Role.COORDINATOR:
        return _writable(ctx, _allow(f"{who.role.value} manages the plan"))
    return _deny("only the owner, a guardian or the coordinator manage the plan")


def check_see_participants(ctx: PlanContext, principal: Principal) -> Decision:
    """The whole responsibility group with contact details (part of Koordinering)."""
    who = ctx.actor(principal)
    if who is None:
        return _deny("not a participant in this plan", "not-found")
    if _sees_group(ctx, who):
        return _allow(f"{who.role.value} sees the group (but not those shown only to the owner)")
    return _deny("no consent to read the coordination section")


# --- sections ----------------------------------------------------------------------


def check_see_section(ctx: PlanContext, principal: Principal, section: str) -> Decision:
    """May the person know the section exists (its title)? ``own`` or more; and the
    coordinator, titles only, while the plan is being set up (nobody has signed yet)."""
    level, why = section_level(ctx, principal, section)
    if level.rank >= Level.OWN.rank:
        return _allow(why)
    who = ctx.actor(principal)
    if (
        in_setup(ctx)
        and who is not None
        and who.role is Role.COORDINATOR
        and section in ctx.sections
    ):
        return _allow("coordinator setting up the plan: the title, no content")
    return _deny(why, "not-found")


def check_read_section(ctx: PlanContext, principal: Principal, section: str) -> Decision:
    """May the person read the section's text (its document)? ``read`` or more."""
    level, why = section_level(ctx, principal, section)
    if level.rank >= Level.READ.rank:
        return _allow(why)
    return _deny(why, "not-found" if level is Level.NONE else "forbidden")


def check_write_section(ctx: PlanContext, principal: Principal, section: str) -> Decision:
    """May the person write the section's text? ``edit``."""
    readable = check_read_section(ctx, principal, section)
    if not readable:
        return readable
    level, why = section_level(ctx, principal, section)
    if level is not Level.EDIT:
        return _deny(why)
    return _writable(ctx, _allow(why), ctx.sections[section])


def check_rename_section(ctx: PlanContext, principal: Principal, section: str) -> Decision:
    # A section one may not see is "not found", whatever one's role (never "forbidden").
    visible = check_see_section(ctx, principal, section)
    if not visible:
        return visible
    managed = check_manage_plan(ctx, principal)
    if not managed:
        return managed
    return check_write_section(ctx, principal, section)


# --- measures ----------------------------------------------------------------------


def _responsible(ctx: PlanContext, principal: Principal, measure: Measure) -> bool:
    who = ctx.actor(principal)
    return who is not None and measure.responsible == who.id


def check_read_measure(ctx: PlanContext, principal: Principal, measure: Measure) -> Decision:
    level, why = section_level(ctx, principal, measure.section)
    if level.rank >= Level.READ.rank:
        return _allow(why)
    if level is Level.OWN and _responsible(ctx, principal, measure):
        return _allow("responsible for this measure, with 'own' consent")
    return _deny(why if level is Level.NONE else "not responsible for this measure", "not-found")


def check_update_measure(ctx: PlanContext, principal: Principal, measure: Measure) -> Decision:
    """Progress, status and the measure's text: edit on the section, or the responsible
    participant with any grant on it."""
    readable = check_read_measure(ctx, principal, measure)
    if not readable:
        return readable
    level, why = section_level(ctx, principal, measure.section)
    section = ctx.sections[measure.section]
    if level is Level.EDIT:
        return _writable(ctx, _allow(why), section)
    if _responsible(ctx, principal, measure) and level.rank >= Level.OWN.rank:
        return _writable(ctx, _allow("responsible for this measure"), section)
    return _deny("may read but not update this measure")


def check_shape_measure(ctx: PlanContext, principal: Principal, section: str) -> Decision:
    """Create a measure or change its section, title, responsible or dates: ``edit``."""
    return check_write_section(ctx, principal, section)


def check_responsible(ctx: PlanContext, participant: Participant, section: str) -> Decision:
    """May this participant be made responsible for a measure in ``section``?

    They must be able to see it: the owner or a guardian, or someone with consent
    of at least ``own`` for the section.
    """
    if not participant.active:
        return _deny("no longer a participant", "conflict")
    if participant.role in ALWAYS_FULL_ACCESS and ctx.as_now(participant) == participant:
        return _allow("owner or guardian")
    if ctx.consent is None or not ctx.consent.in_force(ctx.now):
        return _deny("no consent in force for this participant", "conflict")
    level = ctx.consent.level(participant.id, section, ctx.now)
    if level.rank >= Level.OWN.rank:
        return _allow(f"consent grants {level.value}")
    return _deny("no consent for this section for this participant", "conflict")


# --- consent and the access log ----------------------------------------------------


def check_read_consent(ctx: PlanContext, principal: Principal) -> Decision:
    """The whole consent list; others see only their own grants."""
    who = ctx.actor(principal)
    if who is None:
        return _deny("not a participant in this plan", "not-found")
    if who.role in ALWAYS_FULL_ACCESS or who.role is Role.COORDINATOR:
        return _allow(f"{who.role.value} sees the consent list")
    return _deny("sees only their own grants")


def check_sign_consent(
    ctx: PlanContext,
    principal: Principal,
    signer: str,
    new: ConsentVersion | None = None,
    *,
    with_form: bool = False,
) -> Decision:
    """A new version: signed in-app by the owner or a guardian themselves, or a paper
    signature of the owner or a guardian recorded by the coordinator with the signed form
    attached. Nobody widens their own access, not even with a form: a version ``new`` that
    gives the recorder more than the version in force is the owner's to sign in-app."""
    who = ctx.actor(principal)
    if who is None:
        return _deny("not a participant in this plan", "not-found")
    signing = ctx.plan.participant(signer)
    signing = ctx.as_now(signing) if signing is not None else None
    if signing is None or not signing.active or signing.role not in ALWAYS_FULL_ACCESS:
        return _deny("consent is signed by the owner or a guardian")
    if ctx.plan.status is not PlanStatus.ACTIVE:
        return _deny("the plan is closed", "conflict")
    if who.role in ALWAYS_FULL_ACCESS:
        if signing.id != who.id:
            return _deny("you sign in your own name")
        return _allow(f"signed in-app by the {who.role.value}")
    if who.role is not Role.COORDINATOR:
        return _deny("only the owner, a guardian or the coordinator record consent")
    if new is not None and widens_own(ctx.consent, new, who.id):
        return _deny(
            "nobody widens their own access: the owner signs that in-app",
            message=(
                "Ingen kan gi seg selv mer tilgang. Planeieren (eller verge) må selv "
                "signere en slik endring i Planrom."
            ),
        )
    if not with_form:
        return _deny(
            "a signature recorded for the owner needs the signed form attached",
            "malformed",
            message=(
                "Et samtykke du registrerer for planeieren må ha det signerte skjemaet "
                "vedlagt (PDF, JPEG eller PNG). Planeieren kan også signere selv i Planrom."
            ),
        )
    return _allow(f"coordinator records the paper signature of the {signing.role.value}")


def check_undo_consent(ctx: PlanContext, principal: Principal, version: int) -> Decision:
    """Undo in one step: the owner or a guardian, of the version in force, when someone
    else made it."""
    who = _is_full(ctx, principal)
    if who is None:
        if ctx.actor(principal) is None:
            return _deny("not a participant in this plan", "not-found")
        return _deny("only the owner or a guardian undo a consent version")
    if ctx.plan.status is not PlanStatus.ACTIVE:
        return _deny("the plan is closed", "conflict")
    if ctx.consent is None or ctx.consent.version != version:
        return _deny(
            "only the version in force can be undone",
            "conflict",
            message="Bare versjonen som gjelder nå kan angres. Signer en ny versjon i stedet.",
        )
    if ctx.consent.recorded_by == who.id:
        return _deny(
            "you made this version yourself",
            "conflict",
            message="Du laget denne versjonen selv; signer en ny versjon for å endre den.",
        )
    return _allow(f"{who.role.value} undoes a version made by someone else")


def check_read_consent_form(
    ctx: PlanContext, principal: Principal, recorded_by_person: str
) -> Decision:
    """A signed paper form: the owner, guardians, and whoever recorded it."""
    who = ctx.actor(principal)
    if who is None:
        return _deny("not a participant in this plan", "not-found")
    if who.role in ALWAYS_FULL_ACCESS:
        return _allow(f"{who.role.value} of the plan")
    if principal.person == recorded_by_person:
        return _allow("recorded this form")
    return _deny("the signed form is the owner's", "not-found")


def told_of_consent_change(ctx: PlanContext, actor: str) -> list[Participant]:
    """Who is told of a new consent version: the owner and every guardian, except the
    one who made it (the change is their own)."""
    return [
        p
        for p in ctx.plan.participants
        if p.active and p.role in ALWAYS_FULL_ACCESS and p.id != actor
    ]


def check_withdraw_consent(ctx: PlanContext, principal: Principal) -> Decision:
    who = _is_full(ctx, principal)
    if who is None:
        if ctx.actor(principal) is None:
            return _deny("not a participant in this plan", "not-found")
        return _deny("only the owner or a guardian withdraw consent")
    return _allow(f"{who.role.value} withdraws consent")


def check_read_access_log(ctx: PlanContext, principal: Principal) -> Decision:
    who = ctx.actor(principal)
    if who is None:
        return _deny("not a participant in this plan", "not-found")
    if who.role in ALWAYS_FULL_ACCESS or who.role is Role.COORDINATOR:
        return _allow(f"{who.role.value} reads the access log")
    return _deny("only the owner, a guardian or the coordinator read the access log")


# --- documents ---------------------------------------------------------------------


def check_read_section_doc(ctx: PlanContext, principal: Principal, section: str) -> Decision:
    return check_read_section(ctx, principal, section)


def check_write_section_doc(ctx: PlanContext, principal: Principal, section: str) -> Decision:
    return check_write_section(ctx, principal, section)


def check_read_measure_doc(ctx: PlanContext, principal: Principal, measure: Measure) -> Decision:
    return check_read_measure(ctx, principal, measure)


def check_write_measure_doc(ctx: PlanContext, principal: Principal, measure: Measure) -> Decision:
    return check_update_measure(ctx, principal, measure)


# --- meetings --------------------------------------------------------------------------


def meeting_actor(ctx: PlanContext, principal: Principal) -> MeetingActor | None:
    """The person as an actor in this plan's meetings (their participant and role)."""
    who = ctx.actor(principal)
    return MeetingActor(who.id, who.role.value) if who is not None else None


def check_invitee(ctx: PlanContext, participant: Participant) -> Decision:
    """May this participant be invited? Only with consent in force (or owner/guardian)."""
    if not participant.active:
        return _deny("no longer a participant", "conflict")
    if participant.role in ALWAYS_FULL_ACCESS and ctx.as_now(participant) == participant:
        return _allow(f"{participant.role.value} of the plan")
    consent = ctx.consent
    if consent is None or not consent.in_force(ctx.now):
        return _deny("no consent in force for this participant", "conflict")
    if any(g.participant == participant.id and g.level is not Level.NONE for g in consent.grants):
        return _allow(f"consent version {consent.version} names the participant")
    return _deny("no consent for any part of the plan for this participant", "conflict")


def check_see_meeting(ctx: PlanContext, principal: Principal, state: MeetingState) -> Decision:
    """Invited participants, and the owner, guardians and the coordinator of the plan."""
    who = ctx.actor(principal)
    if who is None:
        return _deny("not a participant in this plan", "not-found")
    if who.role in ALWAYS_FULL_ACCESS or who.role is Role.COORDINATOR:
        return _allow(f"{who.role.value} of the plan")
    if who.id in state.invited:
        standing = check_invitee(ctx, who)
        if not standing:
            # Withdrawn consent reaches meetings too: no longer seen, joined or minuted.
            return _deny(standing.reason, "not-found")
        return _allow("invited to the meeting")
    return _deny("not invited to this meeting", "not-found")


def check_schedule_meeting(ctx: PlanContext, principal: Principal) -> Decision:
    """Schedule, reschedule or cancel: the owner, a guardian or the coordinator."""
    return check_manage_plan(ctx, principal)


def check_read_item(
    ctx: PlanContext,
    principal: Principal,
    state: MeetingState,
    item: AgendaItem,
    measure: Measure | None = None,
) -> Decision:
    """An agenda item (its title, its minutes, its decisions) is seen by whoever is in the
    meeting and may read the item's *own* section (the one it was made in: moving a measure
    does not move its items); a measure item also by its responsible service with ``own``
    on that section. Refusals are "not found", so nothing tells an item exists."""
    seen = check_see_meeting(ctx, principal, state)
    if not seen:
        return seen
    level, why = section_level(ctx, principal, item.section)
    if level.rank >= Level.READ.rank:
        return _allow(why)
    if (
        level is Level.OWN
        and measure is not None
        and measure.id == item.ref
        and measure.section == item.section
        and _responsible(ctx, principal, measure)
    ):
        return _allow("responsible for this item's measure, with 'own' consent")
    return _deny(why if level is Level.NONE else "not responsible for this item", "not-found")


def check_write_item(
    ctx: PlanContext,
    principal: Principal,
    state: MeetingState,
    item: AgendaItem,
    measure: Measure | None = None,
) -> Decision:
    """The item's minutes: the chair, the minute-taker or the pen holder, while the
    meeting is live or ended, and only with consent to read the item. Approved or
    finalised minutes, and the minutes of a closed plan, are read-only for everyone."""
    readable = check_read_item(ctx, principal, state, item, measure)
    if not readable:
        return readable
    if state.status.value not in ("live", "ended"):
        return _deny(f"the meeting is {state.status.value}: its minutes are read-only", "conflict")
    if ctx.plan.status is not PlanStatus.ACTIVE:
        return _deny("the plan is closed", "conflict")
    actor = meeting_actor(ctx, principal)
    if actor is None or not may_write_item(state, item.id, actor):
        return _deny("only the chair, the minute-taker or the pen holder write the minutes")
    return _allow("writes the minutes of this item")


def check_record_decision(
    ctx: PlanContext, principal: Principal, state: MeetingState, item: AgendaItem
) -> Decision:
    """Decisions are recorded by whoever may write the item's minutes, or the coordinator,
    while the meeting is live or ended."""
    readable = check_read_item(ctx, principal, state, item)
    if not readable:
        return readable
    if state.status.value not in ("live", "ended"):
        return _deny("decisions are recorded during the meeting", "conflict")
    actor = meeting_actor(ctx, principal)
    if actor is not None and (
        actor.role == Role.COORDINATOR.value or may_write_item(state, item.id, actor)
    ):
        return _allow("records decisions in this meeting")
    return _deny("only the chair, the minute-taker, the pen holder or the coordinator decide")


def check_invite_participant(
    ctx: PlanContext, principal: Principal, participant: Participant
) -> Decision:
    """Who may send a sign-in invitation for a participant.

    Whoever signs in through it acts as that participant, so inviting someone who always
    has full access (the owner, a guardian) is the owner's or a guardian's own business.
    The coordinator may invite the owner only while setting the plan up (no one is bound
    to the owner yet), and never a guardian.
    """
    managed = check_manage_plan(ctx, principal)
    if not managed:
        return managed
    who = ctx.actor(principal)
    assert who is not None
    if who.role in ALWAYS_FULL_ACCESS or participant.role not in ALWAYS_FULL_ACCESS:
        return _allow(f"{who.role.value} invites a {participant.role.value}")
    if participant.role is Role.OWNER and participant.person is None:
        return _allow("the coordinator invites the owner to a plan being set up")
    if participant.role is Role.GUARDIAN and participant.person is None and _nobody_signs_yet(ctx):
        # A child's guardians, named when the plan was started, sign its first consent:
        # until someone who may sign has signed in and nothing is signed, the coordinator
        # invites them (bound to their fødselsnummer, like the owner's invitation).
        return _allow("the coordinator invites a guardian to a plan being set up")
    return _deny("only the owner or a guardian invite the owner or a guardian")


def _nobody_signs_yet(ctx: PlanContext) -> bool:
    """Set-up: no consent signed, and nobody who may sign (owner, guardian) signed in."""
    return in_setup(ctx) and not any(
        p.active and p.person is not None and p.role in ALWAYS_FULL_ACCESS
        for p in ctx.plan.participants
    )


def participant_capabilities(
    ctx: PlanContext, principal: Principal, participant: Participant
) -> dict[str, bool]:
    """What the person may do with one participant of the group (the group screen shows
    its controls from this): invite them (a sign-in link), remove them, change their
    details, hand their role over (a coordinator, replaced by the owner or a guardian)."""
    if participant.id not in knows_of(ctx, principal) or not participant.active:
        return {
            "invite": False,
            "remove": False,
            "edit": False,
            "replace": False,
            "ask_to_replace": False,
            "stand_in": False,
        }
    invite = participant.person is None and bool(
        check_invite_participant(ctx, principal, participant)
    )
    remove = check_change_participant(ctx, principal, participant, removing=True, renaming=False)
    edit = check_change_participant(ctx, principal, participant, removing=False, renaming=True)
    replace = bool(check_replace_coordinator(ctx, principal, participant))
    me = ctx.actor(principal)
    mine = me is not None and me.id == participant.id
    return {
        "invite": invite,
        "remove": bool(remove),
        "edit": bool(edit),
        "replace": replace,
        # The coordinator's own row: handing the role over is the owner's to do.
        "ask_to_replace": mine and participant.role is Role.COORDINATOR and not replace,
        # May stand in for the coordinator for a period (the owner's choice).
        "stand_in": bool(check_set_stand_in(ctx, principal, participant)),
    }


def check_replace_coordinator(
    ctx: PlanContext, principal: Principal, participant: Participant
) -> Decision:
    """Handing the coordinator role to someone new (the old coordinator leaves the group in
    the same step): the owner's or a guardian's choice, as adding a coordinator is."""
    if participant.role is not Role.COORDINATOR or not participant.active:
        return _deny(
            "only a coordinator's role is handed over",
            "conflict",
            message="Bare koordinatorrollen kan gis videre på denne måten.",
        )
    managed = check_manage_plan(ctx, principal)
    if not managed:
        return managed
    return check_change_coordinator(ctx, principal)


def roles_one_may_add(ctx: PlanContext, principal: Principal) -> list[str]:
    """The roles of the people this person may add to the group (for the add form)."""
    addable = (Role.SERVICE, Role.RELATIVE, Role.GUARDIAN, Role.COORDINATOR)
    return [r.value for r in addable if check_add_participant(ctx, principal, r)]


# --- decisions routes used to make themselves ---------------------------------------


def check_add_participant(ctx: PlanContext, principal: Principal, role: Role) -> Decision:
    """Adding someone to the group: guardians and coordinators are the owner's choice."""
    managed = check_manage_plan(ctx, principal)
    if not managed:
        return managed
    if role is Role.GUARDIAN:
        return check_change_guardian(ctx, principal)
    if role is Role.COORDINATOR:
        chosen = check_change_coordinator(ctx, principal)
        if chosen and coordinators_of(ctx):
            # Exactly one responsible coordinator: a new one takes over by a hand-over.
            return _deny(
                "the plan has a coordinator; the role is handed over, not doubled",
                "conflict",
                message="Planen har allerede en koordinator. Gi rollen videre i stedet.",
            )
        return chosen
    return managed


def check_change_participant(
    ctx: PlanContext,
    principal: Principal,
    participant: Participant,
    *,
    removing: bool,
    renaming: bool,
    hiding: bool = False,
    showing: bool = False,
) -> Decision:
    """Changing someone's details, whether they are shown to the rest of the group
    (``showing``: the flag is in the change; ``hiding``: it is set), or removing them."""
    managed = check_manage_plan(ctx, principal)
    if not managed:
        return managed
    if participant.role is Role.OWNER and removing:
        return _deny(
            "the owner cannot be removed from their own plan",
            "conflict",
            message="Planeieren kan ikke fjernes fra sin egen plan.",
        )
    if showing:
        if participant.role is Role.OWNER and hiding:
            return _deny(
                "the owner is always shown to the group",
                "conflict",
                message="Planeieren er alltid synlig for gruppen.",
            )
        shown = check_set_hidden(ctx, principal)
        if not shown:
            return shown
    if participant.role is Role.GUARDIAN and removing:
        return check_change_guardian(ctx, principal)
    if participant.role is Role.COORDINATOR and (removing or renaming):
        chosen = check_change_coordinator(ctx, principal)
        if not chosen:
            return chosen
        if removing and [p.id for p in coordinators_of(ctx)] == [participant.id]:
            # The plan is never without a responsible coordinator (the unit sees it).
            return _deny(
                "the last coordinator cannot be removed; the role is handed over",
                "conflict",
                message="Planen må ha en koordinator. Gi rollen videre til en ny i stedet.",
            )
        # Removing or renaming the coordinator replaces who coordinates: the owner's choice.
        return check_change_coordinator(ctx, principal)
    return managed


def check_chair_choice(ctx: PlanContext, principal: Principal, chair: Participant) -> Decision:
    """A new meeting's chair: the owner by default; anyone else is the owner's delegation."""
    if chair.role is Role.OWNER:
        return _allow("the owner chairs their own meetings")
    return check_delegate_chair(ctx, principal)


def in_every_meeting(participant: Participant) -> bool:
    """The owner takes part in every meeting of their plan, invited or not."""
    return participant.role is Role.OWNER


def stays_invited(ctx: PlanContext, participant: Participant | None) -> bool:
    """Does an invitation still stand after a change of consent or of the group? The
    coordinator's does (they run the meeting); anyone else's only while they may be
    invited (:func:`check_invitee`)."""
    if participant is None or not participant.active:
        return False
    return participant.role is Role.COORDINATOR or bool(check_invitee(ctx, participant))


def is_one_to_one(invited: list[Participant]) -> bool:
    """A one-to-one meeting is the owner and the coordinator (the only one invited)."""
    return len(invited) == 1 and invited[0].role is Role.COORDINATOR


def is_guardian(participant: Participant) -> bool:
    return participant.role is Role.GUARDIAN


def invitation_needs_identity(role: Role) -> bool:
    """Whoever signs in as the owner or a guardian sees the whole plan: their sign-in
    invitation is bound to the person's national identity number."""
    return role in ALWAYS_FULL_ACCESS


def default_consent_signer(ctx: PlanContext, principal: Principal) -> str | None:
    """Whose signature a new consent version carries unless told: one's own (the owner,
    a guardian), otherwise the owner's, recorded on paper."""
    who = ctx.actor(principal)
    if who is not None and who.role in ALWAYS_FULL_ACCESS:
        return who.id
    return next((p.id for p in ctx.plan.participants if p.role is Role.OWNER), None)


def _owner_guardian_or_coordinator(ctx: PlanContext, principal: Principal) -> Participant | None:
    who = ctx.actor(principal)
    if who is not None and (who.role in ALWAYS_FULL_ACCESS or who.role is Role.COORDINATOR):
        return who
    return None


def check_reopen_plan(ctx: PlanContext, principal: Principal) -> Decision:
    seen = check_see_plan(ctx, principal)
    if not seen:
        return seen
    if _owner_guardian_or_coordinator(ctx, principal) is None:
        return _deny("only the owner, a guardian or the coordinator reopen a plan")
    return _allow("reopens the plan")


def check_archive_section(ctx: PlanContext, principal: Principal) -> Decision:
    """Archiving hides a part of the owner's plan: the owner's or a guardian's choice."""
    if _is_full(ctx, principal) is None:
        return _deny("only the owner or a guardian archive sections")
    return _writable(ctx, _allow("owner or guardian archives a section"))


def check_change_guardian(ctx: PlanContext, principal: Principal) -> Decision:
    """Adding or removing a guardian: a guardian acts for the owner, not for the services."""
    if _is_full(ctx, principal) is None:
        return _deny("a guardian is added or removed by the owner or a guardian")
    return _writable(ctx, _allow("owner or guardian changes the guardians"))


def check_change_coordinator(ctx: PlanContext, principal: Principal) -> Decision:
    """Adding, replacing or removing a coordinator: the owner's or a guardian's choice."""
    if _is_full(ctx, principal) is None:
        if ctx.actor(principal) is None:
            return _deny("not a participant in this plan", "not-found")
        return _deny(
            "a coordinator is added or replaced by the owner or a guardian",
            message="Bare planeieren eller verge kan legge til eller bytte koordinator.",
        )
    return _writable(ctx, _allow("owner or guardian changes the coordinator"))


def check_delegate_chair(ctx: PlanContext, principal: Principal) -> Decision:
    """Naming someone other than the owner chair of a meeting: the owner or a guardian."""
    if _is_full(ctx, principal) is None:
        if ctx.actor(principal) is None:
            return _deny("not a participant in this plan", "not-found")
        return _deny(
            "the chair is delegated by the owner or a guardian",
            message="Bare planeieren eller verge kan gi ordstyrerrollen til noen andre.",
        )
    return _allow("owner or guardian delegates the chair")


def check_correct_minutes(ctx: PlanContext, principal: Principal) -> Decision:
    if _owner_guardian_or_coordinator(ctx, principal) is None:
        return _deny("corrections are made by the owner, a guardian or the coordinator")
    return _allow("corrects the minutes")


def check_see_everyones_measures(ctx: PlanContext, principal: Principal) -> Decision:
    """Overviews (overdue flags) of every readable measure, not only one's own."""
    if _owner_guardian_or_coordinator(ctx, principal) is None:
        return _deny("services see their own measures in overviews")
    return _allow("follows up the whole plan")


def _grants_something(ctx: PlanContext, participant: Participant) -> bool:
    consent = ctx.consent
    return (
        consent is not None
        and consent.in_force(ctx.now)
        and any(
            g.participant == participant.id and g.level is not Level.NONE for g in consent.grants
        )
    )


def _sees_group(ctx: PlanContext, who: Participant) -> bool:
    """Today's rule for the whole group: the owner, a guardian, the coordinator, or anyone
    with ``read`` on the coordination section."""
    if who.role in ALWAYS_FULL_ACCESS or who.role is Role.COORDINATOR:
        return True
    consent = ctx.consent
    if consent is None or not consent.in_force(ctx.now):
        return False
    return any(
        section.key == "koordinering"
        and consent.level(who.id, section.id, ctx.now).rank >= Level.READ.rank
        for section in ctx.sections.values()
    )


def known_participants(ctx: PlanContext, viewer: Participant | None) -> dict[str, bool]:
    """THE rule for who sees whom: the participants ``viewer`` may know of, each with
    whether their contact details may be shown.

    - Nobody outside the group (or removed from it) knows of anyone.
    - The owner and a guardian know of everyone in the group.
    - Everyone else knows of themselves; with the coordination section (or as the
      coordinator) of the whole group, otherwise of the owner and the coordinator (whom
      they work with) only; never of a participant the owner marked "not shown to the
      rest of the group" (``Participant.hidden``), other than themselves.
    Every surface (lists, meeting attendees and presence, minutes, invitations and
    e-mails, measure "responsible", awareness names, access-log rows, error messages)
    asks this function or one built on it.
    """
    if viewer is None or not viewer.active:
        return {}
    # A guardian whose full access has ended, with nothing granted, is like a removed
    # one; with something granted, they act as a relative (PlanContext.as_now).
    active = [q for p in ctx.plan.participants if p.active and (q := ctx.as_now(p)) is not None]
    if viewer.role in ALWAYS_FULL_ACCESS:
        return {p.id: True for p in active}
    whole = _sees_group(ctx, viewer)
    out: dict[str, bool] = {}
    for p in active:
        if p.id == viewer.id:
            out[p.id] = whole or p.role is Role.COORDINATOR
        elif p.hidden:
            continue
        elif whole:
            out[p.id] = True
        elif p.role in (Role.OWNER, Role.COORDINATOR):
            out[p.id] = p.role is Role.COORDINATOR
    return out


def knows_of(ctx: PlanContext, principal: Principal) -> dict[str, bool]:
    """:func:`known_participants` for a signed-in person."""
    return known_participants(ctx, ctx.actor(principal))


def name_for(ctx: PlanContext, principal: Principal, participant: str | None) -> str | None:
    """The name of ``participant`` as this person may see it, or None if they may not
    know of them (callers show a neutral word such as "en annen tjeneste")."""
    if participant is None or participant not in knows_of(ctx, principal):
        return None
    who = ctx.plan.participant(participant)
    return who.name if who is not None else None


def visible_participants(ctx: PlanContext, principal: Principal) -> list[tuple[Participant, bool]]:
    """The people one may see, each with whether their contact details may be shown
    (:func:`known_participants` decides)."""
    known = knows_of(ctx, principal)
    return [(p, known[p.id]) for p in ctx.plan.participants if p.id in known]


def participant_facts(ctx: PlanContext, participant: Participant) -> dict[str, bool]:
    """What a screen needs to know about a participant, decided here so the web client
    compares no roles (``participant_json`` sends them with every participant):

    - ``full_access``: their access is never a matter of consent (the owner, a guardian
      without an end date): no grants, no version narrows them, the consent grid leaves
      them out;
    - ``signs_consent``: may sign consent now, in their own name (the owner, a guardian
      whose full access has not ended);
    - ``in_every_meeting``: takes part in every meeting (the owner), so is never invited;
    - ``contact_person``: whom the owner contacts about the plan (the coordinator).
    """
    now = ctx.as_now(participant) if participant.active else None
    return {
        "full_access": needs_no_consent(participant),
        "signs_consent": now is not None and now.role in ALWAYS_FULL_ACCESS,
        "in_every_meeting": in_every_meeting(participant),
        "contact_person": participant.role is Role.COORDINATOR,
    }


def consent_as_seen(
    ctx: PlanContext, principal: Principal, version: ConsentVersion
) -> ConsentVersion | None:
    """A consent version as this person may receive it (every consent payload, HTTP or
    Socket.IO, goes through here): the owner and a guardian all of it; the coordinator the
    rows of the participants they may know of (:func:`known_participants`: never a
    participant the owner hid from the group) in the sections they may see (never a
    section kept from them, not even its id); anyone else their own rows. A signer or
    recorder they may not know of is blanked (``""``). None: not a participant."""
    who = ctx.actor(principal)
    if who is None:
        return None
    if who.role in ALWAYS_FULL_ACCESS:
        return version
    known = known_participants(ctx, who)
    if check_read_consent(ctx, principal):
        sections = grantable_sections(ctx, principal)
        grants = tuple(
            g for g in version.grants if g.participant in known and g.section in sections
        )
    else:
        grants = tuple(g for g in version.grants if g.participant == who.id)
    return replace(
        version,
        grants=grants,
        signed_by=version.signed_by if version.signed_by in known else "",
        recorded_by=version.recorded_by if version.recorded_by in known else "",
    )


def grantable_participants(ctx: PlanContext, principal: Principal) -> dict[str, Participant]:
    """The participants whose rows this person may set in a new consent version: the owner
    and a guardian everyone's, anyone else (the coordinator recording a paper signature)
    only those they may know of. A row naming anyone else is refused exactly like a row
    naming nobody (the refusal does not reveal that they exist)."""
    who = ctx.actor(principal)
    if who is None:
        return {}
    if who.role in ALWAYS_FULL_ACCESS:
        return {p.id: p for p in ctx.plan.participants}
    known = known_participants(ctx, who)
    return {p.id: p for p in ctx.plan.participants if p.id in known}


def grantable_sections(ctx: PlanContext, principal: Principal) -> set[str]:
    """The sections whose rows this person may set in a new consent version: the owner and
    a guardian every section, anyone else those they may see (:func:`check_see_section`).
    A row naming another section is refused like a row naming no section."""
    if _is_full(ctx, principal) is not None:
        return set(ctx.sections)
    return {s for s in ctx.sections if check_see_section(ctx, principal, s)}


def carry_unseen_grants(
    ctx: PlanContext, principal: Principal, grants: tuple[Grant, ...]
) -> tuple[Grant, ...]:
    """The grants of a new version recorded by someone who cannot see every row (the
    coordinator, when the owner has hidden someone from the group or kept a section from
    her): the rows of active participants they may not know of, and the rows of sections
    they may not see, are carried over unchanged from the newest version, so recording a
    version never silently narrows (or widens) a row the recorder cannot see. The owner
    and a guardian see every row: their grants are the whole version."""
    if ctx.consent is None or _is_full(ctx, principal) is not None:
        return grants
    people = grantable_participants(ctx, principal)
    sections = grantable_sections(ctx, principal)
    active = {p.id for p in ctx.plan.participants if p.active}
    carried = tuple(
        g
        for g in ctx.consent.grants
        if g.participant in active and (g.participant not in people or g.section not in sections)
    )
    return tuple(sorted(grants + carried, key=lambda g: (g.participant, g.section)))


def named_in_records(ctx: PlanContext, principal: Principal, participant: Participant) -> bool:
    """May this reader see ``participant``'s name in records of what happened (the access
    log)? One they may know of now; a reader who sees the whole group also one removed
    since — never one the owner hid from the group (``hidden``), removed or not. The owner
    and a guardian: everyone who was ever in the group."""
    if _is_full(ctx, principal) is not None or participant.id in knows_of(ctx, principal):
        return True
    if participant.active or participant.hidden:
        return False
    return bool(check_see_participants(ctx, principal))


def check_set_hidden(ctx: PlanContext, principal: Principal) -> Decision:
    """Marking a participant "not shown to the rest of the group" is the owner's (or a
    guardian's) choice about the owner's own group."""
    if _is_full(ctx, principal) is None:
        if ctx.actor(principal) is None:
            return _deny("not a participant in this plan", "not-found")
        return _deny("only the owner or a guardian decide who is shown to the group")
    return _writable(ctx, _allow("owner or guardian decides who is shown"))


def hidden_from_each_other(
    ctx: PlanContext, invited: set[str], already: frozenset[str] = frozenset()
) -> bool:
    """Would this meeting put someone the owner keeps from the rest of the group
    (``hidden``) together with another participant who may not know of them? (Services
    without the coordination section not knowing of each other is ordinary: they meet,
    and each meeting surface shows each of them only whom they may know of.)"""
    people = [p for p in ctx.plan.participants if p.id in invited and p.active]
    for viewer in people:
        known = known_participants(ctx, viewer)
        if any(
            other.hidden
            and other.id not in known
            and not (viewer.id in already and other.id in already)  # met before: confirmed
            for other in people
        ):
            return True
    return False


def check_meet_together(
    ctx: PlanContext,
    principal: Principal,
    invited: set[str],
    confirmed: bool,
    already: frozenset[str] = frozenset(),
) -> Decision:
    """Inviting people hidden from each other to one meeting needs the owner's explicit
    yes (``confirmed``, which only the owner or a guardian may give). ``already``: those
    the meeting invited before (their meeting each other was allowed then). The refusal
    names nobody."""
    if not hidden_from_each_other(ctx, invited, already):
        return _allow("everyone invited may know of each other")
    if not confirmed:
        return _deny(
            "some of the invited may not know of each other; the owner must confirm", "conflict"
        )
    who = _is_full(ctx, principal)
    if who is None:
        return _deny("only the owner or a guardian confirm who meets whom")
    return _allow(f"the {who.role.value} confirms the meeting")


def check_see_log_row(
    ctx: PlanContext, principal: Principal, person: str | None, target: str, detail: str
) -> Decision:
    """An access-log row shown to someone who is not the owner or a guardian (the
    coordinator): not when it is about, or by, a participant they may not know of."""
    if _is_full(ctx, principal) is not None:
        return _allow("the owner or a guardian sees every row")
    known = knows_of(ctx, principal)
    for p in ctx.plan.participants:
        if p.id in known:
            continue
        if (person is not None and p.person == person) or target == f"participant:{p.id}":
            return _deny("about someone not shown to this reader", "not-found")
        if (p.name and p.name in detail) or p.id in detail:
            return _deny("names someone not shown to this reader", "not-found")
    return _allow("about people the reader may know of")


# --- guardians until a date and the access log's grounds ------------------------------


def sees_every_log_detail(ctx: PlanContext, principal: Principal) -> bool:
    """The owner and a guardian read every access-log row whole. Anyone else (the
    coordinator) reads a consent row without its counts of narrowed or widened grants:
    they may count rows they cannot see (a participant the owner hid)."""
    return _is_full(ctx, principal) is not None


def check_answer_guardian(ctx: PlanContext, principal: Principal) -> Decision:
    """What a guardian keeps after their full access ends is the owner's own answer."""
    who = ctx.actor(principal)
    if who is None:
        return _deny("not a participant in this plan", "not-found")
    if who.role is not Role.OWNER:
        return _deny("only the owner decides what a guardian keeps")
    return _writable(ctx, _allow("the owner decides what a guardian keeps"))


def check_set_owner_born(ctx: PlanContext, principal: Principal) -> Decision:
    """The owner's birth date (and with it a guardian's default end): owner or guardian."""
    if _is_full(ctx, principal) is None:
        if ctx.actor(principal) is None:
            return _deny("not a participant in this plan", "not-found")
        return _deny("only the owner or a guardian record the owner's birth date")
    return _writable(ctx, _allow("owner or guardian records the birth date"))


def guardian_notices(ctx: PlanContext, principal: Principal) -> list[GuardianNotice]:
    """The questions the owner (only the owner) is asked about guardians' end dates."""
    who = ctx.actor(principal)
    if who is None or who.role is not Role.OWNER:
        return []
    return notices(ctx.plan.participants, ctx.now)


def access_grounds(ctx: PlanContext, principal: Principal, section: str | None = None) -> str:
    """Why the person has access now, short and stable for the access log:
    ``owner``, ``guardian`` (``guardian:<until>`` with an end date), ``consent:<v>`` or
    ``consent:<v>:<level>`` for a section; empty when nothing grants access."""
    who = ctx.actor(principal)
    if who is None:
        return ""
    if who.role in ALWAYS_FULL_ACCESS:
        if who.access_until is not None:
            return f"{who.role.value}:{who.access_until.isoformat()}"
        return who.role.value
    consent = ctx.consent
    if consent is None or not consent.in_force(ctx.now):
        return ""
    if section is None or section not in ctx.sections:
        return f"consent:{consent.version}"
    level = consent.level(who.id, section, ctx.now)
    return f"consent:{consent.version}:{level.value}"


# --- capabilities as data ------------------------------------------------------------
#
# What the caller may do, sent with the plan and the meeting state so that clients show
# controls from it and compare no roles themselves. Each entry is one check above.


def check_personal_overview(ctx: PlanContext, principal: Principal) -> Decision:
    """The home screen's personal card (recent changes, one's coordinator): for the owner,
    a guardian and a relative, the people the plan is about; services follow their work."""
    who = ctx.actor(principal)
    if who is not None and who.role in (Role.OWNER, Role.GUARDIAN, Role.RELATIVE):
        return _allow(f"{who.role.value} follows the plan personally")
    return _deny("services and the coordinator follow their work, not the person")


def check_decide_without_pen(ctx: PlanContext, principal: Principal) -> Decision:
    """The coordinator records decisions on any item they may read, pen or not."""
    who = ctx.actor(principal)
    if who is not None and who.role is Role.COORDINATOR:
        return _allow("the coordinator records decisions")
    return _deny("decisions are recorded by whoever writes the item's minutes")


def _record_on_paper(ctx: PlanContext, principal: Principal) -> Decision:
    """Records, with the signed form, a signature of someone other than oneself."""
    who = ctx.actor(principal)
    for other in ctx.plan.participants:
        if who is not None and other.id == who.id:
            continue
        decided = check_sign_consent(ctx, principal, other.id, with_form=True)
        if decided:
            return decided
    return _deny("records no paper signatures")


def _invite_anyone(ctx: PlanContext, principal: Principal) -> Decision:
    for other in ctx.plan.participants:
        if other.active:
            decided = check_invite_participant(ctx, principal, other)
            if decided:
                return decided
    return _deny("invites nobody")


def plan_capability_checks(
    ctx: PlanContext, principal: Principal
) -> dict[str, Callable[[], Decision]]:
    """Each plan capability with the check that decides it (for the tests)."""
    me = ctx.actor(principal)
    me_id = me.id if me is not None else ""
    version = ctx.consent.version if ctx.consent is not None else 0
    return {
        "manage_plan": lambda: check_manage_plan(ctx, principal),
        "see_participants": lambda: check_see_participants(ctx, principal),
        "read_consent": lambda: check_read_consent(ctx, principal),
        "sign_consent": lambda: check_sign_consent(ctx, principal, me_id),
        "record_consent_on_paper": lambda: _record_on_paper(ctx, principal),
        "undo_consent": lambda: (
            check_undo_consent(ctx, principal, version)
            if ctx.consent is not None
            else _deny("no consent to undo")
        ),
        "withdraw_consent": lambda: check_withdraw_consent(ctx, principal),
        "read_access_log": lambda: check_read_access_log(ctx, principal),
        "invite": lambda: _invite_anyone(ctx, principal),
        "change_guardian": lambda: check_change_guardian(ctx, principal),
        "change_coordinator": lambda: check_change_coordinator(ctx, principal),
        "archive_section": lambda: check_archive_section(ctx, principal),
        "reopen_plan": lambda: check_reopen_plan(ctx, principal),
        "schedule_meeting": lambda: check_schedule_meeting(ctx, principal),
        "delegate_chair": lambda: check_delegate_chair(ctx, principal),
        "correct_minutes": lambda: check_correct_minutes(ctx, principal),
        "see_everyones_measures": lambda: check_see_everyones_measures(ctx, principal),
        "answer_guardian": lambda: check_answer_guardian(ctx, principal),
        "set_owner_born": lambda: check_set_owner_born(ctx, principal),
        "personal_overview": lambda: check_personal_overview(ctx, principal),
    }


def plan_capabilities(ctx: PlanContext, principal: Principal) -> dict[str, bool]:
    """What the person may do with the plan, as ``{capability: bool}``."""
    return {name: bool(check()) for name, check in plan_capability_checks(ctx, principal).items()}


def _meeting_command(
    ctx: PlanContext, principal: Principal, state: MeetingState, kind: type[MeetingCommand]
) -> Decision:
    """May the person issue a command of this kind now (the meeting's own rule table)?"""
    actor = meeting_actor(ctx, principal)
    if actor is None:
        return _deny("not a participant in this plan", "not-found")
    rule = MEETING_RULES.get((state.status, kind))
    if rule is None:
        return _deny(f"not possible while the meeting is {state.status.value}", "conflict")
    probe = _PROBES[kind]
    if not rule.who(state, actor, probe):
        return _deny(f"{actor.role} may not {kind.__name__} this meeting")
    return _allow(f"{kind.__name__} allowed")


_PROBES: Mapping[type[MeetingCommand], MeetingCommand] = {
    StartMeeting: StartMeeting(),
    GotoItem: GotoItem(""),
    GivePen: GivePen("", None),
    EndMeeting: EndMeeting(),
    CancelMeeting: CancelMeeting(),
    ApproveMinutes: ApproveMinutes(),
    FinalizeMinutes: FinalizeMinutes(),
    MoveItem: MoveItem("", 0),
}


def meeting_capability_checks(
    ctx: PlanContext, principal: Principal, state: MeetingState
) -> dict[str, Callable[[], Decision]]:
    """Each meeting capability with the check that decides it (for the tests)."""

    def chair() -> Decision:
        actor = meeting_actor(ctx, principal)
        if actor is not None and is_chair(state, actor):
            return _allow("chairs the meeting")
        return _deny("not the chair")

    return {
        "chair": chair,
        "start": lambda: _meeting_command(ctx, principal, state, StartMeeting),
        "goto": lambda: _meeting_command(ctx, principal, state, GotoItem),
        "pen": lambda: _meeting_command(ctx, principal, state, GivePen),
        "end": lambda: _meeting_command(ctx, principal, state, EndMeeting),
        "cancel": lambda: _meeting_command(ctx, principal, state, CancelMeeting),
        "approve": lambda: _meeting_command(ctx, principal, state, ApproveMinutes),
        "finalise": lambda: _meeting_command(ctx, principal, state, FinalizeMinutes),
        "move_items": lambda: _meeting_command(ctx, principal, state, MoveItem),
        "delegate_chair": lambda: check_delegate_chair(ctx, principal),
        "correct_minutes": lambda: check_correct_minutes(ctx, principal),
        "decide_without_pen": lambda: check_decide_without_pen(ctx, principal),
    }


def meeting_capabilities(
    ctx: PlanContext, principal: Principal, state: MeetingState
) -> dict[str, bool]:
    """What the person may do in this meeting now, as ``{capability: bool}``."""
    checks = meeting_capability_checks(ctx, principal, state)
    return {name: bool(check()) for name, check in checks.items()}


def check_follow_up_measures(ctx: PlanContext, principal: Principal) -> Decision:
    """Reminded of every overdue measure and of the plan's evaluation (the coordinator's
    job); everyone else is reminded of their own measures only."""
    who = ctx.actor(principal)
    if who is not None and who.role is Role.COORDINATOR:
        return _allow("coordinates the plan")
    return _deny("reminded of their own measures only")


def coordinators_of(ctx: PlanContext) -> list[Participant]:
    """The plan's active coordinators (the coordinating unit's caseload counts them)."""
    return [p for p in ctx.plan.participants if p.active and p.role is Role.COORDINATOR]


def check_unit_overview(is_unit_member: bool) -> Decision:
    """The coordinating unit sees every plan's status (dates, counts, its coordinator),
    never a plan's title, text, measures or any other participant."""
    if is_unit_member:
        return _allow("member of the coordinating unit")
    return _deny("only the coordinating unit sees every plan's status")


def check_answer_survey(ctx: PlanContext, principal: Principal) -> Decision:
    """The owner's verdict on the plan: the owner, or a guardian on the owner's behalf."""
    who = ctx.actor(principal)
    if who is not None and who.role in ALWAYS_FULL_ACCESS:
        return _allow(f"{who.role.value} says how the plan works for them")
    if who is not None and who.role is Role.RELATIVE and ctx.plan.survey_relatives:
        return _allow("a relative answers too, as the owner chose")
    return _deny("the survey is the owner's (or a guardian's) to answer")


def check_set_survey_relatives(ctx: PlanContext, principal: Principal) -> Decision:
    """Whether relatives may answer the survey: the owner's (or a guardian's) choice."""
    who = ctx.actor(principal)
    if who is not None and who.role in ALWAYS_FULL_ACCESS:
        return _allow(f"{who.role.value} decides who answers")
    return _deny("the owner decides whether relatives answer")


def check_unit_appoint(is_unit_member: bool, ctx: PlanContext) -> Decision:
    """The coordinating unit appoints a plan's coordinator (recording the owner's wish);
    it learns nothing of the plan by doing so."""
    if not is_unit_member:
        return _deny("only the coordinating unit appoints coordinators")
    if ctx.plan.status is not PlanStatus.ACTIVE:
        return _deny("the plan is closed", "conflict", message="Planen er avsluttet.")
    return _allow("the coordinating unit appoints the coordinator")


def check_read_shared_survey(ctx: PlanContext, principal: Principal) -> Decision:
    """Answers the owner chose to share: the coordinator reads them; the owner and
    guardians read every answer of their plan."""
    who = ctx.actor(principal)
    if who is not None and (who.role in ALWAYS_FULL_ACCESS or who.role is Role.COORDINATOR):
        return _allow(f"{who.role.value} reads the owner's shared answers")
    return _deny("only the coordinator reads answers the owner shared")


def check_set_stand_in(
    ctx: PlanContext, principal: Principal, deputy: Participant | None
) -> Decision:
    """A deputy for the coordinator: the owner's (or a guardian's) choice, as choosing the
    coordinator is; the deputy is someone already in the group, neither the owner, a
    guardian nor the coordinator."""
    chosen = check_change_coordinator(ctx, principal)
    if not chosen:
        return chosen
    if deputy is None or not deputy.active or deputy.id not in knows_of(ctx, principal):
        return _deny("no such participant", "not-found")
    if deputy.role in ALWAYS_FULL_ACCESS or deputy.role is Role.COORDINATOR:
        return _deny(
            "the deputy is another member of the group",
            "conflict",
            message="Stedfortrederen må være en annen i gruppen enn planeieren, "
            "en verge eller koordinatoren selv.",
        )
    if not coordinators_of(ctx):
        return _deny(
            "there is no coordinator to stand in for",
            "conflict",
            message="Planen har ingen koordinator å være stedfortreder for.",
        )
    return _allow("the owner chooses a deputy for the coordinator")


def check_write_handover(ctx: PlanContext, principal: Principal) -> Decision:
    """The outgoing coordinator's handover note (not a deputy's)."""
    who = ctx.plan.participant_for_person(principal.person)
    if who is not None and who.active and who.role is Role.COORDINATOR:
        return _allow("the coordinator writes the handover note")
    return _deny("only the coordinator writes a handover note")


def check_read_handover(ctx: PlanContext, principal: Principal, to: str | None) -> Decision:
    """The handover note: the coordinator who wrote it or takes over, the owner and
    guardians."""
    who = ctx.actor(principal)
    if who is None:
        return _deny("not a participant in this plan", "not-found")
    if who.role in ALWAYS_FULL_ACCESS or who.id == to:
        return _allow(f"{who.role.value} reads the handover")
    if ctx.plan.participant_for_person(principal.person) in coordinators_of(ctx):
        return _allow("the coordinator reads their own handover note")
    return _deny("the handover is between the coordinators and the owner")
