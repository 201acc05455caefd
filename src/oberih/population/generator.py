"""The synthetic population generator: households of persons, each with their journal facts.

No real personal data: every name, number and address is drawn from the tables of this
package by a generator seeded with ``seed``. The same (persons, seed, reference_date) gives a
byte-identical population, and a smaller run is a prefix of a larger one with the same seed
(except, possibly, the last household, cut to fit). Persons are yielded one at a time; only the
household being written is held in memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from oberih.population.activity import write_education, write_employment, write_reservation
from oberih.population.civil import (
    write_addresses,
    write_contacts,
    write_death,
    write_family,
    write_identifiers,
    write_identity,
)
from oberih.population.deferrals import write_deferral
from oberih.population.households import YEAR, HouseholdMaker, Member
from oberih.population.journal import SECONDS_PER_DAY, PersonJournal
from oberih.population.life import Life
from oberih.population.military import (
    plan_services,
    write_disability,
    write_registration,
    write_service,
)
from oberih.population.models import GeneratedPerson
from oberih.population.travel import write_border_crossings
from oberih.population.world import World

_LOAD_SPREAD_SECONDS = 5 * SECONDS_PER_DAY  # the initial load took a few days


def generate_population(
    *, persons: int, seed: int, reference_date: dt.date
) -> Iterator[GeneratedPerson]:
    """Stream ``persons`` synthetic persons, deterministic for (persons, seed, reference_date)."""
    if persons < 0:
        raise ValueError("the number of persons must not be negative")
    if reference_date.year < 1995:
        raise ValueError("the reference date must be 1995 or later")
    return _generate(persons, seed, reference_date)


def _generate(persons: int, seed: int, reference_date: dt.date) -> Iterator[GeneratedPerson]:
    world = World(seed=seed, reference_date=reference_date)
    households = HouseholdMaker(world)
    iso_cache: dict[int, str] = {}
    remaining = persons
    while remaining > 0:
        members = households.household(remaining)
        for member in members:
            plan_services(world, member)
        households.reconcile(members)
        for member in members:
            yield _person(world, member, iso_cache)
        remaining -= len(members)


def _person(world: World, member: Member, iso_cache: dict[int, str]) -> GeneratedPerson:
    rng = world.rng
    end = world.horizon if member.death is None else member.death
    load_at = world.load_day * SECONDS_PER_DAY + rng.randrange(_LOAD_SPREAD_SECONDS)
    journal = PersonJournal(world.clock, member.person_id, load_at)
    life = Life(world, member, journal, rng, end, int((end - member.birth) / YEAR), iso_cache)
    write_identity(life)  # first: every other fact is recorded after it
    write_identifiers(life)
    write_addresses(life)
    write_contacts(life)
    write_family(life)
    write_education(life)
    write_employment(life)
    write_disability(life)
    write_service(life)
    write_registration(life)
    write_reservation(life)
    write_deferral(life)
    write_border_crossings(life)
    write_death(life)
    facts = journal.facts(rng)
    return GeneratedPerson(member.person_id, facts[0].recorded_at, facts)
