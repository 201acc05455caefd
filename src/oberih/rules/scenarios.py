"""Scenario tests in YAML (OpenFisca-style): a situation, a day, and what the answer must be.

A scenario file holds a list of scenarios, or a mapping with ``scenarios:`` (and optionally
``profile:``, a profile code or path, for the whole file). Each scenario::

    - name: three children under 18, the youngest born 2020
      date: 2026-11-01
      situation: {birth_date: 1990-05-01, sex: male, family: [...]}
      expected:
        category: liable
        mobilisable: false
        deferrals: [{ground: three_children, until: 2032-12-31}]

``expected`` is any subset of the determination's JSON. Mappings match key by key; lists match
item by item in order and must have the same length, unless written ``{contains: [...]}`` (each
listed item must match some item). A string standing for a mapping item matches its code
(``deferrals: [three_children]``, ``explanation: [category.base, ...]``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from oberih.rules.determination import determine
from oberih.rules.profile import Profile, ProfileError, default_profile, load_profile
from oberih.rules.situation import situation_from_json

CODE_KEYS = ("ground", "rule", "duty", "employer_code", "fact_id")


class ScenarioFileError(ValueError):
    """A scenario file that cannot be read (the message names the file and the reason)."""


@dataclass(frozen=True)
class Scenario:
    name: str
    on: dt.date
    situation: Mapping[str, Any]
    expected: Mapping[str, Any]
    file: Path
    profile: Profile


@dataclass(frozen=True)
class Mismatch:
    path: str
    expected: Any
    actual: Any
    reason: str

    def describe(self) -> str:
        return f"{self.path}: {self.reason} (expected {self.expected!r}, got {self.actual!r})"


@dataclass
class ScenarioResult:
    scenario: Scenario
    mismatches: list[Mismatch] = field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and not self.mismatches

    def describe(self) -> list[str]:
        where = f"{self.scenario.file}: {self.scenario.name} ({self.scenario.on.isoformat()})"
        if self.error is not None:
            return [f"ERROR {where}: {self.error}"]
        return [f"FAIL {where}"] + [f"    {m.describe()}" for m in self.mismatches]


def scenario_files(paths: Iterable[Path]) -> list[Path]:
    """YAML files named, or found (recursively) in the folders named, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")))
        elif path.is_file():
            found.append(path)
        else:
            raise ScenarioFileError(f"{path}: no such file or folder")
    return found


def load_scenarios(paths: Iterable[Path], profile: Profile | None = None) -> list[Scenario]:
    scenarios: list[Scenario] = []
    for path in scenario_files(paths):
        scenarios.extend(_load_file(path, profile))
    return scenarios


def _load_file(path: Path, profile: Profile | None) -> Iterator[Scenario]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioFileError(f"{path}: cannot read: {exc}") from None
    if isinstance(document, Mapping):
        if profile is None and document.get("profile"):
            try:
                profile = load_profile(str(document["profile"]))
            except ProfileError as exc:
                raise ScenarioFileError(f"{path}: {exc}") from None
        document = document.get("scenarios")
    if not isinstance(document, list):
        raise ScenarioFileError(f"{path}: expected a list of scenarios")
    for index, entry in enumerate(document):
        yield _scenario(path, index, entry, profile or default_profile())


def _scenario(path: Path, index: int, entry: Any, profile: Profile) -> Scenario:
    where = f"{path}: scenario {index + 1}"
    if not isinstance(entry, Mapping):
        raise ScenarioFileError(f"{where}: not a mapping")
    missing = [key for key in ("name", "date", "situation", "expected") if key not in entry]
    if missing:
        raise ScenarioFileError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(set(entry) - {"name", "date", "situation", "expected", "note"})
    if unknown:
        raise ScenarioFileError(f"{where}: unknown keys {', '.join(unknown)}")
    on = entry["date"]
    if isinstance(on, str):
        on = dt.date.fromisoformat(on)
    if not isinstance(on, dt.date):
        raise ScenarioFileError(f"{where}: date must be YYYY-MM-DD")
    if not isinstance(entry["expected"], Mapping):
        raise ScenarioFileError(f"{where}: expected must be a mapping")
    return Scenario(str(entry["name"]), on, entry["situation"], entry["expected"], path, profile)


def run_scenario(scenario: Scenario) -> ScenarioResult:
    """Evaluate one scenario. ``expected: {error: text}`` expects the evaluation to be refused
    with a message containing ``text`` (e.g. a day before the profile's horizon)."""
    result = ScenarioResult(scenario)
    expected = _plain(scenario.expected)
    try:
        situation = situation_from_json(_plain(scenario.situation))
        determination = determine(situation, scenario.on, scenario.profile)
    except ValidationError as exc:
        reasons = "; ".join(
            f"situation.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors(include_input=False)
        )
        result.error = f"invalid situation: {reasons}"
        return result
    except ValueError as exc:
        if "error" in expected and str(expected["error"]) in str(exc):
            return result
        result.error = str(exc)
        return result
    if "error" in expected:
        result.mismatches = [Mismatch("error", expected["error"], None, "no error was raised")]
        return result
    result.mismatches = compare(expected, determination.to_json())
    return result


def run_scenarios(paths: Iterable[Path], profile: Profile | None = None) -> list[ScenarioResult]:
    return [run_scenario(scenario) for scenario in load_scenarios(paths, profile)]


def compare(expected: Any, actual: Any, path: str = "") -> list[Mismatch]:
    """Where ``actual`` fails to contain ``expected`` (see the module docstring)."""
    if isinstance(expected, Mapping):
        if set(expected) == {"contains"} and isinstance(expected["contains"], list):
            return _contains(expected["contains"], actual, path)
        if not isinstance(actual, Mapping):
            return [Mismatch(path or ".", dict(expected), actual, "not a mapping")]
        out: list[Mismatch] = []
        for key, value in expected.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in actual:
                out.append(Mismatch(where, value, None, "no such key in the determination"))
            else:
                out.extend(compare(value, actual[key], where))
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [Mismatch(path, expected, actual, "not a list")]
        if len(expected) != len(actual):
            shown = [_code(item) for item in actual]
            return [
                Mismatch(path, expected, shown, f"{len(actual)} items, expected {len(expected)}")
            ]
        out = []
        for index, (want, have) in enumerate(zip(expected, actual, strict=True)):
            out.extend(compare(want, have, f"{path}[{index}]"))
        return out
    if isinstance(expected, str) and isinstance(actual, Mapping):
        code = _code(actual)
        return [] if code == expected else [Mismatch(path, expected, code, "different code")]
    if expected != actual:
        return [Mismatch(path, expected, actual, "different value")]
    return []


def _contains(expected: list[Any], actual: Any, path: str) -> list[Mismatch]:
    if not isinstance(actual, list):
        return [Mismatch(path, expected, actual, "not a list")]
    out = []
    for want in expected:
        if not any(not compare(want, have) for have in actual):
            shown = [_code(item) for item in actual]
            out.append(Mismatch(path, want, shown, "no matching item"))
    return out


def _code(item: Any) -> Any:
    if isinstance(item, Mapping):
        for key in CODE_KEYS:
            if key in item:
                return item[key]
    return item


def _plain(value: Any) -> Any:
    """YAML values as the JSON the determination is compared with (dates as ISO text)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
