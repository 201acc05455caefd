"""The determination: a pure function of (situation, day, profile) and its result types.

``determine(situation, on, profile)`` answers "on day D, what is this person's registration
category, which deferrals and reservations apply, may they be called up, and why", and when that
answer next changes by itself: a birthday crossing an age limit, a deferral's end, a child turning
18, a review date, or a change of law that matters to this person. It reads no clock and does no
I/O: the same inputs always give the same determination.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from oberih.rules.engine import Evaluation, rule_book
from oberih.rules.law import Outcome, evaluate
from oberih.rules.profile import OutsideHorizon, Profile, default_profile
from oberih.rules.results import (
    Category,
    DeferralResult,
    DeferralStatus,
    Determination,
    Duty,
    Reason,
    RemovalReason,
    ReservationResult,
    RuleStep,
)
from oberih.rules.situation import Situation

__all__ = [
    "Category",
    "DeferralResult",
    "DeferralStatus",
    "Determination",
    "Duty",
    "Reason",
    "RemovalReason",
    "ReservationResult",
    "RuleStep",
    "determine",
]


def determine(situation: Situation, on: dt.date, profile: Profile | None = None) -> Determination:
    """Determine a person's status on ``on`` under ``profile`` (the default: Ukraine)."""
    profile = profile or default_profile()
    if on < profile.horizon:
        raise OutsideHorizon(on, profile.horizon)
    evaluation = Evaluation(rule_book(profile), on)
    outcome = evaluate(situation, evaluation)
    return Determination(
        person_id=situation.person_id,
        on=on,
        profile=profile.key,
        category=outcome.category,
        removal_reason=outcome.removal_reason,
        recorded_category=outcome.recorded_category,
        mobilisable=outcome.mobilisable,
        not_mobilisable_because=outcome.reasons,
        restrictions=outcome.restrictions,
        deferrals=outcome.deferrals,
        reservations=outcome.reservations,
        duties=outcome.duties,
        document_valid_until=outcome.document_valid_until,
        next_change=_next_change(situation, evaluation, outcome),
        explanation=tuple(evaluation.steps),
    )


def _core(outcome: Outcome) -> tuple[Any, ...]:
    return (
        outcome.category,
        outcome.removal_reason,
        outcome.mobilisable,
        outcome.reasons,
        outcome.restrictions,
        tuple(d.key() for d in outcome.deferrals),
        tuple(r.key() for r in outcome.reservations),
        tuple(d.key() for d in outcome.duties),
    )


def _next_change(situation: Situation, evaluation: Evaluation, outcome: Outcome) -> dt.date | None:
    """The first day after ``on`` on which the answer changes with no new facts.

    Days found while evaluating (birthdays at limits, ends of deferrals, review dates, future
    periods) change the answer by construction. A change of a parameter the evaluation consulted
    may or may not matter to this person, so it is checked by evaluating on that day.
    """
    on = evaluation.on
    certain = min(evaluation.candidates, default=None)
    if on >= evaluation.book.last_change:
        return certain
    parameters = evaluation.book.profile.parameters
    law_changes = sorted(
        {
            day
            for name in evaluation.consulted
            if (day := parameters[name].next_start_after(on)) is not None
            and (certain is None or day < certain)
        }
    )
    if law_changes:
        core = _core(outcome)
        for day in law_changes:
            later = evaluate(situation, Evaluation(evaluation.book, day))
            if _core(later) != core:
                return day
    return certain
