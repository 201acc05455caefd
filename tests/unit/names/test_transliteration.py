import pytest
from hypothesis import given
from hypothesis import strategies as st

from oberih.names import MAX_VARIANTS, to_latin, to_latin_variants

UKRAINIAN_ALPHABET = "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"

# The table of KMU resolution No. 55 of 27.01.2010, row by row: letter, Latin form at the start
# of a word, Latin form elsewhere (lower case).
KMU_55_TABLE = [
    ("а", "a", "a"),
    ("б", "b", "b"),
    ("в", "v", "v"),
    ("г", "h", "h"),
    ("ґ", "g", "g"),
    ("д", "d", "d"),
    ("е", "e", "e"),
    ("є", "ye", "ie"),
    ("ж", "zh", "zh"),
    ("з", "z", "z"),
    ("и", "y", "y"),
    ("і", "i", "i"),
    ("ї", "yi", "i"),
    ("й", "y", "i"),
    ("к", "k", "k"),
    ("л", "l", "l"),
    ("м", "m", "m"),
    ("н", "n", "n"),
    ("о", "o", "o"),
    ("п", "p", "p"),
    ("р", "r", "r"),
    ("с", "s", "s"),
    ("т", "t", "t"),
    ("у", "u", "u"),
    ("ф", "f", "f"),
    ("х", "kh", "kh"),
    ("ц", "ts", "ts"),
    ("ч", "ch", "ch"),
    ("ш", "sh", "sh"),
    ("щ", "shch", "shch"),
    ("ь", "", ""),
    ("ю", "yu", "iu"),
    ("я", "ya", "ia"),
]

# The resolution's own examples, every row of its table (Cyrillic, Latin).
KMU_55_EXAMPLES = [
    ("Алушта", "Alushta"), ("Андрій", "Andrii"),
    ("Борщагівка", "Borshchahivka"), ("Борисенко", "Borysenko"),
    ("Вінниця", "Vinnytsia"), ("Володимир", "Volodymyr"),
    ("Гадяч", "Hadiach"), ("Богдан", "Bohdan"), ("Згурський", "Zghurskyi"),
    ("Ґалаґан", "Galagan"), ("Ґорґани", "Gorgany"),
    ("Донецьк", "Donetsk"), ("Дмитро", "Dmytro"),
    ("Рівне", "Rivne"), ("Олег", "Oleh"), ("Есмань", "Esman"),
    ("Єнакієве", "Yenakiieve"), ("Гаєвич", "Haievych"), ("Короп'є", "Koropie"),
    ("Житомир", "Zhytomyr"), ("Жанна", "Zhanna"), ("Жежелів", "Zhezheliv"),
    ("Закарпаття", "Zakarpattia"), ("Казимирчук", "Kazymyrchuk"),
    ("Медвин", "Medvyn"), ("Михайленко", "Mykhailenko"),
    ("Іванків", "Ivankiv"), ("Іващенко", "Ivashchenko"),
    ("Їжакевич", "Yizhakevych"), ("Кадиївка", "Kadyivka"), ("Мар'їне", "Marine"),
    ("Йосипівка", "Yosypivka"), ("Стрий", "Stryi"), ("Олексій", "Oleksii"),
    ("Київ", "Kyiv"), ("Коваленко", "Kovalenko"),
    ("Лебедин", "Lebedyn"), ("Леонід", "Leonid"),
    ("Миколаїв", "Mykolaiv"), ("Маринич", "Marynych"),
    ("Ніжин", "Nizhyn"), ("Наталія", "Nataliia"),
    ("Одеса", "Odesa"), ("Онищенко", "Onyshchenko"),
    ("Полтава", "Poltava"), ("Петро", "Petro"),
    ("Решетилівка", "Reshetylivka"), ("Рибчинський", "Rybchynskyi"),
    ("Суми", "Sumy"), ("Соломія", "Solomiia"),
    ("Тернопіль", "Ternopil"), ("Троць", "Trots"),
    ("Ужгород", "Uzhhorod"), ("Уляна", "Uliana"),
    ("Фастів", "Fastiv"), ("Філіпчук", "Filipchuk"),
    ("Харків", "Kharkiv"), ("Христина", "Khrystyna"),
    ("Біла Церква", "Bila Tserkva"), ("Стеценко", "Stetsenko"),
    ("Чернівці", "Chernivtsi"), ("Шевченко", "Shevchenko"),
    ("Шостка", "Shostka"), ("Кишеньки", "Kyshenky"),
    ("Щербухи", "Shcherbukhy"), ("Гоща", "Hoshcha"), ("Гаращенко", "Harashchenko"),
    ("Юрій", "Yurii"), ("Корюківка", "Koriukivka"),
    ("Яготин", "Yahotyn"), ("Ярошенко", "Yaroshenko"), ("Костянтин", "Kostiantyn"),
    ("Знам'янка", "Znamianka"), ("Феодосія", "Feodosiia"),
    # The notes under the table: "зг" and its examples.
    ("Згорани", "Zghorany"), ("Розгон", "Rozghon"),
]  # fmt: skip

# Further names from the brief, by the same rules (not in the resolution's table).
FURTHER_EXAMPLES = [
    ("Вишгород", "Vyshhorod"),
    ("Дон", "Don"),
    ("Мачух", "Machukh"),
    ("Русь", "Rus"),
    ("Львів", "Lviv"),
    ("Щербак", "Shcherbak"),
]

APOSTROPHE_VARIANTS = ["'", "\u2019", "\u02bc", "`", "\u2018", "\u02b9"]


@pytest.mark.parametrize(("letter", "initial", "medial"), KMU_55_TABLE)
def test_every_letter_of_the_table(letter: str, initial: str, medial: str) -> None:
    assert to_latin(letter) == initial  # alone, the letter starts a word
    assert to_latin("а" + letter) == "a" + medial
    assert to_latin("а-" + letter) == "a-" + initial  # after a hyphen a new word starts
    assert to_latin("а " + letter) == "a " + initial


@pytest.mark.parametrize(("letter", "initial", "medial"), KMU_55_TABLE)
def test_every_capital_letter_of_the_table(letter: str, initial: str, medial: str) -> None:
    capital = letter.upper()
    assert to_latin(capital + "а") == initial.capitalize() + "a"
    assert to_latin("А" + capital + "А") == "A" + medial.upper() + "A"
    assert to_latin("а" + capital + "а") == "a" + medial.capitalize() + "a"


def test_table_covers_the_whole_alphabet() -> None:
    assert "".join(letter for letter, _, _ in KMU_55_TABLE) == UKRAINIAN_ALPHABET


@pytest.mark.parametrize(("cyrillic", "latin"), KMU_55_EXAMPLES + FURTHER_EXAMPLES)
def test_examples(cyrillic: str, latin: str) -> None:
    assert to_latin(cyrillic) == latin


@pytest.mark.parametrize(("cyrillic", "latin"), KMU_55_EXAMPLES + FURTHER_EXAMPLES)
def test_examples_in_capitals(cyrillic: str, latin: str) -> None:
    assert to_latin(cyrillic.upper()) == latin.upper()


@pytest.mark.parametrize(("cyrillic", "latin"), KMU_55_EXAMPLES + FURTHER_EXAMPLES)
def test_examples_in_lower_case(cyrillic: str, latin: str) -> None:
    assert to_latin(cyrillic.lower()) == latin.lower()


@pytest.mark.parametrize("apostrophe", APOSTROPHE_VARIANTS)
def test_every_apostrophe_variant_is_dropped_and_stays_inside_the_word(apostrophe: str) -> None:
    assert to_latin(f"Знам{apostrophe}янка") == "Znamianka"
    assert to_latin(f"Мар{apostrophe}їне") == "Marine"
    assert to_latin(f"Згорани{apostrophe}") == "Zghorany"


def test_apostrophe_before_a_word_does_not_make_it_medial() -> None:
    assert to_latin("'Яна'") == "Yana"


def test_latin_apostrophes_are_kept() -> None:
    assert to_latin("O'Neill Коваль") == "O'Neill Koval"


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [
        ("ЩЕРБАК", "SHCHERBAK"),
        ("Щербак", "Shcherbak"),
        ("щербак", "shcherbak"),
        ("Щ", "Shch"),  # a lone capital is written as a capitalised word
        ("ЮРІЙ ЯРОШЕНКО", "YURII YAROSHENKO"),
        ("ІВАНЕНКО-ЖУК", "IVANENKO-ZHUK"),
        ("ЗНАМ'ЯНКА", "ZNAMIANKA"),
        ("МАР'Я", "MARIA"),  # the capital at the end takes its case from the letter before
        ("ЗГОРАНИ", "ZGHORANY"),
        ("ЧорНОВОЛ", "ChorNOVOL"),
    ],
)
def test_capitalisation_is_kept(cyrillic: str, latin: str) -> None:
    assert to_latin(cyrillic) == latin


@pytest.mark.parametrize(
    ("text", "latin"),
    [
        ("Петренко, Іван (1990)", "Petrenko, Ivan (1990)"),
        ("John Smith", "John Smith"),
        ("Київ2024", "Kyiv2024"),
        ("", ""),
        ("«Ярошенко»", "«Yaroshenko»"),  # after a quotation mark a word starts
        ("1Я", "1Ya"),
        ("Ярошенко.Яна", "Yaroshenko.Yana"),
    ],
)
def test_latin_digits_and_punctuation_pass_through(text: str, latin: str) -> None:
    assert to_latin(text) == latin


def test_zgh_only_for_z_followed_by_h() -> None:
    assert to_latin("Зг зг Жг Зґ") == "Zgh zgh Zhh Zg"
    assert to_latin("з-г") == "z-h"


@pytest.mark.parametrize(
    ("cyrillic", "latin"),
    [("Наталья", "Natalia"), ("Ёлкин", "Yolkyn"), ("Подъячий", "Podiachyi"), ("Эдуард", "Eduard")],
)
def test_russian_spellings_get_an_ascii_form(cyrillic: str, latin: str) -> None:
    assert to_latin(cyrillic) == latin


@given(
    st.lists(
        st.text(alphabet=UKRAINIAN_ALPHABET + UKRAINIAN_ALPHABET.upper(), min_size=1),
        min_size=1,
    ),
    st.sampled_from([" ", "-", *APOSTROPHE_VARIANTS]),
)
def test_ukrainian_text_becomes_ascii(words: list[str], separator: str) -> None:
    # Apostrophes between Cyrillic letters are dropped, so the result is pure ASCII.
    assert to_latin(separator.join(words)).isascii()


@given(st.text(alphabet=st.characters(codec="ascii")))
def test_ascii_text_is_unchanged(text: str) -> None:
    assert to_latin(text) == text


def test_variants_include_older_systems_and_russian_given_names() -> None:
    variants = to_latin_variants("Олександр Петренко")
    assert {"Oleksandr Petrenko", "Aleksandr Petrenko", "Alexander Petrenko"} <= variants
    assert {"Andrii", "Andriy", "Andrei", "Andrey", "Andrij"} <= to_latin_variants("Андрій")
    assert {"Hryhorii", "Grigoriy", "Grigory", "Grygorii"} <= to_latin_variants("Григорій")
    assert {"Yevhen", "Evgen", "Jevhen", "Yevgeny", "Evgeni"} <= to_latin_variants("Євген")
    assert {"Shcherbak", "Scherbak", "Chtcherbak"} <= to_latin_variants("Щербак")
    assert {"Tsymbal", "Cymbal"} <= to_latin_variants("Цимбал")
    assert {"Zhuk", "Jouk"} <= to_latin_variants("Жук")
    assert {"Kharkiv", "Harkiv"} <= to_latin_variants("Харків")
    assert {"Yurii", "Yuriy", "Yuri", "Jurij"} <= to_latin_variants("Юрій")
    assert {"Ya", "Ja"} <= to_latin_variants("Я")


def test_variants_keep_capitals() -> None:
    assert "ALEKSANDR PETRENKO" in to_latin_variants("ОЛЕКСАНДР ПЕТРЕНКО")
    assert "aleksandr" in to_latin_variants("олександр")


def test_variants_of_latin_text_is_the_text() -> None:
    assert to_latin_variants("John Smith") == {"John Smith"}


@given(
    st.lists(
        st.sampled_from(["Олександр", "Юрій", "Щербак", "Їжакевич-Цимбал", "Наталія", "ГРИГОРІЙ"]),
        min_size=1,
        max_size=5,
    )
)
def test_variants_are_bounded_and_contain_the_official_form(words: list[str]) -> None:
    name = " ".join(words)
    variants = to_latin_variants(name)
    assert to_latin(name) in variants
    assert 1 <= len(variants) <= MAX_VARIANTS
    assert to_latin_variants(name) == variants  # deterministic
