"""The YAML scenario suite (tests/scenarios), one pytest case per scenario."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from oberih.rules.profile import default_profile
from oberih.rules.scenarios import Scenario, load_scenarios, run_scenario

SUITE = Path(__file__).resolve().parents[2] / "scenarios"
SCENARIOS = load_scenarios([SUITE])


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[f"{s.file.stem}:{s.name}" for s in SCENARIOS])
def test_scenario(scenario: Scenario) -> None:
    result = run_scenario(scenario)
    assert result.passed, "\n".join(result.describe())


def test_every_change_of_law_has_a_scenario_the_day_before_and_the_day_of() -> None:
    profile = default_profile()
    days = {scenario.on for scenario in SCENARIOS}
    uncovered = []
    for name, parameter in profile.parameters.items():
        for change in parameter.change_days:
            wanted = {change - dt.timedelta(days=1), change}
            if not wanted <= days:
                uncovered.append(f"{name} from {change.isoformat()}")
    assert uncovered == []
