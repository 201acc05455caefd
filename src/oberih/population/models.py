"""What the generator hands out: one person with their complete journal facts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from uuid import UUID

from oberih.persons.facts import Fact


@dataclass(frozen=True, slots=True)
class GeneratedPerson:
    """A synthetic person: id, when the register first recorded them, and their facts."""

    person_id: UUID
    created_at: dt.datetime  # UTC, the recorded_at of the first fact
    facts: list[Fact]
