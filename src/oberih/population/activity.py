"""Education and employment facts, and the reservation of employees of critical enterprises.

SOURCES
- Enrolment: about 1.1M higher-education students, 0.2M in vocational schools and 0.3M in
  professional pre-higher colleges (ukrstat / Ministry of Education 2021/22), which gives the
  shares by age below: 12 % of 15-18-year-olds in vocational schools and 12 % in colleges, 50 %
  of 17-22-year-olds studying for a bachelor's degree (80 % full-time), 20 % of 22-24-year-olds
  for a master's, 0.4 % of 23-34-year-olds doctoral candidates (about 25,000 aspirants), 3 %
  of 23-45-year-olds studying part-time for a second degree, and 3 % of men 25-35 enrolled
  full-time since 2022, many of them at a level they already had (estimates).
- First time at the level: 92 % of students (estimate; the deferral needs it, Law 3543-XII
  art. 23).
- Completed education of adults 22-60: master/specialist 30 %, bachelor 12 %, junior specialist
  / pre-higher 18 %, vocational 25 % (estimate after ukrstat education attainment).
- Registered employment by age and sex: employment rates of the ukrstat labour-force survey
  2021 less about a fifth informal work (estimate).
- Part-time shares and teaching loads: estimate; teachers work 1.0-1.5 rates often.
- Reservation: at most 50 % of an enterprise's liable employees (CMU Res. 76); half of the
  eligible men at critical enterprises are reserved, for up to 12 months (term as amended;
  unverified).
"""

from __future__ import annotations

import datetime as dt

from oberih.population.economy import Institution, local_institution
from oberih.population.life import Life
from oberih.population.tables import WeightedTable
from oberih.population.world import RESERVATION_START

_RESERVATION_START = RESERVATION_START.toordinal()
_DURATION = {"vocational": 3, "professional_pre_higher": 3, "bachelor": 4, "master": 2, "phd": 4}
_COMPLETED = WeightedTable(
    [
        ("master", 30.0),
        ("bachelor", 12.0),
        ("professional_pre_higher", 18.0),
        ("vocational", 25.0),
        (None, 15.0),
    ]
)
_ENTRY_AGE = {"vocational": 15, "professional_pre_higher": 15, "bachelor": 17, "master": 21}
_TEACHING_SHARES = WeightedTable(
    [(1.0, 50.0), (1.25, 10.0), (1.5, 5.0), (0.75, 15.0), (0.5, 15.0), (0.25, 5.0)]
)
_OTHER_SHARES = WeightedTable([(1.0, 88.0), (0.5, 8.0), (0.75, 2.0), (0.25, 2.0)])


# Education -------------------------------------------------------------------------------


def _current_enrolment(life: Life) -> tuple[str, str, bool] | None:
    """(level, form, first at level) of a person studying now, or None."""
    rng, age = life.rng, life.age
    draw = rng.random()
    if 15 <= age <= 18 and draw < 0.24:
        return ("vocational" if draw < 0.12 else "professional_pre_higher"), "full_time", True
    draw = rng.random()
    if 17 <= age <= 22 and draw < 0.5:
        return "bachelor", ("full_time" if rng.random() < 0.8 else "part_time"), rng.random() < 0.92
    if 22 <= age <= 24 and draw < 0.2:
        return "master", ("full_time" if rng.random() < 0.7 else "part_time"), rng.random() < 0.92
    if 23 <= age <= 34 and draw < 0.004:
        return "phd", ("full_time" if rng.random() < 0.6 else "part_time"), True
    if life.male and 25 <= age <= 35 and draw < 0.034:
        # Men of mobilisation age who enrolled full-time since 2022 (a widely reported wave).
        return (
            rng.choice(("bachelor", "master", "professional_pre_higher")),
            "full_time",
            rng.random() < 0.6,
        )
    if 23 <= age <= 45 and draw < 0.03:
        level = "bachelor" if rng.random() < 0.5 else "master"
        return level, "part_time", rng.random() < 0.5
    return None


def _institution(life: Life, level: str) -> Institution:
    member, world, rng = life.member, life.world, life.rng
    home = member.actual or member.settlement
    if level in ("vocational", "professional_pre_higher"):
        return local_institution(home, level)
    local = world.universities.get(home.region)
    if local and rng.random() < 0.7:
        return local[rng.randrange(len(local))]
    big = world.universities[rng.choice(("UA80", "UA80", "UA46", "UA63", "UA51"))]
    return big[rng.randrange(len(big))]


def _education_payload(
    level: str, form: str, institution: Institution, first: bool
) -> dict[str, object]:
    return {
        "level": level,
        "form": form,
        "institution_code": institution.code,
        "institution_name": institution.name,
        "first_at_level": first,
    }


def _september_first(year: int) -> int:
    return dt.date(year, 9, 1).toordinal()


def _june_thirtieth(year: int) -> int:
    return dt.date(year, 6, 30).toordinal()


def write_education(life: Life) -> None:
    if life.member.death is None:
        _write_current_study(life)
    if 22 <= life.age <= 60:
        _write_completed_study(life)


def _write_current_study(life: Life) -> None:
    enrolment = _current_enrolment(life)
    if enrolment is None:
        return
    level, form, first = enrolment
    horizon = dt.date.fromordinal(life.end)
    academic_year = horizon.year if horizon.month >= 9 else horizon.year - 1
    start_year = academic_year - life.rng.randrange(_DURATION[level])
    start = _september_first(start_year)
    until = _june_thirtieth(start_year + _DURATION[level])
    payload = _education_payload(level, form, _institution(life, level), first)
    life.add(
        "education",
        payload,
        source="education",
        basis="education",
        valid_from=start,
        valid_to=until,
    )
    if form == "full_time" and first:
        life.student_level = level
        life.student_from, life.student_until = start, until


def _write_completed_study(life: Life) -> None:
    level = _COMPLETED.draw(life.rng)
    if level is None:
        return
    start_year = life.member.birth_date.year + _ENTRY_AGE[level] + life.rng.randint(0, 2)
    start = _september_first(start_year)
    until = _june_thirtieth(start_year + _DURATION[level] + (3 if level == "master" else 0))
    if until > life.end:
        return
    form = "full_time" if life.rng.random() < 0.8 else "part_time"
    payload = _education_payload(level, form, _institution(life, level), True)
    life.add(
        "education",
        payload,
        source="education",
        basis="education",
        valid_from=start,
        valid_to=until,
    )


# Employment ------------------------------------------------------------------------------


def _employment_rate(life: Life) -> float:
    age = life.age
    if age < 18 or age > 70:
        return 0.0
    if age < 22:
        rate = 0.15
    elif age < 25:
        rate = 0.4
    elif age < 60:
        rate = 0.6 if life.male else 0.55
    elif age < 65:
        rate = 0.3
    else:
        rate = 0.12
    if life.student_level is not None:
        rate = 0.15
    if life.member.disability == "I":
        rate = 0.05
    return rate


def write_employment(life: Life) -> None:
    member, rng = life.member, life.rng
    if rng.random() >= _employment_rate(life):
        return
    region = (member.actual or member.settlement).region
    if rng.random() < 0.08:
        region = "UA80"
    employer = life.world.employers[region].draw(rng)
    sector = employer.sector
    position = rng.choice(sector.positions)
    teaching = medical = False
    # Teachers and medical staff are mostly women (about 85 % and 80 %, estimate).
    if sector.teaching_positions and rng.random() < (0.3 if life.male else 0.8):
        position, teaching = rng.choice(sector.teaching_positions), True
    elif sector.medical_positions and rng.random() < (0.4 if life.male else 0.7):
        position, medical = rng.choice(sector.medical_positions), True
    share = (_TEACHING_SHARES if teaching else _OTHER_SHARES).draw(rng)
    adult = min(life.turns(18), life.end)
    years = rng.expovariate(1 / 6.0)
    hired = life.day_between(max(adult, life.end - int(years * 365.25)), life.end)
    left = member.death
    if member.exit_day is not None and member.return_day is None and rng.random() < 0.6:
        left = member.exit_day
    payload = {
        "employer_code": employer.code,
        "employer_name": employer.name,
        "position": position,
        "share_of_full_time": share,
        "critical_enterprise": employer.critical,
        "teaching_or_research": teaching,
    }
    ended = left if left is not None and left >= hired else None
    life.add(
        "employment", payload, source="tax", basis="employment", valid_from=hired, valid_to=ended
    )
    if ended is None:
        life.employer, life.hired = employer, hired
        life.teacher = teaching and share >= 0.75
        life.medical_position = position if medical else None
    if hired - adult > 3 * 365 and rng.random() < 0.25:
        _write_previous_job(life, adult, hired - 1)


def _write_previous_job(life: Life, first: int, last: int) -> None:
    rng = life.rng
    employer = life.world.employers[life.member.settlement.region].draw(rng)
    since = life.day_between(first, last - 180)
    payload = {
        "employer_code": employer.code,
        "employer_name": employer.name,
        "position": rng.choice(employer.sector.positions),
        "share_of_full_time": 1.0,
        "critical_enterprise": employer.critical,
        "teaching_or_research": False,
    }
    life.add(
        "employment", payload, source="tax", basis="employment", valid_from=since, valid_to=last
    )


def write_reservation(life: Life) -> None:
    """Reservation of a liable man at a critical enterprise (CMU Res. 76 of 27.01.2023)."""
    employer, rng = life.employer, life.rng
    if employer is None or not employer.critical or not life.male or not life.ukrainian:
        return
    if not 25 <= life.age <= 60 or life.registered not in ("liable", "reservist"):
        return
    if life.serving:
        return
    first = max(life.hired, _RESERVATION_START, life.turns(25), life.end - 540)
    if first > life.end or rng.random() >= 0.5:
        return
    since = life.day_between(first, life.end)
    year = dt.date.fromordinal(since).year
    payload = {
        "employer_code": employer.code,
        "decision_ref": f"ME-{year}-{rng.randrange(10**6):06d}",
    }
    until = since + rng.randint(180, 365)
    if life.member.death is not None:
        until = min(until, life.member.death)
    life.add(
        "reservation",
        payload,
        source="employer",
        basis="reservation",
        valid_from=since,
        valid_to=until,
    )
