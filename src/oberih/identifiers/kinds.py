"""The kinds of national identifier and identity document number the register stores."""

from enum import StrEnum
from typing import Literal

Sex = Literal["male", "female"]


class IdentifierKind(StrEnum):
    """What a stored identifier is; (kind, canonical value) is its unique key in storage."""

    RNOKPP = "rnokpp"
    """Taxpayer registration number (РНОКПП), 10 digits, issued by the State Tax Service."""
    UNZR = "unzr"
    """Record number in the Unified State Demographic Register (УНЗР), YYYYMMDD-NNNNC."""
    ID_CARD = "id_card"
    """Number of the passport of a citizen of Ukraine in card form (ID card), 9 digits."""
    PASSPORT_BOOKLET = "passport_booklet"
    """Series and number of the old internal passport booklet: 2 Cyrillic letters, 6 digits."""
    FOREIGN_PASSPORT = "foreign_passport"
    """Series and number of the passport for travel abroad: 2 Latin letters, 6 digits."""
