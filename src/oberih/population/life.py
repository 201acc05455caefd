"""One person's life as the register sees it: the context the fact writers share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from random import Random

from oberih.population.economy import Employer
from oberih.population.households import YEAR, Member, anniversary_of
from oberih.population.journal import PersonJournal
from oberih.population.world import World


@dataclass(slots=True)
class Life:
    """A member being written, with what earlier writers found out for later ones."""

    world: World
    member: Member
    journal: PersonJournal
    rng: Random
    end: int  # last world day of the person's record: death or the day before the reference
    age: int  # completed years at ``end``
    iso_cache: dict[int, str]
    # Found out while writing, read by later writers:
    student_level: str | None = None  # full-time, first time at the level, enrolled now
    student_from: int = 0
    student_until: int = 0
    teacher: bool = False  # teaching or research at 0.75 of full time or more
    employer: Employer | None = None
    hired: int = 0
    medical_position: str | None = None
    fitness: str | None = None
    fitness_day: int = 0
    fitness_review: int | None = None
    released: bool = False  # removed for age or excluded for health: free to leave the country
    registered: str | None = None  # the latest military registration category
    foreign_passport_from: int | None = None
    deferral_grounds: list[str] = field(default_factory=list)
    # The journal's add, bound once: it is called ten times per person.
    add: Callable[..., None] = field(init=False)

    def __post_init__(self) -> None:
        self.add = self.journal.add

    @property
    def male(self) -> bool:
        return self.member.sex == "male"

    @property
    def serving(self) -> bool:
        """In service now (a spell since 24.02.2022 that has not ended)."""
        return any(spell.end is None for spell in self.member.services)

    @property
    def ukrainian(self) -> bool:
        return self.member.citizenship == "UKR"

    def iso(self, day: int) -> str:
        text = self.iso_cache.get(day)
        if text is None:
            text = dt.date.fromordinal(day).isoformat()
            if len(self.iso_cache) > 50_000:
                self.iso_cache.clear()  # bounded: the cache must not grow with the population
            self.iso_cache[day] = text
        return text

    def turns(self, years: int) -> int:
        return anniversary_of(self.member.birth_date, years)

    def age_on(self, day: int) -> int:
        return int((day - self.member.birth) / YEAR)

    def day_between(self, first: int, last: int) -> int:
        """A day in first..last; ``last`` when the range is empty (never after ``last``)."""
        return last if last <= first else self.rng.randint(first, last)
