"""Person search: exact by identifier, typo-tolerant by name, the same results on both engines.

``search_persons`` is the entry point; ``_core`` holds the contract (parsing, similarity,
ranking) as plain Python, ``postgres`` and ``sqlite`` only retrieve.
"""

from oberih.persons.search._core import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    InvalidSearch,
    SearchHit,
    name_similarity,
    trigram_similarity,
)
from oberih.persons.search.service import search_persons

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "InvalidSearch",
    "SearchHit",
    "name_similarity",
    "search_persons",
    "trigram_similarity",
]
