"""One entry point that parses any identifier kind; ingest calls it with the source's kind."""

from collections.abc import Callable

from oberih.identifiers.documents import (
    DocumentNumber,
    parse_foreign_passport_number,
    parse_id_card_number,
    parse_passport_booklet_number,
)
from oberih.identifiers.errors import InvalidIdentifier
from oberih.identifiers.kinds import IdentifierKind
from oberih.identifiers.rnokpp import Rnokpp, parse_rnokpp
from oberih.identifiers.unzr import Unzr, parse_unzr

ParsedIdentifier = Rnokpp | Unzr | DocumentNumber
"""Every parsed identifier has `.kind` (IdentifierKind) and `.value` (canonical form)."""

_PARSERS: dict[IdentifierKind, Callable[[str], ParsedIdentifier]] = {
    IdentifierKind.RNOKPP: parse_rnokpp,
    IdentifierKind.UNZR: parse_unzr,
    IdentifierKind.ID_CARD: parse_id_card_number,
    IdentifierKind.PASSPORT_BOOKLET: parse_passport_booklet_number,
    IdentifierKind.FOREIGN_PASSPORT: parse_foreign_passport_number,
}


def parse_identifier(kind: IdentifierKind | str, text: str) -> ParsedIdentifier:
    """Parse `text` as an identifier of `kind`.

    An unknown kind raises InvalidIdentifier too: the kind usually comes from a source register's
    payload, and ingest quarantines every unparseable identifier the same way.
    """
    try:
        parser = _PARSERS[IdentifierKind(kind)]
    except ValueError:
        known = ", ".join(_PARSERS)
        raise InvalidIdentifier(f"unknown identifier kind {kind!r}; known: {known}") from None
    return parser(text)
