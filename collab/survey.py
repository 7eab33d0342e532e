"""The owner's verdict: a short usefulness survey after each meeting (after the one in
the Agderforskning report's appendix, in plain words): is the plan useful, do I decide,
do I know who does what, were my goals followed up. Pure: the questions, the answers a
person may give, and aggregates that say nothing about groups of fewer than five."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

__all__ = ["ANSWERS", "MIN_GROUP", "QUESTIONS", "SurveyError", "aggregate", "checked"]

QUESTIONS = ("useful", "decide", "who_does_what", "goals_followed")
ANSWERS = ("yes", "partly", "no", "unsure")
# An aggregate of fewer answers than this is not shown: it could point at one person.
MIN_GROUP = 5


class SurveyError(ValueError):
    """Answers that are not the survey's (the message names the question)."""

    def __init__(self, question: str, message: str) -> None:
        super().__init__(message)
        self.question = question


def checked(answers: Mapping[str, object]) -> dict[str, str]:
    """The answers as stored: every question answered with one of ``ANSWERS``."""
    unknown = set(answers) - set(QUESTIONS)
    if unknown:
        raise SurveyError(sorted(unknown)[0], "not a question of the survey")
    out = {}
    for question in QUESTIONS:
        value = answers.get(question)
        if value not in ANSWERS:
            raise SurveyError(question, "every question needs an answer")
        out[question] = str(value)
    return out


def aggregate(rows: Iterable[Mapping[str, str]]) -> dict[str, object]:
    """Counts per question and answer, or ``hidden`` when there are fewer than
    ``MIN_GROUP`` answers in all."""
    rows = list(rows)
    if len(rows) < MIN_GROUP:
        return {"answers": len(rows), "hidden": True, "questions": None}
    counts = {q: Counter(r[q] for r in rows) for q in QUESTIONS}
    return {
        "answers": len(rows),
        "hidden": False,
        "questions": {q: {a: counts[q].get(a, 0) for a in ANSWERS} for q in QUESTIONS},
    }
