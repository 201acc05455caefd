"""UNZR (УНЗР): the record number in the Unified State Demographic Register, YYYYMMDD-NNNNC.

Source: State Migration Service of Ukraine, "Unique registration number in the Unified State
Register: what is it and where to look" (mvs.gov.ua, 14.11.2023): eight digits are the birth
date as year, month, day; then a four-digit code from 0001 to 9999; "the last digit is control
... For its calculation, the method of calculating control digits in the machine-readable zone
of passports is used". That method is ICAO Doc 9303 part 3 section 4.9: weights 7, 3, 1
repeating from the left, sum modulo 10.

Not confirmed by any published worked example: which characters the check digit covers. We
compute it over the twelve digits before it (date and code), without the hyphen, which is not
an MRZ character and is absent where the number is printed without it. If real register data
disagrees, `unzr_check_digit` is the single place to change.
"""

from dataclasses import dataclass
from datetime import date

from oberih.identifiers._checks import first_non_digit
from oberih.identifiers.errors import InvalidIdentifier
from oberih.identifiers.kinds import IdentifierKind

_LABEL = "UNZR"
_DIGITS = 13
_MRZ_WEIGHTS = (7, 3, 1)
MAX_SERIAL = 9_999


@dataclass(frozen=True, slots=True)
class Unzr:
    """A valid UNZR in canonical form `YYYYMMDD-NNNNC` and the birth date it starts with."""

    value: str
    birth_date: date

    @property
    def kind(self) -> IdentifierKind:
        return IdentifierKind.UNZR


def unzr_check_digit(first_twelve: str) -> int:
    """ICAO 9303 check digit (weights 7-3-1, modulo 10) over the date and code digits."""
    total = sum(_MRZ_WEIGHTS[index % 3] * int(digit) for index, digit in enumerate(first_twelve))
    return total % 10


def _digits_only(value: str) -> str:
    """The 13 digits, accepting `YYYYMMDD-NNNNC` or `YYYYMMDDNNNNC`."""
    if len(value) == _DIGITS + 1:
        if value[8] != "-":
            raise InvalidIdentifier("UNZR of 14 characters must have a hyphen at position 9")
        value = value[:8] + value[9:]
    if len(value) != _DIGITS:
        raise InvalidIdentifier(
            f"UNZR must have {_DIGITS} digits (YYYYMMDD-NNNNC), got {len(value)} characters"
        )
    position = first_non_digit(value)
    if position is not None:
        raise InvalidIdentifier(f"UNZR must be ASCII digits only; digit {position} is not")
    return value


def _birth_date(digits: str) -> date:
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise InvalidIdentifier("UNZR date part (YYYYMMDD) is not a real calendar date") from None


def parse_unzr(text: str) -> Unzr:
    """Parse a UNZR given with or without the hyphen; surrounding whitespace is ignored."""
    digits = _digits_only(text.strip())
    birth_date = _birth_date(digits)
    if digits[8:12] == "0000":
        raise InvalidIdentifier("UNZR code after the date must be 0001..9999, got 0000")
    if int(digits[12]) != unzr_check_digit(digits[:12]):
        raise InvalidIdentifier("UNZR check digit does not match the other twelve digits")
    return Unzr(value=f"{digits[:8]}-{digits[8:]}", birth_date=birth_date)


def make_unzr(birth_date: date, serial: int) -> str:
    """Build a valid UNZR (canonical form) for synthetic data; serial is the code, 1..9999."""
    if not 1 <= serial <= MAX_SERIAL:
        raise ValueError(f"UNZR serial must be in 1..{MAX_SERIAL}, got {serial}")
    # Explicit widths: strftime("%Y") does not zero-pad years before 1000 on glibc.
    first_twelve = f"{birth_date.year:04d}{birth_date.month:02d}{birth_date.day:02d}{serial:04d}"
    return f"{first_twelve[:8]}-{first_twelve[8:]}{unzr_check_digit(first_twelve)}"
