"""Legal rules as code: country profiles of dated, cited parameters, and determinations.

Public API:
- ``determine(situation, on, profile=None) -> Determination`` (pure; ``Determination.to_json()``)
- ``situation_from_state(state)``, ``situation_from_json(data)``, ``situation_schema()``
- ``explain(determination, language="uk"|"en") -> str``
- ``automatic_deferrals(state, on, profile=None) -> list[NewFact]``
- ``load_profile(code_or_path)``, ``default_profile()``
- storage (``oberih.rules.services``): ``evaluate_person``, ``store_determination``,
  ``recompute``; benchmark: ``oberih.rules.bench.run_rules_benchmark``
- CLI: ``oberih.rules.cli.app`` (``oberih rules``), ``bench_command`` (``oberih bench rules``)
"""

from oberih.rules.automatic import automatic_deferrals
from oberih.rules.determination import Category, Determination, Reason, RemovalReason, determine
from oberih.rules.explain import explain
from oberih.rules.profile import Profile, default_profile, load_profile
from oberih.rules.situation import (
    Situation,
    situation_from_json,
    situation_from_state,
    situation_schema,
)

__all__ = [
    "Category",
    "Determination",
    "Profile",
    "Reason",
    "RemovalReason",
    "Situation",
    "automatic_deferrals",
    "default_profile",
    "determine",
    "explain",
    "load_profile",
    "situation_from_json",
    "situation_from_state",
    "situation_schema",
]
