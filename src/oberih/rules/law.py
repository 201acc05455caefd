"""The register's rules: category, deferrals, reservations, call-up, duties, document validity.

Each rule is a small pure function over (situation, day, profile parameters); the law's figures
and citations all come from the profile. The legal source of each rule is the profile's entry for
its rule id (``rules:`` in the YAML), shown in every explanation step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from oberih.rules.ages import ONE_DAY, add_months, age_on, anniversary
from oberih.rules.engine import Default, Evaluation
from oberih.rules.predicates import Evidence
from oberih.rules.profile import DatedValue
from oberih.rules.results import (
    Category,
    DeferralResult,
    DeferralStatus,
    Duty,
    Reason,
    RemovalReason,
    ReservationResult,
)
from oberih.rules.situation import Registration, Situation, covers

CALLED_UP = (Category.liable, Category.reservist)
ON_REGISTER = (Category.conscript, Category.liable, Category.reservist)
RECORDED_REMOVALS = ("removed", "excluded")


@dataclass(slots=True)
class Outcome:
    category: Category = Category.not_liable
    removal_reason: RemovalReason | None = None
    recorded_category: str | None = None
    mobilisable: bool = False
    reasons: tuple[Reason, ...] = ()
    restrictions: tuple[str, ...] = ()
    deferrals: tuple[DeferralResult, ...] = ()
    reservations: tuple[ReservationResult, ...] = ()
    duties: tuple[Duty, ...] = ()
    document_valid_until: dt.date | None = None
    age: int | None = None


def evaluate(situation: Situation, evaluation: Evaluation) -> Outcome:
    """Apply every rule for one person on ``evaluation.on``."""
    outcome = Outcome()
    leap_day = evaluation.value("age.leap_day_birthday").value
    if situation.birth_date is not None and situation.birth_date <= evaluation.on:
        outcome.age = age_on(situation.birth_date, evaluation.on, leap_day)
    recorded = _recorded(situation, evaluation)
    outcome.recorded_category = recorded.category if recorded else None
    category(situation, evaluation, outcome, recorded, leap_day)
    if outcome.category in CALLED_UP:
        outcome.deferrals = deferrals(situation, evaluation, leap_day)
        outcome.reservations = reservations(situation, evaluation)
    mobilisation(situation, evaluation, outcome, leap_day)
    outcome.duties = duties(situation, evaluation, outcome, recorded)
    outcome.document_valid_until = document_validity(evaluation, outcome)
    return outcome


def _recorded(situation: Situation, evaluation: Evaluation) -> Registration | None:
    """The register's recorded category, if already in force on the day."""
    registration = situation.registration
    if registration is None:
        return None
    if registration.valid_from is not None and registration.valid_from > evaluation.on:
        evaluation.changes_on(registration.valid_from)
        return None
    return registration


# --- category -------------------------------------------------------------------------------


def category(
    situation: Situation,
    evaluation: Evaluation,
    outcome: Outcome,
    recorded: Registration | None,
    leap_day: str,
) -> None:
    on = evaluation.on
    birth = situation.birth_date
    citizen = situation.citizenship in (None, evaluation.book.profile.citizenship)
    rule: Default[tuple[Category, RemovalReason | None]] = Default(
        evaluation, "category.base", (Category.not_liable, None)
    )
    if birth is not None and situation.sex is not None and citizen:
        _registration_age(situation, evaluation, rule, birth)
    if recorded is not None and recorded.category == "conscript":
        _recorded_category(rule, recorded, Category.conscript)
    if rule.value[0] is Category.conscript and birth is not None:
        limit = evaluation.value("conscript.age_limit")
        reached = anniversary(birth, limit.value, leap_day)
        if on >= reached:
            rule.exception(
                "category.conscript_age_limit",
                (Category.liable, None),
                {"age_limit": limit.value, "reached_on": reached},
                parameters=(limit,),
                facts=(situation.identity_ref,),
            )
        else:
            evaluation.changes_on(reached)
    if recorded is not None and recorded.category in ("liable", "reservist"):
        _recorded_category(rule, recorded, Category(recorded.category))
    if recorded is not None and recorded.category in RECORDED_REMOVALS:
        reason = RemovalReason(recorded.removal_reason or "other")
        rule.exception(
            "category.removed_recorded",
            (Category.removed, reason),
            {"recorded_category": recorded.category, "removal_reason": reason.value},
            facts=(recorded.ref,),
        )
    _removals(situation, evaluation, rule, recorded, citizen, leap_day)
    outcome.category, outcome.removal_reason = rule.value


def _registration_age(
    situation: Situation,
    evaluation: Evaluation,
    rule: Default[tuple[Category, RemovalReason | None]],
    birth: dt.date,
) -> None:
    sexes = evaluation.value("registration.sexes")
    if situation.sex not in sexes.value:
        return
    age = evaluation.value("registration.conscript_age")
    registration_starts = dt.date(birth.year + age.value, 1, 1)
    if evaluation.on < registration_starts:
        evaluation.changes_on(registration_starts)
        return
    rule.exception(
        "category.conscript_registration_age",
        (Category.conscript, None),
        {"registration_age": age.value, "from": registration_starts},
        parameters=(age, sexes),
        facts=(situation.identity_ref,),
    )


def _recorded_category(
    rule: Default[tuple[Category, RemovalReason | None]],
    recorded: Registration,
    value: Category,
) -> None:
    rule.exception(
        "category.recorded",
        (value, None),
        {"recorded_category": recorded.category},
        facts=(recorded.ref,),
    )


def _removals(
    situation: Situation,
    evaluation: Evaluation,
    rule: Default[tuple[Category, RemovalReason | None]],
    recorded: Registration | None,
    citizen: bool,
    leap_day: str,
) -> None:
    """Removal from the register overrides every other conclusion: age < health < citizenship
    < death (a later exception wins, so a death is reported as such)."""
    on = evaluation.on
    if rule.value[0] in CALLED_UP and situation.birth_date is not None:
        limits = evaluation.value("reserve.age_limits")
        composition, limit = reserve_limit(limits.value, situation.sex, recorded)
        reached = anniversary(situation.birth_date, limit, leap_day)
        if on >= reached:
            rule.exception(
                "category.removed_age",
                (Category.removed, RemovalReason.age),
                {"age_limit": limit, "composition": composition, "reached_on": reached},
                parameters=(limits,),
                facts=(situation.identity_ref, recorded.ref if recorded else None),
            )
        else:
            evaluation.changes_on(reached)
    if rule.value[0] is Category.not_liable:
        return
    fitness = situation.fitness
    if fitness is not None:
        table = evaluation.value("fitness.categories")
        if table.value.get(fitness.fitness, {}).get("removes"):
            if fitness.decision_date <= on:
                rule.exception(
                    "category.removed_health",
                    (Category.removed, RemovalReason.health),
                    {"fitness": fitness.fitness, "decision_date": fitness.decision_date},
                    parameters=(table,),
                    facts=(fitness.ref,),
                )
            else:
                evaluation.changes_on(fitness.decision_date)
    if not citizen:
        rule.exception(
            "category.removed_citizenship",
            (Category.removed, RemovalReason.citizenship),
            {"citizenship": situation.citizenship},
            facts=(situation.identity_ref,),
        )
    died = situation.date_of_death
    if died is not None:
        if died <= on:
            rule.exception(
                "category.removed_death",
                (Category.removed, RemovalReason.death),
                {"date_of_death": died},
                facts=(situation.death_ref,),
            )
        else:
            evaluation.changes_on(died)


def reserve_limit(
    limits: dict[str, Any], sex: str | None, recorded: Registration | None
) -> tuple[str, int]:
    """The reserve age limit that applies, by sex and composition (rank for higher officers)."""
    table = limits.get(sex or "male") or limits["male"]
    composition = (recorded.composition if recorded else None) or "private"
    if recorded is not None and recorded.rank in limits.get("higher_officer_ranks", ()):
        composition = "higher_officer"
    return composition, int(table.get(composition, table["private"]))


# --- deferrals and reservations -------------------------------------------------------------


def deferrals(
    situation: Situation, evaluation: Evaluation, leap_day: str
) -> tuple[DeferralResult, ...]:
    """Deferrals that apply on the day: granted ones (deferral facts) and grounds that the
    evidence establishes (Law 3543-XII art. 23: such persons "are not called up")."""
    on = evaluation.on
    book = evaluation.book
    found: dict[str, DeferralResult] = {}
    used: dict[str, DatedValue] = {}
    for granted in situation.deferrals:
        if covers(granted.valid_from, granted.valid_to, on):
            if granted.valid_to is not None:
                evaluation.changes_on(granted.valid_to + ONE_DAY)
            known = book.profile.ground(granted.ground)
            value = known.parameter.at(on) if known else None
            current = found.get(granted.ground)
            if current is None or _ends_later(granted.valid_to, current.until):
                found[granted.ground] = DeferralResult(
                    granted.ground,
                    granted.valid_from,
                    granted.valid_to,
                    DeferralStatus.granted,
                    (granted.ref,),
                    value.citation if value else book.profile.rules["deferral.granted"].citation,
                )
        elif granted.valid_from is not None and granted.valid_from > on:
            evaluation.changes_on(granted.valid_from)
    values = evaluation.values
    for compiled in book.grounds:
        ground = compiled.ground
        evaluation.consulted.add(ground.parameter.name)
        value = values[ground.parameter.name]
        if value is None or not getattr(situation, compiled.reads):
            continue
        evidence = compiled.check(situation, on, value.value, leap_day)
        if evidence is None:
            continue
        if not evidence.holds:
            evaluation.changes_on(evidence.starts)
            continue
        if evidence.until is not None:
            evaluation.changes_on(evidence.until + ONE_DAY)
        found[ground.code] = _with_evidence(found.get(ground.code), ground.code, evidence, value)
        used[ground.code] = value
    results = tuple(sorted(found.values(), key=lambda d: d.ground))
    for result in results:
        _deferral_step(evaluation, result, used.get(result.ground))
    return results


def _ends_later(a: dt.date | None, b: dt.date | None) -> bool:
    return (a is None and b is not None) or (a is not None and b is not None and a > b)


def _with_evidence(
    granted: DeferralResult | None, code: str, evidence: Evidence, value: DatedValue
) -> DeferralResult:
    if granted is not None:  # the decision stands; the evidence is named beside it
        return DeferralResult(
            granted.ground,
            granted.valid_from,
            granted.until,
            granted.status,
            granted.facts + evidence.facts,
            value.citation,
        )
    return DeferralResult(
        code,
        evidence.valid_from,
        evidence.until,
        DeferralStatus.established,
        evidence.facts,
        value.citation,
    )


def _deferral_step(
    evaluation: Evaluation, result: DeferralResult, value: DatedValue | None
) -> None:
    rule = "deferral.granted" if result.status is DeferralStatus.granted else "deferral.established"
    outcome = {"ground": result.ground, "from": result.valid_from, "until": result.until}
    evaluation.steps.append(
        evaluation.book.step(
            rule,
            outcome,
            parameters=(value,) if value is not None else (),
            facts=result.facts,
            citation=result.citation,
        )
    )


def reservations(situation: Situation, evaluation: Evaluation) -> tuple[ReservationResult, ...]:
    on = evaluation.on
    found = []
    for reservation in situation.reservations:
        if not covers(reservation.valid_from, reservation.valid_to, on):
            if reservation.valid_from is not None and reservation.valid_from > on:
                evaluation.changes_on(reservation.valid_from)
            continue
        rules = evaluation.value("reservation.rules")
        until = reservation.valid_to
        if rules.value.get("ends_with_employment") and reservation.employer_code:
            ended, until = _employment_end(situation, reservation.employer_code, on, until)
            if ended is not None:
                evaluation.steps.append(
                    evaluation.book.step(
                        "reservation.ended_with_employment",
                        {"employer_code": reservation.employer_code, "employment_ended": ended},
                        parameters=(rules,),
                        facts=(reservation.ref,),
                    )
                )
                continue
        if until is not None:
            evaluation.changes_on(until + ONE_DAY)
        result = ReservationResult(
            reservation.employer_code, reservation.valid_from, until, (reservation.ref,)
        )
        found.append(result)
        evaluation.steps.append(
            evaluation.book.step(
                "reservation.active",
                {"employer_code": result.employer_code, "from": result.valid_from, "until": until},
                facts=result.facts,
            )
        )
    return tuple(found)


def _employment_end(
    situation: Situation, employer_code: str, on: dt.date, until: dt.date | None
) -> tuple[dt.date | None, dt.date | None]:
    """(day the employment ended before ``on`` or None, reservation end capped by the job)."""
    jobs = [job for job in situation.employment if job.employer_code == employer_code]
    if not jobs:
        return None, until  # no employment data: the reservation decision stands
    current = [job for job in jobs if covers(job.valid_from, job.valid_to, on)]
    if not current:
        ended = max((job.valid_to for job in jobs if job.valid_to is not None), default=None)
        return (ended, until) if ended is not None and ended < on else (None, until)
    job_end = (
        None
        if any(job.valid_to is None for job in current)
        else max(job.valid_to for job in current if job.valid_to is not None)
    )
    if job_end is not None and (until is None or job_end < until):
        until = job_end
    return None, until


# --- call-up during mobilisation ------------------------------------------------------------


def mobilisation(
    situation: Situation, evaluation: Evaluation, outcome: Outcome, leap_day: str
) -> None:
    rule: Default[bool] = Default(evaluation, "mobilisation.base", False)
    if outcome.category not in CALLED_UP:
        outcome.mobilisable, outcome.reasons = False, (Reason.not_liable,)
        return
    in_effect = evaluation.value("mobilisation.in_effect")
    if not in_effect.value:
        outcome.mobilisable, outcome.reasons = False, (Reason.no_mobilisation,)
        return
    rule.exception("mobilisation.liable_called_up", True, parameters=(in_effect,))
    reasons: list[Reason] = []

    def unless(reason: Reason, rule_id: str, details: dict[str, Any], **evidence: Any) -> None:
        reasons.append(reason)
        rule.exception(rule_id, False, details, **evidence)

    sexes = evaluation.value("mobilisation.sexes")
    if situation.sex not in sexes.value:
        unless(
            Reason.sex, "mobilisation.sex", {}, parameters=(sexes,), facts=(situation.identity_ref,)
        )
    _age_exceptions(situation, evaluation, outcome, leap_day, unless)
    _fitness_exception(situation, evaluation, outcome, unless)
    for period in situation.service:
        if covers(period.valid_from, period.valid_to, evaluation.on):
            if period.valid_to is not None:
                evaluation.changes_on(period.valid_to + ONE_DAY)
            unless(
                Reason.in_service,
                "mobilisation.in_service",
                {"service_kind": period.service_kind},
                facts=(period.ref,),
            )
            break
        evaluation.changes_on(period.valid_from)
    if outcome.deferrals:
        grounds = ", ".join(d.ground for d in outcome.deferrals)
        unless(Reason.deferral, "mobilisation.deferral", {"grounds": grounds})
    if outcome.reservations:
        employers = ", ".join(r.employer_code or "?" for r in outcome.reservations)
        unless(Reason.reservation, "mobilisation.reservation", {"employer_code": employers})
    outcome.mobilisable = rule.value
    outcome.reasons = tuple(reasons)


def _age_exceptions(
    situation: Situation, evaluation: Evaluation, outcome: Outcome, leap_day: str, unless: Any
) -> None:
    if situation.birth_date is None or outcome.age is None:
        return
    ages = evaluation.value("mobilisation.age_range")
    low, high = ages.value["min"], ages.value["max"]
    details = {"age": outcome.age, "min_age": low, "max_age": high}
    facts = (situation.identity_ref,)
    if outcome.age < low:
        evaluation.changes_on(anniversary(situation.birth_date, low, leap_day))
        unless(Reason.age_below, "mobilisation.age_below", details, parameters=(ages,), facts=facts)
    elif high is not None and outcome.age >= high:
        unless(Reason.age_above, "mobilisation.age_above", details, parameters=(ages,), facts=facts)
    elif high is not None:
        evaluation.changes_on(anniversary(situation.birth_date, high, leap_day))


# What a fitness category that allows call-up may still say about it (profile keys -> codes).
_RESTRICTIONS = (
    ("support_only", "support_units_only"),
    ("review_required", "fitness_review_required"),
)


def _fitness_exception(
    situation: Situation, evaluation: Evaluation, outcome: Outcome, unless: Any
) -> None:
    fitness = situation.fitness
    if fitness is None:
        return
    if fitness.decision_date > evaluation.on:
        evaluation.changes_on(fitness.decision_date)
        return
    table = evaluation.value("fitness.categories")
    entry = table.value.get(fitness.fitness, {})
    if entry.get("mobilisable", True):
        restrictions = tuple(code for key, code in _RESTRICTIONS if entry.get(key))
        if restrictions:
            outcome.restrictions = restrictions
            evaluation.steps.append(
                evaluation.book.step(
                    "mobilisation.fitness_restriction",
                    {"fitness": fitness.fitness, "restrictions": ", ".join(restrictions)},
                    parameters=(table,),
                    facts=(fitness.ref,),
                )
            )
        return
    if fitness.review_date is not None:
        if fitness.review_date < evaluation.on:
            return  # the decision has run its course; a new examination decides
        evaluation.changes_on(fitness.review_date + ONE_DAY)
    unless(
        Reason.fitness,
        "mobilisation.fitness",
        {"fitness": fitness.fitness, "decision_date": fitness.decision_date},
        parameters=(table,),
        facts=(fitness.ref,),
    )


# --- duties and the registration document ---------------------------------------------------


def duties(
    situation: Situation,
    evaluation: Evaluation,
    outcome: Outcome,
    recorded: Registration | None,
) -> tuple[Duty, ...]:
    """A conscript not yet on record must register in the window of the year he turns 17."""
    if outcome.category is not Category.conscript or situation.birth_date is None:
        return ()
    if recorded is not None and recorded.category != "not_registered":
        return ()
    age = evaluation.value("registration.conscript_age")
    window = evaluation.value("registration.conscript_window")
    year = situation.birth_date.year + age.value
    starts = dt.date.fromisoformat(f"{year}-{window.value['from']}")
    ends = dt.date.fromisoformat(f"{year}-{window.value['until']}")
    overdue = evaluation.on > ends
    if not overdue:
        evaluation.changes_on(ends + ONE_DAY)
    duty = Duty("register_as_conscript", starts, ends, overdue)
    evaluation.steps.append(
        evaluation.book.step(
            "duty.register_as_conscript",
            {"from": starts, "until": ends, "overdue": overdue},
            parameters=(age, window),
            facts=(situation.identity_ref, recorded.ref if recorded else None),
        )
    )
    return (duty,)


def document_validity(evaluation: Evaluation, outcome: Outcome) -> dt.date | None:
    """At most N months from the day, and not beyond a deferral or reservation it shows."""
    if outcome.category not in ON_REGISTER:
        return None
    months = evaluation.value("e_document.max_validity_months")
    if months.value is None:
        return None
    valid_until = add_months(evaluation.on, months.value) - ONE_DAY
    shown = [d.until for d in outcome.deferrals] + [r.until for r in outcome.reservations]
    for until in shown:
        if until is not None and until < valid_until:
            valid_until = until
    evaluation.steps.append(
        evaluation.book.step(
            "document.validity",
            {"valid_until": valid_until, "months": months.value},
            parameters=(months,),
        )
    )
    return valid_until
