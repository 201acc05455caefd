from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oberih.identifiers import IdentifierKind, InvalidIdentifier, make_rnokpp, parse_rnokpp
from oberih.identifiers.rnokpp import SERIALS_PER_SEX, rnokpp_check_digit

# All values below are synthetic: built by hand from the published structure.

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(1899, 12, 31) + timedelta(days=99_999)
birth_dates = st.dates(min_value=FIRST_DAY, max_value=LAST_DAY)
sexes = st.sampled_from(["male", "female"])


def test_worked_example_decodes_date_sex_and_check_digit() -> None:
    # 36525 days after 1899-12-31 is 2000-01-01; digit 9 is 1 (odd, male); the check digit is
    # (-1*3 + 5*6 + 7*5 + 9*2 + 4*5 + 6*0 + 10*0 + 5*0 + 7*1) = 107; 107 mod 11 = 8; 8 mod 10 = 8.
    parsed = parse_rnokpp("3652500018")
    assert parsed.value == "3652500018"
    assert parsed.birth_date == date(2000, 1, 1)
    assert parsed.sex == "male"
    assert parsed.kind is IdentifierKind.RNOKPP


def test_first_encodable_day_is_1900_01_01() -> None:
    # 00001 days; serial 0000; sum = -0 + 5*0 + 7*0 + 9*0 + 4*1 = 4.
    parsed = parse_rnokpp("0000100004")
    assert parsed.birth_date == date(1900, 1, 1)
    assert parsed.sex == "female"


def test_even_ninth_digit_is_female() -> None:
    # 3652500026: sum = 100 + 7*2 = 114; 114 mod 11 = 4.
    value = "365250002" + str(rnokpp_check_digit("365250002"))
    assert value == "3652500024"
    assert parse_rnokpp(value).sex == "female"


@pytest.mark.parametrize(
    ("value", "weighted_sum", "check_digit"),
    [
        ("1000000000", -1, 0),  # -1 mod 11 = 10 (floored), 10 mod 10 = 0
        ("2000000009", -2, 9),  # -2 mod 11 = 9
        ("9000000002", -9, 2),  # -9 mod 11 = 2
    ],
)
def test_negative_weighted_sum_uses_floored_modulo(
    value: str, weighted_sum: int, check_digit: int
) -> None:
    assert weighted_sum % 11 % 10 == check_digit
    assert rnokpp_check_digit(value[:9]) == check_digit
    assert parse_rnokpp(value).value == value


def test_negative_sum_with_c_style_remainder_digit_is_rejected() -> None:
    with pytest.raises(InvalidIdentifier, match="check digit"):
        parse_rnokpp("1000000001")


def test_surrounding_whitespace_is_ignored() -> None:
    assert parse_rnokpp(" \t3652500018\n").value == "3652500018"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("365250001", "must have 10 digits, got 9"),
        ("36525000180", "must have 10 digits, got 11"),
        ("", "must have 10 digits, got 0"),
        ("3652 00018", "position 5 is not"),
        ("36525-0018", "position 6 is not"),
        ("365250001a", "position 10 is not"),
        ("３６５２５０００１８", "position 1 is not"),  # full-width digits
        ("٣652500018", "position 1 is not"),  # Arabic-Indic three: isdigit() but not ASCII
        ("3652500017", "check digit does not match"),
        ("0000000000", "birth-date field is zero"),
    ],
)
def test_invalid_values_raise_with_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=reason):
        parse_rnokpp(text)


def test_invalid_identifier_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_rnokpp("1")


@given(birth_date=birth_dates, serial=st.integers(0, SERIALS_PER_SEX - 1), sex=sexes)
def test_make_then_parse_round_trips(birth_date: date, serial: int, sex: str) -> None:
    value = make_rnokpp(birth_date, serial, sex)  # type: ignore[arg-type]
    parsed = parse_rnokpp(value)
    assert parsed.value == value
    assert parsed.birth_date == birth_date
    assert parsed.sex == sex


@given(birth_date=birth_dates, sex=sexes, serials=st.sets(st.integers(0, 4999), min_size=2))
def test_distinct_serials_give_distinct_numbers(
    birth_date: date, sex: str, serials: set[int]
) -> None:
    values = {make_rnokpp(birth_date, serial, sex) for serial in serials}  # type: ignore[arg-type]
    assert len(values) == len(serials)


def test_male_and_female_numbers_never_collide() -> None:
    day = date(1990, 6, 15)
    males = {make_rnokpp(day, serial, "male") for serial in range(SERIALS_PER_SEX)}
    females = {make_rnokpp(day, serial, "female") for serial in range(SERIALS_PER_SEX)}
    assert len(males) == len(females) == SERIALS_PER_SEX
    assert not males & females


@pytest.mark.parametrize(
    ("birth_date", "serial", "sex", "reason"),
    [
        (date(1899, 12, 31), 0, "male", "birth dates from 1900-01-01"),
        (LAST_DAY + timedelta(days=1), 0, "male", "to 2173-10-14"),
        (date(1990, 1, 1), -1, "male", "serial must be in 0..4999"),
        (date(1990, 1, 1), 5000, "female", "serial must be in 0..4999"),
        (date(1990, 1, 1), 0, "other", "sex must be"),
    ],
)
def test_make_rejects_impossible_requests(
    birth_date: date, serial: int, sex: str, reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        make_rnokpp(birth_date, serial, sex)  # type: ignore[arg-type]


@given(
    value=st.builds(make_rnokpp, birth_dates, st.integers(0, SERIALS_PER_SEX - 1), sexes),
    position=st.integers(0, 9),
    shift=st.integers(1, 9),
)
def test_a_changed_digit_never_parses_as_the_original(
    value: str, position: int, shift: int
) -> None:
    # The mod-11 scheme catches most, not all, single-digit errors; what must hold is that a
    # changed value never parses back to the original person silently.
    digits = list(value)
    digits[position] = str((int(digits[position]) + shift) % 10)
    changed = "".join(digits)
    try:
        parsed = parse_rnokpp(changed)
    except InvalidIdentifier:
        return
    assert parsed.value != value
