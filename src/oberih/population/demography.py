"""Demographic proportions of the synthetic population, each with where it comes from.

SOURCES
- Age-sex pyramid of adults: ukrstat "Population of Ukraine by sex and age" for 01.01.2022,
  in thousands by five-year group, rounded (the 1990s birth dip shows at ages 20-29, the
  small war-time cohorts born 1941-1945 at 75-84). Children are not drawn from the pyramid: they
  are born to the household's mother (below), so their ages follow her fertility.
- Partnership by age and sex: estimate after the 2001 census marital-status tables and ukrstat
  household surveys (married or cohabiting: about 65 % at 35-59; widows dominate at 75+).
- Husband older than wife by 2.5 years on average (estimate, ukrstat marriage statistics).
- Children ever born per woman: 0: 13 %, 1: 38 %, 2: 36 %, 3: 9 %, 4: 3 %, 5: 1 % (estimate
  consistent with completed cohort fertility of about 1.5; ukrstat TFR 1.4-1.5 in 2008-2014).
- Period fertility relative to 2008-2014, thinning births by year: ukrstat TFR fell to 1.16 in
  2021; births fell by a further third in 2022-2024 (Ministry of Justice birth registrations
  209k, 187k, 177k) (estimate beyond 2021).
- Mother's age at first birth about 24.5 ± 4 years, births 1.5-7 years apart (estimate, ukrstat
  mean age at first birth 25-26 in the 2010s, lower for older cohorts).
- Deaths since the register's initial load: annual mortality by age and sex (estimate after
  ukrstat life tables 2019-2021: 714k deaths in 2021 among 41M people).
- Disability among adults: about 6.5 % of the population (2.7M persons, ukrstat "Social
  protection" 2021), of which group I 9 %, II 36 %, III 55 %; prevalence rising with age
  (estimate by age band). Children with disability about 2.1 % of children (163k, same source).
"""

from __future__ import annotations

from oberih.population.tables import WeightedTable

# (lower age, male thousands, female thousands) of five-year groups; the 15-19 group is cut to
# ages 18-19 below; 90+ is spread over 90-99.
_ADULT_GROUPS = (
    (15, 1030, 980),
    (20, 970, 930),
    (25, 1240, 1210),
    (30, 1680, 1670),
    (35, 1710, 1740),
    (40, 1540, 1610),
    (45, 1420, 1530),
    (50, 1340, 1510),
    (55, 1330, 1620),
    (60, 1220, 1630),
    (65, 930, 1420),
    (70, 560, 990),
    (75, 340, 760),
    (80, 320, 780),
    (85, 110, 340),
    (90, 35, 115),
)
ADULT_AGE = 18


def adult_pyramid() -> WeightedTable[tuple[str, int]]:
    """(sex, age in years) of an adult, age 18-99."""
    cells: list[tuple[tuple[str, int], float]] = []
    for lower, male, female in _ADULT_GROUPS:
        if lower == 90:
            # Survivors fall by about a third a year past 90 (estimate).
            ages = [(90 + k, 0.67**k) for k in range(10)]
        else:
            ages = [(lower + k, 1.0) for k in range(5) if lower + k >= ADULT_AGE]
        scale = 1.0 / sum(weight for _, weight in ages)
        for age, weight in ages:
            cells.append((("male", age), male * weight * scale))
            cells.append((("female", age), female * weight * scale))
    return WeightedTable(cells)


def partnered_share(age: int, sex: str) -> float:
    """Share of adults of this age and sex living with a spouse (estimate)."""
    if age < 23:
        return 0.12
    if age < 28:
        return 0.42
    if age < 35:
        return 0.6
    if age < 60:
        return 0.66
    if age < 70:
        return 0.62 if sex == "male" else 0.5
    if age < 80:
        return 0.58 if sex == "male" else 0.3
    return 0.4 if sex == "male" else 0.12


def head_partnered_share(age: int, sex: str) -> float:
    """Chance a household head has a partner, so that the share among all adults is right.

    A couple brings two partnered adults and a single household one unpartnered one: with a
    head share q, the adult share is 2q / (1 + q), so q = p / (2 - p).
    """
    share = partnered_share(age, sex)
    return share / (2.0 - share)


CHILDREN_EVER_BORN = WeightedTable([(0, 13.0), (1, 38.0), (2, 36.0), (3, 9.0), (4, 3.0), (5, 1.0)])

# Births by calendar year relative to 2008-2014 (thinning of the planned births).
_PERIOD_FERTILITY = {
    2015: 0.97, 2016: 0.94, 2017: 0.88, 2018: 0.84, 2019: 0.8, 2020: 0.79, 2021: 0.77,
    2022: 0.6, 2023: 0.54, 2024: 0.52,
}  # fmt: skip
_LATEST_PERIOD_FERTILITY = 0.5


def period_fertility(year: int) -> float:
    if year < 2015:
        return 1.0
    return _PERIOD_FERTILITY.get(year, _LATEST_PERIOD_FERTILITY)


def annual_mortality(age: int, sex: str) -> float:
    """Probability of dying within a year at this age (estimate after ukrstat life tables)."""
    male = sex == "male"
    if age < 1:
        return 0.007
    if age < 18:
        return 0.0004
    if age < 40:
        return 0.003 if male else 0.001
    if age < 60:
        return 0.012 if male else 0.005
    if age < 70:
        return 0.03 if male else 0.013
    if age < 80:
        return 0.06 if male else 0.035
    return 0.13 if male else 0.11


def disability_share(age: int) -> float:
    """Share of adults of this age with a disability group (estimate by age band)."""
    if age < 30:
        return 0.02
    if age < 45:
        return 0.035
    if age < 60:
        return 0.07
    if age < 75:
        return 0.11
    return 0.15


DISABILITY_GROUPS = WeightedTable([("I", 9.0), ("II", 36.0), ("III", 55.0)])
CHILD_DISABILITY_SHARE = 0.021
ADULT_CHILD_SEVERE_DISABILITY_SHARE = 0.015  # groups I-II among adults 18-45 (estimate)
SERIOUSLY_ILL_CHILD_SHARE = 0.004  # estimate
