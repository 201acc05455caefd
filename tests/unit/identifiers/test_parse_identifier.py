from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from oberih.identifiers import (
    IdentifierKind,
    InvalidIdentifier,
    make_document_number,
    make_rnokpp,
    make_unzr,
    parse_identifier,
)

VALID_BY_KIND = {
    IdentifierKind.RNOKPP: make_rnokpp(date(1985, 3, 14), 17, "female"),
    IdentifierKind.UNZR: make_unzr(date(1985, 3, 14), 17),
    IdentifierKind.ID_CARD: make_document_number("id_card", 1_234),
    IdentifierKind.PASSPORT_BOOKLET: make_document_number("passport_booklet", 5_000_123),
    IdentifierKind.FOREIGN_PASSPORT: make_document_number("foreign_passport", 7, series="FT"),
}


@pytest.mark.parametrize("kind", list(IdentifierKind))
def test_dispatches_every_kind_and_returns_kind_and_canonical_value(kind: IdentifierKind) -> None:
    parsed = parse_identifier(kind, VALID_BY_KIND[kind])
    assert parsed.kind is kind
    assert parsed.value == VALID_BY_KIND[kind]


@pytest.mark.parametrize("kind", [str(kind) for kind in IdentifierKind])
def test_accepts_the_kind_as_a_plain_string(kind: str) -> None:
    assert parse_identifier(kind, VALID_BY_KIND[IdentifierKind(kind)]).kind == kind


def test_enum_values_are_the_storage_names() -> None:
    assert [str(kind) for kind in IdentifierKind] == [
        "rnokpp",
        "unzr",
        "id_card",
        "passport_booklet",
        "foreign_passport",
    ]


def test_unknown_kind_is_an_invalid_identifier_naming_the_known_kinds() -> None:
    with pytest.raises(InvalidIdentifier, match="unknown identifier kind 'ipn'; known: rnokpp"):
        parse_identifier("ipn", "1234567890")


def test_a_valid_value_of_another_kind_is_rejected() -> None:
    with pytest.raises(InvalidIdentifier):
        parse_identifier(IdentifierKind.RNOKPP, VALID_BY_KIND[IdentifierKind.ID_CARD])
    with pytest.raises(InvalidIdentifier):
        parse_identifier(IdentifierKind.UNZR, VALID_BY_KIND[IdentifierKind.RNOKPP])


def _near_misses() -> list[str]:
    """Valid values with one character changed: the inputs most like a real person's number."""
    misses = []
    for value in VALID_BY_KIND.values():
        for position, char in enumerate(value):
            if char.isdigit():
                misses.append(value[:position] + str((int(char) + 1) % 10) + value[position + 1 :])
        misses += [value + "0", value[:-1], " ".join(value), value.replace("-", "--")]
    return misses


# Digits, Cyrillic capitals and separators: the material identifiers are made of. Latin letters
# are left out so that a random value cannot spell a word of the message itself.
values = st.text(alphabet="0123456789АВЕКМНОРСТХІЇЄ -", min_size=5, max_size=20).filter(
    lambda text: len(text.strip()) >= 5
)


@pytest.mark.parametrize("kind", list(IdentifierKind))
@pytest.mark.parametrize("text", _near_misses())
def test_messages_never_contain_a_near_miss_value(kind: IdentifierKind, text: str) -> None:
    try:
        parse_identifier(kind, text)
    except InvalidIdentifier as error:
        assert text.strip() not in str(error)
        assert text.replace("-", "").strip() not in str(error)


@given(kind=st.sampled_from(list(IdentifierKind)), text=values)
@example(kind=IdentifierKind.UNZR, text="19920822-00028")
@example(kind=IdentifierKind.RNOKPP, text="3652500017")
@example(kind=IdentifierKind.PASSPORT_BOOKLET, text="КВ1234567")
def test_messages_never_contain_the_value(kind: IdentifierKind, text: str) -> None:
    try:
        parse_identifier(kind, text)
    except InvalidIdentifier as error:
        assert text.strip() not in str(error)
