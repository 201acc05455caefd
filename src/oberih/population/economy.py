"""Employers, positions and education institutions of the synthetic population.

SOURCES
- Sector shares of registered employment: estimate after ukrstat's employment by economic
  activity (2021) and the pension-fund counts of insured persons; the share of employers
  flagged critical per sector is an estimate (Cabinet Resolution 76 of 27.01.2023 sets the
  criteria: energy, defence industry, transport and communications, public bodies weigh most).
- Employer names and EDRPOU codes are synthetic (the check digit follows the published EDRPOU
  algorithm); any resemblance to a real company's name is accidental.
- Universities: real public institutions (names only), with the region where they work now
  (relocated universities under their new seat); vocational schools and colleges are synthetic
  names built from the raion. Institution codes are synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

from oberih.population.places import Region, Settlement
from oberih.population.tables import WeightedTable


def _words(text: str) -> list[str]:
    return text.split()


@dataclass(frozen=True, slots=True)
class Sector:
    code: str
    employment_share: float
    critical_share: float
    positions: tuple[str, ...]
    teaching_positions: tuple[str, ...] = ()
    medical_positions: tuple[str, ...] = ()


SECTORS: tuple[Sector, ...] = (
    Sector("agriculture", 0.08, 0.15, ("тракторист", "агроном", "механізатор", "бухгалтер")),
    Sector("manufacturing", 0.15, 0.25, ("слюсар", "токар", "інженер", "оператор лінії")),
    Sector("energy", 0.04, 0.85, ("електромонтер", "диспетчер", "інженер-енергетик")),
    Sector("defence", 0.02, 0.95, ("інженер-конструктор", "фрезерувальник", "технолог")),
    Sector("transport", 0.07, 0.5, ("водій", "машиніст", "диспетчер", "механік")),
    Sector("it", 0.04, 0.15, ("програміст", "тестувальник", "системний адміністратор")),
    Sector("retail", 0.14, 0.03, ("продавець-консультант", "касир", "менеджер з продажу")),
    Sector("construction", 0.05, 0.1, ("муляр", "електрик", "інженер-будівельник")),
    Sector(
        "health",
        0.09,
        0.35,
        ("реєстратор", "прибиральник"),
        medical_positions=("лікар", "медична сестра", "фармацевт", "фельдшер"),
    ),
    Sector(
        "education",
        0.12,
        0.05,
        ("заступник директора з господарської частини", "бухгалтер"),
        teaching_positions=("вчитель", "викладач", "вихователь"),
    ),
    Sector(
        "research",
        0.01,
        0.2,
        ("лаборант",),
        teaching_positions=("науковий співробітник", "доцент", "викладач"),
    ),
    Sector("public", 0.10, 0.4, ("головний спеціаліст", "інспектор", "юрист")),
    Sector("finance", 0.03, 0.25, ("економіст", "бухгалтер", "фінансовий аналітик")),
    Sector("telecom", 0.02, 0.7, ("монтажник зв'язку", "інженер зв'язку")),
    Sector("services", 0.04, 0.02, ("перукар", "кухар", "адміністратор")),
)
_EMPLOYERS_PER_MILLION = 140  # employers per million people of a region (synthetic)
_BRAND_PREFIXES = _words(
    "Агро Буд Енерго Транс Мет Техно Хім Дніпро Карпат Поділ Слобож Полісс Степ Дністер Інвест "
    "Хліб Молоко Світ Граніт Сокіл Зоря Явір Лан Колос Вектор Орбіта"
)
_BRAND_ROOTS = _words("світ сервіс трейд пром альянс груп ресурс тех лайн інвест продукт нафта")
_LEGAL_FORMS = WeightedTable([("ТОВ", 0.7), ("ПрАТ", 0.1), ("ПП", 0.1), ("АТ", 0.05), ("ДП", 0.05)])


@dataclass(frozen=True, slots=True)
class Employer:
    code: str  # EDRPOU
    name: str
    region: str
    sector: Sector
    critical: bool


def edrpou_check_digit(first_seven: str) -> int:
    """Check digit of an EDRPOU code (weights 1..7, or 7,1..6 for codes 30000000-60000000;
    when the remainder is 10 the weights are raised by 2 and the remainder taken mod 10)."""
    digits = [int(char) for char in first_seven]
    inner = 30_000_000 <= int(first_seven) * 10 < 60_000_000
    weights = (7, 1, 2, 3, 4, 5, 6) if inner else (1, 2, 3, 4, 5, 6, 7)
    remainder = sum(w * d for w, d in zip(weights, digits, strict=True)) % 11
    if remainder == 10:
        remainder = sum((w + 2) * d for w, d in zip(weights, digits, strict=True)) % 11 % 10
    return remainder


def _edrpou(rng: Random, used: set[str]) -> str:
    while True:
        first = rng.choice("0023333444")
        first_seven = first + f"{rng.randrange(1_000_000):06d}"
        code = first_seven + str(edrpou_check_digit(first_seven))
        if code not in used:
            used.add(code)
            return code


def _employer_name(rng: Random, sector: Sector, place: Settlement, serial: int) -> str:
    raion = place.raion
    raion_feminine = raion[:-2] + "а" if raion.endswith("ий") else raion
    if sector.code == "education":
        return f"{raion} ліцей №{serial % 30 + 1}"
    if sector.code == "health":
        return f"КНП «{raion_feminine} лікарня №{serial % 9 + 1}»"
    if sector.code == "public":
        if serial % 2:
            return f"{raion_feminine} районна державна адміністрація"
        return f"КП «{place.settlement.split(' ', 1)[1]}водоканал»"
    prefix, root = rng.choice(_BRAND_PREFIXES), rng.choice(_BRAND_ROOTS)
    # Two vowels would meet ("Орбіта" + "альянс"): write it as two words, "Орбіта-Альянс".
    vowels = "аеєиіїоуюя"
    joined = prefix[-1] in vowels and root[0] in vowels
    brand = f"{prefix}-{root.capitalize()}" if joined else prefix + root
    return f"{_LEGAL_FORMS.draw(rng)} «{brand}»"


def make_employers(
    rng: Random, regions: WeightedTable[Region]
) -> dict[str, WeightedTable[Employer]]:
    """Employers of each region (code -> employers weighted by size), drawn from ``rng``."""
    used: set[str] = set()
    sectors = WeightedTable([(sector, sector.employment_share) for sector in SECTORS])
    result: dict[str, WeightedTable[Employer]] = {}
    for region in regions.items:
        weight = regions.share(region) * 42.0  # the weights are in millions of people overall
        count = max(len(SECTORS), round(weight * _EMPLOYERS_PER_MILLION))
        pairs: list[tuple[Employer, float]] = []
        for serial in range(count):
            # Every sector at least once, then in proportion to its employment.
            sector = SECTORS[serial] if serial < len(SECTORS) else sectors.draw(rng)
            place = region.settlements.draw(rng)
            critical = rng.random() < sector.critical_share
            name = _employer_name(rng, sector, place, serial)
            employer = Employer(_edrpou(rng, used), name, region.code, sector, critical)
            # Sizes are heavy-tailed (Pareto), so a few large employers hold many people.
            pairs.append((employer, rng.paretovariate(1.1) * sector.employment_share))
        result[region.code] = WeightedTable(pairs)
    return result


@dataclass(frozen=True, slots=True)
class Institution:
    code: str
    name: str
    region: str


_UNIVERSITIES = """
UA80|Київський національний університет імені Тараса Шевченка
UA80|Національний технічний університет України «Київський політехнічний інститут імені Ігоря Сікорського»
UA80|Національний університет «Києво-Могилянська академія»
UA80|Національний медичний університет імені О. О. Богомольця
UA80|Київський національний економічний університет імені Вадима Гетьмана
UA80|Національний авіаційний університет
UA80|Національний університет біоресурсів і природокористування України
UA46|Львівський національний університет імені Івана Франка
UA46|Національний університет «Львівська політехніка»
UA46|Львівський національний медичний університет імені Данила Галицького
UA46|Український католицький університет
UA63|Харківський національний університет імені В. Н. Каразіна
UA63|Національний технічний університет «Харківський політехнічний інститут»
UA63|Харківський національний університет радіоелектроніки
UA51|Одеський національний університет імені І. І. Мечникова
UA51|Національний університет «Одеська політехніка»
UA12|Дніпровський національний університет імені Олеся Гончара
UA12|Національний технічний університет «Дніпровська політехніка»
UA59|Сумський державний університет
UA73|Чернівецький національний університет імені Юрія Федьковича
UA21|Ужгородський національний університет
UA26|Прикарпатський національний університет імені Василя Стефаника
UA07|Волинський національний університет імені Лесі Українки
UA05|Вінницький національний технічний університет
UA05|Донецький національний університет імені Василя Стуса
UA05|Вінницький національний медичний університет імені М. І. Пирогова
UA18|Державний університет «Житомирська політехніка»
UA53|Полтавський державний медичний університет
UA53|Національний університет «Полтавська політехніка імені Юрія Кондратюка»
UA53|Луганський національний університет імені Тараса Шевченка
UA61|Західноукраїнський національний університет
UA61|Тернопільський національний медичний університет імені І. Я. Горбачевського
UA23|Запорізький національний університет
UA65|Херсонський державний університет
UA48|Чорноморський національний університет імені Петра Могили
UA71|Черкаський національний університет імені Богдана Хмельницького
UA68|Хмельницький національний університет
UA56|Національний університет водного господарства та природокористування
UA74|Національний університет «Чернігівська політехніка»
UA35|Центральноукраїнський національний технічний університет
UA32|Університет Григорія Сковороди в Переяславі
UA14|Донбаська державна машинобудівна академія
"""


def universities() -> dict[str, tuple[Institution, ...]]:
    """Universities by region code (synthetic institution codes)."""
    by_region: dict[str, list[Institution]] = {}
    for serial, line in enumerate(_UNIVERSITIES.strip().split("\n"), start=1):
        region, name = line.split("|")
        by_region.setdefault(region, []).append(Institution(f"{serial * 37 + 11}", name, region))
    return {region: tuple(items) for region, items in by_region.items()}


def local_institution(place: Settlement, level: str) -> Institution:
    """A vocational school or professional college of the raion (synthetic)."""
    vocational = level == "vocational"
    kind = "професійний ліцей" if vocational else "фаховий коледж"
    # Region digits + raion number + kind: unique, and apart from the universities' codes.
    code = place.office_code[6:8] + place.office_code[9:] + ("1" if vocational else "2")
    return Institution(code, f"{place.raion} {kind}", place.region)
