"""Regions, raions, settlements and recruitment offices of the synthetic population.

SOURCES
- Region codes: the first level of the KATOTTH codifier (UA01 Crimea ... UA85 Sevastopol), the
  same two digits as the former KOATUU; checked against published copies of the codifier
  (e.g. UA05000000000010236 Vinnytsia oblast, UA80000000000093317 Kyiv city).
- Raions: the 2020 reform (Verkhovna Rada Resolution 807-IX of 17.07.2020), with the names as
  renamed since (Володимирський 2021, Звягельський 2022, Самарівський, Шептицький,
  Берестинський 2024); for Kyiv and Sevastopol their city districts. For Crimea eight of the ten
  raions (Курманський and Перекопський left out).
- Region weights: population estimates of the State Statistics Service of Ukraine (ukrstat) for
  01.01.2022 in thousands, rounded; Crimea and Sevastopol are cut to a tenth because the
  register holds little current data for territories occupied since 2014 (estimate).
- Raion weights: rough population of each raion in thousands (estimate).
- Settlements: each raion has its administrative centre (62 % of its people, after ukrstat's
  69.6 % urban share for 2021, estimate) and three villages with names common all over Ukraine,
  placed in the centre's hromada (synthetic).
- Recruitment offices: one per raion (РТЦК та СП) and one per region (обласний ТЦК та СП); the
  codes ("TCC-UA46-03") are synthetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from oberih.population.tables import WeightedTable

# code | region name | weight (thousands) | raion:centre:weight, ...
# A centre marked "~" is a селище (сел.), others are cities (м.).
_REGIONS = """
UA01|Автономна Республіка Крим|190|Бахчисарайський:Бахчисарай:90,Білогірський:Білогірськ:65,Джанкойський:Джанкой:150,Євпаторійський:Євпаторія:250,Керченський:Керч:150,Сімферопольський:Сімферополь:530,Феодосійський:Феодосія:150,Ялтинський:Ялта:140
UA05|Вінницька область|1509|Вінницький:Вінниця:620,Гайсинський:Гайсин:200,Жмеринський:Жмеринка:170,Могилів-Подільський:Могилів-Подільський:130,Тульчинський:Тульчин:150,Хмільницький:Хмільник:140
UA07|Волинська область|1021|Володимирський:Володимир:170,Камінь-Каширський:Камінь-Каширський:140,Ковельський:Ковель:250,Луцький:Луцьк:460
UA12|Дніпропетровська область|3096|Дніпровський:Дніпро:1180,Кам'янський:Кам'янське:330,Криворізький:Кривий Ріг:730,Нікопольський:Нікополь:260,Самарівський:Самар:200,Павлоградський:Павлоград:190,Синельниківський:Синельникове:160
UA14|Донецька область|4059|Бахмутський:Бахмут:230,Волноваський:Волноваха:100,Горлівський:Горлівка:620,Донецький:Донецьк:1250,Кальміуський:Кальміуське:150,Краматорський:Краматорськ:500,Маріупольський:Маріуполь:480,Покровський:Покровськ:370
UA18|Житомирська область|1179|Бердичівський:Бердичів:190,Житомирський:Житомир:560,Коростенський:Коростень:260,Звягельський:Звягель:170
UA21|Закарпатська область|1244|Берегівський:Берегове:190,Мукачівський:Мукачево:330,Рахівський:Рахів:90,Тячівський:Тячів:170,Ужгородський:Ужгород:270,Хустський:Хуст:200
UA23|Запорізька область|1638|Бердянський:Бердянськ:200,Василівський:Василівка:160,Запорізький:Запоріжжя:870,Мелітопольський:Мелітополь:300,Пологівський:Пологи:150
UA26|Івано-Франківська область|1351|Верховинський:~Верховина:30,Івано-Франківський:Івано-Франківськ:510,Калуський:Калуш:220,Коломийський:Коломия:300,Косівський:Косів:80,Надвірнянський:Надвірна:200
UA32|Київська область|1795|Білоцерківський:Біла Церква:440,Бориспільський:Бориспіль:210,Броварський:Бровари:250,Бучанський:Буча:360,Вишгородський:Вишгород:165,Обухівський:Обухів:250,Фастівський:Фастів:190
UA35|Кіровоградська область|903|Голованівський:~Голованівськ:120,Кропивницький:Кропивницький:410,Новоукраїнський:Новоукраїнка:150,Олександрійський:Олександрія:230
UA44|Луганська область|2102|Алчевський:Алчевськ:380,Довжанський:Довжанськ:180,Луганський:Луганськ:480,Ровеньківський:Ровеньки:220,Сватівський:Сватове:80,Сєвєродонецький:Сєвєродонецьк:370,Старобільський:Старобільськ:90,Щастинський:Щастя:60
UA46|Львівська область|2478|Дрогобицький:Дрогобич:220,Золочівський:Золочів:160,Львівський:Львів:1110,Самбірський:Самбір:200,Стрийський:Стрий:330,Шептицький:Шептицький:200,Яворівський:Яворів:250
UA48|Миколаївська область|1091|Баштанський:Баштанка:120,Вознесенський:Вознесенськ:170,Миколаївський:Миколаїв:650,Первомайський:Первомайськ:150
UA51|Одеська область|2351|Березівський:Березівка:140,Білгород-Дністровський:Білгород-Дністровський:220,Болградський:Болград:160,Ізмаїльський:Ізмаїл:220,Одеський:Одеса:1250,Подільський:Подільськ:200,Роздільнянський:Роздільна:150
UA53|Полтавська область|1352|Кременчуцький:Кременчук:380,Лубенський:Лубни:200,Миргородський:Миргород:220,Полтавський:Полтава:550
UA56|Рівненська область|1141|Вараський:Вараш:170,Дубенський:Дубно:170,Рівненський:Рівне:550,Сарненський:Сарни:250
UA59|Сумська область|1035|Конотопський:Конотоп:220,Охтирський:Охтирка:180,Роменський:Ромни:140,Сумський:Суми:410,Шосткинський:Шостка:170
UA61|Тернопільська область|1021|Кременецький:Кременець:180,Тернопільський:Тернопіль:560,Чортківський:Чортків:280
UA63|Харківська область|2598|Богодухівський:Богодухів:110,Ізюмський:Ізюм:160,Берестинський:Берестин:100,Куп'янський:Куп'янськ:160,Лозівський:Лозова:150,Харківський:Харків:1700,Чугуївський:Чугуїв:190
UA65|Херсонська область|1001|Бериславський:Берислав:80,Генічеський:Генічеськ:120,Каховський:Каховка:260,Скадовський:Скадовськ:120,Херсонський:Херсон:420
UA68|Хмельницька область|1228|Кам'янець-Подільський:Кам'янець-Подільський:300,Хмельницький:Хмельницький:620,Шепетівський:Шепетівка:310
UA71|Черкаська область|1160|Звенигородський:Звенигородка:200,Золотоніський:Золотоноша:150,Уманський:Умань:300,Черкаський:Черкаси:510
UA73|Чернівецька область|890|Вижницький:Вижниця:170,Дністровський:~Кельменці:170,Чернівецький:Чернівці:550
UA74|Чернігівська область|959|Корюківський:Корюківка:80,Ніжинський:Ніжин:160,Новгород-Сіверський:Новгород-Сіверський:60,Прилуцький:Прилуки:170,Чернігівський:Чернігів:490
UA80|м. Київ|2952|Голосіївський:Київ:250,Дарницький:Київ:330,Деснянський:Київ:360,Дніпровський:Київ:350,Оболонський:Київ:320,Печерський:Київ:160,Подільський:Київ:200,Святошинський:Київ:340,Солом'янський:Київ:390,Шевченківський:Київ:230
UA85|м. Севастополь|38|Балаклавський:Севастополь:80,Гагарінський:Севастополь:130,Ленінський:Севастополь:110,Нахімовський:Севастополь:100
"""
_CITY_REGIONS = frozenset({"UA80", "UA85"})  # cities with special status: districts, no villages
_HROMADA_OVERRIDES = {"Дністровський": "Кельменецька селищна громада"}
_VILLAGE_NAMES = tuple(
    """Іванівка|Петрівка|Михайлівка|Олександрівка|Миколаївка|Новоселиця|Зелений Гай|Вишневе|Степове|
Лісове|Калинівка|Шевченкове|Андріївка|Покровське|Богданівка|Дмитрівка|Садове|Кам'янка|
Березівка|Вільшанка|Липівка|Тарасівка|Малинівка|Слобода|Дубівка|Заріччя|Підгір'я|Новосілки|
Оленівка|Мирне|Сосонка|Ставки|Грушівка|Яблунівка|Верхівня|Гайове|Кленове|Ясенове|Озерне|Луки""".replace(
        "\n", ""
    ).split("|")
)
_CENTRE_SHARE = 0.62
_STREETS = """
вул. Шевченка|вул. Незалежності|вул. Соборна|вул. Грушевського|вул. Івана Франка|вул. Лесі Українки
вул. Богдана Хмельницького|вул. Мазепи|вул. Героїв України|вул. Миру|вул. Центральна|вул. Садова
вул. Польова|вул. Молодіжна|вул. Шкільна|вул. Лісова|вул. Зелена|вул. Київська|вул. Набережна
вул. Вишнева|просп. Свободи|вул. Коновальця|вул. Січових Стрільців|вул. Гетьмана Сагайдачного
вул. Богуна|вул. Стуса|вул. Котляревського|вул. Сковороди|вул. Квітки-Основ'яненка|вул. Об'їзна
"""
STREETS: tuple[str, ...] = tuple(
    street.strip() for line in _STREETS.strip().split("\n") for street in line.split("|")
)


@dataclass(frozen=True, slots=True)
class Office:
    """A recruitment office (ТЦК та СП); ``raion`` is None for a region's office."""

    code: str
    name: str
    region: str
    raion: str | None = None


@dataclass(frozen=True, slots=True)
class Settlement:
    region: str
    region_name: str
    raion: str
    hromada: str
    settlement: str  # with its type: "м. Стрий", "с. Іванівка"
    office_code: str
    is_city: bool

    @property
    def birth_place(self) -> str:
        if self.region in _CITY_REGIONS:
            return self.settlement
        if self.region == "UA01":
            return f"{self.settlement}, АР Крим"
        return f"{self.settlement}, {self.region_name.replace('область', 'обл.')}"


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    settlements: WeightedTable[Settlement]


def _feminine(adjective: str) -> str:
    """Львівський -> Львівська (raion adjective to the hromada's gender)."""
    return adjective[:-2] + "а" if adjective.endswith("ий") else adjective


def _region_office_name(code: str, name: str) -> str:
    if code == "UA01":
        return "ТЦК та СП Автономної Республіки Крим"
    if code == "UA80":
        return "Київський міський ТЦК та СП"
    if code == "UA85":
        return "Севастопольський міський ТЦК та СП"
    return f"{name.split()[0][:-1]}ий обласний ТЦК та СП"


def _raion_office_name(region: str, raion: str) -> str:
    if region == "UA80":
        return f"{raion} РТЦК та СП м. Києва"
    if region == "UA85":
        return f"{raion} РТЦК та СП м. Севастополя"
    return f"{raion} РТЦК та СП"


def _parse_raion(entry: str) -> tuple[str, str, bool, float]:
    raion, centre, weight = entry.split(":")
    is_selyshche = centre.startswith("~")
    return raion, centre.lstrip("~"), is_selyshche, float(weight)


def _raion_settlements(
    code: str, name: str, index: int, entry: str, offices: list[Office]
) -> list[tuple[Settlement, float]]:
    raion, centre, is_selyshche, weight = _parse_raion(entry)
    office_code = f"TCC-{code}-{index:02d}"
    offices.append(Office(office_code, _raion_office_name(code, raion), code, raion))
    if code in _CITY_REGIONS:
        city = Settlement(code, name, raion, f"м. {centre}", f"м. {centre}", office_code, True)
        return [(city, weight)]
    kind = "селищна" if is_selyshche else "міська"
    hromada = _HROMADA_OVERRIDES.get(raion, f"{_feminine(raion)} {kind} громада")
    prefix = "сел." if is_selyshche else "м."
    pairs = [
        (
            Settlement(code, name, raion, hromada, f"{prefix} {centre}", office_code, True),
            weight * _CENTRE_SHARE,
        )
    ]
    village_weight = weight * (1 - _CENTRE_SHARE) / 3
    for k in range(3):
        # A fixed spread over the village list, so every raion gets its own three villages.
        village = _VILLAGE_NAMES[(len(offices) * 7 + k * 13) % len(_VILLAGE_NAMES)]
        settlement = Settlement(code, name, raion, hromada, f"с. {village}", office_code, False)
        pairs.append((settlement, village_weight))
    return pairs


@cache
def _geography() -> tuple[WeightedTable[Region], tuple[Office, ...]]:
    regions: list[tuple[Region, float]] = []
    offices: list[Office] = []
    for line in _REGIONS.strip().split("\n"):
        code, name, weight, raions = line.split("|")
        offices.append(Office(f"TCC-{code}-00", _region_office_name(code, name), code))
        settlements: list[tuple[Settlement, float]] = []
        for index, entry in enumerate(raions.split(","), start=1):
            settlements += _raion_settlements(code, name, index, entry, offices)
        regions.append((Region(code, name, WeightedTable(settlements)), float(weight)))
    return WeightedTable(regions), tuple(offices)


def region_table() -> WeightedTable[Region]:
    """Regions weighted by population; each holds its settlements weighted the same way."""
    return _geography()[0]


def recruitment_offices() -> list[Office]:
    """Every recruitment office the generated population refers to, region offices first."""
    offices = _geography()[1]
    return sorted(offices, key=lambda office: (office.region, office.code))


def region_codes() -> tuple[str, ...]:
    return tuple(region.code for region in region_table().items)


# Regions from which many people were displaced (occupied or front line since 2014 / 2022);
# persons registered there often have an actual address elsewhere.
DISPLACEMENT_REGIONS = frozenset({"UA01", "UA14", "UA23", "UA44", "UA65", "UA85"})
