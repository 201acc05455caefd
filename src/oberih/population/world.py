"""The state of one generation run: the seeded generator, look-up tables, counters and dates.

Everything random comes from one ``random.Random(seed)``, drawn in a fixed order, so the same
(persons, seed, reference date) always gives the same population. Memory does not grow with
the number of persons: the counters are per birth date or global.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from random import Random

from oberih.identifiers import make_document_number, make_rnokpp, make_unzr
from oberih.identifiers.documents import (
    CYRILLIC_SERIES_LETTERS,
    ID_CARD_DIGITS,
    LATIN_SERIES_LETTERS,
    SERIES_NUMBER_DIGITS,
)
from oberih.names import feminine_surname, patronymic_from, to_latin
from oberih.population.demography import adult_pyramid
from oberih.population.economy import Employer, Institution, make_employers, universities
from oberih.population.journal import Clock
from oberih.population.names_data import generation_of, given_name_tables, surname_table
from oberih.population.places import Office, Region, recruitment_offices, region_table
from oberih.population.tables import FastRandom, WeightedTable

# Dates the generator's rules depend on (world time).
ID_CARD_START = dt.date(2016, 1, 11)  # ID cards replace passport booklets (CMU Res. 302, 2015)
UNZR_BIRTHS_FROM = dt.date(2013, 1, 1)  # demographic register (Law 5492-VI, from 2013)
WAR_START = dt.date(2022, 2, 24)  # martial law and general mobilisation
RESERVATION_START = dt.date(2023, 1, 27)  # CMU Res. 76
WOMEN_MEDICS_START = dt.date(2023, 10, 1)  # registration of women with medical professions
CONSCRIPT_AGE_25_FROM = dt.date(2024, 4, 3)  # Bill 9281 in force; exact day unconfirmed
FITNESS_CATEGORIES_FROM = dt.date(2024, 5, 4)  # Law 3621-IX, MoD Order 402 as amended
MOBILISATION_LAW = dt.date(2024, 5, 18)  # Law 3633-IX
YOUNG_MEN_EXIT_FROM = dt.date(2025, 8, 27)  # men 18-22 may cross the border (unverified)
REGISTER_LOAD = dt.date(2023, 1, 1)  # initial load of the register (estimate)

_SERIAL_STEP_RNOKPP = 2_731  # coprime with 5,000: distinct serials for a day and sex
_SERIAL_STEP_UNZR = 7_919  # coprime with 9,999
_DOCUMENT_STEP = 7_777_777  # coprime with every document number space
_DOCUMENT_SPACES = {
    "id_card": 10**ID_CARD_DIGITS,
    "passport_booklet": len(CYRILLIC_SERIES_LETTERS) ** 2 * 10**SERIES_NUMBER_DIGITS,
    "foreign_passport": len(LATIN_SERIES_LETTERS) ** 2 * 10**SERIES_NUMBER_DIGITS,
}


class World:
    """Tables, counters and dates of one run; the only owner of the random generator."""

    def __init__(self, *, seed: int, reference_date: dt.date) -> None:
        self.seed = seed
        self.rng: Random = FastRandom(seed)
        self.reference_date = reference_date
        self.reference_day = reference_date.toordinal()
        self.horizon = self.reference_day - 1  # the last world day events may fall on
        load = REGISTER_LOAD.toordinal()
        if load > self.reference_day - 30:
            load = self.reference_day - 365
        self.load_day = load
        self.clock = Clock(self.rng, seed, load, self.reference_day)
        self.adult_cells = adult_pyramid()
        self.surnames = surname_table()
        self.given_names = given_name_tables()
        self.regions = region_table()
        self.region_by_code: dict[str, Region] = {r.code: r for r in self.regions.items}
        self.offices: dict[str, Office] = {o.code: o for o in recruitment_offices()}
        self.universities: dict[str, tuple[Institution, ...]] = universities()
        self.employers: dict[str, WeightedTable[Employer]] = make_employers(self.rng, self.regions)
        self._rnokpp_counters: dict[tuple[int, str], int] = {}
        self._unzr_counters: dict[int, int] = {}
        self._document_counters = dict.fromkeys(_DOCUMENT_SPACES, 0)
        self._document_offsets = {
            kind: self.rng.randrange(space) for kind, space in _DOCUMENT_SPACES.items()
        }
        self._date_offset = self.rng.randrange(10_000)

    # Dates -------------------------------------------------------------------------------

    def random_day(self, first: int, last: int) -> int:
        """A day in first..last (inclusive); ``last`` when the range is empty."""
        return last if last <= first else self.rng.randint(first, last)

    # Names -------------------------------------------------------------------------------

    def surname(self) -> str:
        return self.surnames.draw(self.rng)

    def given_name(self, sex: str, birth_year: int) -> str:
        return self.given_names[sex, generation_of(birth_year)].draw(self.rng)

    def region(self) -> Region:
        return self.regions.draw(self.rng)

    # Identifiers -------------------------------------------------------------------------

    def rnokpp(self, birth_date: dt.date, sex: str) -> str:
        key = (birth_date.toordinal(), sex)
        count = self._rnokpp_counters.get(key, 0)
        self._rnokpp_counters[key] = count + 1
        serial = (count * _SERIAL_STEP_RNOKPP + key[0] + self._date_offset) % 5_000
        return make_rnokpp(birth_date, serial, "male" if sex == "male" else "female")

    def unzr(self, birth_date: dt.date) -> str:
        day = birth_date.toordinal()
        count = self._unzr_counters.get(day, 0)
        self._unzr_counters[day] = count + 1
        return make_unzr(birth_date, (count * _SERIAL_STEP_UNZR + day) % 9_999 + 1)

    def document_number(self, kind: str) -> str:
        count = self._document_counters[kind]
        self._document_counters[kind] = count + 1
        space = _DOCUMENT_SPACES[kind]
        return make_document_number(
            kind, (count * _DOCUMENT_STEP + self._document_offsets[kind]) % space
        )


@lru_cache(maxsize=4096)
def patronymic(father_given_name: str, sex: str) -> str:
    return patronymic_from(father_given_name, "male" if sex == "male" else "female")


@lru_cache(maxsize=4096)
def surname_for(masculine: str, sex: str) -> str:
    return masculine if sex == "male" else feminine_surname(masculine)


@lru_cache(maxsize=8192)
def latin(text: str) -> str:
    return to_latin(text)
