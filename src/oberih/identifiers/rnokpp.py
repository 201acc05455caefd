"""RNOKPP (РНОКПП): the taxpayer registration number of a natural person, 10 digits.

Structure (the tax service's published algorithm, as implemented in python-stdnum's
`stdnum.ua.rntrc` and the uk_UA provider of Faker):

* digits 1-5: number of days from 1899-12-31 to the birth date (00001 is 1900-01-01);
* digits 6-9: a serial among people born that day; digit 9 is odd for men, even for women;
* digit 10: check digit `(-1*d1 + 5*d2 + 7*d3 + 9*d4 + 4*d5 + 6*d6 + 10*d7 + 5*d8 + 7*d9)
  mod 11 mod 10`.

The weighted sum is negative when d1 outweighs the rest (e.g. 1000000000: sum -1). "mod" is
the mathematical (floored) modulo, as Python's `%` and the reference implementations above
compute it: -1 mod 11 = 10, so the check digit is 0. A C-style remainder (-1) would reject such
numbers; we follow the published implementations.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from oberih.identifiers._checks import require_ascii_digits
from oberih.identifiers.errors import InvalidIdentifier
from oberih.identifiers.kinds import IdentifierKind, Sex

_LABEL = "RNOKPP"
_LENGTH = 10
_EPOCH = date(1899, 12, 31)
_MAX_DAYS = 99_999
_WEIGHTS = (-1, 5, 7, 9, 4, 6, 10, 5, 7)
SERIALS_PER_SEX = 5_000
"""make_rnokpp() accepts serials 0..4999 for each (birth date, sex)."""


@dataclass(frozen=True, slots=True)
class Rnokpp:
    """A valid RNOKPP and what it encodes."""

    value: str
    birth_date: date
    sex: Sex

    @property
    def kind(self) -> IdentifierKind:
        return IdentifierKind.RNOKPP


def rnokpp_check_digit(first_nine: str) -> int:
    """Check digit for the first nine digits (floored modulo, see the module docstring)."""
    total = sum(weight * int(digit) for weight, digit in zip(_WEIGHTS, first_nine, strict=True))
    return total % 11 % 10


def parse_rnokpp(text: str) -> Rnokpp:
    """Parse an RNOKPP; surrounding whitespace is ignored, nothing else is forgiven."""
    value = text.strip()
    require_ascii_digits(value, label=_LABEL, length=_LENGTH)
    if int(value[9]) != rnokpp_check_digit(value[:9]):
        raise InvalidIdentifier("RNOKPP check digit does not match the other nine digits")
    days = int(value[:5])
    if days == 0:
        raise InvalidIdentifier("RNOKPP birth-date field is zero; the first valid day is 00001")
    sex: Sex = "male" if int(value[8]) % 2 else "female"
    return Rnokpp(value=value, birth_date=_EPOCH + timedelta(days=days), sex=sex)


def make_rnokpp(birth_date: date, serial: int, sex: Sex) -> str:
    """Build a valid RNOKPP for synthetic data.

    Digits 6-9 are the 4-digit number `2 * serial + (1 if male else 0)`, so its last digit has
    the parity the sex requires and every serial in 0..4999 gives a distinct number for each
    (birth date, sex). Raises ValueError for a date outside 1900-01-01..2173-10-14 (what five
    digits of days can hold), a serial outside 0..4999, or an unknown sex.
    """
    days = (birth_date - _EPOCH).days
    if not 1 <= days <= _MAX_DAYS:
        raise ValueError("RNOKPP can only encode birth dates from 1900-01-01 to 2173-10-14")
    if not 0 <= serial < SERIALS_PER_SEX:
        raise ValueError(f"RNOKPP serial must be in 0..{SERIALS_PER_SEX - 1}, got {serial}")
    if sex not in ("male", "female"):
        raise ValueError(f"sex must be 'male' or 'female', got {sex!r}")
    serial_digits = 2 * serial + (1 if sex == "male" else 0)
    first_nine = f"{days:05d}{serial_digits:04d}"
    return first_nine + str(rnokpp_check_digit(first_nine))
