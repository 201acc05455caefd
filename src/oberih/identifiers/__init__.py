"""National identifiers and identity document numbers: parsing, validation, synthetic values.

Pure domain code (no I/O). Every parse failure raises `InvalidIdentifier`, whose message says
what is wrong without repeating the value. Tools outside the package rely on these names.
"""

from oberih.identifiers.documents import (
    DocumentNumber,
    make_document_number,
    parse_document_number,
)
from oberih.identifiers.errors import InvalidIdentifier
from oberih.identifiers.kinds import IdentifierKind, Sex
from oberih.identifiers.parsing import ParsedIdentifier, parse_identifier
from oberih.identifiers.rnokpp import Rnokpp, make_rnokpp, parse_rnokpp
from oberih.identifiers.unzr import Unzr, make_unzr, parse_unzr

__all__ = [
    "DocumentNumber",
    "IdentifierKind",
    "InvalidIdentifier",
    "ParsedIdentifier",
    "Rnokpp",
    "Sex",
    "Unzr",
    "make_document_number",
    "make_rnokpp",
    "make_unzr",
    "parse_document_number",
    "parse_identifier",
    "parse_rnokpp",
    "parse_unzr",
]
