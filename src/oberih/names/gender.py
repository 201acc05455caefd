"""Gendered forms of Ukrainian names, for the synthetic population generator.

Patronymics follow Ukrainian Orthography (2019), § 35 ("По батькові"): -ович / -івна after a
hard consonant, -ьович / -івна after a soft one, -йович / -ївна after й, and the -а/-я names
take -ич / -івна; a short table holds the names with vowel or stem alternations (Микола
Миколайович, Яків Якович, Федір Федорович, Лев Львович, Григорій Григорович).

Surnames: Ukrainian adjectival surnames agree in gender (Білий, Біла; Вишневський,
Вишневська); so do possessive ones in -ов/-ев/-єв/-ин/-ін/-їн (Іванов, Іванова; Пушкін,
Пушкіна), although they end in a consonant. Everything else is the same for men and women:
-енко, -ко, -ук, -юк, -чук, -ич, -ів (Павлів), other consonant and vowel endings. Known
imperfection: a noun surname that merely ends like a possessive one (Мартин) also gets -а.
"""

from typing import Literal

Sex = Literal["male", "female"]

# father's name (case folded) -> (son's patronymic, daughter's patronymic)
_IRREGULAR_PATRONYMICS = {
    "микола": ("миколайович", "миколаївна"),
    "ілля": ("ілліч", "іллівна"),
    "яків": ("якович", "яківна"),
    "григорій": ("григорович", "григорівна"),
    "лев": ("львович", "львівна"),
    "федір": ("федорович", "федорівна"),
    "сидір": ("сидорович", "сидорівна"),
    "антін": ("антонович", "антонівна"),
    "прокіп": ("прокопович", "прокопівна"),
    "нестір": ("несторович", "несторівна"),
}

_VOWELS = frozenset("аеєиіїоуюя")


def _regular_patronymic(name: str) -> tuple[str, str]:
    """(masculine, feminine) patronymic of a case-folded given name."""
    last = name[-1]
    stem = name[:-1]
    if last == "й":  # Андрій, Андрійович, Андріївна
        return name + "ович", stem + "ївна"
    if last == "ь":  # Василь, Васильович, Василівна
        return name + "ович", stem + "івна"
    if last == "о":  # Петро, Петрович, Петрівна
        return stem + "ович", stem + "івна"
    if last == "а":  # Лука, Лукич, Луківна
        return stem + "ич", stem + "івна"
    if last == "я":  # Ілля-like: soft stem
        return stem + "іч", stem + "івна"
    if last in _VOWELS:
        return name + "вич", name + "вна"
    return name + "ович", name + "івна"  # Іван, Іванович, Іванівна


def _in_case_of(model: str, word: str) -> str:
    """`word` (lower case) written in the case pattern of `model`."""
    if len(model) > 1 and model.isupper():
        return word.upper()
    if model[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def patronymic_from(father_given_name: str, sex: Sex) -> str:
    """Patronymic of a son ("male") or daughter ("female") of a father with this given name.

    Keeps the case pattern of the input (Іван Іванович, ІВАН ІВАНОВИЧ). Raises ValueError for
    an empty name or an unknown sex.
    """
    if sex not in ("male", "female"):
        raise ValueError(f"sex must be 'male' or 'female', got {sex!r}")
    name = father_given_name.strip()
    if not name:
        raise ValueError("father's given name is empty")
    folded = name.casefold()
    masculine, feminine = _IRREGULAR_PATRONYMICS.get(folded) or _regular_patronymic(folded)
    return _in_case_of(name, masculine if sex == "male" else feminine)


# (masculine ending, feminine ending), longest first so -ський wins over -ий.
_SURNAME_ENDINGS = (
    ("ський", "ська"),
    ("цький", "цька"),
    ("зький", "зька"),
    ("ній", "ня"),  # soft-stem adjectives: Задорожній, Задорожня
    ("ий", "а"),  # Білий, Біла
    ("ой", "а"),  # Толстой, Толста
    ("ов", "ова"),  # Іванов, Іванова
    ("ев", "ева"),
    ("єв", "єва"),
    ("ин", "ина"),  # Кузьмин, Кузьмина
    ("ін", "іна"),  # Пушкін, Пушкіна
    ("їн", "їна"),  # Ільїн, Ільїна
)


def _feminine_part(surname: str) -> str:
    folded = surname.casefold()
    for masculine, feminine in _SURNAME_ENDINGS:
        if folded.endswith(masculine) and len(folded) > len(masculine):
            ending = feminine.upper() if surname[-1].isupper() else feminine
            return surname[: -len(masculine)] + ending
    return surname


def feminine_surname(masculine: str) -> str:
    """Feminine form of a masculine surname; surnames without one are returned unchanged.

    Each part of a double surname is handled on its own (Білий-Вишневський, Біла-Вишневська).
    """
    return "-".join(_feminine_part(part) for part in masculine.strip().split("-"))
