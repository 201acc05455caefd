"""Military facts: service history, disability, medical commissions and registration.

SOURCES
- Registration: men register in the year they turn 17, 1 January - 31 July (Law 2232-XII
  art. 14); conscripts become liable at 27, at 25 since Bill 9281 (April 2024; day
  unconfirmed), automatically within 30 days (CMU Res. 916 of 2025); the reserve age limit of
  privates is 60 (Law 2232-XII art. 22, as found; limits by rank not modelled). Men not
  registered: 3 % (estimate). Women with medical or pharmaceutical professions are registered
  (CMU Res. 1487; from 01.10.2023, date unverified). "Data being clarified": 2 % (estimate).
- Service: 22 % of men born 1962-2003 did conscript service (estimate); 3 % of men born
  1955-1996 served in 2014-2021 (about 400,000 combat veterans of the ATO/JFO, estimate);
  since 24.02.2022, by the reference date about 10 % of men mobilised and 3 % under contract
  (estimate: over 1M mobilised by 2025 among about 9M men 25-60), 70 % of them in combat, 15 %
  of them released since, 3 % killed (estimate; no official figures). Operational reserve
  (reservists) 1.5 % of liable men 25-45 (estimate).
- Medical commission: everyone called up had a decision; 40 % of liable men 25-60 had one
  within two years (estimate). Before 04.05.2024 the categories included "limited fitness"
  (abolished by Law 3621-IX); 80 % of the men found of limited fitness were re-examined under
  the new categories (estimate). Category shares: estimate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from random import Random

from oberih.population.households import Member, ServiceSpell, anniversary
from oberih.population.life import Life
from oberih.population.military_data import (
    MEDICAL_OFFICER_SPECIALTY,
    MEDICAL_SPECIALTY,
    OFFICER_SPECIALTIES,
    PRIVATE_SPECIALTIES,
    RANKS,
)
from oberih.population.tables import WeightedTable
from oberih.population.world import (
    CONSCRIPT_AGE_25_FROM,
    FITNESS_CATEGORIES_FROM,
    WAR_START,
    WOMEN_MEDICS_START,
    World,
)

_WAR_START = WAR_START.toordinal()
_FITNESS_FROM = FITNESS_CATEGORIES_FROM.toordinal()
_AGE_25_FROM = CONSCRIPT_AGE_25_FROM.toordinal()
_WOMEN_MEDICS_START = WOMEN_MEDICS_START.toordinal()
_ATO_START = dt.date(2014, 4, 14).toordinal()
_ATO_LAST = dt.date(2021, 6, 30).toordinal()
_CONTRACT_ERA = dt.date(2016, 1, 1).toordinal()
_CONSCRIPTION_LAST = dt.date(2021, 12, 31).toordinal()
_YEAR = 365
_COMPOSITIONS = WeightedTable([("private", 75.0), ("sergeant", 20.0), ("officer", 5.0)])
_FITNESS_HEALTHY = WeightedTable(
    [
        ("fit", 70.0),
        ("fit_support", 16.0),
        ("temporarily_unfit", 8.0),
        ("unfit_review", 4.0),
        ("unfit_excluded", 2.0),
    ]
)
_FITNESS_GROUP_III = WeightedTable(
    [("fit_support", 50.0), ("unfit_review", 30.0), ("temporarily_unfit", 20.0)]
)
_FITNESS_GROUP_I_II = WeightedTable([("unfit_excluded", 70.0), ("unfit_review", 30.0)])
_FITNESS_CALLED_UP = WeightedTable([("fit", 85.0), ("fit_support", 15.0)])
# Categories in force until 03.05.2024; "limited_fit" (обмежено придатний) was abolished.
_OLD_FITNESS = WeightedTable(
    [("fit", 60.0), ("limited_fit", 30.0), ("temporarily_unfit", 7.0), ("unfit_excluded", 3.0)]
)
_FITNESS_CONSCRIPT = WeightedTable(
    [
        ("fit", 80.0),
        ("fit_support", 10.0),
        ("temporarily_unfit", 6.0),
        ("unfit_review", 3.0),
        ("unfit_excluded", 1.0),
    ]
)
# Planning (before any fact is written, so that deaths in service are known) --------------


def plan_services(world: World, member: Member) -> None:
    """Decide a man's service history; a death in service moves his date of death."""
    if member.sex != "male" or member.citizenship != "UKR" or member.role in ("child", "ward"):
        return
    rng = world.rng
    year = member.birth_date.year
    last = world.horizon if member.death is None else member.death
    if 1962 <= year <= 2003 and rng.random() < 0.22:
        start = anniversary(member.birth, 18) + rng.randint(0, 300)
        if start <= min(last, _CONSCRIPTION_LAST):
            member.services.append(_spell(rng, "conscript", start, start + 548, "private", False))
    if 1955 <= year <= 1996 and rng.random() < 0.03:
        start = max(_ATO_START, anniversary(member.birth, 18)) + rng.randint(0, 2_000)
        if start <= min(last, _ATO_LAST):
            kind = "mobilised" if start < _CONTRACT_ERA else "contract"
            composition = _COMPOSITIONS.draw(rng)
            end = start + rng.randint(365, 1_100)
            member.services.append(_spell(rng, kind, start, end, composition, rng.random() < 0.85))
    _plan_war_service(world, member, last)


def _spell(
    rng: Random, kind: str, start: int, end: int | None, composition: str, combat: bool
) -> ServiceSpell:
    unit = f"в/ч А{rng.randint(1_000, 7_999)}"
    return ServiceSpell(kind, start, end, combat, unit, composition, RANKS[composition].draw(rng))


def _plan_war_service(world: World, member: Member, last: int) -> None:
    rng = world.rng
    if last <= _WAR_START + 30 or member.disability in ("I", "II"):
        return
    exposure = min(1.0, (world.horizon - _WAR_START) / (3.5 * 365.2425))
    draw = rng.random()
    if draw < 0.10 * exposure:
        kind, first = "mobilised", anniversary(member.birth, 25)
    elif draw < 0.13 * exposure:
        kind, first = "contract", anniversary(member.birth, 18)
    else:
        return
    first = max(first, _WAR_START)
    until = min(last, anniversary(member.birth, 60))
    if first > until:
        return
    start = rng.randint(first, until)
    end: int | None = None
    if rng.random() < 0.15:
        end = start + rng.randint(90, 700)
        end = end if end <= world.horizon else None
    if rng.random() < 0.03 and start + 30 <= world.horizon:
        died = rng.randint(start + 30, world.horizon)
        if member.death is None or died < member.death:
            member.death = died
        end = member.death if end is None else min(end, member.death)
    composition = _COMPOSITIONS.draw(rng)
    spell = _spell(rng, kind, start, end, composition, rng.random() < 0.7)
    if spell.combat and member.death is None and rng.random() < 0.01:
        spell = _released_from_captivity(rng, spell, world.horizon)
    member.services.append(spell)


def _released_from_captivity(rng: Random, spell: ServiceSpell, horizon: int) -> ServiceSpell:
    """Taken prisoner and exchanged; most are discharged some months later (estimate)."""
    released = rng.randint(spell.start + 60, spell.start + 900)
    if released > horizon:
        return spell
    discharged = released + rng.randint(60, 365)
    end = discharged if discharged <= horizon else None
    return replace(spell, end=end, released_from_captivity=released)


# Disability and service facts ------------------------------------------------------------


def write_disability(life: Life) -> None:
    member = life.member
    if member.disability in ("I", "II", "III") and member.disability_from <= life.end:
        payload = {"group": member.disability}
        life.add(
            "disability",
            payload,
            source="social",
            basis="disability",
            valid_from=member.disability_from,
        )


def write_service(life: Life) -> None:
    for spell in life.member.services:
        if spell.start > life.end:
            continue
        payload: dict[str, object] = {
            "service_kind": spell.kind,
            "unit": spell.unit,
            "combat_participant": spell.combat,
        }
        if spell.released_from_captivity is not None:
            payload["captivity_released_on"] = life.iso(spell.released_from_captivity)
        life.add(
            "service",
            payload,
            source="register",
            basis="service",
            valid_from=spell.start,
            valid_to=spell.end,
        )


# Registration ----------------------------------------------------------------------------


def _registration(
    life: Life,
    category: str,
    day: int,
    *,
    source: str = "register",
    specialty: str | None = None,
    rank: str | None = None,
    composition: str | None = None,
    removal_reason: str | None = None,
) -> None:
    payload: dict[str, object] = {
        "category": category,
        "office_code": life.member.settlement.office_code,
    }
    if specialty is not None:
        payload["specialty_code"] = specialty
    if rank is not None:
        payload["rank"] = rank
    if composition is not None:
        payload["composition"] = composition
    if removal_reason is not None:
        payload["removal_reason"] = removal_reason
    payload["data_being_clarified"] = life.rng.random() < 0.02
    life.add("military_registration", payload, source=source, basis="registration", valid_from=day)
    life.registered = category


def write_registration(life: Life) -> None:
    if not life.ukrainian:
        return
    if life.male:
        _write_man_registration(life)
    elif life.medical_position is not None and 18 <= life.age <= 60:
        _write_woman_medic_registration(life)


def _write_man_registration(life: Life) -> None:
    member, rng = life.member, life.rng
    year = member.birth_date.year + 17
    registered = dt.date(year, 1, 1).toordinal() + rng.randint(0, 211)  # 1 January - 31 July
    if registered > life.end:
        return
    at_60 = life.turns(60)
    if at_60 < life.end:
        _write_removed_for_age(life, at_60)
        return
    if rng.random() < 0.03 and not member.services:
        _registration(life, "not_registered", min(registered + 200, life.end))
        return
    if registered >= life.world.load_day - 8 * _YEAR:
        _registration(life, "conscript", registered, source="officer")
    liable = _liable_day(life)
    fitness_day = _write_medical(life, registered, liable)
    if liable <= life.end and (
        fitness_day is None or liable < fitness_day[1] or fitness_day[0] != "unfit_excluded"
    ):
        _write_liable(life, liable)
    _write_rank_updates(life)
    if fitness_day is not None and fitness_day[0] == "unfit_excluded":
        excluded = min(fitness_day[1] + rng.randint(1, 20), life.end)
        _registration(life, "excluded", excluded, source="officer", removal_reason="health")
        life.released = True
    if member.death is not None and life.registered in ("conscript", "liable", "reservist"):
        removed = member.death + rng.randint(1, 30)
        if removed <= life.world.horizon:
            _registration(life, "removed", removed, removal_reason="death")


def _write_removed_for_age(life: Life, at_60: int) -> None:
    if at_60 < life.world.reference_day - 10 * _YEAR:
        return  # removed long ago; the register keeps no record
    liable = life.turns(27)
    composition, rank, specialty = _reserve_rank(life, liable)
    _registration(life, "liable", liable, rank=rank, composition=composition, specialty=specialty)
    removed = at_60 + life.rng.randint(1, 60)
    _registration(life, "removed", min(removed, life.end), removal_reason="age")
    life.released = True


def _liable_day(life: Life) -> int:
    """When a conscript became liable: after conscript service, else at 27 or (since 2024) 25."""
    for spell in life.member.services:
        if spell.kind == "conscript" and spell.end is not None:
            return spell.end + life.rng.randint(5, 30)
    at_25, at_27 = life.turns(25), life.turns(27)
    if at_25 >= _AGE_25_FROM:
        transfer = at_25
    elif at_27 < _AGE_25_FROM:
        transfer = at_27
    else:
        transfer = _AGE_25_FROM
    return transfer + life.rng.randint(1, 30)


def _reserve_rank(life: Life, as_of: int) -> tuple[str, str, str | None]:
    """(composition, rank, specialty) the register shows for a liable man on day ``as_of``."""
    rng = life.rng
    spells = [spell for spell in life.member.services if spell.start <= as_of]
    if spells:
        latest = spells[-1]
        composition, rank = latest.composition, latest.rank
    elif rng.random() < 0.03:  # officers trained at a university's military department
        composition, rank = "officer", rng.choice(("молодший лейтенант", "лейтенант"))
    else:
        composition, rank = "private", "солдат"
    specialty: str | None
    if life.medical_position is not None:
        specialty = MEDICAL_OFFICER_SPECIALTY if composition == "officer" else MEDICAL_SPECIALTY
    elif composition == "officer":
        specialty = OFFICER_SPECIALTIES.draw(rng)
    else:
        specialty = PRIVATE_SPECIALTIES.draw(rng) if rng.random() < 0.7 or spells else None
    return composition, rank, specialty


def _write_liable(life: Life, liable: int) -> None:
    composition, rank, specialty = _reserve_rank(life, liable)
    source = "register" if not life.member.services else "officer"
    _registration(
        life,
        "liable",
        liable,
        source=source,
        specialty=specialty,
        rank=rank,
        composition=composition,
    )
    if 25 <= life.age <= 45 and life.rng.random() < 0.015:
        joined = life.day_between(max(liable, life.turns(25)), life.end)
        _registration(
            life,
            "reservist",
            joined,
            source="officer",
            specialty=specialty,
            rank=rank,
            composition=composition,
        )


def _write_rank_updates(life: Life) -> None:
    """Service since 24.02.2022 updates the record's rank and composition."""
    for spell in life.member.services:
        if spell.start >= _WAR_START and spell.start <= life.end and life.registered == "liable":
            specialty = (
                PRIVATE_SPECIALTIES.draw(life.rng)
                if spell.composition != "officer"
                else OFFICER_SPECIALTIES.draw(life.rng)
            )
            _registration(
                life,
                "liable",
                spell.start,
                specialty=specialty,
                rank=spell.rank,
                composition=spell.composition,
            )


def _write_woman_medic_registration(life: Life) -> None:
    first = max(life.hired, _WOMEN_MEDICS_START)
    if first > life.end:
        return
    registered = life.day_between(first, min(life.end, first + 450))
    doctor = life.medical_position in ("лікар", "фармацевт") and life.rng.random() < 0.6
    if doctor:
        _registration(
            life,
            "liable",
            registered,
            source="officer",
            specialty=MEDICAL_OFFICER_SPECIALTY,
            rank="лейтенант",
            composition="officer",
        )
    else:
        _registration(
            life,
            "liable",
            registered,
            source="officer",
            specialty=MEDICAL_SPECIALTY,
            rank="солдат",
            composition="private",
        )


# Medical commission ----------------------------------------------------------------------


def _write_medical(life: Life, registered: int, liable: int) -> tuple[str, int] | None:
    """Medical-commission decisions; returns the latest as (fitness, day), if any."""
    rng, member = life.rng, life.member
    war = next((s for s in member.services if s.start >= _WAR_START), None)
    earlier = _write_decision_before_2024(life, war, liable)
    if war is not None and war.start >= _FITNESS_FROM and war.start <= life.end:
        fitness, day = _FITNESS_CALLED_UP.draw(rng), war.start - rng.randint(1, 20)
    elif earlier == "limited_fit" and rng.random() < 0.8:
        # "Limited fitness" was abolished: such men were re-examined (Law 3621-IX).
        first = max(_FITNESS_FROM, life.fitness_day + 1)
        day, fitness = (
            life.day_between(first, min(first + 270, life.end)),
            _fitness_for_health(life),
        )
    elif 25 <= life.age <= 60 and liable <= life.end and rng.random() < 0.4:
        day = life.day_between(max(_FITNESS_FROM, life.end - 730, liable), life.end)
        fitness = _fitness_for_health(life)
    elif registered >= _FITNESS_FROM and rng.random() < 0.6:
        fitness, day = _FITNESS_CONSCRIPT.draw(rng), registered
    else:
        return (earlier, life.fitness_day) if earlier is not None else None
    if day > life.end or day < _FITNESS_FROM or day <= life.fitness_day:
        return (earlier, life.fitness_day) if earlier is not None else None
    _write_decision(life, fitness, day)
    return fitness, day


def _write_decision_before_2024(life: Life, war: ServiceSpell | None, liable: int) -> str | None:
    """A decision under the categories in force until 03.05.2024 (called up, or checked)."""
    rng = life.rng
    if war is not None and _WAR_START <= war.start < _FITNESS_FROM and war.start <= life.end:
        day = max(war.start - rng.randint(1, 20), _WAR_START)
        fitness = "fit" if rng.random() < 0.85 else "limited_fit"
    elif 25 <= life.age <= 60 and max(_WAR_START, liable) < min(_FITNESS_FROM, life.end):
        if rng.random() >= 0.15:
            return None
        day = life.day_between(max(_WAR_START, liable), min(_FITNESS_FROM - 1, life.end))
        fitness = _OLD_FITNESS.draw(rng)
    else:
        return None
    if day > life.end or day >= _FITNESS_FROM:
        return None
    _write_decision(life, fitness, day)
    return fitness


def _write_decision(life: Life, fitness: str, day: int) -> None:
    rng = life.rng
    payload: dict[str, object] = {"fitness": fitness, "decision_date": life.iso(day)}
    review: int | None = None
    if fitness in ("temporarily_unfit", "unfit_review"):
        # Treatment or leave for up to a year; re-examination after 6-12 months.
        review = day + (
            rng.randint(60, 365) if fitness == "temporarily_unfit" else rng.randint(180, 365)
        )
        payload["review_date"] = life.iso(review)
    office = life.world.offices[life.member.settlement.office_code]
    payload["commission"] = f"ВЛК — {office.name}"
    life.add("medical_decision", payload, source="health", basis="medical", valid_from=day)
    life.fitness, life.fitness_day, life.fitness_review = fitness, day, review


def _fitness_for_health(life: Life) -> str:
    group = life.member.disability
    if group in ("I", "II"):
        return _FITNESS_GROUP_I_II.draw(life.rng)
    if group == "III":
        return _FITNESS_GROUP_III.draw(life.rng)
    return _FITNESS_HEALTHY.draw(life.rng)
