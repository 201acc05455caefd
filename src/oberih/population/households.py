"""Households: the unit in which persons are generated, so that family links are consistent.

A household is drawn around a head (an adult from the age pyramid): maybe a partner, the
children of the household's mother that are still minors (older children live elsewhere and
appear only as family links), rarely a ward. Everyone in it shares a registered address.

SOURCES (see also ``demography``)
- Sex ratio at birth 105 boys to 100 girls (ukrstat, long-run average).
- Wife takes the husband's surname in about 85 % of marriages (estimate).
- Single mothers recorded as raising a child alone: 35 % (estimate; the legal status needs the
  father absent from the birth record, deceased or deprived of parental rights).
- Single fathers: 3 % of unpartnered men 25-60 head a household with their minor children
  (estimate). Guardianship of an orphan: 0.3 % of couples aged 30-65 (estimate; about 70,000
  children in guardianship or foster families).
- Displacement: 35-40 % of households registered in occupied or front-line regions live
  elsewhere (actual address); about 4.9M registered internally displaced persons (Ministry of
  Social Policy, 2023) (estimate).
- Emigration since 24.02.2022: 12 % of mothers with minor children and 5 % of other women
  18-60 left, a third of them came back (estimate after UNHCR counts of about 6M refugees from
  Ukraine in Europe).
- Citizens of other countries: 0.3 % of adults (estimate); foreign-born: 3 % of those born
  before 1991, mostly in other Soviet republics; children born abroad to emigrated mothers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from uuid import UUID

from oberih.population.demography import (
    ADULT_CHILD_SEVERE_DISABILITY_SHARE,
    CHILD_DISABILITY_SHARE,
    CHILDREN_EVER_BORN,
    DISABILITY_GROUPS,
    SERIOUSLY_ILL_CHILD_SHARE,
    annual_mortality,
    disability_share,
    head_partnered_share,
    period_fertility,
)
from oberih.population.journal import new_uuid
from oberih.population.places import DISPLACEMENT_REGIONS, STREETS, Settlement
from oberih.population.tables import WeightedTable
from oberih.population.world import WAR_START, World, patronymic, surname_for

YEAR = 365.2425
_BOY_SHARE = 105 / 205
_FOREIGN_CITIZENSHIPS = WeightedTable(
    [
        ("MDA", 3.0),
        ("GEO", 2.0),
        ("AZE", 2.0),
        ("ARM", 1.0),
        ("BLR", 1.0),
        ("POL", 1.0),
        ("HUN", 1.0),
    ]
)
_SOVIET_BIRTH_PLACES = (
    "м. Караганда, Казахстан",
    "м. Мінськ, Білорусь",
    "м. Кишинів, Молдова",
    "м. Ташкент, Узбекистан",
    "м. Ростов-на-Дону, Росія",
    "м. Новосибірськ, Росія",
)
_REFUGE_BIRTH_PLACES = ("м. Варшава, Польща", "м. Прага, Чехія", "м. Берлін, Німеччина")


@dataclass(frozen=True, slots=True)
class ChildLink:
    """A child as a parent's family record names them; ``member`` None if not generated."""

    member: Member | None
    name: str
    birth: int
    sex: str
    disability: str | None
    seriously_ill: bool = False


@dataclass(frozen=True, slots=True)
class ServiceSpell:
    """A period of military service; ``end`` None while it goes on."""

    kind: str  # conscript, contract, mobilised, reserve_training
    start: int
    end: int | None
    combat: bool
    unit: str
    composition: str
    rank: str
    released_from_captivity: int | None = None


@dataclass(eq=False, slots=True)
class Member:
    """One person of a household, before their facts are written (days are ordinals)."""

    person_id: UUID
    role: str  # head, partner, child, ward
    sex: str
    birth: int
    birth_date: dt.date
    family_name: str  # masculine form; the person's own surname is surname_for(family_name, sex)
    given_name: str
    father_name: str
    citizenship: str
    birth_place: str
    settlement: Settlement
    address_from: int
    street_line: str
    surname: str = ""
    patronymic: str = ""
    death: int | None = None
    disability: str | None = None  # I, II, III; "child" for a child with disability
    disability_from: int = 0
    seriously_ill: bool = False
    refuses_rnokpp: bool = False  # religious refusal of the taxpayer number
    spouse: Member | None = None
    marriage: int = 0
    children: list[ChildLink] = field(default_factory=list)
    raising_alone: bool = False
    parents: list[Member] = field(default_factory=list)
    wards: list[Member] = field(default_factory=list)
    guardian_since: int = 0
    actual: Settlement | None = None  # where a displaced person actually lives
    actual_from: int = 0
    exit_day: int | None = None  # emigrated on this day
    return_day: int | None = None
    services: list[ServiceSpell] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.surname = surname_for(self.family_name, self.sex)
        self.patronymic = patronymic(self.father_name, self.sex)

    @property
    def full_name(self) -> str:
        return f"{self.surname} {self.given_name} {self.patronymic}"

    def age_on(self, day: int) -> int:
        """Completed years on ``day`` (approximate by a day around birthdays)."""
        return int((day - self.birth) / YEAR)


def anniversary(birth: int, years: int) -> int:
    """The day a person born on ``birth`` turns ``years`` (29 February -> 1 March)."""
    return anniversary_of(dt.date.fromordinal(birth), years)


def anniversary_of(born: dt.date, years: int, _date: type[dt.date] = dt.date) -> int:
    try:
        return _date(born.year + years, born.month, born.day).toordinal()
    except ValueError:
        return _date(born.year + years, 3, 1).toordinal()


class HouseholdMaker:
    """Draws households of at most a given size from the world's generator."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.rng = world.rng
        self._adult = world.adult_cells.sampler(world.rng)
        self._displaced_to = [r for r in world.regions.items if r.code not in DISPLACEMENT_REGIONS]

    def household(self, max_size: int) -> list[Member]:
        rng, world = self.rng, self.world
        sex, age = self._adult()
        settlement = world.region().settlements.draw(rng)
        head = self._adult_member("head", sex, self._birth_for_age(age), settlement)
        members = [head]
        if max_size > 1 and rng.random() < head_partnered_share(age, sex):
            members.append(self._partner(head))
        self._add_children(members, max_size)
        if len(members) < max_size and head.spouse and 30 <= age <= 65 and rng.random() < 0.003:
            self._add_ward(members)
        self._settle(members)
        self._emigrate(members)
        self._mark_deaths(members)
        return members

    # Adults ------------------------------------------------------------------------------

    def _birth_for_age(self, age: int) -> int:
        latest = self.world.reference_day - int(age * YEAR)
        return self.rng.randint(latest - 364, latest)

    def _adult_member(self, role: str, sex: str, birth: int, settlement: Settlement) -> Member:
        world, rng = self.world, self.rng
        birth_date = dt.date.fromordinal(birth)
        citizenship = "UKR"
        if role == "head" and rng.random() < 0.003:
            citizenship = _FOREIGN_CITIZENSHIPS.draw(rng)
        member = Member(
            person_id=new_uuid(rng),
            role=role,
            sex=sex,
            birth=birth,
            birth_date=birth_date,
            family_name=world.surname(),
            given_name=world.given_name(sex, birth_date.year),
            father_name=world.given_name("male", birth_date.year - 28),
            citizenship=citizenship,
            birth_place=self._birth_place(birth_date, settlement),
            settlement=settlement,
            address_from=birth,
            street_line="",
        )
        member.refuses_rnokpp = rng.random() < 0.005
        self._maybe_disabled(member)
        return member

    def _birth_place(self, birth_date: dt.date, home: Settlement) -> str:
        rng = self.rng
        draw = rng.random()
        if birth_date.year < 1991 and draw < 0.03:
            return rng.choice(_SOVIET_BIRTH_PLACES)
        if draw < 0.45:
            return home.birth_place
        if draw < 0.8:
            region = self.world.region_by_code[home.region]
            return region.settlements.draw(rng).birth_place
        return self.world.region().settlements.draw(rng).birth_place

    def _partner(self, head: Member) -> Member:
        rng = self.rng
        gap = int(rng.gauss(2.5, 3.0) * YEAR)  # husband older
        birth = head.birth + gap if head.sex == "male" else head.birth - gap
        adult_limit = self.world.reference_day - int(18 * YEAR)
        birth = min(birth, adult_limit)
        sex = "female" if head.sex == "male" else "male"
        partner = self._adult_member("partner", sex, birth, head.settlement)
        husband, wife = (head, partner) if head.sex == "male" else (partner, head)
        if rng.random() < 0.85:
            wife.family_name = husband.family_name
            wife.surname = surname_for(wife.family_name, "female")
        head.spouse, partner.spouse = partner, head
        younger = max(head.birth, partner.birth)
        marriage_age = rng.uniform(19.0, 32.0)
        marriage = min(younger + int(marriage_age * YEAR), self.world.horizon)
        head.marriage = partner.marriage = marriage
        return partner

    # Children ----------------------------------------------------------------------------

    def _add_children(self, members: list[Member], max_size: int) -> None:
        head = members[0]
        mother = next((m for m in members if m.sex == "female"), None)
        father = next((m for m in members if m.sex == "male"), None)
        if mother is not None:
            births = self._births(mother.birth)
        elif 25 <= head.age_on(self.world.reference_day) <= 60 and self.rng.random() < 0.03:
            births = self._births(head.birth + int(2 * YEAR))
            head.raising_alone = True
        else:
            return
        if mother is not None and father is None and births:
            mother.raising_alone = self.rng.random() < 0.35
        if mother is not None and father is not None and births:
            first = births[0] - int(self.rng.uniform(0.0, 2.5) * YEAR)
            adult = max(anniversary(father.birth, 18), anniversary(mother.birth, 18))
            mother.marriage = father.marriage = max(min(mother.marriage, first), adult)
        for birth in births:
            # A child born before the man of the household was 18 is his stepchild: not linked.
            parents = [
                m
                for m in (father, mother)
                if m is not None and (m is mother or birth >= anniversary(m.birth, 18))
            ]
            self._add_child(members, parents, birth, max_size)

    def _births(self, mother_birth: int) -> list[int]:
        rng, world = self.rng, self.world
        planned = CHILDREN_EVER_BORN.draw(rng)
        births: list[int] = []
        age = max(18.0, rng.gauss(24.5, 4.0))
        for _ in range(planned):
            if age > 44:
                break
            day = mother_birth + int(age * YEAR)
            if day > world.horizon:
                break
            if rng.random() < period_fertility(dt.date.fromordinal(day).year):
                births.append(day)
            age += rng.uniform(1.5, 7.0)
        return births

    def _add_child(
        self, members: list[Member], parents: list[Member], birth: int, max_size: int
    ) -> None:
        rng, world = self.rng, self.world
        sex = "male" if rng.random() < _BOY_SHARE else "female"
        father = next((p for p in parents if p.sex == "male"), None)
        family = parents[0].family_name
        birth_date = dt.date.fromordinal(birth)
        minor = birth > anniversary(world.reference_day, -18)
        father_name = (
            father.given_name if father else world.given_name("male", birth_date.year - 28)
        )
        given = world.given_name(sex, birth_date.year)
        disability: str | None = None
        if minor and rng.random() < CHILD_DISABILITY_SHARE:
            disability = "child"
        elif not minor and rng.random() < ADULT_CHILD_SEVERE_DISABILITY_SHARE:
            disability = "I" if rng.random() < 0.2 else "II"  # only I and II matter to a parent
        ill = minor and disability is None and rng.random() < SERIOUSLY_ILL_CHILD_SHARE
        if minor and len(members) < max_size:
            child = Member(
                person_id=new_uuid(rng),
                role="child",
                sex=sex,
                birth=birth,
                birth_date=birth_date,
                family_name=family,
                given_name=given,
                father_name=father_name,
                citizenship="UKR",
                birth_place=members[0].settlement.birth_place,
                settlement=members[0].settlement,
                address_from=birth,
                street_line="",
                disability=disability,
                disability_from=birth + rng.randint(30, 2_000),
                seriously_ill=ill,
                parents=parents,
            )
            members.append(child)
            link = ChildLink(child, child.full_name, birth, sex, disability, ill)
        else:
            name = f"{surname_for(family, sex)} {given} {patronymic(father_name, sex)}"
            link = ChildLink(None, name, birth, sex, disability if not minor else None)
        for parent in parents:
            parent.children.append(link)

    def _add_ward(self, members: list[Member]) -> None:
        rng, world = self.rng, self.world
        head = members[0]
        birth = world.reference_day - rng.randint(int(3 * YEAR), int(17.5 * YEAR))
        sex = "male" if rng.random() < _BOY_SHARE else "female"
        birth_date = dt.date.fromordinal(birth)
        ward = Member(
            person_id=new_uuid(rng),
            role="ward",
            sex=sex,
            birth=birth,
            birth_date=birth_date,
            family_name=world.surname(),
            given_name=world.given_name(sex, birth_date.year),
            father_name=world.given_name("male", birth_date.year - 28),
            citizenship="UKR",
            birth_place=self._birth_place(birth_date, head.settlement),
            settlement=head.settlement,
            address_from=birth,
            street_line="",
        )
        members.append(ward)
        since = rng.randint(ward.birth + 365, world.horizon)
        guardians = [head] + ([head.spouse] if head.spouse else [])
        for guardian in guardians:
            guardian.wards.append(ward)
            guardian.guardian_since = since

    # Whole household ---------------------------------------------------------------------

    def _maybe_disabled(self, member: Member) -> None:
        rng = self.rng
        age = member.age_on(self.world.reference_day)
        if rng.random() < disability_share(age):
            member.disability = DISABILITY_GROUPS.draw(rng)
            since = anniversary(member.birth, 18)
            member.disability_from = rng.randint(min(since, self.world.horizon), self.world.horizon)

    def _settle(self, members: list[Member]) -> None:
        rng, world = self.rng, self.world
        head = members[0]
        settlement = head.settlement
        adult_since = max(
            anniversary(m.birth, 18) for m in members if m.role in ("head", "partner")
        )
        years_here = rng.expovariate(1 / 12.0)
        moved_in = max(min(adult_since, world.horizon), world.horizon - int(years_here * YEAR))
        street = rng.choice(STREETS)
        house = rng.randint(1, 150)
        if settlement.is_city and rng.random() < 0.7:
            line = f"{street}, {house}, кв. {rng.randint(1, 200)}"
        else:
            line = f"{street}, {house}"
        displaced = self._displacement(settlement)
        for member in members:
            member.street_line = line
            member.address_from = max(moved_in, member.birth)
            if displaced is not None:
                member.actual, since = displaced
                member.actual_from = max(since, member.birth)

    def _displacement(self, settlement: Settlement) -> tuple[Settlement, int] | None:
        rng, world = self.rng, self.world
        if settlement.region not in DISPLACEMENT_REGIONS or rng.random() >= 0.38:
            return None
        early = settlement.region in ("UA01", "UA85", "UA14", "UA44") and rng.random() < 0.35
        first = dt.date(2014, 4, 1) if early else WAR_START
        last = dt.date(2015, 12, 31) if early else dt.date(2023, 6, 30)
        if first.toordinal() > world.horizon:
            return None
        since = world.random_day(first.toordinal(), min(last.toordinal(), world.horizon))
        region = self._displaced_to[rng.randrange(len(self._displaced_to))]
        return region.settlements.draw(rng), since

    def _emigrate(self, members: list[Member]) -> None:
        rng, world = self.rng, self.world
        war = WAR_START.toordinal()
        if world.horizon < war + 20:
            return
        mother = next((m for m in members if m.sex == "female" and m.role != "child"), None)
        if mother is None or not 18 <= mother.age_on(war) <= 60:
            return
        minors = [m for m in members if m.role in ("child", "ward")]
        if rng.random() >= (0.12 if minors else 0.05):
            return
        if rng.random() < 0.7:
            exit_day = world.random_day(war, min(dt.date(2022, 6, 30).toordinal(), world.horizon))
        else:
            exit_day = world.random_day(war + 130, world.horizon)
        back: int | None = exit_day + rng.randint(30, 500) if rng.random() < 0.35 else None
        if back is not None and back > world.horizon:
            back = None
        for member in [mother, *minors]:
            member.return_day = back
            if member.birth < exit_day:
                member.exit_day = exit_day
            else:  # born abroad after the mother left; crosses only when they come back
                member.birth_place = rng.choice(_REFUGE_BIRTH_PLACES)

    def reconcile(self, members: list[Member]) -> None:
        """After deaths are final (deaths in service come later): parents outlive the birth
        of their children, and a marriage precedes both partners' deaths."""
        for member in members:
            last_birth = max((link.birth for link in member.children), default=0)
            if member.death is not None and member.death <= last_birth:
                later = last_birth + self.rng.randint(1, 400)
                member.death = later if later <= self.world.horizon else None
        head = members[0]
        spouse = head.spouse
        if spouse is None:
            return
        deaths = [m.death for m in (head, spouse) if m.death is not None]
        if not deaths:
            return
        adult = max(anniversary(head.birth, 18), anniversary(spouse.birth, 18))
        if min(deaths) <= adult:
            head.spouse = spouse.spouse = None  # never married: one died too young
            return
        head.marriage = spouse.marriage = min(head.marriage, min(deaths) - 1)

    def _mark_deaths(self, members: list[Member]) -> None:
        rng, world = self.rng, self.world
        years = (world.horizon - world.load_day) / YEAR
        for member in members:
            age = member.age_on(world.reference_day)
            first = max(world.load_day, member.birth + 1)
            if first >= world.horizon:
                continue
            if rng.random() < annual_mortality(age, member.sex) * years:
                member.death = rng.randint(first, world.horizon)
