"""Personal names: KMU-55 transliteration, normalisation, search keys, gendered forms.

Pure domain code (no I/O). Search keys (`name_keys`) are computed for every stored name, so
they are deterministic and cheap.
"""

from oberih.names._scripts import CANONICAL_APOSTROPHE
from oberih.names.gender import Sex, feminine_surname, patronymic_from
from oberih.names.normalisation import NameKeys, is_cyrillic, name_keys, normalise_name
from oberih.names.transliteration import MAX_VARIANTS, to_latin, to_latin_variants

__all__ = [
    "CANONICAL_APOSTROPHE",
    "MAX_VARIANTS",
    "NameKeys",
    "Sex",
    "feminine_surname",
    "is_cyrillic",
    "name_keys",
    "normalise_name",
    "patronymic_from",
    "to_latin",
    "to_latin_variants",
]
