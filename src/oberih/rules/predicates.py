"""How each deferral ground's evidence is read: a small library of pure predicates.

A profile names, for each ground, one predicate of this library and its dated parameters, so a
country whose grounds resemble these needs a new profile file, not new engine code. A predicate
answers for one person on one day:

- ``None``: the ground does not hold, and nothing known makes it start later (the fast path);
- ``Evidence(holds=True, ...)``: it holds, from ``valid_from`` until ``until`` (the last day the
  evidence lasts; ``None`` when open-ended), proven by ``facts``;
- ``Evidence(holds=False, starts=day)``: it does not hold yet, and will on ``day`` as the facts
  stand (a child with a group I disability turns 18, a study period begins).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from oberih.rules.ages import ONE_DAY, add_months, anniversary
from oberih.rules.situation import FactRef, Relative, Situation, covers

_NO_DETAIL: Mapping[str, Any] = MappingProxyType({})


class Evidence(NamedTuple):
    holds: bool
    valid_from: dt.date | None = None
    until: dt.date | None = None
    facts: tuple[FactRef, ...] = ()
    detail: Mapping[str, Any] = _NO_DETAIL
    starts: dt.date | None = None


Predicate = Callable[[Situation, dt.date, Mapping[str, Any], str], Evidence | None]
PREDICATES: dict[str, Predicate] = {}
# The part of the situation each predicate reads: when it is empty, the ground cannot hold and
# the engine does not call the predicate (most persons have no family, studies or disability).
READS: dict[str, str] = {}


def predicate(name: str, *, reads: str) -> Callable[[Predicate], Predicate]:
    def register(function: Predicate) -> Predicate:
        PREDICATES[name] = function
        READS[name] = reads
        return function

    return register


def _later_until(a: dt.date | None, b: dt.date | None) -> bool:
    """Whether ``a`` ends later than ``b`` (``None`` is open-ended, the latest)."""
    if a is None:
        return b is not None
    return b is not None and a > b


def _best(found: Iterable[Evidence]) -> Evidence | None:
    """Of several pieces of evidence for one ground, the one that lasts longest."""
    best: Evidence | None = None
    for evidence in found:
        if best is None or _later_until(evidence.until, best.until):
            best = evidence
    return best


def _pending(starts: Iterable[dt.date]) -> Evidence | None:
    first = min(starts, default=None)
    return Evidence(holds=False, starts=first) if first is not None else None


def _interval(
    items: Iterable[Any],
    on: dt.date,
    matches: Callable[[Any], bool],
    detail: Callable[[Any], Mapping[str, Any]],
) -> Evidence | None:
    """Evidence from dated items (studies, jobs, disabilities...): any matching item true on ``on``."""
    found = []
    starts = []
    for item in items:
        if not matches(item):
            continue
        if covers(item.valid_from, item.valid_to, on):
            found.append(Evidence(True, item.valid_from, item.valid_to, (item.ref,), detail(item)))
        elif item.valid_from is not None and item.valid_from > on:
            starts.append(item.valid_from)
    return _best(found) or _pending(starts)


def _under_age_until(
    relative: Relative, on: dt.date, max_age: int, leap_day: str
) -> dt.date | None:
    """The last day a relative counts as under ``max_age`` (and recorded), or None if not on ``on``."""
    if relative.birth_date is None or relative.birth_date > on:
        return None
    if not covers(relative.valid_from, relative.valid_to, on):
        return None
    last_day = anniversary(relative.birth_date, max_age, leap_day) - ONE_DAY
    if last_day < on:
        return None
    if relative.valid_to is not None and relative.valid_to < last_day:
        return relative.valid_to
    return last_day


# The last children list computed: the family predicates of one person ask for it in turn. The
# situation itself is part of the key (compared by identity and kept alive by the cache), and
# the entry is replaced in one assignment, so threads can share it.
_last_children: tuple[tuple[Any, ...], list[tuple[Relative, dt.date]]] = ((), [])


def _children_under(
    situation: Situation, on: dt.date, max_age: int, leap_day: str, relations: Iterable[str]
) -> list[tuple[Relative, dt.date]]:
    global _last_children
    wanted = tuple(relations)
    key, cached = _last_children
    if key and key[0] is situation and key[1:] == (on, max_age, leap_day, wanted):
        return cached
    out = []
    for relative in situation.family:
        if relative.relation in wanted:
            until = _under_age_until(relative, on, max_age, leap_day)
            if until is not None:
                out.append((relative, until))
    _last_children = ((situation, on, max_age, leap_day, wanted), out)
    return out


def _from_of(relative: Relative) -> dt.date | None:
    return relative.valid_from or relative.birth_date


# --- the predicates ------------------------------------------------------------------------


@predicate("medical_unfitness", reads="fitness")
def medical_unfitness(
    situation: Situation, on: dt.date, params: Mapping[str, Any], leap_day: str
) -> Evidence | None:
    """Temporarily unfit: the commission's decision, until its review date, at most N months."""
    fitness = situation.fitness
    if fitness is None or fitness.fitness not in params["fitness"]:
        return None
    start = fitness.decision_date
    if start > on:
        return Evidence(holds=False, starts=start)
    until = add_months(start, params["max_months"]) - ONE_DAY
    if fitness.review_date is not None and fitness.review_date < until:
        until = fitness.review_date
    if on > until:
        return None
    detail = {"fitness": fitness.fitness, "review_date": fitness.review_date}
    return Evidence(True, start, until, (fitness.ref,), detail)


@predicate("own_disability", reads="disability")
def own_disability(
    situation: Situation, on: dt.date, params: Mapping[str, Any], leap_day: str
) -> Evidence | None:
    groups = params["groups"]
    return _interval(
        situation.disability, on, lambda d: d.group in groups, lambda d: {"group": d.group}
    )


@predicate("children_in_care", reads="family")
def children_in_care(
    situation: Situation, on: dt.date, params: Mapping[str, Any], leap_day: str
) -> Evidence | None:
    """N or more children under the age; the ground lasts while N of them remain under it."""
    if not situation.family:
        return None
    needed = params["min_children"]
    children = _children_under(situation, on, params["max_age"], leap_day, params["relations"])
    if len(children) < needed:
        future = sorted(
            start
            for relative in situation.family
            if relative.relation in params["relations"]
            and (start := _from_of(relative)) is not None
            and start > on
        )
        missing = needed - len(children)
        return Evidence(holds=False, starts=future[missing - 1]) if len(future) >= missing else None
    if params["alimony_debt_excludes"] and any(child.alimony_debt for child, _ in children):
        return None
    ends = sorted(until for _, until in children)
    starts = sorted(_from_of(child) or on for child, _ in children)
    return Evidence(
        True,
        valid_from=starts[needed - 1],
        until=ends[len(ends) - needed],
        facts=tuple(child.ref for child, _ in children),
        detail={"children": len(children), "min_children": needed, "max_age": params["max_age"]},
    )


def _each_child(
    situation: Situation,
    on: dt.date,
    max_age: int,
    leap_day: str,
    matches: Callable[[Relative], bool],
    relations: tuple[str, ...] = ("child",),
) -> Evidence | None:
    found = [
        Evidence(True, _from_of(child), until, (child.ref,), {"max_age": max_age})
        for child, until in _children_under(situation, on, max_age, leap_day, relations)
        if matches(child)
    ]
    return _best(found)


@predicate("child_raised_alone", reads="family")
def child_raised_alone(
    situation: Situation, on: dt.date, params: Mapping[str, Any], leap_day: str
) -> Evidence | None:
    return _each_child(situation, on, params["max_age"], leap_day, lambda c: c.alone)


@predicate("child_with_disability", reads="family")
def child_with_disability(
    situation: Situation, on: dt.date, params: Mapping[str, Any], leap_day: str
) -> Evidence | None:
    groups = params["groups"]
    return _each_child(
        situation, on, params["max_age"], leap_day, lambda c: c.disability_group in groups
    )


@predicate("seriously_ill_child", reads="family")
def seriously_ill_child(
    situation: Situation, on: dt.date, params: Mapping[str, Any], leap_day: str
) -> Evidence | None:
    return _each_child(
        situation,
        on,
        params["max_age"],
        leap_day,
        lambda c: c.seriously_ill and c.disability_group is None,
    )


@predicate("adult_child_disability", reads="family")
def adult_child_disability(
    situation: Situation, on: dt.date, params: Mapping[str, Any], leap_day: str
) -> Evidence | None:
    adult_age, groups = params["adult_age"], params["groups"]
    found = []
    starts = []
    for child in situation.family:
        if child.relation != "child" or child.disability_group not in groups:
            continue
        if child.birth_date is None or not covers(None, child.valid_to, on):
            continue
        adult_from = anniversary(child.birth_date, adult_age, leap_day)
        if adult_from > on:
            starts.append(adult_from)
        elif covers(child.valid_from, child.valid_to, on):
            detail = {"group": child.disability_group}
            found.append(Evidence(True, adult_from, child.valid_to, (child.ref,), detail))
    return _best(found) or _pending(starts)


@predicate("relative_with_disability", reads="family")
def relative_with_disability(
    situation: Situation, on: dt.date, params: Mapping[str, Any], leap_day: str
) -> Evidence | None:
    relations, groups = params["relations"], params["groups"]
    return _interval(
        situation.family,
        on,
        lambda r: r.relation in relations and r.disability_group in groups,
        lambda r: {"relation": r.relation, "group": r.disability_group},
    )


@predicate("constant_care", reads="family")
def constant_care(
    situation: Situation, on: dt.date, params: Mapping[str, Any], leap_day: str
) -> Evidence | None:
    relations = params["relations"]
    return _interval(
        situation.family,
        on,
        lambda r: r.needs_constant_care and r.relation in relations,
        lambda r: {"relation": r.relation},
    )


@predicate("ward_child", reads="family")
def ward_child(
    situation: Situation, on: dt.date, params: Mapping[str, Any], leap_day: str
) -> Evidence | None:
    return _each_child(
        situation, on, params["max_age"], leap_day, lambda c: not c.incapacitated, ("ward",)
    )


@predicate("incapacitated_ward", reads="family")
def incapacitated_ward(
    situation: Situation, on: dt.date, params: Mapping[str, Any], leap_day: str
) -> Evidence | None:
    relations = params["relations"]
    return _interval(
        situation.family,
        on,
        lambda r: r.incapacitated and r.relation in relations,
        lambda r: {"relation": r.relation},
    )


@predicate("other_parent_serving", reads="family")
def other_parent_serving(
    situation: Situation, on: dt.date, params: Mapping[str, Any], leap_day: str
) -> Evidence | None:
    serving = _interval(
        situation.family,
        on,
        lambda r: r.relation == "spouse" and r.in_military_service,
        lambda r: {},
    )
    if serving is None or not serving.holds:
        return None
    child = _each_child(situation, on, params["max_age"], leap_day, lambda c: True)
    if child is None:
        return None
    until = child.until
    if serving.until is not None and (until is None or serving.until < until):
        until = serving.until
    starts = [day for day in (serving.valid_from, child.valid_from) if day is not None]
    return Evidence(True, max(starts, default=None), until, child.facts + serving.facts, {})


@predicate("studies", reads="education")
def studies(
    situation: Situation, on: dt.date, params: Mapping[str, Any], leap_day: str
) -> Evidence | None:
    levels, forms = params["levels"], params["forms"]
    first_required = params["first_at_level_required"]
    return _interval(
        situation.education,
        on,
        lambda s: (
            s.level in levels and s.form in forms and (s.first_at_level or not first_required)
        ),
        lambda s: {"level": s.level, "form": s.form},
    )


@predicate("teaching_staff", reads="employment")
def teaching_staff(
    situation: Situation, on: dt.date, params: Mapping[str, Any], leap_day: str
) -> Evidence | None:
    min_share = params["min_share"]
    return _interval(
        situation.employment,
        on,
        lambda j: j.teaching_or_research and j.share_of_full_time >= min_share,
        lambda j: {"share_of_full_time": j.share_of_full_time, "min_share": min_share},
    )


@predicate("relative_killed_or_missing", reads="family")
def relative_killed_or_missing(
    situation: Situation, on: dt.date, params: Mapping[str, Any], leap_day: str
) -> Evidence | None:
    relations = params["relations"]
    return _interval(
        situation.family,
        on,
        lambda r: r.fate is not None and r.relation in relations,
        lambda r: {"relation": r.relation, "fate": r.fate},
    )


@predicate("released_from_captivity", reads="service")
def released_from_captivity(
    situation: Situation, on: dt.date, params: Mapping[str, Any], leap_day: str
) -> Evidence | None:
    found = []
    starts = []
    for period in situation.service:
        released = period.captivity_released_on
        if released is None:
            continue
        if released > on:
            starts.append(released)
        else:
            found.append(Evidence(True, released, None, (period.ref,), {"released_on": released}))
    return _best(found) or _pending(starts)
