import pytest
from hypothesis import given
from hypothesis import strategies as st

from oberih.names import CANONICAL_APOSTROPHE, NameKeys, is_cyrillic, name_keys, normalise_name

APOSTROPHE_VARIANTS = ["'", "\u2019", "\u02bc", "`", "\u2018", "\u02b9", "\uff07"]
DASH_VARIANTS = ["-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212"]


def test_canonical_apostrophe_is_the_modifier_letter() -> None:
    assert CANONICAL_APOSTROPHE == "\u02bc"
    assert CANONICAL_APOSTROPHE.isalpha()  # so the name stays one word


@pytest.mark.parametrize("apostrophe", APOSTROPHE_VARIANTS)
def test_every_apostrophe_variant_is_unified(apostrophe: str) -> None:
    assert normalise_name(f"Мар{apostrophe}яна") == "мар\u02bcяна"


@pytest.mark.parametrize("dash", DASH_VARIANTS)
def test_every_dash_variant_becomes_a_hyphen_without_spaces(dash: str) -> None:
    assert normalise_name(f"Петренко {dash} Вишневська") == "петренко-вишневська"
    assert normalise_name(f"Петренко{dash}Вишневська") == "петренко-вишневська"


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("  ІВАН   Петрович\tКОВАЛЬ \n", "іван петрович коваль"),
        ("Ковал\u044c\u00a0Іван", "коваль іван"),  # no-break space
        ("Сергі\u0438\u0306", "сергій"),  # и + combining breve composes to й
        ("Украі\u0308на", "україна"),  # і + combining diaeresis composes to ї
        ("ＩＶＡＮ", "ivan"),  # full-width Latin (NFKC)
        ("STRAẞE", "strasse"),  # case folding, not lower()
        ("", ""),
        ("   ", ""),
        ("Анна -Марія", "анна-марія"),
    ],
)
def test_normalise_name(text: str, normalised: str) -> None:
    assert normalise_name(text) == normalised


@given(st.text())
def test_normalise_name_is_idempotent(text: str) -> None:
    once = normalise_name(text)
    assert normalise_name(once) == once


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Петренко", True),
        ("Petrenko", False),
        ("Мар'яна", True),
        ("Іван Smith", False),  # 4 Cyrillic letters of 9
        ("Ivan Петренко", True),
        ("Іван Petr", False),  # 4 and 4: not most
        ("John Петро", True),  # 5 of 9
        ("", False),
        ("123 - '", False),
    ],
)
def test_is_cyrillic(text: str, expected: bool) -> None:
    assert is_cyrillic(text) is expected


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("Мар'яна", NameKeys("маряна", "mariana")),
        ("МАР’ЯНА", NameKeys("маряна", "mariana")),
        ("  Петренко –  Вишневська ", NameKeys("петренко-вишневська", "petrenko-vyshnevska")),
        ("Згурський", NameKeys("згурський", "zghurskyi")),
        ("Щербак Юрій", NameKeys("щербак юрій", "shcherbak yurii")),
        ("Наталья", NameKeys("наталья", "natalia")),
        ("Shcherbak", NameKeys("", "shcherbak")),
        ("José O’Brien", NameKeys("", "jose obrien")),
        ("Łukasz Żółć", NameKeys("", "lukasz zolc")),
        ("Müller-Lüdenscheidt", NameKeys("", "muller-ludenscheidt")),
        ("", NameKeys("", "")),
    ],
)
def test_name_keys(text: str, keys: NameKeys) -> None:
    assert name_keys(text) == keys


@pytest.mark.parametrize(
    "text",
    [
        "ПЕТPЕНКО",  # Latin P
        "Пeтренко",  # Latin e
        "ПETPEHKO",  # Latin E, T, P, E, H, K, O after one Cyrillic П
        "пetpehko",
    ],
)
def test_latin_lookalikes_inside_cyrillic_words_are_read_as_cyrillic(text: str) -> None:
    assert name_keys(text) == NameKeys("петренко", "petrenko")


def test_lookalikes_are_left_alone_in_latin_parts() -> None:
    keys = name_keys("Петренко-Smith Іван")
    assert keys == NameKeys("петренко-smith іван", "petrenko-smith ivan")
    # "Пsmith" has a Latin letter that imitates nothing Cyrillic: not a slip, left as it is.
    assert name_keys("Пsmith Іваненко").cyrillic == "пsmith іваненко"


@given(st.text())
def test_latin_key_is_lower_case_ascii_without_apostrophes(text: str) -> None:
    keys = name_keys(text)
    assert keys.latin.isascii()
    assert keys.latin == keys.latin.lower()
    assert not {"'", "`", CANONICAL_APOSTROPHE} & set(keys.latin + keys.cyrillic)
    assert name_keys(text) == keys  # deterministic


@given(st.text())
def test_keys_do_not_depend_on_spacing_case_or_apostrophe_form(text: str) -> None:
    variant = "  " + text.upper().replace("'", "\u2019") + " "
    assert name_keys(variant) == name_keys(text.upper())
