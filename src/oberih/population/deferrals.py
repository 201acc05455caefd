"""Deferral facts: the grounds a liable man has, their evidence, and the deferral granted.

SOURCES
- Deferral grounds: Law 3543-XII art. 23 (numbering unverified); each ground a person has is
  granted and recorded with probability 0.8 (automatic deferrals from registry data since
  01.11.2025: over 720,000 extended); 12 % of deferrals have expired (estimate).
- Rare circumstances not modelled by households (estimates): constant care of a sick parent
  1.5 % of liable men, a brother killed or missing 0.4 %, guardian of an incapacitated relative
  0.2 %; released from captivity: 1 % of men in combat since 2022 who are alive.
"""

from __future__ import annotations

import datetime as dt

from oberih.population.households import ChildLink, anniversary
from oberih.population.life import Life
from oberih.population.world import WAR_START, patronymic, surname_for

_WAR_START = WAR_START.toordinal()

# Grounds a liable man may have (Law 3543-XII art. 23), in the order checked; the codes are
# those of the rules profile (``oberih/rules/profiles/ua.yaml``).
DEFERRAL_GROUNDS = (
    "disability",  # person with disability
    "temporarily_unfit",  # temporarily unfit for 6-12 months
    "three_children",  # three or more children under 18
    "child_raised_alone",  # raising a child alone
    "child_with_disability",  # raising a child with disability
    "seriously_ill_child",  # a seriously ill child without disability status
    "adult_child_disability",  # an adult child with disability group I or II
    "relative_disability_care",  # a spouse or parent with disability group I or II
    "constant_care",  # constant care of a sick relative
    "guardian_orphan",  # guardian of an orphan
    "guardian_incapacitated",  # guardian of a person declared incapacitated
    "student",  # full-time student (first time at the level) or doctoral candidate
    "teaching_research_staff",  # teaching or research staff at 0.75 of full time or more
    "relative_killed_or_missing",  # close relative killed or missing defending Ukraine
    "released_from_captivity",  # released from captivity
)
# Grounds that also let a man of 18-60 leave the country under martial law (estimate of the
# border rules; CMU Res. 57 of 27.01.1995 as amended).
EXIT_GROUNDS = frozenset(
    {
        "disability",
        "three_children",
        "child_raised_alone",
        "child_with_disability",
        "guardian_orphan",
        "guardian_incapacitated",
    }
)


def _minor_children(life: Life) -> list[ChildLink]:
    limit = anniversary(life.world.reference_day, -18)
    return [link for link in life.member.children if link.birth > limit]


def _grounds(life: Life) -> list[tuple[str, int]]:
    """The deferral grounds a man has, each with the day it arose."""
    member = life.member
    minors = _minor_children(life)
    spouse = member.spouse
    found: dict[str, int | None] = dict.fromkeys(DEFERRAL_GROUNDS)
    if member.disability is not None:
        found["disability"] = member.disability_from
    if life.fitness in ("temporarily_unfit", "unfit_review"):
        found["temporarily_unfit"] = life.fitness_day
    if len(minors) >= 3:
        found["three_children"] = sorted(c.birth for c in minors)[2]
    if member.raising_alone and minors:
        found["child_raised_alone"] = min(c.birth for c in minors)
    disabled = [c for c in minors if c.disability == "child"]
    if disabled:
        found["child_with_disability"] = min(_child_disabled_from(c) for c in disabled)
    ill = [c.birth for c in minors if c.seriously_ill]
    if ill:
        found["seriously_ill_child"] = min(ill) + 365
    adult_disabled = [c for c in member.children if c.disability in ("I", "II")]
    if adult_disabled:
        found["adult_child_disability"] = anniversary(adult_disabled[0].birth, 18)
    if spouse is not None and spouse.disability in ("I", "II"):
        found["relative_disability_care"] = max(spouse.disability_from, member.marriage)
    if member.wards:
        found["guardian_orphan"] = member.guardian_since
    if life.student_level is not None:
        found["student"] = life.student_from
    if life.teacher:
        found["teaching_research_staff"] = life.hired
    released = [s.released_from_captivity for s in member.services]
    if any(day is not None for day in released):
        found["released_from_captivity"] = max(day for day in released if day is not None)
    found.update(_family_circumstances(life))
    return [(ground, day) for ground, day in found.items() if day is not None]


def _family_circumstances(life: Life) -> dict[str, int]:
    """Rare circumstances the household does not model, written with their evidence."""
    rng = life.rng
    found: dict[str, int] = {}
    if rng.random() < 0.015:
        found["constant_care"] = _write_relative_evidence(life, "parent", needs_constant_care=True)
    if rng.random() < 0.004:
        fate = "killed" if rng.random() < 0.7 else "missing"
        found["relative_killed_or_missing"] = _write_relative_evidence(life, "sibling", fate=fate)
    if rng.random() < 0.002:
        found["guardian_incapacitated"] = _write_relative_evidence(life, "ward", incapacitated=True)
    return found


def _write_relative_evidence(life: Life, relation: str, **evidence: object) -> int:
    """A relative outside the household and what makes them a ground; returns the day it arose."""
    member, rng, world = life.member, life.rng, life.world
    sex = "male" if relation == "sibling" or rng.random() < 0.5 else "female"
    if relation == "sibling":
        birth = member.birth + rng.randint(-3_000, 3_000)
    else:
        birth = member.birth - rng.randint(8_000, 13_000)
    killed = "fate" in evidence
    first = _WAR_START if killed else max(_WAR_START - 1_000, member.birth + 6_570)
    since = life.day_between(first, life.end - 30)
    year = dt.date.fromordinal(birth).year
    given = world.given_name(sex, year)
    father = world.given_name("male", year - 28)
    name = f"{surname_for(member.family_name, sex)} {given} {patronymic(father, sex)}"
    payload: dict[str, object] = {
        "relation": relation,
        "relative_name": name,
        "relative_birth_date": life.iso(birth),
        "relative_sex": sex,
        "seriously_ill": False,
        "alone": False,
        **evidence,
    }
    source, basis = ("register", "service") if killed else ("social", "care")
    life.add("family", payload, source=source, basis=basis, valid_from=since)
    return since


def _child_disabled_from(link: ChildLink) -> int:
    return link.member.disability_from if link.member is not None else link.birth + 365


def write_deferral(life: Life) -> None:
    member, rng = life.member, life.rng
    if not life.male or not life.ukrainian or member.death is not None or life.serving:
        return
    if life.registered not in ("liable", "reservist") or not 25 <= life.age <= 60:
        return
    if life.end < _WAR_START + 30:
        return
    grounds = _grounds(life)
    life.deferral_grounds = [ground for ground, _ in grounds]
    granted = [(ground, arose) for ground, arose in grounds if rng.random() < 0.8]
    if not granted:
        return
    ground, arose = granted[0]
    first = max(_WAR_START, life.end - 365, life.turns(25), arose)
    if first > life.end:
        return
    since = life.day_between(first, life.end)
    if ground == "student":
        until = max(life.student_until, since + 30)
    elif ground == "temporarily_unfit" and life.fitness_review is not None:
        until = max(life.fitness_review, since + 30)
    elif rng.random() < 0.12:
        until = since + rng.randint(30, 180)  # expired, or about to
    else:
        until = since + 365
    year = dt.date.fromordinal(since).year
    payload = {"ground": ground, "decision_ref": f"D-{year}-{rng.randrange(10**7):07d}"}
    source = "register" if rng.random() < 0.6 else "officer"
    life.add("deferral", payload, source=source, basis="deferral", valid_from=since, valid_to=until)
