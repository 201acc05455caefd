"""Probabilistic record linkage for one record at a time (Fellegi-Sunter), pure.

Each field comparison falls into a level (exact, transliteration, close, different, ...); each
level has an m probability (the level's share among true matches) and a u probability (its
share among non-matches), and contributes log2(m/u) to the score, so the score is the log2
likelihood ratio of "same person" (Fellegi & Sunter 1969; Splink's formulation). For an exact
name, u is the name's own frequency in the register (term-frequency adjustment): agreeing on a
rare surname is strong evidence, agreeing on "Шевченко" much weaker.

Names are compared in Cyrillic (normalised keys), then in KMU-55 Latin and the older and
Russian-style romanisations found on old documents (``to_latin_variants``), then by Jaro-Winkler
similarity of the Latin keys (typos). Birth dates also match with the typical errors: day and
month swapped, one day off, one digit mistyped. Given name and surname written in each other's
place are tried as well.

Why our own fast path and not Splink here: intake resolves one record at a time, inside the
transaction that appends its facts; Splink is built for batch linkage of whole tables through
DuckDB/Spark, where one record costs a full pipeline set-up. The weights below are set from
what the feeds are known to look like (documented per level) rather than estimated by EM.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz.distance import JaroWinkler, Levenshtein

from oberih.names import name_keys, to_latin_variants


@dataclass(frozen=True, slots=True)
class Profile:
    """The identifying fields of a record or of a stored person (any may be missing)."""

    surname: str | None = None
    given_name: str | None = None
    patronymic: str | None = None
    birth_date: dt.date | None = None
    sex: str | None = None
    birth_place: str | None = None


@dataclass(frozen=True, slots=True)
class Level:
    name: str
    m: float
    u: float

    @property
    def weight(self) -> float:
        return math.log2(self.m / self.u)


# m, u per level. Exact-name u is replaced by the name's frequency (TF adjustment).
NAME_LEVELS = {
    "exact": Level("exact", 0.90, 0.01),
    "transliteration": Level("transliteration", 0.05, 0.0005),
    "close": Level("close", 0.035, 0.002),
    "different": Level("different", 0.005, 0.985),
}
BIRTH_DATE_LEVELS = {
    "exact": Level("exact", 0.93, 1 / (365 * 70)),
    "swapped_day_month": Level("swapped_day_month", 0.02, 1 / (365 * 70)),
    "one_off": Level("one_off", 0.03, 8 / (365 * 70)),
    "same_year": Level("same_year", 0.01, 1 / 70),
    "different": Level("different", 0.01, 0.98),
}
SEX_LEVELS = {"exact": Level("exact", 0.99, 0.5), "different": Level("different", 0.01, 0.5)}
PLACE_LEVELS = {"exact": Level("exact", 0.85, 0.01), "different": Level("different", 0.15, 0.99)}
# Typical share of one name among the population, per part (u of an exact agreement before
# term-frequency adjustment): surnames are many, given names and patronymics few.
TYPICAL_NAME_SHARE = {"surname": 0.002, "given": 0.02, "patronymic": 0.02}
SWAPPED_NAMES_PENALTY = 1.0  # names written in each other's place: rare, so slightly less sure
MIN_FREQUENCY_SHARE = 1e-7


@dataclass(frozen=True, slots=True)
class NameFrequencies:
    """How common each name key is in the register: part -> key -> count, and the total."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    total: int = 1

    def share(self, part: str, key: str) -> float:
        count = self.counts.get(part, {}).get(key, 0)
        return max(count / max(self.total, 1), MIN_FREQUENCY_SHARE, 1 / max(self.total, 1))


@dataclass(frozen=True, slots=True)
class Score:
    total: float
    fields: dict[str, str]  # field -> level that drove it
    weights: dict[str, float]


@lru_cache(maxsize=262144)
def _keys(name: str) -> tuple[str, str]:
    keys = name_keys(name)
    return keys.cyrillic, keys.latin


@lru_cache(maxsize=262144)
def _latin_forms(name: str) -> frozenset[str]:
    """Every romanisation of a Cyrillic name, as Latin keys (ASCII, lower case)."""
    return frozenset(_keys(variant)[1] for variant in to_latin_variants(name))


# Kept: a chunk compares the same few names (its records' against their candidates')
# thousands of times, and the levels are pure functions of the two names (or dates).
@lru_cache(maxsize=262144)
def name_level(record: str, stored: str) -> str:
    record_cyrillic, record_latin = _keys(record)
    stored_cyrillic, stored_latin = _keys(stored)
    if record_cyrillic and record_cyrillic == stored_cyrillic:
        return "exact"
    if not record_cyrillic and record_latin == stored_latin:
        # A Latin name equal to the KMU-55 form of the stored one (a passport for travel
        # abroad): the same agreement as in Cyrillic.
        return "exact"
    if record_latin == stored_latin or record_latin in _latin_forms(stored):
        return "transliteration"
    if _close(record_latin, stored_latin) or (
        record_cyrillic and stored_cyrillic and _close(record_cyrillic, stored_cyrillic)
    ):
        return "close"
    return "different"


def _close(left: str, right: str) -> bool:
    """One typo apart (an edit in a name of four letters or more) or similar by Jaro-Winkler."""
    if min(len(left), len(right)) >= 4 and Levenshtein.distance(left, right, score_cutoff=1) <= 1:
        return True
    return JaroWinkler.similarity(left, right) >= 0.9


@lru_cache(maxsize=262144)
def birth_date_level(record: dt.date, stored: dt.date) -> str:
    if record == stored:
        return "exact"
    if record.day == stored.month and record.month == stored.day and record.year == stored.year:
        return "swapped_day_month"
    if abs((record - stored).days) == 1 or _one_digit_apart(record, stored):
        return "one_off"
    return "same_year" if record.year == stored.year else "different"


# The levels of a birth date written wrongly in the typical ways (a clerk's slip).
TYPICAL_DATE_ERRORS = frozenset({"swapped_day_month", "one_off"})


@lru_cache(maxsize=65536)
def typical_errors(born: dt.date) -> frozenset[dt.date]:
    """Every date a record about a person born on ``born`` typically carries instead: a day
    either side, day and month swapped, one digit of YYYYMMDD mistyped (the levels of
    ``TYPICAL_DATE_ERRORS``; a finite set, so that blocking can look for them first)."""
    found: set[dt.date] = set()
    for days in (-1, 1):
        with contextlib.suppress(OverflowError):  # a day either side of date.min or max
            found.add(born + dt.timedelta(days=days))
    digits = _digits(born)
    variants = [(born.year, born.day, born.month)] + [
        (int(text[:4]), int(text[4:6]), int(text[6:]))
        for position in range(8)
        for digit in "0123456789"
        if digit != digits[position]
        for text in [digits[:position] + digit + digits[position + 1 :]]
    ]
    for year, month, day in variants:
        try:
            found.add(dt.date(year, month, day))
        except ValueError:
            continue  # not a date
    # Each is one of those levels by construction (a property test checks the set against
    # ``birth_date_level``); within the block's years only (``Resolver._block``).
    found.discard(born)
    return frozenset(d for d in found if abs(d.year - born.year) <= 1)


def _one_digit_apart(left: dt.date, right: dt.date) -> bool:
    return sum(x != y for x, y in zip(_digits(left), _digits(right), strict=True)) == 1


def _digits(day: dt.date) -> str:
    # Not strftime: its %Y does not pad years before 1000 to four digits.
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


@lru_cache(maxsize=65536)
def _rounded_weight(m: float, u: float) -> float:
    return round(math.log2(m / u), 3)


def _place_key(place: str) -> str:
    return _keys(place.split(",")[0])[1]


def _name_weight(part: str, record: str, stored: str, frequencies: NameFrequencies) -> Level:
    level = NAME_LEVELS[name_level(record, stored)]
    if level.name == "exact":
        cyrillic, latin = _keys(stored)
        share = frequencies.share(part, cyrillic or latin)
        # Only rarer-than-typical names gain weight: in a small or young register the observed
        # share of a name says little, so the typical u of the part is the ceiling.
        return Level("exact", level.m, min(share, TYPICAL_NAME_SHARE[part]))
    return level


def score(record: Profile, stored: Profile, frequencies: NameFrequencies) -> Score:
    """The match weight of a record against a stored person, with the level of each field."""
    straight = _score(record, stored, frequencies)
    if record.surname and record.given_name:
        swapped = Profile(
            surname=record.given_name,
            given_name=record.surname,
            patronymic=record.patronymic,
            birth_date=record.birth_date,
            sex=record.sex,
            birth_place=record.birth_place,
        )
        other = _score(swapped, stored, frequencies)
        if other.total - SWAPPED_NAMES_PENALTY > straight.total:
            fields = {**other.fields, "name_order": "swapped"}
            weights = {**other.weights, "name_order": -SWAPPED_NAMES_PENALTY}
            return Score(other.total - SWAPPED_NAMES_PENALTY, fields, weights)
    return straight


def _score(record: Profile, stored: Profile, frequencies: NameFrequencies) -> Score:
    levels: dict[str, Level] = {}
    for part, attribute in (
        ("surname", "surname"),
        ("given", "given_name"),
        ("patronymic", "patronymic"),
    ):
        mine, theirs = getattr(record, attribute), getattr(stored, attribute)
        if mine and theirs:
            levels[attribute] = _name_weight(part, mine, theirs, frequencies)
    if record.birth_date and stored.birth_date:
        levels["birth_date"] = BIRTH_DATE_LEVELS[
            birth_date_level(record.birth_date, stored.birth_date)
        ]
    if record.sex and stored.sex:
        levels["sex"] = SEX_LEVELS["exact" if record.sex == stored.sex else "different"]
    if record.birth_place and stored.birth_place:
        same = _place_key(record.birth_place) == _place_key(stored.birth_place)
        levels["birth_place"] = PLACE_LEVELS["exact" if same else "different"]
    weights = {name: _rounded_weight(level.m, level.u) for name, level in levels.items()}
    return Score(
        total=round(sum(weights.values()), 3),
        fields={name: level.name for name, level in levels.items()},
        weights=weights,
    )


# --- the total alone ---------------------------------------------------------------------------
#
# A record without a usable identifier is scored against every person of its block (up to the
# resolver's ``max_candidates``), twice (names straight and swapped), and only the best few
# scores are kept with their levels. Building each candidate's levels and weights as
# dictionaries was most of the cost of a probabilistic resolution: ``score_total`` adds the same
# rounded weights, in the same order, without them, so it equals ``score(...).total`` exactly
# and ranks candidates exactly as ``score`` does.

_NAME_WEIGHTS = {name: _rounded_weight(level.m, level.u) for name, level in NAME_LEVELS.items()}
_BIRTH_DATE_WEIGHTS = {
    name: _rounded_weight(level.m, level.u) for name, level in BIRTH_DATE_LEVELS.items()
}
_SEX_WEIGHTS = {name: _rounded_weight(level.m, level.u) for name, level in SEX_LEVELS.items()}
_PLACE_WEIGHTS = {name: _rounded_weight(level.m, level.u) for name, level in PLACE_LEVELS.items()}
_EXACT_NAME_M = NAME_LEVELS["exact"].m


def score_total(record: Profile, stored: Profile, frequencies: NameFrequencies) -> float:
    """``score(record, stored, frequencies).total``, computed without the levels."""
    straight = _total(record.surname, record.given_name, record, stored, frequencies)
    if record.surname and record.given_name:
        other = _total(record.given_name, record.surname, record, stored, frequencies)
        if other - SWAPPED_NAMES_PENALTY > straight:
            return other - SWAPPED_NAMES_PENALTY
    return straight


def _total(
    surname: str | None,
    given_name: str | None,
    record: Profile,
    stored: Profile,
    frequencies: NameFrequencies,
) -> float:
    # The order of ``_score``'s fields: a float sum depends on it.
    total = 0.0
    if surname and stored.surname:
        total += _name_value("surname", surname, stored.surname, frequencies)
    if given_name and stored.given_name:
        total += _name_value("given", given_name, stored.given_name, frequencies)
    if record.patronymic and stored.patronymic:
        total += _name_value("patronymic", record.patronymic, stored.patronymic, frequencies)
    if record.birth_date and stored.birth_date:
        total += _BIRTH_DATE_WEIGHTS[birth_date_level(record.birth_date, stored.birth_date)]
    if record.sex and stored.sex:
        total += _SEX_WEIGHTS["exact" if record.sex == stored.sex else "different"]
    if record.birth_place and stored.birth_place:
        same = _place_key(record.birth_place) == _place_key(stored.birth_place)
        total += _PLACE_WEIGHTS["exact" if same else "different"]
    return round(total, 3)


def _name_value(part: str, record: str, stored: str, frequencies: NameFrequencies) -> float:
    """The rounded weight ``_name_weight`` gives."""
    level = name_level(record, stored)
    if level != "exact":
        return _NAME_WEIGHTS[level]
    cyrillic, latin = _keys(stored)
    share = frequencies.share(part, cyrillic or latin)
    return _rounded_weight(_EXACT_NAME_M, min(share, TYPICAL_NAME_SHARE[part]))
