from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oberih.identifiers import IdentifierKind, InvalidIdentifier, make_unzr, parse_unzr
from oberih.identifiers.unzr import unzr_check_digit

# Synthetic values only. Worked example for 19920822-0002C, weights 7 3 1 repeating:
# 1*7 + 9*3 + 9*1 + 2*7 + 0*3 + 8*1 + 2*7 + 2*3 + 0*1 + 0*7 + 0*3 + 2*1 = 87, 87 mod 10 = 7.
WORKED_EXAMPLE = "19920822-00027"


def test_check_digit_is_icao_7_3_1_over_the_twelve_digits() -> None:
    assert unzr_check_digit("199208220002") == 7
    # ICAO Doc 9303 part 3 worked example (date of birth 520727 -> check digit 3).
    assert unzr_check_digit("520727") == 3


def test_worked_example_parses() -> None:
    parsed = parse_unzr(WORKED_EXAMPLE)
    assert parsed.value == WORKED_EXAMPLE
    assert parsed.birth_date == date(1992, 8, 22)
    assert parsed.kind is IdentifierKind.UNZR


@pytest.mark.parametrize("text", ["1992082200027", "  19920822-00027 ", "\t1992082200027\n"])
def test_accepts_with_or_without_hyphen_and_canonicalises(text: str) -> None:
    assert parse_unzr(text).value == WORKED_EXAMPLE


def test_leap_day_is_a_real_date() -> None:
    value = make_unzr(date(2000, 2, 29), 1)
    assert parse_unzr(value).birth_date == date(2000, 2, 29)


def _with_check_digit(first_twelve: str) -> str:
    return first_twelve + str(unzr_check_digit(first_twelve))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1992082200", "must have 13 digits .* got 10 characters"),
        ("19920822000270", "hyphen at position 9"),
        ("1992082-200027", "hyphen at position 9"),
        ("19920822-000270", "got 15 characters"),
        ("19920822_00027", "hyphen at position 9"),
        ("19920822-0002x", "digit 13 is not"),
        ("1992O822-00027", "digit 5 is not"),  # letter O for zero
        ("", "got 0 characters"),
        (_with_check_digit("199302290001"), "not a real calendar date"),  # 1993 not leap
        (_with_check_digit("190002290001"), "not a real calendar date"),  # 1900 not leap
        (_with_check_digit("199213010001"), "not a real calendar date"),
        (_with_check_digit("199200000001"), "not a real calendar date"),
        (_with_check_digit("199201320001"), "not a real calendar date"),
        (_with_check_digit("000001010001"), "not a real calendar date"),  # year 0
        (_with_check_digit("199208220000"), "must be 0001..9999, got 0000"),
        ("19920822-00028", "check digit does not match"),
    ],
)
def test_invalid_values_raise_with_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=reason):
        parse_unzr(text)


@given(birth_date=st.dates(), serial=st.integers(1, 9999))
def test_make_then_parse_round_trips(birth_date: date, serial: int) -> None:
    value = make_unzr(birth_date, serial)
    assert len(value) == 14
    parsed = parse_unzr(value)
    assert parsed.value == value
    assert parsed.birth_date == birth_date
    assert parse_unzr(value.replace("-", "")).value == value


def test_year_before_1000_is_zero_padded() -> None:
    assert make_unzr(date(999, 1, 2), 5).startswith("09990102-0005")


@pytest.mark.parametrize("serial", [0, -1, 10_000])
def test_make_rejects_serial_out_of_range(serial: int) -> None:
    with pytest.raises(ValueError, match=r"1\.\.9999"):
        make_unzr(date(2000, 1, 1), serial)


@given(
    value=st.builds(make_unzr, st.dates(), st.integers(1, 9999)),
    position=st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13]),
    shift=st.integers(1, 9),
)
def test_every_single_digit_error_is_detected(value: str, position: int, shift: int) -> None:
    # Weights 7, 3 and 1 are all coprime with 10, so one changed digit always changes the sum
    # modulo 10: the 7-3-1 scheme catches every single-digit error.
    digits = list(value)
    digits[position] = str((int(digits[position]) + shift) % 10)
    with pytest.raises(InvalidIdentifier):
        parse_unzr("".join(digits))
