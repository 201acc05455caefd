"""Default-logic evaluation with an explanation trace (Catala's base rule plus exceptions).

A legal conclusion is a ``Default``: a base rule gives a value, and each exception that applies
overrides the value it finds, recording which rule it overrides. The trace is the list of rules
that fired, in order, each with its citation, the parameter values and the facts it used, so the
explanation reads like the law: "Base rule: not on registration. Exception: a male citizen is
registered as a conscript from the year he turns 17. Exception to that: at 25 a conscript
becomes liable..."

``RuleBook`` is a profile prepared for evaluation: its rules' citations, its grounds with their
predicate functions, and a record of which parameters an evaluation consulted (so that the next
change of law that matters to this person can be found).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Generic, TypeVar

from oberih.rules.predicates import PREDICATES, READS, Predicate
from oberih.rules.profile import (
    Citation,
    DatedValue,
    Ground,
    NotInForce,
    Profile,
    ProfileError,
)
from oberih.rules.results import RuleStep
from oberih.rules.situation import FactRef

T = TypeVar("T")

# Every rule the register's rules use; a profile must give each a citation and wording.
REQUIRED_RULES = (
    "category.base",
    "category.conscript_registration_age",
    "category.recorded",
    "category.conscript_age_limit",
    "category.removed_recorded",
    "category.removed_age",
    "category.removed_health",
    "category.removed_citizenship",
    "category.removed_death",
    "mobilisation.base",
    "mobilisation.liable_called_up",
    "mobilisation.sex",
    "mobilisation.age_below",
    "mobilisation.age_above",
    "mobilisation.fitness",
    "mobilisation.fitness_restriction",
    "mobilisation.in_service",
    "mobilisation.deferral",
    "mobilisation.reservation",
    "deferral.granted",
    "deferral.established",
    "reservation.active",
    "reservation.ended_with_employment",
    "duty.register_as_conscript",
    "document.validity",
)
REQUIRED_PARAMETERS = (
    "age.leap_day_birthday",
    "registration.conscript_age",
    "registration.conscript_window",
    "registration.sexes",
    "conscript.age_limit",
    "mobilisation.in_effect",
    "mobilisation.sexes",
    "mobilisation.age_range",
    "reserve.age_limits",
    "fitness.categories",
    "reservation.rules",
    "e_document.max_validity_months",
    "deferral.automatic_max_months",
    "deferral.automatic_extend_days_before",
)


@dataclass(frozen=True, slots=True, eq=False)
class CompiledGround:
    ground: Ground
    check: Predicate
    reads: str  # the situation field the predicate reads


class RuleBook:
    """A profile ready for evaluation (built once per profile, shared by every evaluation)."""

    __slots__ = ("_days", "citations", "grounds", "last_change", "profile")

    def __init__(self, profile: Profile) -> None:
        problems = profile_problems(profile)
        if problems:
            raise ProfileError("; ".join(problems))
        self.profile = profile
        self.citations = {rule: text.citation for rule, text in profile.rules.items()}
        self.grounds = tuple(
            CompiledGround(ground, PREDICATES[ground.predicate], READS[ground.predicate])
            for ground in profile.grounds
        )
        self._days: dict[dt.date, dict[str, DatedValue | None]] = {}
        # After the last change of any parameter, no change of law lies ahead to look for.
        self.last_change = max(
            parameter.change_days[-1] for parameter in profile.parameters.values()
        )

    def values_on(self, on: dt.date) -> dict[str, DatedValue | None]:
        """Every parameter's value on a day, looked up once per day (recompute evaluates a
        whole population on one day)."""
        values = self._days.get(on)
        if values is None:
            if len(self._days) > 64:
                self._days.clear()
            parameters = self.profile.parameters
            values = {name: parameter.at(on) for name, parameter in parameters.items()}
            self._days[on] = values
        return values

    def step(
        self,
        rule: str,
        outcome: dict[str, Any],
        *,
        parameters: tuple[DatedValue, ...] = (),
        facts: Iterable[FactRef | None] = (),
        overrides: str | None = None,
        citation: Citation | None = None,
    ) -> RuleStep:
        """A step of the trace; its citation is the rule's own unless a more precise one (the
        ground's paragraph) is given."""
        if citation is None:
            citation = self.citations[rule]
        used: tuple[FactRef, ...] = (
            facts  # the common case: a tuple without gaps
            if isinstance(facts, tuple) and None not in facts
            else tuple(fact for fact in facts if fact is not None)
        )
        return RuleStep(rule, outcome, citation, parameters, used, overrides)


@lru_cache(maxsize=16)
def rule_book(profile: Profile) -> RuleBook:
    return RuleBook(profile)


def profile_problems(profile: Profile) -> list[str]:
    """What the engine needs of a profile and does not find there."""
    problems = [f"missing rule {rule!r}" for rule in REQUIRED_RULES if rule not in profile.rules]
    problems += [
        f"missing parameter {name!r}"
        for name in REQUIRED_PARAMETERS
        if name not in profile.parameters
    ]
    problems += [
        f"ground {ground.code!r} names unknown predicate {ground.predicate!r}"
        for ground in profile.grounds
        if ground.predicate not in PREDICATES
    ]
    return problems


class Evaluation:
    """The working state of one evaluation: the trace, the parameters consulted, and the days on
    which the answer will change as the facts stand."""

    __slots__ = ("book", "candidates", "consulted", "on", "steps", "values")

    def __init__(self, book: RuleBook, on: dt.date) -> None:
        self.book = book
        self.on = on
        self.values = book.values_on(on)
        self.steps: list[RuleStep] = []
        self.consulted: set[str] = set()
        self.candidates: list[dt.date] = []

    def value(self, name: str) -> DatedValue:
        """A parameter's value on the day, remembered as consulted."""
        self.consulted.add(name)
        found = self.values[name]
        if found is None:
            raise NotInForce(name, self.on)
        return found

    def changes_on(self, day: dt.date | None) -> None:
        """The answer will change on ``day`` (ignored unless after the day evaluated)."""
        if day is not None and day > self.on:
            self.candidates.append(day)


class Default(Generic[T]):
    """A base rule and its exceptions; the last exception that applies wins."""

    __slots__ = ("evaluation", "value", "winner")

    def __init__(
        self,
        evaluation: Evaluation,
        rule: str,
        value: T,
        outcome: dict[str, Any] | None = None,
        **evidence: Any,
    ) -> None:
        self.evaluation = evaluation
        self.value = value
        self.winner = rule
        evaluation.steps.append(evaluation.book.step(rule, outcome or {}, **evidence))

    def exception(
        self, rule: str, value: T, outcome: dict[str, Any] | None = None, **evidence: Any
    ) -> None:
        step = self.evaluation.book.step(rule, outcome or {}, overrides=self.winner, **evidence)
        self.evaluation.steps.append(step)
        self.value = value
        self.winner = rule
