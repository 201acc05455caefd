"""Ukrainian to Latin transliteration: the official system and older ones for matching.

The official system is the table of Cabinet of Ministers of Ukraine resolution No. 55 of
27 January 2010 "On streamlining the transliteration of the Ukrainian alphabet into Latin"
(KMU-55), used for names in passports and for place names:

* letter by letter: а a, б b, в v, г h, ґ g, д d, е e, є ie, ж zh, з z, и y, і i, ї i, й i,
  к k, л l, м m, н n, о o, п p, р r, с s, т t, у u, ф f, х kh, ц ts, ч ch, ш sh, щ shch,
  ю iu, я ia;
* at the start of a word є ї й ю я are Ye Yi Y Yu Ya;
* "зг" is "zgh" (Згорани Zghorany, Розгон Rozghon), keeping it apart from ж "zh";
* the soft sign and the apostrophe are not reproduced.

Choices the resolution leaves open, made here:

* A word starts at the start of the text or after any character that is neither a letter nor
  an apostrophe; an apostrophe is inside the word (Знам'янка Znamianka, Короп'є Koropie, as in
  the resolution's own examples). All apostrophe look-alikes (' ’ ʼ ` ‘ ʹ ...) are dropped when
  they touch a Cyrillic letter; elsewhere (O'Neill) they are kept.
* Case: a lower-case letter gives lower case. An upper-case letter whose Latin form has several
  letters is written in capitals when the neighbouring letter is a capital too (ЩЕРБАК
  SHCHERBAK, ЮРІЙ YURII) and capitalised otherwise (Щербак Shcherbak, single-letter "Щ" Shch).
* Latin letters, digits, spaces and punctuation pass through unchanged.
* Letters outside the Ukrainian alphabet that appear in Russian spellings of names are not in
  KMU-55; we write ы y, э e, ъ (dropped), ё io (yo at the start of a word), so every name has an
  ASCII form. Other Cyrillic letters pass through unchanged.
"""

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from oberih.names._scripts import APOSTROPHES, is_cyrillic_letter

# KMU-55 table, lower case; the position rule and "зг" are handled by the engine.
_KMU_2010 = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie",
    "ж": "zh", "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l",
    "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu",
    "я": "ia",
    # Not Ukrainian letters, not in KMU-55: Russian spellings of names (see module docstring).
    "ы": "y", "э": "e", "ъ": "", "ё": "io",
}  # fmt: skip
_KMU_2010_WORD_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya", "ё": "yo"}


@dataclass(frozen=True, slots=True)
class _Forms:
    """Latin forms of one Cyrillic character: in the middle and at the start of a word, each
    as written in a mixed-case word and in an all-capitals word."""

    medial: str
    medial_caps: str
    initial: str
    initial_caps: str


@dataclass(frozen=True, slots=True)
class _System:
    """A compiled romanisation system: every Cyrillic character it knows, both cases."""

    name: str
    forms: Mapping[str, _Forms]
    zgh: bool  # KMU-55 "зг" -> "zgh"


def _compile(
    name: str, lower: Mapping[str, str], initial: Mapping[str, str], *, zgh: bool
) -> _System:
    forms: dict[str, _Forms] = {}
    for cyrillic, latin in lower.items():
        first = initial.get(cyrillic, latin)
        forms[cyrillic] = _Forms(latin, latin, first, first)
        forms[cyrillic.upper()] = _Forms(
            latin.capitalize(), latin.upper(), first.capitalize(), first.upper()
        )
    return _System(name=name, forms=forms, zgh=zgh)


KMU_2010 = _compile("kmu-2010", _KMU_2010, _KMU_2010_WORD_INITIAL, zgh=True)


_ZE = frozenset("зЗ")
# г right after з is "gh" (KMU-55: Згорани Zghorany), in either position in the word.
_ZGH_FORMS = {"г": _Forms("gh", "gh", "gh", "gh"), "Г": _Forms("Gh", "GH", "Gh", "GH")}


def _is_cased(char: str) -> bool:
    return char.isupper() or char.islower()


def _in_capitals(text: str, index: int) -> bool:
    """Whether the letter at `index` stands among capitals: the next cased letter decides,
    or, at the end of a word, the previous one. Apostrophes are looked through."""
    for step in (1, -1):
        position = index + step
        while 0 <= position < len(text) and text[position] in APOSTROPHES:
            position += step
        if 0 <= position < len(text) and _is_cased(text[position]):
            return text[position].isupper()
    return False


def _touches_cyrillic(text: str, index: int) -> bool:
    return (index > 0 and is_cyrillic_letter(text[index - 1])) or (
        index + 1 < len(text) and is_cyrillic_letter(text[index + 1])
    )


def _latin_letter(text: str, index: int, forms: _Forms, *, word_initial: bool) -> str:
    latin, caps = (
        (forms.initial, forms.initial_caps)
        if word_initial
        else (
            forms.medial,
            forms.medial_caps,
        )
    )
    if latin != caps and _in_capitals(text, index):
        return caps
    return latin


def _transliterate(text: str, system: _System) -> str:
    forms_of = system.forms
    parts: list[str] = []
    in_word = False  # after a letter, or after an apostrophe that follows one
    previous = ""  # the previous character, for "зг"
    for index, char in enumerate(text):
        forms = forms_of.get(char)
        if forms is not None:
            if system.zgh and previous in _ZE and char in _ZGH_FORMS:
                forms = _ZGH_FORMS[char]
            parts.append(_latin_letter(text, index, forms, word_initial=not in_word))
            in_word = True
        elif char in APOSTROPHES:
            if not _touches_cyrillic(text, index):
                parts.append(char)
        else:
            parts.append(char)
            in_word = char.isalpha()
        previous = char
    return "".join(parts)


def to_latin(text: str) -> str:
    """Transliterate Ukrainian Cyrillic to Latin by KMU-55 (see the module docstring)."""
    if text.isascii():
        return text
    return _transliterate(text, KMU_2010)


# Older and foreign systems still found on documents issued before 2010 or abroad. Each is a
# full, consistent system: a document is romanised by one system, not letter-by-letter mixes.
def _variant(
    name: str, changes: Mapping[str, str], initial: Mapping[str, str] | None = None
) -> _System:
    lower = {**_KMU_2010, **changes}
    return _compile(name, lower, initial if initial is not None else {}, zgh=False)


_SYSTEMS = (
    KMU_2010,
    # BGN/PCGN (1965), the usual English spelling before 2010: Andriy, Serhiy, Yuriy.
    _variant("bgn-pcgn", {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}),
    # Ukrainian passports 2007-2010: г as g, iotated vowels with i everywhere.
    _variant("passport-2007", {"г": "g"}),
    # Soviet and Russian passport practice: Grigoriy, Nikolay, Evgen.
    _variant(
        "russian-style",
        {"г": "g", "и": "i", "і": "i", "ї": "i", "є": "e", "й": "y", "ю": "yu", "я": "ya"},
    ),
    # German and Polish usage: j for the glide, h for х, c for ц, sch for щ.
    _variant(
        "j-style",
        {"є": "je", "ї": "ji", "й": "j", "ю": "ju", "я": "ja", "х": "h", "ц": "c", "щ": "sch"},
    ),
    # French usage: j for ж, ch for ш, ou for у.
    _variant(
        "french-style",
        {"ж": "j", "ш": "ch", "ч": "tch", "щ": "chtch", "у": "ou", "й": "y", "ю": "iou"},
        {"є": "ie", "ю": "iou", "я": "ia"},
    ),
)

# Russian forms of common Ukrainian given names, as Soviet-era and Russian documents wrote them.
_RUSSIAN_GIVEN_NAMES = {
    "олександр": ("Aleksandr", "Alexander"),
    "олексій": ("Aleksei", "Alexey"),
    "андрій": ("Andrei", "Andrey"),
    "сергій": ("Sergei", "Sergey"),
    "юрій": ("Yuri", "Yuriy"),
    "дмитро": ("Dmitri", "Dmitry"),
    "микола": ("Nikolai", "Nikolay"),
    "володимир": ("Vladimir",),
    "михайло": ("Mikhail",),
    "петро": ("Petr", "Pyotr"),
    "павло": ("Pavel",),
    "василь": ("Vasili", "Vasily"),
    "григорій": ("Grigori", "Grigory"),
    "євген": ("Evgeni", "Evgeny", "Yevgeny"),
    "анатолій": ("Anatoli", "Anatoly"),
    "геннадій": ("Gennadi", "Gennady"),
    "георгій": ("Georgi", "Georgy"),
    "федір": ("Fedor", "Fyodor"),
    "яків": ("Yakov",),
    "костянтин": ("Konstantin",),
    "максим": ("Maksim", "Maxim"),
    "ілля": ("Ilya",),
    "олена": ("Elena", "Yelena"),
    "наталія": ("Natalia", "Natalya"),
    "тетяна": ("Tatiana", "Tatyana"),
    "ірина": ("Irina",),
    "ольга": ("Olga",),
    "катерина": ("Ekaterina", "Yekaterina"),
    "людмила": ("Lyudmila", "Ludmila"),
    "галина": ("Galina",),
    "світлана": ("Svetlana",),
    "марія": ("Maria", "Mariya"),
    "ганна": ("Anna",),
    "юлія": ("Yulia", "Julia"),
    "надія": ("Nadezhda",),
    "любов": ("Lyubov",),
    "анастасія": ("Anastasia",),
}

MAX_VARIANTS = 24
"""to_latin_variants() returns at most this many spellings, so matching stays bounded."""

_WORD_SEPARATORS = re.compile(r"([^\w" + "".join(APOSTROPHES) + r"]+)")


def _in_case_of(word: str, latin: str) -> str:
    if len(word) > 1 and word.isupper():
        return latin.upper()
    return latin if word[:1].isupper() else latin.lower()


@dataclass(frozen=True, slots=True)
class _WordSpellings:
    by_system: tuple[str, ...]  # aligned with _SYSTEMS
    all: tuple[str, ...]  # most official first, no repeats; Russian forms last


def _word_spellings(word: str) -> _WordSpellings:
    by_system = tuple(_transliterate(word, system) for system in _SYSTEMS)
    russian = (_in_case_of(word, form) for form in _RUSSIAN_GIVEN_NAMES.get(word.lower(), ()))
    return _WordSpellings(by_system, tuple(dict.fromkeys((*by_system, *russian))))


def _combinations(words: list[_WordSpellings]) -> Iterator[tuple[str, ...]]:
    # Whole-name spellings in one system first, then other mixes (e.g. a Russian given name
    # with a Ukrainian surname), so the cap drops the least likely ones.
    for system_index in range(len(_SYSTEMS)):
        yield tuple(word.by_system[system_index] for word in words)
    yield from itertools.product(*(word.all for word in words))


def to_latin_variants(text: str) -> set[str]:
    """Plausible Latin spellings of a Ukrainian name, for identity matching.

    Always contains to_latin(text); adds the same name in BGN/PCGN, the 2007 passport system,
    Russian-style, j-style and French-style romanisation and, for common given names, their
    Russian forms (Олександр: Aleksandr, Alexander). At most MAX_VARIANTS spellings.
    """
    pieces = _WORD_SEPARATORS.split(text)  # words at even indexes, separators between
    words = [_word_spellings(word) for word in pieces[::2]]
    separators = pieces[1::2]
    variants = {to_latin(text)}
    for spelling in _combinations(words):
        if len(variants) >= MAX_VARIANTS:
            break
        joined = [part for pair in zip(spelling, [*separators, ""], strict=True) for part in pair]
        variants.add("".join(joined))
    return variants
