"""Synthetic population generator: realistic, deterministic, and never real personal data.

Public API:
- ``generate_population(persons=, seed=, reference_date=)`` streams ``GeneratedPerson``s, each
  with complete journal facts (``oberih.persons.facts.Fact``);
- ``write_jsonl`` / ``read_jsonl`` store a population one person per line;
- ``recruitment_offices()`` lists the recruitment offices the population refers to;
- ``DEFERRAL_GROUNDS`` names the deferral grounds the generator uses.
Where each proportion comes from is said in the SOURCES section of each module's docstring.
"""

from oberih.population.deferrals import DEFERRAL_GROUNDS
from oberih.population.generator import generate_population
from oberih.population.jsonl import read_jsonl, write_jsonl
from oberih.population.models import GeneratedPerson
from oberih.population.places import Office, recruitment_offices

__all__ = [
    "DEFERRAL_GROUNDS",
    "GeneratedPerson",
    "Office",
    "generate_population",
    "read_jsonl",
    "recruitment_offices",
    "write_jsonl",
]
