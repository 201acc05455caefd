"""A determination in plain words, in Ukrainian or English, for the citizen's "why".

The wording of every rule is the profile's (``rules.<id>.text.<language>``), so each country
writes its own; this module only fills the templates and lays the answer out: the status, whether
the person may be called up and why not, the deferrals and reservations with their periods and
legal basis, the next change, then the rules that fired in order, each with its citation and the
facts (and source registers) it used.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from oberih.rules.profile import Profile, default_profile, packaged_profile
from oberih.rules.results import Determination, RuleStep

LANGUAGES = ("uk", "en")


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "…"


def explain(
    determination: Determination, *, language: str = "uk", profile: Profile | None = None
) -> str:
    """The determination as text for a person to read."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    profile = profile or _profile_of(determination)
    words = _Words(profile, language)
    lines = [_headline(determination, words), _call_up(determination, words)]
    for deferral in determination.deferrals:
        ground = profile.ground(deferral.ground)
        title = ground.title.get(language, deferral.ground) if ground else deferral.ground
        basis = f" [{deferral.citation.text(language)}]" if deferral.citation else ""
        lines.append(
            f"  • {title}: {words.day(deferral.valid_from)} – {words.day(deferral.until)}{basis}"
        )
    for reservation in determination.reservations:
        lines.append(
            f"  • {words.label('not_mobilisable_because', 'reservation')} "
            f"({reservation.employer_code}): {words.day(reservation.valid_from)} – "
            f"{words.day(reservation.until)}"
        )
    if determination.next_change is not None:
        lines.append(f"{words.word('next_change')}: {words.day(determination.next_change)}.")
    lines.append(f"{words.word('why')}:")
    for number, step in enumerate(determination.explanation, start=1):
        lines.extend(_step_lines(number, step, profile, words))
    return "\n".join(lines)


def _profile_of(determination: Determination) -> Profile:
    code = determination.profile.partition("@")[0]
    return packaged_profile(code) if code else default_profile()


class _Words:
    def __init__(self, profile: Profile, language: str) -> None:
        self.profile = profile
        self.language = language

    def word(self, key: str) -> str:
        return self.profile.label("words", key, self.language)

    def label(self, group: str, code: str) -> str:
        return self.profile.label(group, code, self.language)

    def day(self, day: dt.date | None) -> str:
        if day is None:
            return self.word("open_end")
        return day.strftime("%d.%m.%Y") if self.language == "uk" else day.isoformat()

    def value(self, key: str, value: Any) -> str:
        if isinstance(value, dt.date) or value is None:
            return self.day(value)
        if key == "ground":
            ground = self.profile.ground(str(value))
            return ground.title.get(self.language, str(value)) if ground else str(value)
        if key == "grounds":
            return ", ".join(self.value("ground", code) for code in str(value).split(", "))
        if key == "recorded_category":
            return self.label("category", str(value))
        if isinstance(value, bool):
            return str(value).lower()
        return str(value)


def _headline(determination: Determination, words: _Words) -> str:
    status = words.label("category", determination.category.value)
    if determination.removal_reason is not None:
        status += " " + words.label("removal_reason", determination.removal_reason.value)
    return f"{words.word('as_of')} {words.day(determination.on)}: {status}."


def _call_up(determination: Determination, words: _Words) -> str:
    if determination.mobilisable:
        return words.word("mobilisable_yes")
    reasons = ", ".join(
        words.label("not_mobilisable_because", reason.value)
        for reason in determination.not_mobilisable_because
    )
    return f"{words.word('mobilisable_no')} ({words.word('because')}: {reasons})."


def _step_lines(number: int, step: RuleStep, profile: Profile, words: _Words) -> list[str]:
    rule = profile.rules.get(step.rule)
    template = rule.text.get(words.language, step.rule) if rule else step.rule
    values = _Blank({key: words.value(key, value) for key, value in step.outcome.items()})
    text = template.format_map(values)
    lines = [f" {number}. {text} [{step.citation.text(words.language)}]"]
    for fact in step.facts:
        lines.append(f"      – {fact.fact_id} ({words.word('source')}: {fact.source})")
    return lines
