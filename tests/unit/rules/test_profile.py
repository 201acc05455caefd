"""The profile: dated values with citations, lookups by day, another country by data alone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from oberih.rules.determination import determine
from oberih.rules.engine import REQUIRED_PARAMETERS, REQUIRED_RULES, profile_problems
from oberih.rules.profile import (
    NotInForce,
    OutsideHorizon,
    ProfileError,
    available_profiles,
    default_profile,
    load_profile,
)
from oberih.rules.situation import situation_from_json

DATA = Path(__file__).parent / "data"


def test_the_default_profile_is_ukraine_and_complete() -> None:
    profile = default_profile()
    assert profile.code == "ua"
    assert "ua" in available_profiles()
    assert profile_problems(profile) == []
    assert set(REQUIRED_RULES) <= set(profile.rules)
    assert set(REQUIRED_PARAMETERS) <= set(profile.parameters)


def test_every_value_and_rule_cites_an_act_and_says_whether_it_is_confirmed() -> None:
    profile = default_profile()
    for parameter in profile.parameters.values():
        for value in parameter.values:
            assert value.citation.act.key in profile.acts
            assert value.citation.in_force == value.valid_from
            assert isinstance(value.citation.confirmed, bool)
            if not value.citation.confirmed:
                assert value.citation.note, f"{parameter.name} needs a note on what is unsure"
    for rule in profile.rules.values():
        assert rule.citation.act.key in profile.acts
        assert set(rule.text) == {"uk", "en"}
        assert rule.citation.confirmed or rule.citation.note, rule.rule


def test_values_are_looked_up_by_day() -> None:
    profile = default_profile()
    limit = profile.parameter("conscript.age_limit")
    assert limit.at(dt.date(2024, 4, 3)).value == 27  # type: ignore[union-attr]
    assert limit.at(dt.date(2024, 4, 4)).value == 25  # type: ignore[union-attr]
    assert limit.next_start_after(dt.date(2024, 1, 1)) == dt.date(2024, 4, 4)
    assert limit.next_start_after(dt.date(2024, 4, 4)) is None
    first = limit.values[0]
    assert first.valid_to == dt.date(2024, 4, 3)
    assert profile.value("conscript.age_limit", dt.date(2030, 1, 1)).value == 25


def test_days_before_the_horizon_and_grounds_not_yet_in_force_are_refused() -> None:
    profile = default_profile()
    with pytest.raises(OutsideHorizon):
        profile.value("conscript.age_limit", dt.date(2022, 2, 23))
    with pytest.raises(NotInForce):
        profile.value("deferral.released_from_captivity", dt.date(2024, 5, 17))


def test_citations_read_in_both_languages() -> None:
    value = default_profile().value("deferral.three_children", dt.date(2025, 1, 1))
    assert (
        value.citation.text("en") == "Law 3543-XII art. 23 part 1 p. 3 (as amended by Law 3633-IX)"
    )
    assert value.citation.text("uk").startswith("Закон 3543-XII ст. 23 ч. 1 п. 3")
    assert value.citation.json["in_force"] == "2024-05-18"


def test_another_country_is_a_profile_file_and_no_engine_code() -> None:
    profile = load_profile(DATA / "xx.yaml")
    assert profile.key == "xx@1"
    situation = situation_from_json(
        {
            "birth_date": "2000-01-01",
            "sex": "female",
            "citizenship": "XXX",
            "education": [{"level": "bachelor", "form": "full_time", "valid_from": "2020-09-01"}],
        }
    )
    on_registration = determine(situation, dt.date(2018, 6, 1), profile)
    assert on_registration.category.value == "conscript"
    liable = determine(situation, dt.date(2021, 1, 1), profile)
    assert liable.category.value == "liable"
    assert [d.ground for d in liable.deferrals] == ["study"]
    assert liable.not_mobilisable_because == ("deferral",)


def test_an_invalid_profile_says_where(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    text = (DATA / "xx.yaml").read_text().replace("act: law_1", "act: law_404", 1)
    broken.write_text(text)
    with pytest.raises(ProfileError, match="unknown act 'law_404'"):
        load_profile(broken)
    with pytest.raises(ProfileError, match="no packaged profile"):
        load_profile("zz")
