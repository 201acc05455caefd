"""Name normalisation and the search keys computed from it.

Keys are computed for every name of tens of millions of persons and for every query, so they
are deterministic (no locale, no tables that change at run time) and cheap (str.translate, one
pass of the transliteration, fast paths for ASCII).
"""

import unicodedata
from dataclasses import dataclass

from oberih.names._scripts import (
    APOSTROPHES,
    CANONICAL_APOSTROPHE,
    DASHES,
    is_cyrillic_letter,
)
from oberih.names.transliteration import to_latin

_UNIFY_MARKS = str.maketrans(
    {
        **{apostrophe: CANONICAL_APOSTROPHE for apostrophe in APOSTROPHES},
        **{dash: "-" for dash in DASHES},
    }
)
_DROP_APOSTROPHES = str.maketrans(dict.fromkeys(APOSTROPHES, None))

# Latin letters that, in capitals or in lower case, look like Cyrillic ones. Inside a word that
# already has Cyrillic letters they are typing or OCR slips ("ПЕТPЕНКО" with a Latin P).
_LATIN_LOOKALIKES = str.maketrans(
    {
        "a": "а", "b": "в", "c": "с", "e": "е", "h": "н", "i": "і", "k": "к", "m": "м",
        "o": "о", "p": "р", "t": "т", "x": "х", "y": "у", "ï": "ї",
    }
)  # fmt: skip

# Latin letters NFKD does not decompose into an ASCII base letter.
_ASCII_FOLD = str.maketrans(
    {
        "ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i",
        "ß": "ss", "ħ": "h", "ŧ": "t", "ŋ": "n",
    }
)  # fmt: skip


def normalise_name(text: str) -> str:
    """Normalise a name for comparison and storage of search keys.

    Unicode NFKC (so "и" + combining breve becomes "й"); every apostrophe look-alike becomes
    U+02BC "ʼ" (see CANONICAL_APOSTROPHE for why); case folded; hyphen and dash variants become
    "-" with no spaces around them; runs of whitespace become one space; trimmed.
    """
    text = unicodedata.normalize("NFKC", text).translate(_UNIFY_MARKS).casefold()
    if not unicodedata.is_normalized("NFKC", text):  # case folding can decompose
        text = unicodedata.normalize("NFKC", text)
    text = " ".join(text.split())
    if "-" in text:
        text = text.replace(" -", "-").replace("- ", "-")
    return text


def is_cyrillic(text: str) -> bool:
    """Whether most letters of `text` are Cyrillic (apostrophes are not counted as letters)."""
    letters = cyrillic = 0
    for char in text:
        if char.isalpha() and char not in APOSTROPHES:
            letters += 1
            cyrillic += is_cyrillic_letter(char)
    return cyrillic * 2 > letters


@dataclass(frozen=True, slots=True)
class NameKeys:
    """Search keys of one name, for typo-tolerant search in either script.

    `cyrillic`: the normalised name without apostrophes ("" when the name is written in Latin).
    `latin`: KMU-55 transliteration of the normalised name, lower-case ASCII, no apostrophes
    (for a Latin name: the normalised name folded to ASCII, diacritics stripped).
    """

    cyrillic: str
    latin: str


_LOOKALIKE_LETTERS = frozenset("abcehikmoptxyï")


def _is_slip(part: str) -> bool:
    """A word part with Cyrillic letters whose Latin letters all imitate Cyrillic ones."""
    has_cyrillic = False
    for char in part:
        if is_cyrillic_letter(char):
            has_cyrillic = True
        elif char.isalpha() and char not in APOSTROPHES and char not in _LOOKALIKE_LETTERS:
            return False
    return has_cyrillic


def _fix_lookalikes(normalised: str) -> str:
    """Latin look-alikes to Cyrillic inside word parts that are Cyrillic apart from them."""
    if normalised.isascii():
        return normalised
    words = normalised.split(" ")
    for index, word in enumerate(words):
        if not word.isascii():
            words[index] = "-".join(
                part.translate(_LATIN_LOOKALIKES) if _is_slip(part) else part
                for part in word.split("-")
            )
    return " ".join(words)


def _ascii_fold(text: str) -> str:
    text = text.translate(_DROP_APOSTROPHES)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text.translate(_ASCII_FOLD))
    return decomposed.encode("ascii", "ignore").decode("ascii")


def name_keys(text: str) -> NameKeys:
    """Cyrillic and Latin search keys of a name (see NameKeys).

    A word (or hyphenated part) that has Cyrillic letters and whose Latin letters all imitate
    Cyrillic ones ("ПЕТPЕНКО" with a Latin P) is read as all Cyrillic before the keys are made:
    such mixes are typing or OCR slips, never real names.
    """
    normalised = normalise_name(text)
    cyrillic = _fix_lookalikes(normalised)
    if not is_cyrillic(cyrillic):
        return NameKeys(cyrillic="", latin=_ascii_fold(to_latin(normalised)))
    return NameKeys(
        cyrillic=cyrillic.translate(_DROP_APOSTROPHES),
        latin=_ascii_fold(to_latin(cyrillic)),
    )
