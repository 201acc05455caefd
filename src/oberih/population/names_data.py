"""Ukrainian surnames and given names with their frequencies, for synthetic persons only.

SOURCES
- Surnames, top of the list: counts of bearers published by the genealogical society "Рідні"
  (ridni.org, quoted by UNIAN, 24tv.ua and others, 2023-2025): Мельник 107,878, Шевченко
  106,340, Коваленко 88,632, Бойко 83,195; Бондаренко 4th, then Ткаченко, Кравченко,
  Ковальчук, Коваль, Олійник. Below the first five the order follows the same reports and
  common knowledge; the weights are a Zipf-like curve (estimate).
- Surnames, long tail: built from common stems and suffixes (-енко, -юк, -ишин, -ів, -ович)
  and a list of -ський/-цький surnames; each gets the weight of a surname ranked about 400th
  (estimate), so that well-known surnames make about a quarter of the population and the rest
  is spread thinly, as in the real register.
- Given names: three generations (born before 1970, 1970-1994, from 1995), lists and weights
  estimated from the popular-name rankings of the civil-status register published by the
  Ministry of Justice for recent years and from the names common in older generations
  (estimate).
Apostrophes are written as ASCII "'", as most source registers send them.
"""

from __future__ import annotations

from oberih.population.tables import WeightedTable


def _words(text: str) -> list[str]:
    return text.split()


# Ridni counts (thousands of bearers) for the first five; a Zipf-like curve for the rest.
_TOP_SURNAMES = _words(
    """
Мельник Шевченко Коваленко Бондаренко Бойко Ткаченко Кравченко Ковальчук Коваль Олійник
Шевчук Поліщук Ткачук Бондар Марченко Лисенко Руденко Савченко Петренко Мороз
Кравчук Павленко Клименко Левченко Харченко Карпенко Кузьменко Гончаренко Мельничук Василенко
Литвиненко Савчук Романенко Швець Панченко Яковенко Кушнір Гончар Тимошенко Пономаренко
Павлюк Лук'яненко Сидоренко Кононенко Мазур Демченко Костенко Тарасенко Мартинюк Остапенко
Юрченко Приходько Антоненко Іваненко Кириленко Семенюк Назаренко Білоус Дмитренко Білик
Бабенко Зінченко Вовк Грищенко Хоменко Гуменюк Ковтун Лещенко Головко Гаврилюк
Мирошниченко Фесенко Лозинський Кучер Сорока Гнатюк Дем'яненко Ярошенко Козак Кравець
Нестеренко Степаненко Савицький Онищенко Михайленко Власенко Захарченко Сергієнко Науменко Гордієнко
Войтенко Лук'янчук Дорошенко Пилипенко Рибак Яремчук Бабич Коломієць Білецький Федоренко
Гребенюк Черненко Олексієнко Кобзар Білан Литвин Ткач Тищенко Максименко Лисак
Павлів Гладкий Задорожній Білий Рудий Зайченко Бурлака Ярмоленко Жук Лебідь
Кисіль Дем'янчук Березовський Ковальський Вишневський Кравецький Стельмах Пасічник Шаповал Кулик
Гуцул Король Чорновол Дяченко Ігнатенко Кузьмич Якименко Давиденко Вакуленко Гнатенко
"""
)
_TOP_COUNTS = {"Мельник": 107.9, "Шевченко": 106.3, "Коваленко": 88.6, "Бондаренко": 86.0}
_TOP_COUNTS["Бойко"] = 83.2

_STEMS = _words(
    """
Гнат Степан Остап Федор Мартин Гаврил Данил Кирил Максим Тарас Назар Семен Симон Прокоп Роман
Давид Мирон Онуфр Оліфер Юхим Ярем Харитон Трохим Филип Антон Богдан Йосип Климент Стах Панас
Охрім Захар Микит Демид Кондрат Пилип Ілар Опанас Олекс Артем Лаврин Ничипор Тимош Карп Сидор
Левон Осип Адам Арсен Денис Ігнат Касян Северин Фед Юрк Марк Мусі Матві Корні Горді Андрі
Лис Сокол Журавл Голуб Ворон Дуб Явор Берез Калин Орл Крук Бобр Лебед Чорн Біл Сир
Руд Кузьм Гуц Бойч Гриц Грищ Тимч Сав Кост Кухар Бондар Гончар Кушнір Стельмах Пушкар
Чумак Бурлак Гайдамак Рибал Шевч Ковальч Ткач Кравч Слюсар Кобзар Мороз Гребін Пугач
"""
)
_SUFFIXES = ("енко", "ук", "ишин", "ів", "ович")
_HARD_BEFORE_UK = frozenset("рщшчжкгхпб")
_SKYI_SURNAMES = _words(
    """
Вишневський Яворський Дубовський Липовський Ольховський Сосновський Калиновський Заболотський
Підгорецький Лісовський Городецький Островський Кульчицький Тарнавський Левицький Маковецький
Зелінський Гриневецький Ясінський Ковалевський Домбровський Шумський Бродський Глинський
Вербицький Корецький Стрийський Гайдамацький Чайковський Луцький
"""
)
_APOSTROPHE_SURNAMES = _words("Дем'янюк Прокоп'юк Лук'янець Мар'яненко Григор'єв Валер'яненко")
_TAIL_WEIGHT = 18.0  # thousands of bearers, as a surname ranked about 50th (estimate)


def _join(stem: str, suffix: str) -> str | None:
    """Stem + suffix with the usual spelling changes; None where the pair is not a surname."""
    if stem[-1] in "іi":  # Матвій, Корній: Матвієнко, Матвіюк, Матвіїв
        stem = stem[:-1] + "і"
        return {"енко": stem + "єнко", "ук": stem + "юк", "ів": stem + "їв"}.get(suffix)
    if stem[-1] == "ч":  # Шевч, Кравч: Шевченко, Шевчук; no -ишин, -ів, -ович
        return {"енко": stem + "енко", "ук": stem + "ук"}.get(suffix)
    if stem[-1] in "кх" and suffix in ("енко", "ук"):  # Юрк: Юрченко, Юрчук; Стельмах: -щук
        stem = stem[:-1] + ("ч" if stem[-1] == "к" else "щ")
        return stem + suffix
    if stem[-1] in "кх" and suffix == "ишин":
        return None
    if suffix == "ук" and stem[-1] not in _HARD_BEFORE_UK:
        suffix = "юк"  # soft after л, н, т, с, д, м: Данилюк, Гнатюк, Семенюк
    return stem + suffix


def _tail_surnames() -> list[str]:
    built = [_join(stem, suffix) for stem in _STEMS for suffix in _SUFFIXES]
    return [name for name in built if name] + _SKYI_SURNAMES + _APOSTROPHE_SURNAMES


def surname_table() -> WeightedTable[str]:
    """Masculine surname forms; women's forms come from ``feminine_surname``."""
    pairs: list[tuple[str, float]] = []
    seen: set[str] = set()
    for rank, surname in enumerate(_TOP_SURNAMES, start=1):
        pairs.append((surname, _TOP_COUNTS.get(surname, 110.0 / rank**0.45)))
        seen.add(surname)
    for surname in _tail_surnames():
        if surname not in seen:
            pairs.append((surname, _TAIL_WEIGHT))
            seen.add(surname)
    return WeightedTable(pairs)


# Given names by generation: "old" born before 1970, "middle" 1970-1994, "young" from 1995.
# Weights are relative within a list (estimate).
_MALE_NAMES = {
    "old": """
Іван:10 Микола:10 Василь:9 Володимир:9 Олександр:8 Петро:7 Михайло:7 Віктор:6 Анатолій:5
Григорій:4 Степан:4 Юрій:5 Сергій:5 Валерій:3 Леонід:3 Борис:2 Федір:2 Павло:3 Олексій:3
Геннадій:2 Євген:3 Богдан:2 Ярослав:2 Роман:2 Дмитро:2 Яків:1 Ілля:1 Любомир:1 Орест:1
Валентин:2 Станіслав:1 Костянтин:2 Андрій:3 Ігор:3 Олег:3 Тарас:1 Мирослав:1 Зіновій:1
""",
    "middle": """
Олександр:12 Сергій:11 Андрій:10 Володимир:8 Юрій:6 Олег:6 Ігор:6 Віталій:6 Дмитро:5 Руслан:5
Роман:5 Вадим:4 Денис:4 Євген:5 Максим:4 Іван:5 Віктор:4 Михайло:4 Василь:4 Микола:4 Богдан:3
Тарас:3 Ярослав:3 Костянтин:3 Артем:3 Антон:2 Павло:3 Олексій:4 Станіслав:2 В'ячеслав:3
Валентин:1 Петро:2 Степан:1 Назар:1 Орест:1 Любомир:1 Мирослав:1 Едуард:1 Владислав:2
""",
    "young": """
Максим:10 Артем:9 Олександр:9 Дмитро:8 Назар:6 Владислав:6 Іван:6 Андрій:6 Данило:6 Богдан:5
Денис:4 Матвій:5 Кирило:5 Тимофій:4 Марк:4 Давид:3 Михайло:5 Ярослав:4 Святослав:3 Ілля:4
Олексій:4 Роман:4 Тарас:2 Остап:2 Захар:3 Єгор:3 Арсеній:3 Микита:4 Вадим:1 Ростислав:2
Юрій:2 Сергій:3 Віталій:2 Євген:3 Павло:3 Степан:1 Мирон:1 Лев:1 Олег:1 Нестор:1
""",
}
_FEMALE_NAMES = {
    "old": """
Марія:10 Ганна:8 Галина:9 Надія:8 Валентина:8 Ніна:7 Любов:7 Людмила:7 Тетяна:6 Катерина:5
Ольга:6 Віра:6 Раїса:4 Лідія:4 Зінаїда:3 Тамара:4 Антоніна:4 Олена:5 Світлана:4 Лариса:3
Євгенія:2 Параска:1 Стефанія:1 Софія:1 Ярослава:1 Алла:2 Олександра:2 Зоя:1 Іванна:1
""",
    "middle": """
Олена:12 Наталія:11 Тетяна:10 Ірина:10 Оксана:9 Світлана:7 Юлія:7 Ольга:7 Інна:4 Людмила:4
Алла:3 Лілія:3 Марина:4 Вікторія:5 Галина:3 Анна:4 Катерина:4 Яна:3 Леся:2 Мар'яна:2
Христина:3 Роксолана:1 Ганна:2 Наталя:2 Валентина:2 Лариса:2 Альона:2 Мирослава:1 Уляна:1
Ярослава:1 Олеся:2 Надія:2 Євгенія:2 Марія:4 Софія:1
""",
    "young": """
Анастасія:10 Софія:9 Дарина:7 Анна:7 Вікторія:7 Марія:7 Юлія:6 Поліна:5 Дар'я:5 Олександра:5
Єлизавета:5 Соломія:4 Злата:4 Мирослава:3 Вероніка:4 Катерина:5 Аліна:5 Діана:4 Ангеліна:3
Христина:4 Валерія:4 Мілана:3 Уляна:3 Кароліна:2 Ксенія:2 Єва:3 Василина:2 Мар'яна:3
Ірина:2 Олена:2 Тетяна:2 Яна:3 Ольга:2 Богдана:2 Аріна:2 Емілія:1 Вікторина:1
""",
}


def _parse_names(text: str) -> WeightedTable[str]:
    pairs = []
    for token in text.split():
        name, weight = token.rsplit(":", 1)
        pairs.append((name, float(weight)))
    return WeightedTable(pairs)


def generation_of(birth_year: int) -> str:
    if birth_year < 1970:
        return "old"
    return "middle" if birth_year < 1995 else "young"


def given_name_tables() -> dict[tuple[str, str], WeightedTable[str]]:
    """(sex, generation) -> given names; generation as ``generation_of`` gives it."""
    tables: dict[tuple[str, str], WeightedTable[str]] = {}
    for generation, text in _MALE_NAMES.items():
        tables["male", generation] = _parse_names(text)
    for generation, text in _FEMALE_NAMES.items():
        tables["female", generation] = _parse_names(text)
    return tables
