"""Synthetic feeds: deterministic, faulty at the asked rates, with ground truth."""

from __future__ import annotations

import datetime as dt
import json
from random import Random

from oberih.exchange.feeds import FaultRates, generate_feed, typo
from oberih.exchange.messages import parse_message, parse_source
from oberih.population import generate_population


def population(persons: int = 80) -> list:  # type: ignore[type-arg]
    return list(generate_population(persons=persons, seed=5, reference_date=dt.date(2026, 1, 1)))


def test_the_same_seed_gives_the_same_feed() -> None:
    people = population()
    first = generate_feed(people, seed=9)
    second = generate_feed(people, seed=9)
    assert [r.line for r in first.records] == [r.line for r in second.records]


def test_clean_feeds_are_valid_messages_about_their_person() -> None:
    people = population()
    rates = FaultRates(**{name: 0.0 for name in FaultRates.__dataclass_fields__})
    feed = generate_feed(people, seed=9, rates=rates)
    assert feed.records
    ids = {p.person_id for p in people}
    for record in feed.records:
        parse_message(parse_source(record.source), json.loads(record.line))
        assert record.truth in ids
    births = [r for r in feed.records if r.creates_person]
    assert {r.truth for r in births} == feed.held_out


def test_faults_are_drawn_at_their_rates() -> None:
    feed = generate_feed(population(200), seed=9, rates=FaultRates(typo=0.5, malformed=0.1))
    records = [r for r in feed.records if not r.creates_person]
    share = sum("typo" in r.faults for r in records) / len(records)
    assert 0.4 < share < 0.6
    malformed = [r for r in records if "malformed" in r.faults]
    assert malformed
    for record in malformed:
        try:
            json.loads(record.line)
        except ValueError:
            continue
        raise AssertionError("a malformed line parsed")


def test_a_typo_changes_one_letter() -> None:
    rng = Random(1)
    for _ in range(50):
        changed = typo("Коваленко", rng)
        assert abs(len(changed) - len("Коваленко")) <= 1
