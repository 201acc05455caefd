"""Numbers of identity documents: ID card, old passport booklet, passport for travel abroad.

* ID card (паспорт громадянина України у формі картки): 9 digits; no check digit is defined
  for the number itself, so only the shape is checked.
* Passport booklet (паспорт громадянина України зразка 1994 року): series of 2 Cyrillic
  capitals and a 6-digit number, e.g. "КВ123456"; a space between them is accepted.
* Passport for travel abroad (закордонний паспорт): series of 2 Latin capitals and a 6-digit
  number, e.g. "FT123456"; a space between them is accepted too.

Lower-case series letters are accepted and upper-cased. Look-alike letters are never converted
between scripts: Cyrillic А В Е К М Н О Р С Т Х І and Latin A B E K M H O P C T X I render the
same, so a booklet series typed with a Latin "K" (or a foreign-passport series with a Cyrillic
"К") is a different string that silently converting would make collide with, or miss, the real
document. Such input is rejected with the script that was expected, so the sender can fix it.
Where the kind is not given, an all-Cyrillic series is read as a booklet and an all-Latin one
as a foreign passport; a series mixing the scripts is rejected.
"""

from dataclasses import dataclass

from oberih.identifiers._checks import require_ascii_digits
from oberih.identifiers.errors import InvalidIdentifier
from oberih.identifiers.kinds import IdentifierKind

ID_CARD_DIGITS = 9
SERIES_NUMBER_DIGITS = 6
# Capital letters of the Ukrainian alphabet that can start a word; the soft sign cannot.
CYRILLIC_SERIES_LETTERS = "АБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЮЯ"
LATIN_SERIES_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_NUMBERS_PER_SERIES = 10**SERIES_NUMBER_DIGITS
_DOCUMENT_KINDS = frozenset(
    {IdentifierKind.ID_CARD, IdentifierKind.PASSPORT_BOOKLET, IdentifierKind.FOREIGN_PASSPORT}
)
_SCRIPT_OF_KIND = {
    IdentifierKind.PASSPORT_BOOKLET: "Cyrillic",
    IdentifierKind.FOREIGN_PASSPORT: "Latin",
}
_SERIES_LETTERS_OF_KIND = {
    IdentifierKind.PASSPORT_BOOKLET: CYRILLIC_SERIES_LETTERS,
    IdentifierKind.FOREIGN_PASSPORT: LATIN_SERIES_LETTERS,
}
_LABEL_OF_KIND = {
    IdentifierKind.ID_CARD: "ID card number",
    IdentifierKind.PASSPORT_BOOKLET: "passport booklet number",
    IdentifierKind.FOREIGN_PASSPORT: "foreign passport number",
}


@dataclass(frozen=True, slots=True)
class DocumentNumber:
    """A document number of a known kind in canonical form (no space, upper-case series)."""

    kind: IdentifierKind
    value: str

    @property
    def series(self) -> str:
        """The two series letters ("" for an ID card)."""
        return "" if self.kind is IdentifierKind.ID_CARD else self.value[:2]

    @property
    def number(self) -> str:
        """The digits after the series (all nine digits for an ID card)."""
        return self.value[len(self.series) :]


def _script(char: str) -> str | None:
    if "A" <= char <= "Z" or "a" <= char <= "z":
        return "Latin"
    if "\u0400" <= char <= "\u04ff":
        return "Cyrillic"
    return None


def parse_id_card_number(text: str) -> DocumentNumber:
    """Parse the 9-digit number of an ID card; surrounding whitespace is ignored."""
    value = text.strip()
    require_ascii_digits(value, label=_LABEL_OF_KIND[IdentifierKind.ID_CARD], length=9)
    return DocumentNumber(kind=IdentifierKind.ID_CARD, value=value)


def _split_series(value: str, label: str) -> tuple[str, str]:
    """Series (2 characters) and number, with an optional run of spaces between them."""
    if len(value) < 2:
        raise InvalidIdentifier(f"{label} must be 2 letters and {SERIES_NUMBER_DIGITS} digits")
    return value[:2], value[2:].lstrip(" \u00a0")


def _check_series(series: str, kind: IdentifierKind) -> str:
    expected = _SCRIPT_OF_KIND[kind]
    label = _LABEL_OF_KIND[kind]
    scripts = {_script(char) for char in series}
    if None in scripts:
        raise InvalidIdentifier(f"{label} must start with 2 {expected} letters")
    if scripts != {expected}:
        found = "mixes Cyrillic and Latin" if len(scripts) > 1 else f"is in {scripts.pop()}"
        raise InvalidIdentifier(
            f"{label} series must be {expected} letters, but it {found} letters "
            "(look-alike letters are not converted between scripts)"
        )
    upper = series.upper()
    if not set(upper) <= set(_SERIES_LETTERS_OF_KIND[kind]):
        raise InvalidIdentifier(f"{label} series has a letter that no series uses")
    return upper


def _parse_series_document(text: str, kind: IdentifierKind) -> DocumentNumber:
    label = _LABEL_OF_KIND[kind]
    series, number = _split_series(text.strip(), label)
    series = _check_series(series, kind)
    require_ascii_digits(number, label=f"{label} after the series", length=6)
    return DocumentNumber(kind=kind, value=series + number)


def parse_passport_booklet_number(text: str) -> DocumentNumber:
    """Parse an old passport booklet number, e.g. "КВ123456" or "кв 123456"."""
    return _parse_series_document(text, IdentifierKind.PASSPORT_BOOKLET)


def parse_foreign_passport_number(text: str) -> DocumentNumber:
    """Parse a passport-for-travel-abroad number, e.g. "FT123456" or "ft 123456"."""
    return _parse_series_document(text, IdentifierKind.FOREIGN_PASSPORT)


def parse_document_number(text: str) -> DocumentNumber:
    """Parse a document number, telling its kind from its shape (see the module docstring)."""
    value = text.strip()
    if not value:
        raise InvalidIdentifier("document number is empty")
    if "0" <= value[0] <= "9":
        return parse_id_card_number(value)
    scripts = {_script(char) for char in value[:2]}
    if {"Cyrillic", "Latin"} <= scripts:
        raise InvalidIdentifier(
            "document series mixes Cyrillic and Latin letters: a passport booklet series is "
            "2 Cyrillic letters, a foreign passport series 2 Latin letters "
            "(look-alike letters are not converted between scripts)"
        )
    if _script(value[0]) == "Cyrillic":
        return parse_passport_booklet_number(value)
    if _script(value[0]) == "Latin":
        return parse_foreign_passport_number(value)
    raise InvalidIdentifier(
        "document number must be 9 digits (ID card) or 2 letters and 6 digits (passport)"
    )


def make_document_number(
    kind: IdentifierKind | str, serial: int, *, series: str | None = None
) -> str:
    """Build a valid document number in canonical form for synthetic data.

    * id_card: serial 0..999999999 is the number, zero-padded to 9 digits; no series.
    * passport_booklet / foreign_passport: with `series` (2 letters of the right script),
      serial 0..999999 is the number; without it, serial runs over every series in alphabet
      order ("АА000000", "АА000001", ... then "АБ000000"), so distinct serials give distinct
      numbers.

    Raises ValueError for another kind, a serial out of range or a series of the wrong shape.
    """
    kind = IdentifierKind(kind)
    if kind not in _DOCUMENT_KINDS:
        raise ValueError(f"{kind} is not a document kind")
    if kind is IdentifierKind.ID_CARD:
        if series is not None:
            raise ValueError("an ID card number has no series")
        _require_range(serial, 10**ID_CARD_DIGITS)
        return f"{serial:0{ID_CARD_DIGITS}d}"
    return _make_series_number(_SERIES_LETTERS_OF_KIND[kind], serial, series)


def _make_series_number(letters: str, serial: int, series: str | None) -> str:
    if series is None:
        _require_range(serial, len(letters) ** 2 * _NUMBERS_PER_SERIES)
        series_index, serial = divmod(serial, _NUMBERS_PER_SERIES)
        first, second = divmod(series_index, len(letters))
        series = letters[first] + letters[second]
    elif len(series) != 2 or not set(series) <= set(letters):
        raise ValueError(f"series must be 2 capital letters from {letters}")
    _require_range(serial, _NUMBERS_PER_SERIES)
    return f"{series}{serial:0{SERIES_NUMBER_DIGITS}d}"


def _require_range(serial: int, limit: int) -> None:
    if not 0 <= serial < limit:
        raise ValueError(f"serial must be in 0..{limit - 1}, got {serial}")
