import pytest
from hypothesis import given
from hypothesis import strategies as st

from oberih.identifiers import (
    DocumentNumber,
    IdentifierKind,
    InvalidIdentifier,
    make_document_number,
    parse_document_number,
    parse_identifier,
)
from oberih.identifiers.documents import CYRILLIC_SERIES_LETTERS, LATIN_SERIES_LETTERS

# Cyrillic letters that look like Latin ones, and their Latin twins, position by position.
CYRILLIC_LOOKALIKES = "АВЕКМНОРСТХІ"
LATIN_LOOKALIKES = "ABEKMHOPCTXI"


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("000123456", IdentifierKind.ID_CARD, "000123456"),
        (" 987654321 ", IdentifierKind.ID_CARD, "987654321"),
        ("КВ123456", IdentifierKind.PASSPORT_BOOKLET, "КВ123456"),
        ("КВ 123456", IdentifierKind.PASSPORT_BOOKLET, "КВ123456"),
        ("кв 123456", IdentifierKind.PASSPORT_BOOKLET, "КВ123456"),
        ("ЇЖ\u00a0000001", IdentifierKind.PASSPORT_BOOKLET, "ЇЖ000001"),
        ("FT123456", IdentifierKind.FOREIGN_PASSPORT, "FT123456"),
        ("ft 123456", IdentifierKind.FOREIGN_PASSPORT, "FT123456"),
    ],
)
def test_kind_is_told_from_shape_and_value_is_canonical(
    text: str, kind: IdentifierKind, value: str
) -> None:
    assert parse_document_number(text) == DocumentNumber(kind=kind, value=value)


def test_kind_compares_equal_to_its_plain_string() -> None:
    assert parse_document_number("FT123456").kind == "foreign_passport"


def test_series_and_number_parts() -> None:
    booklet = parse_document_number("КВ123456")
    assert (booklet.series, booklet.number) == ("КВ", "123456")
    card = parse_document_number("000123456")
    assert (card.series, card.number) == ("", "000123456")


@pytest.mark.parametrize(
    ("cyrillic", "latin"), list(zip(CYRILLIC_LOOKALIKES, LATIN_LOOKALIKES, strict=True))
)
def test_lookalike_letters_are_never_converted(cyrillic: str, latin: str) -> None:
    assert cyrillic != latin
    booklet = parse_document_number(f"{cyrillic}{cyrillic}123456")
    foreign = parse_document_number(f"{latin}{latin}123456")
    assert booklet.kind is IdentifierKind.PASSPORT_BOOKLET
    assert foreign.kind is IdentifierKind.FOREIGN_PASSPORT
    assert booklet.value != foreign.value


@pytest.mark.parametrize(
    ("kind", "text", "reason"),
    [
        ("passport_booklet", "KB123456", "must be Cyrillic letters, but it is in Latin"),
        ("passport_booklet", "KВ123456", "must be Cyrillic letters, but it mixes"),
        ("foreign_passport", "КВ123456", "must be Latin letters, but it is in Cyrillic"),
        ("foreign_passport", "FТ123456", "must be Latin letters, but it mixes"),
    ],
)
def test_wrong_script_names_the_expected_script(kind: str, text: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=reason) as raised:
        parse_identifier(kind, text)
    assert "look-alike letters are not converted" in str(raised.value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("KВ123456", "mixes Cyrillic and Latin"),
        ("ВK123456", "mixes Cyrillic and Latin"),
        ("#1234567", "9 digits .*or 2 letters and 6 digits"),
        ("Ь1234567", "booklet number must start with 2 Cyrillic letters"),
        ("12345678", "ID card number must have 9 digits, got 8"),
        ("1234567890", "ID card number must have 9 digits, got 10"),
        ("12345678A", "position 9 is not"),
        ("КВ12345", "after the series must have 6 digits, got 5"),
        ("КВ1234567", "after the series must have 6 digits, got 7"),
        ("КВ12З456", "position 3 is not"),  # Cyrillic З for 3
        ("FT12345O", "position 6 is not"),  # letter O for zero
        ("ЬЪ123456", "a letter that no series uses"),
        ("ЫЭ123456", "a letter that no series uses"),
        ("К1234567", "passport booklet number must start with 2 Cyrillic letters"),
        ("F1234567", "foreign passport number must start with 2 Latin letters"),
    ],
)
def test_invalid_values_raise_with_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=reason):
        parse_document_number(text)


@pytest.mark.parametrize(
    ("kind", "text", "reason"),
    [
        ("id_card", "FT123456", "ID card number must have 9 digits"),
        ("id_card", "КВ1234567", "ID card number must be ASCII digits only; position 1"),
        ("passport_booklet", "1234567890", "must start with 2 Cyrillic letters"),
        ("passport_booklet", "К", "must be 2 letters and 6 digits"),
        ("foreign_passport", "", "must be 2 letters and 6 digits"),
    ],
)
def test_parse_identifier_holds_each_document_kind_to_its_shape(
    kind: str, text: str, reason: str
) -> None:
    with pytest.raises(InvalidIdentifier, match=reason):
        parse_identifier(kind, text)


def test_make_id_card_number_pads_to_nine_digits() -> None:
    assert make_document_number(IdentifierKind.ID_CARD, 42) == "000000042"


def test_make_series_number_walks_series_in_alphabet_order() -> None:
    assert make_document_number("passport_booklet", 0) == "АА000000"
    assert make_document_number("passport_booklet", 999_999) == "АА999999"
    assert make_document_number("passport_booklet", 1_000_000) == "АБ000000"
    assert make_document_number("foreign_passport", 26_000_000) == "BA000000"
    last = len(LATIN_SERIES_LETTERS) ** 2 * 1_000_000 - 1
    assert make_document_number("foreign_passport", last) == "ZZ999999"


def test_make_with_an_explicit_series() -> None:
    assert make_document_number("foreign_passport", 7, series="FT") == "FT000007"
    assert make_document_number("passport_booklet", 7, series="КВ") == "КВ000007"


@pytest.mark.parametrize(
    ("kind", "serial", "series", "reason"),
    [
        ("rnokpp", 1, None, "not a document kind"),
        ("nonsense", 1, None, "not a valid IdentifierKind"),
        ("id_card", 1, "АА", "no series"),
        ("id_card", -1, None, "serial must be in 0..999999999"),
        ("id_card", 10**9, None, "serial must be in 0..999999999"),
        ("foreign_passport", 1, "KВ", "series must be 2 capital letters"),  # Cyrillic В
        ("foreign_passport", 1, "ft", "series must be 2 capital letters"),
        ("passport_booklet", 1, "KB", "series must be 2 capital letters"),  # Latin
        ("passport_booklet", 1, "ААА", "series must be 2 capital letters"),
        ("passport_booklet", 1_000_000, "АА", "serial must be in 0..999999"),
        ("passport_booklet", 32 * 32 * 1_000_000, None, "serial must be in 0..1023999999"),
        ("foreign_passport", -1, None, "serial must be in 0"),
    ],
)
def test_make_rejects_impossible_requests(
    kind: str, serial: int, series: str | None, reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        make_document_number(kind, serial, series=series)


@given(serial=st.integers(0, 10**9 - 1))
def test_id_card_round_trips(serial: int) -> None:
    value = make_document_number("id_card", serial)
    assert parse_identifier("id_card", value) == DocumentNumber(IdentifierKind.ID_CARD, value)
    assert parse_document_number(value).value == value


@given(
    kind=st.sampled_from([IdentifierKind.PASSPORT_BOOKLET, IdentifierKind.FOREIGN_PASSPORT]),
    data=st.data(),
)
def test_series_documents_round_trip(kind: IdentifierKind, data: st.DataObject) -> None:
    letters = (
        CYRILLIC_SERIES_LETTERS if kind is IdentifierKind.PASSPORT_BOOKLET else LATIN_SERIES_LETTERS
    )
    serial = data.draw(st.integers(0, len(letters) ** 2 * 1_000_000 - 1))
    value = make_document_number(kind, serial)
    assert parse_document_number(value) == DocumentNumber(kind, value)
    assert parse_identifier(kind, f"{value[:2].lower()} {value[2:]}").value == value


@given(
    serial=st.integers(0, 32 * 32 * 1_000_000 - 1), other=st.integers(0, 32 * 32 * 1_000_000 - 1)
)
def test_distinct_serials_give_distinct_booklet_numbers(serial: int, other: int) -> None:
    if serial != other:
        assert make_document_number("passport_booklet", serial) != make_document_number(
            "passport_booklet", other
        )
