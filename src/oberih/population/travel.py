"""Border crossings: emigration since 24.02.2022 and ordinary trips.

SOURCES
- Emigration: decided per household (see ``households``); the mother and her minor children
  leave together, a third come back.
- Trips: 30 % of adults with a foreign passport crossed the border in the last two years, one
  or two trips of 2-21 days (estimate after Border Guard counts of crossings).
- Under martial law men 18-60 leave only on exempting grounds (CMU Res. 57 of 27.01.1995 as
  amended; the list here is an estimate), men 18-22 since 27.08.2025 (unverified).
"""

from __future__ import annotations

from oberih.population.deferrals import EXIT_GROUNDS
from oberih.population.life import Life
from oberih.population.military_data import AIRPORT_CHECKPOINT, FLIGHT_COUNTRIES, ROAD_CHECKPOINTS
from oberih.population.world import WAR_START, YOUNG_MEN_EXIT_FROM

_WAR_START = WAR_START.toordinal()
_YOUNG_MEN_EXIT_FROM = YOUNG_MEN_EXIT_FROM.toordinal()


def _crossing(life: Life, direction: str, day: int, place: tuple[str, str]) -> None:
    payload = {"direction": direction, "checkpoint": place[0], "country": place[1]}
    life.add(
        "border_crossing", payload, source="border", basis="border", valid_from=day, speed="border"
    )


def _checkpoint(life: Life, day: int) -> tuple[str, str]:
    if day < _WAR_START and life.rng.random() < 0.3:
        return AIRPORT_CHECKPOINT, FLIGHT_COUNTRIES.draw(life.rng)
    return ROAD_CHECKPOINTS.draw(life.rng)


def _may_leave(life: Life, day: int) -> bool:
    if day < _WAR_START or not life.male:
        return True
    age = life.age_on(day)
    if not 18 <= age <= 60:
        return True
    if 18 <= age <= 22 and day >= _YOUNG_MEN_EXIT_FROM:
        return True
    if life.released:
        return True
    return any(ground in EXIT_GROUNDS for ground in life.deferral_grounds)


def write_border_crossings(life: Life) -> None:
    member = life.member
    if member.exit_day is not None and member.exit_day <= life.end:
        place = _checkpoint(life, member.exit_day)
        _crossing(life, "exit", member.exit_day, place)
        if member.return_day is not None and member.return_day <= life.end:
            _crossing(life, "entry", member.return_day, place)
        return
    if member.return_day is not None and member.return_day <= life.end:
        _crossing(
            life, "entry", member.return_day, _checkpoint(life, member.return_day)
        )  # born abroad
        return
    if life.foreign_passport_from is None or life.age < 18 or life.rng.random() >= 0.3:
        return
    _write_trips(life, life.foreign_passport_from)


def _write_trips(life: Life, passport_from: int) -> None:
    rng = life.rng
    first = max(passport_from, life.end - 730)
    days = sorted(life.day_between(first, life.end) for _ in range(rng.randint(1, 2)))
    back = 0
    for day in days:
        if day <= back or not _may_leave(life, day):
            continue
        place = _checkpoint(life, day)
        _crossing(life, "exit", day, place)
        back = day + rng.randint(2, 21)
        if back > life.end:
            return  # still abroad
        _crossing(life, "entry", back, place)
