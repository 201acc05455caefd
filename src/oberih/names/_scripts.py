"""Character classes shared by the names modules."""

CANONICAL_APOSTROPHE = "\u02bc"
"""MODIFIER LETTER APOSTROPHE (ʼ), the form normalise_name() writes.

Chosen over ASCII "'" because Unicode classes it as a letter (str.isalpha() is True), so a name
such as "Мар'яна" stays one word for tokenisers, regular expressions and our word-initial rule,
and it is the character Ukrainian orthography recommends for the apostrophe.
"""

APOSTROPHES = frozenset("'\u2019\u02bc`\u2018\u02b9\u02bb\u201b\u2032\uff07")
"""Apostrophe look-alikes met in names: ' ’ ʼ ` ‘ ʹ ʻ ‛ ′ and the full-width '."""

DASHES = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u00ad")
"""Hyphen and dash variants unified to "-" (soft hyphen U+00AD included: it is invisible)."""


def is_cyrillic_letter(char: str) -> bool:
    """Cyrillic and Cyrillic Supplement blocks (U+0400-U+052F)."""
    return "\u0400" <= char <= "\u052f"
