"""Country profiles: legal parameters as dated values, each with its legal citation.

A profile is a YAML file (``profiles/<code>.yaml``; Ukraine, ``ua``, is the default). It holds
the acts it cites, the parameters (each a series of values with the day they come into force),
the deferral grounds (each naming a predicate of the engine's library and its dated parameters),
the citation and wording of every rule of the engine, and labels in each language. The file is
validated once at load (pydantic, the boundary); the engine then reads plain frozen objects.

Lookup is by parameter name and day: each parameter keeps the sorted list of its start days and
answers with ``bisect``, so reading a value costs one binary search over a handful of dates.

Exceptions (all ``ValueError``):
- ``ProfileError``: the file is not a valid profile (the message says where and why).
- ``OutsideHorizon``: a day before the profile's horizon (the law before it is not modelled).
- ``NotInForce``: a parameter has no value on that day (e.g. a ground not yet introduced).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_PROFILE = "ua"
LANGUAGES = ("uk", "en")


class ProfileError(ValueError):
    """The profile file is invalid."""


class OutsideHorizon(ValueError):
    """The day asked for is before the profile's horizon."""

    def __init__(self, on: dt.date, horizon: dt.date) -> None:
        self.on = on
        self.horizon = horizon
        super().__init__(f"{on.isoformat()} is before the profile's horizon {horizon.isoformat()}")


class NotInForce(ValueError):
    """A parameter has no value on the day asked for."""

    def __init__(self, name: str, on: dt.date) -> None:
        self.name = name
        self.on = on
        super().__init__(f"parameter {name!r} has no value in force on {on.isoformat()}")


# --- the file format (boundary) -------------------------------------------------------------


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CitationSpec(_Spec):
    act: str
    article: str | None = None
    part: str | None = None
    paragraph: str | None = None
    amended_by: str | None = None
    confirmed: bool
    note: str | None = None


class ActSpec(_Spec):
    number: str | None
    date: dt.date | None
    in_force: dt.date | None = None
    title: dict[str, str]
    short: dict[str, str] | None = None  # how citations name an act without a number
    url: str | None
    confirmed: bool
    note: str | None = None


class ValueSpec(_Spec):
    valid_from: dt.date = Field(alias="from")
    value: Any
    citation: CitationSpec


class ParameterSpec(_Spec):
    description: str
    values: list[ValueSpec] = Field(min_length=1)


class GroundValueSpec(_Spec):
    valid_from: dt.date = Field(alias="from")
    params: dict[str, Any]
    citation: CitationSpec


class GroundSpec(_Spec):
    title: dict[str, str]
    predicate: str
    automatic: bool
    evidence: dict[str, str]
    values: list[GroundValueSpec] = Field(min_length=1)


class RuleSpec(_Spec):
    citation: CitationSpec
    text: dict[str, str]


class ProfileFile(_Spec):
    profile: str = Field(pattern=r"^[a-z]{2,8}$")
    version: str = Field(min_length=1, max_length=40)
    title: dict[str, str]
    citizenship: str = Field(pattern=r"^[A-Z]{3}$")
    horizon: dt.date
    acts: dict[str, ActSpec]
    parameters: dict[str, ParameterSpec]
    deferral_grounds: dict[str, GroundSpec] = {}
    not_modelled: list[dict[str, str]] = []
    rules: dict[str, RuleSpec]
    labels: dict[str, dict[str, dict[str, str]]] = {}


# --- the runtime objects --------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Act:
    key: str
    number: str | None
    date: dt.date | None
    in_force: dt.date | None
    title: Mapping[str, str]
    url: str | None
    confirmed: bool
    note: str | None
    short_name: Mapping[str, str] | None = None

    def short(self, language: str = "en") -> str:
        """How a citation names the act: "Law 3543-XII" / "Закон 3543-XII"."""
        if self.short_name:
            return self.short_name.get(language) or self.short_name.get("en") or self.key
        if self.number is None:
            return self.title.get(language) or self.title.get("en") or self.key
        kind = self.key.split("_", 1)[0]
        words = _ACT_KINDS.get(kind, {})
        word = words.get(language, words.get("en", ""))
        return f"{word} {self.number}".strip()


_ACT_KINDS = {
    "law": {"uk": "Закон", "en": "Law"},
    "res": {"uk": "Постанова КМУ", "en": "Cabinet Resolution"},
    "decree": {"uk": "Указ Президента", "en": "Presidential Decree"},
    "mod": {"uk": "Наказ МОУ", "en": "MoD Order"},
    "civil": {"uk": "ЦК України", "en": "Civil Code"},
}


@dataclass(frozen=True, slots=True, eq=False)
class Citation:
    act: Act
    article: str | None
    part: str | None
    paragraph: str | None
    amended_by: Act | None
    in_force: dt.date | None
    confirmed: bool
    note: str | None
    json: Mapping[str, Any] = field(default_factory=dict)

    def text(self, language: str = "en") -> str:
        """E.g. "Law 3543-XII art. 23 part 1 p. 3, as amended by Law 3633-IX"."""
        words = _CITATION_WORDS[language if language in _CITATION_WORDS else "en"]
        out = self.act.short(language)
        for value, word in (
            (self.article, words[0]),
            (self.part, words[1]),
            (self.paragraph, words[2]),
        ):
            if value:
                out += f" {word} {value}"
        if self.amended_by is not None:
            out += f" ({words[3]} {self.amended_by.short(language)})"
        return out


_CITATION_WORDS = {
    "en": ("art.", "part", "p.", "as amended by"),
    "uk": ("ст.", "ч.", "п.", "зміни:"),
}


@dataclass(frozen=True, slots=True, eq=False)
class DatedValue:
    """One value of a parameter, in force from ``valid_from`` to ``valid_to`` (inclusive)."""

    parameter: str
    valid_from: dt.date
    valid_to: dt.date | None
    value: Any
    citation: Citation
    ref: str = ""  # "name@from": how a stored record names this value


class Parameter:
    """A named parameter: its dated values, sorted, looked up by bisect."""

    __slots__ = ("_starts", "description", "name", "values")

    def __init__(self, name: str, description: str, values: tuple[DatedValue, ...]) -> None:
        self.name = name
        self.description = description
        self.values = values
        self._starts = [value.valid_from for value in values]

    def at(self, on: dt.date) -> DatedValue | None:
        index = bisect_right(self._starts, on) - 1
        return self.values[index] if index >= 0 else None

    def next_start_after(self, on: dt.date) -> dt.date | None:
        """The first day after ``on`` on which a new value comes into force."""
        index = bisect_right(self._starts, on)
        return self._starts[index] if index < len(self._starts) else None

    @property
    def change_days(self) -> tuple[dt.date, ...]:
        return tuple(self._starts)


@dataclass(frozen=True, slots=True, eq=False)
class Ground:
    """A deferral ground: stable code, wording, the predicate reading its evidence, parameters."""

    code: str
    title: Mapping[str, str]
    predicate: str
    automatic: bool
    evidence: Mapping[str, str]
    parameter: Parameter


@dataclass(frozen=True, slots=True, eq=False)
class RuleText:
    rule: str
    citation: Citation
    text: Mapping[str, str]


@dataclass(frozen=True, slots=True, eq=False)
class Profile:
    code: str
    version: str
    title: Mapping[str, str]
    citizenship: str
    horizon: dt.date
    acts: Mapping[str, Act]
    parameters: Mapping[str, Parameter]
    grounds: tuple[Ground, ...]
    rules: Mapping[str, RuleText]
    labels: Mapping[str, Mapping[str, Mapping[str, str]]]
    not_modelled: tuple[Mapping[str, str], ...]
    digest: str

    @property
    def key(self) -> str:
        """What determinations store: code and version, e.g. ``ua@2026.11.26``."""
        return f"{self.code}@{self.version}"

    def parameter(self, name: str) -> Parameter:
        try:
            return self.parameters[name]
        except KeyError:
            raise ProfileError(f"profile {self.code!r} has no parameter {name!r}") from None

    def value(self, name: str, on: dt.date) -> DatedValue:
        """The value of ``name`` in force on ``on``."""
        if on < self.horizon:
            raise OutsideHorizon(on, self.horizon)
        found = self.parameter(name).at(on)
        if found is None:
            raise NotInForce(name, on)
        return found

    def ground(self, code: str) -> Ground | None:
        for ground in self.grounds:
            if ground.code == code:
                return ground
        return None

    def label(self, group: str, code: str, language: str) -> str:
        entry = self.labels.get(group, {}).get(code)
        if entry is None:
            return code
        return entry.get(language) or entry.get("en") or code


# --- loading --------------------------------------------------------------------------------


def load_profile(source: str | Path = DEFAULT_PROFILE) -> Profile:
    """Load a profile by code (a packaged profile) or from a YAML file path."""
    text = _profile_text(source)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(f"profile is not valid YAML: {exc}") from None
    try:
        spec = ProfileFile.model_validate(document)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors(include_input=False)
        )
        raise ProfileError(f"invalid profile: {reasons}") from None
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return _build(spec, digest)


@lru_cache(maxsize=8)
def packaged_profile(code: str = DEFAULT_PROFILE) -> Profile:
    """A packaged profile, loaded once per process."""
    return load_profile(code)


def default_profile() -> Profile:
    return packaged_profile(DEFAULT_PROFILE)


def available_profiles() -> list[str]:
    folder = resources.files("oberih.rules") / "profiles"
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    )


def _profile_text(source: str | Path) -> str:
    path = Path(source)
    if isinstance(source, Path) or source.endswith((".yaml", ".yml")) or path.is_file():
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ProfileError(f"cannot read profile {str(source)!r}: {exc.strerror}") from None
    resource = resources.files("oberih.rules") / "profiles" / f"{source}.yaml"
    if not resource.is_file():
        raise ProfileError(f"no packaged profile {source!r} (have: {available_profiles()})")
    return resource.read_text(encoding="utf-8")


def _build(spec: ProfileFile, digest: str) -> Profile:
    acts = {key: _act(key, act) for key, act in spec.acts.items()}
    parameters = {
        name: _parameter(name, parameter.description, parameter.values, acts, spec.horizon)
        for name, parameter in spec.parameters.items()
    }
    grounds = []
    for code, ground in spec.deferral_grounds.items():
        name = f"deferral.{code}"
        values = [
            ValueSpec(valid_from=v.valid_from, value=v.params, citation=v.citation)
            for v in ground.values
        ]
        parameters[name] = _parameter(
            name, ground.title.get("en", code), values, acts, spec.horizon
        )
        grounds.append(
            Ground(
                code=code,
                title=ground.title,
                predicate=ground.predicate,
                automatic=ground.automatic,
                evidence=ground.evidence,
                parameter=parameters[name],
            )
        )
    rules = {
        rule: RuleText(rule, _citation(r.citation, acts, None, f"rules.{rule}"), r.text)
        for rule, r in spec.rules.items()
    }
    return Profile(
        code=spec.profile,
        version=spec.version,
        title=spec.title,
        citizenship=spec.citizenship,
        horizon=spec.horizon,
        acts=acts,
        parameters=parameters,
        grounds=tuple(grounds),
        rules=rules,
        labels=spec.labels,
        not_modelled=tuple(spec.not_modelled),
        digest=digest,
    )


def _act(key: str, spec: ActSpec) -> Act:
    return Act(
        key=key,
        number=spec.number,
        date=spec.date,
        in_force=spec.in_force,
        title=spec.title,
        url=spec.url,
        confirmed=spec.confirmed,
        note=spec.note,
        short_name=spec.short,
    )


def _parameter(
    name: str,
    description: str,
    specs: list[ValueSpec],
    acts: Mapping[str, Act],
    horizon: dt.date,
) -> Parameter:
    starts = [spec.valid_from for spec in specs]
    if starts != sorted(set(starts)):
        raise ProfileError(f"parameter {name!r}: values must be in strictly increasing date order")
    if starts[0] < horizon:
        raise ProfileError(f"parameter {name!r}: first value starts before the horizon")
    values = []
    for index, spec in enumerate(specs):
        valid_to = (
            specs[index + 1].valid_from - dt.timedelta(days=1) if index + 1 < len(specs) else None
        )
        citation = _citation(spec.citation, acts, spec.valid_from, f"parameters.{name}")
        ref = f"{name}@{spec.valid_from.isoformat()}"
        values.append(
            DatedValue(name, spec.valid_from, valid_to, _frozen(spec.value), citation, ref)
        )
    return Parameter(name, description, tuple(values))


def _citation(
    spec: CitationSpec, acts: Mapping[str, Act], in_force: dt.date | None, where: str
) -> Citation:
    for key in (spec.act, spec.amended_by):
        if key is not None and key not in acts:
            raise ProfileError(f"{where}: citation names unknown act {key!r}")
    act = acts[spec.act]
    amended_by = acts[spec.amended_by] if spec.amended_by else None
    citation = Citation(
        act=act,
        article=spec.article,
        part=spec.part,
        paragraph=spec.paragraph,
        amended_by=amended_by,
        in_force=in_force,
        confirmed=spec.confirmed,
        note=spec.note,
    )
    json = {
        "act": act.number or act.key,
        "title": act.title.get("en"),
        "article": spec.article,
        "part": spec.part,
        "paragraph": spec.paragraph,
        "amended_by": amended_by.number or amended_by.key if amended_by else None,
        "in_force": in_force.isoformat() if in_force else None,
        "confirmed": spec.confirmed,
        "text": {language: citation.text(language) for language in LANGUAGES},
    }
    object.__setattr__(citation, "json", json)
    return citation


def _frozen(value: Any) -> Any:
    """Parameter values are shared by every evaluation: lists become tuples (read-only)."""
    if isinstance(value, list):
        return tuple(_frozen(item) for item in value)
    if isinstance(value, dict):
        return {key: _frozen(item) for key, item in value.items()}
    return value
