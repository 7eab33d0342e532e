"""The SQL of the usefulness survey's answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import MeetingRow, PlanRow, SurveyAnswer

__all__ = ["add", "all_answers", "final_meetings", "of_plan"]


async def final_meetings(session: AsyncSession, plan_id: str) -> list[MeetingRow]:
    rows = await session.scalars(
        select(MeetingRow)
        .where(MeetingRow.plan_id == plan_id, MeetingRow.status == "final")
        .order_by(MeetingRow.starts_at.desc())
    )
    return list(rows)


async def of_plan(session: AsyncSession, plan_id: str) -> list[SurveyAnswer]:
    rows = await session.scalars(
        select(SurveyAnswer)
        .where(SurveyAnswer.plan_id == plan_id)
        .order_by(SurveyAnswer.created_at.desc())
    )
    return list(rows)


async def all_answers(session: AsyncSession) -> list[dict[str, str]]:
    return [dict(a) for a in await session.scalars(select(SurveyAnswer.answers))]


async def add(
    session: AsyncSession,
    *,
    plan: str,
    person: str,
    occasion: str,
    answers: dict[str, str],
    shared: bool,
    now: datetime,
) -> bool:
    """Store one answer; False when this person has answered for this occasion."""
    try:
        async with session.begin_nested():
            session.add(
                SurveyAnswer(
                    plan_id=plan,
                    person_id=person,
                    occasion=occasion,
                    answers=answers,
                    shared=shared,
                    created_at=now,
                )
            )
    except IntegrityError:
        return False
    return True


async def set_relatives(session: AsyncSession, plan_id: str, relatives: bool) -> None:
    row = await session.get(PlanRow, plan_id)
    if row is not None:
        row.survey_relatives = relatives
