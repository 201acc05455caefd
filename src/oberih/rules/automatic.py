"""Automatic deferrals: granted, extended and ended from source-register evidence.

``automatic_deferrals(state, on)`` is pure: from a person's state on day ``on`` it lists the
deferral facts the register should append (the caller appends them; appending is idempotent
because every fact carries a deterministic source record id):

- **grant**: a ground marked ``automatic`` in the profile is established by the evidence and no
  deferral for it covers the day: a deferral from the day until the evidence ends, at most
  ``deferral.automatic_max_months`` (id ``auto-deferral:<person>:<ground>:<from>``);
- **extend**: the deferrals covering the day end within ``deferral.automatic_extend_days_before``
  days and the evidence goes on: a deferral from the day after (same id scheme);
- **end**: an automatic deferral whose evidence has lapsed, or ends earlier than the deferral, is
  superseded by one that ends with the evidence (``auto-deferral-end:...``), or retracted when it
  had not begun. Deferrals decided by an office are never ended here: an officer ends those.

Every fact says it is ``automatic under <citation>`` (the ground's paragraph of the law).
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from oberih.persons.facts import FactKind, NewFact, SourceKind
from oberih.persons.state import PersonState
from oberih.rules.ages import ONE_DAY, add_months
from oberih.rules.engine import CompiledGround, Evaluation, rule_book
from oberih.rules.law import CALLED_UP, evaluate
from oberih.rules.predicates import Evidence
from oberih.rules.profile import DatedValue, Profile, default_profile
from oberih.rules.situation import GrantedDeferral, Situation, covers, situation_from_state

AUTO_PREFIX = "auto-deferral"
AUTO_ACTOR = "register:rules"


def is_automatic(deferral: GrantedDeferral) -> bool:
    """Whether a deferral was granted by the register itself (and so may be ended by it)."""
    return deferral.ref.source == SourceKind.register and (
        deferral.source_record_id or ""
    ).startswith(AUTO_PREFIX)


def automatic_deferrals(
    person: PersonState | Situation, on: dt.date, profile: Profile | None = None
) -> list[NewFact]:
    """The deferral facts to append for ``person`` on ``on`` (empty when nothing is due)."""
    situation = situation_from_state(person) if isinstance(person, PersonState) else person
    if situation.person_id is None:
        raise ValueError("automatic deferrals need the person's id")
    book = rule_book(profile or default_profile())
    evaluation = Evaluation(book, on)
    if evaluate(situation, evaluation).category not in CALLED_UP:
        return []
    leap_day = evaluation.value("age.leap_day_birthday").value
    max_months = evaluation.value("deferral.automatic_max_months").value
    window = evaluation.value("deferral.automatic_extend_days_before").value
    facts: list[NewFact] = []
    for compiled in book.grounds:
        value = compiled.ground.parameter.at(on)
        if not compiled.ground.automatic or value is None:
            continue
        evidence = compiled.check(situation, on, value.value, leap_day)
        holding = evidence if evidence is not None and evidence.holds else None
        granted = [d for d in situation.deferrals if d.ground == compiled.ground.code]
        if holding is not None:
            grant = _grant_or_extend(situation, on, value, holding, granted, max_months, window)
            if grant is not None:
                facts.append(grant)
        facts.extend(_ends(situation, on, compiled, value, holding, granted, leap_day))
    return facts


def _grant_or_extend(
    situation: Situation,
    on: dt.date,
    value: DatedValue,
    evidence: Evidence,
    granted: list[GrantedDeferral],
    max_months: int,
    window: int,
) -> NewFact | None:
    code = value.parameter.removeprefix("deferral.")
    covered_until = _coverage_end(granted, on)
    if covered_until is _NOT_COVERED:
        start = on
    elif covered_until is None or (covered_until - on).days > window:
        return None  # covered, and not ending soon
    elif evidence.until is not None and evidence.until <= covered_until:
        return None  # the evidence ends with (or before) the deferral: nothing to extend
    else:
        start = covered_until + ONE_DAY
    end = add_months(start, max_months) - ONE_DAY
    if evidence.until is not None and evidence.until < end:
        end = evidence.until
    return _fact(
        situation,
        code,
        value,
        start,
        end,
        f"{AUTO_PREFIX}:{situation.person_id}:{code}:{start.isoformat()}",
    )


_NOT_COVERED = dt.date.min


def _coverage_end(granted: list[GrantedDeferral], on: dt.date) -> dt.date | None:
    """Last day of the run of granted deferrals covering ``on`` (back-to-back ones chained):
    ``None`` if open-ended, ``_NOT_COVERED`` if none covers the day."""
    covering = [d.valid_to for d in granted if covers(d.valid_from, d.valid_to, on)]
    if not covering:
        return _NOT_COVERED
    if None in covering:
        return None
    end = max(day for day in covering if day is not None)
    later = sorted(
        (d.valid_from, d.valid_to)
        for d in granted
        if d.valid_from is not None and d.valid_from > on
    )
    for valid_from, valid_to in later:
        if valid_from > end + ONE_DAY:
            break
        if valid_to is None:
            return None
        end = max(end, valid_to)
    return end


def _ends(
    situation: Situation,
    on: dt.date,
    compiled: CompiledGround,
    value: DatedValue,
    holding: Evidence | None,
    granted: list[GrantedDeferral],
    leap_day: str,
) -> list[NewFact]:
    facts = []
    code = compiled.ground.code
    for deferral in granted:
        if not is_automatic(deferral) or (deferral.valid_to is not None and deferral.valid_to < on):
            continue
        if holding is not None:
            if holding.until is None or (
                deferral.valid_to is not None and deferral.valid_to <= holding.until
            ):
                continue
            lapse = holding.until  # the evidence now ends earlier than the deferral
        else:
            lapse = _lapse_day(situation, on, compiled, deferral, leap_day)
        facts.append(_end_fact(situation, code, value, deferral, lapse))
    return facts


def _lapse_day(
    situation: Situation,
    on: dt.date,
    compiled: CompiledGround,
    deferral: GrantedDeferral,
    leap_day: str,
) -> dt.date:
    """The last day the evidence held: its end as seen when the deferral began, or yesterday
    when the evidence itself was withdrawn."""
    began = deferral.valid_from or on
    if began < on:
        then = compiled.ground.parameter.at(began)
        if then is not None:
            evidence = compiled.check(situation, began, then.value, leap_day)
            if evidence is not None and evidence.holds and evidence.until and evidence.until < on:
                return evidence.until
    return on - ONE_DAY


def _end_fact(
    situation: Situation,
    code: str,
    value: DatedValue,
    deferral: GrantedDeferral,
    lapse: dt.date,
) -> NewFact:
    supersedes = UUID(deferral.ref.fact_id)
    if deferral.valid_from is not None and lapse < deferral.valid_from:
        return NewFact(
            kind=FactKind.retraction,
            payload={"reason": f"evidence for {code} lapsed before the deferral began"},
            source=SourceKind.register,
            source_record_id=f"{AUTO_PREFIX}-retract:{situation.person_id}:{code}:{deferral.ref.fact_id}",
            legal_basis=_basis(value, "evidence lapsed"),
            actor=AUTO_ACTOR,
            supersedes_id=supersedes,
        )
    start = deferral.valid_from.isoformat() if deferral.valid_from else "open"
    return NewFact(
        kind=FactKind.deferral,
        payload={"ground": code},
        valid_from=deferral.valid_from,
        valid_to=lapse,
        source=SourceKind.register,
        source_record_id=(
            f"{AUTO_PREFIX}-end:{situation.person_id}:{code}:{start}:{lapse.isoformat()}"
        ),
        legal_basis=_basis(value, "evidence lapsed"),
        actor=AUTO_ACTOR,
        supersedes_id=supersedes,
    )


def _fact(
    situation: Situation,
    code: str,
    value: DatedValue,
    start: dt.date,
    end: dt.date,
    record_id: str,
) -> NewFact:
    return NewFact(
        kind=FactKind.deferral,
        payload={"ground": code},
        valid_from=start,
        valid_to=end,
        source=SourceKind.register,
        source_record_id=record_id,
        legal_basis=_basis(value, None),
        actor=AUTO_ACTOR,
    )


def _basis(value: DatedValue, why: str | None) -> str:
    basis = f"automatic under {value.citation.text('en')}"
    return f"{basis}: {why}" if why else basis
