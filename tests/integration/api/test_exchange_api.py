"""Exchange over HTTP: signed batches from source clients, status, quarantine and review."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from httpx import Response
from sqlalchemy import event, select

from oberih.api.pagination import keyset_cursor
from oberih.audit.models import AuditInboxRow
from oberih.auth.principals import Principal, Role
from oberih.db.engine import make_session_factory
from oberih.exchange.models import LinkDecision
from oberih.exchange.services import Processor, receive_batch
from oberih.exchange.settings import KEY_RING_SERVICE
from oberih.identifiers import make_document_number
from oberih.persons.facts import FactKind
from oberih.persons.services import create_person, get_state
from tests.factories import new_fact
from tests.integration.api.conftest import OFFICER_KYIV, PURPOSE, World, citizen
from tests.integration.exchange.helpers import (
    NOW,
    RNOKPP,
    SourceKeys,
    lines,
    message,
    register_person,
)

TAX = Principal(subject="tax-gateway", role=Role.source_register, source="tax")
BORDER = Principal(subject="border-gateway", role=Role.source_register, source="border")
ADMIN = Principal(subject="admin-1", role=Role.registry_admin)


def drain(world: World) -> None:
    """What ``oberih exchange work`` does on PostgreSQL (SQLite has processed in the request)."""
    Processor(sessions=make_session_factory(world.engine), clock=lambda: NOW).process_pending()


def send(world: World, keys: SourceKeys, body: bytes) -> Response:
    """The border guard's gateway sends a batch signed with its key."""
    return world.client.post(
        "/api/v1/exchange/border/batches",
        content=body,
        headers={**world.headers(BORDER), "X-Batch-Signature": keys.sign(body)},
    )


def install_keys(world: World, keys: SourceKeys) -> None:
    world.client.app.state.context.services[KEY_RING_SERVICE] = keys.ring  # type: ignore[attr-defined]


def test_a_signed_batch_is_accepted_processed_and_counted(world: World) -> None:
    keys = SourceKeys("border")
    install_keys(world, keys)
    with make_session_factory(world.engine)() as session, session.begin():
        register_person(session)
    body = lines(
        message("x-1", "exit", {"crossed_on": "2026-11-01", "country": "POL"}),
        "{broken",
    )
    response = send(world, keys, body)
    assert response.status_code == 202, response.text
    drain(world)
    status_url = response.json()["status_url"]
    status = world.client.get(status_url, headers=world.headers(BORDER)).json()
    assert status["status"] == "done"
    assert status["records"] == 2
    # With its offset on both engines (SQLite hands stored times back without one).
    assert dt.datetime.fromisoformat(status["received_at"]).utcoffset() == dt.timedelta(0)
    assert status["counts"]["applied"] == 1 and status["counts"]["quarantined"] == 1

    listed = world.client.get(
        "/api/v1/exchange/quarantine", headers=world.headers(ADMIN, purpose="DATA-CLARIFICATION")
    )
    assert listed.status_code == 200, listed.text
    assert listed.json()["next_cursor"] is None
    [record] = listed.json()["items"]
    assert record["reason"].startswith("malformed") and record["raw"] == "{broken"
    fixed = message("x-2", "entry", {"crossed_on": "2026-11-05"})
    replay = world.client.post(
        f"/api/v1/exchange/quarantine/{record['batch_id']}/{record['position']}/replay",
        json={"corrected": fixed},
        headers=world.headers(ADMIN, purpose="DATA-CLARIFICATION"),
    )
    assert replay.status_code == 200, replay.text
    assert replay.json()["state"] == "applied"


def test_bad_signature_and_other_source_are_refused(world: World) -> None:
    keys = SourceKeys("border")
    install_keys(world, keys)
    body = lines(message("x-1", "exit", {"crossed_on": "2026-11-01"}))
    bad = world.client.post(
        "/api/v1/exchange/border/batches",
        content=body,
        headers={**world.headers(BORDER), "X-Batch-Signature": keys.sign(body + b" ")},
    )
    assert bad.status_code == 422
    assert bad.json()["reason"] == "bad-signature"
    other = world.client.post(
        "/api/v1/exchange/border/batches",
        content=body,
        headers={**world.headers(TAX), "X-Batch-Signature": keys.sign(body)},
    )
    assert other.status_code == 403
    officer = world.client.post(
        "/api/v1/exchange/border/batches",
        content=body,
        headers=world.headers(ADMIN, purpose="DATA-CLARIFICATION"),
    )
    assert officer.status_code == 403


def _a_processed_border_batch(world: World) -> str:
    """The border guard's batch of one record applied and one quarantined: its status URL."""
    keys = SourceKeys("border")
    install_keys(world, keys)
    with make_session_factory(world.engine)() as session, session.begin():
        register_person(session)
    body = lines(message("x-1", "exit", {"crossed_on": "2026-11-01"}), "{broken")
    response = send(world, keys, body)
    assert response.status_code == 202, response.text
    drain(world)
    status_url: str = response.json()["status_url"]
    return status_url


def test_an_operator_reads_the_status_of_any_registers_batch(world: World) -> None:
    status_url = _a_processed_border_batch(world)
    read = world.client.get(status_url, headers=world.headers(ADMIN, purpose="DATA-CLARIFICATION"))
    assert read.status_code == 200, read.text
    status = read.json()
    assert (status["source"], status["status"], status["records"]) == ("border", "done", 2)
    assert status["counts"]["applied"] == 1 and status["counts"]["quarantined"] == 1
    # The same answer its own register's client gets.
    assert world.client.get(status_url, headers=world.headers(BORDER)).json() == status


def test_another_registers_batch_is_answered_as_one_that_does_not_exist(world: World) -> None:
    status_url = _a_processed_border_batch(world)
    other = world.client.get(status_url, headers=world.headers(TAX))
    unknown = world.client.get(
        f"/api/v1/exchange/batches/{uuid.uuid4()}", headers=world.headers(TAX)
    )
    assert other.status_code == unknown.status_code == 404, other.text
    without_request_id = [{**answer.json(), "request_id": None} for answer in (other, unknown)]
    assert without_request_id[0] == without_request_id[1]
    with make_session_factory(world.engine)() as session:  # the attempt is a denial, audited
        denials = session.scalars(
            select(AuditInboxRow.fields).where(
                AuditInboxRow.action == "access:denied", AuditInboxRow.actor == TAX.actor
            )
        ).all()
    assert denials == [["exchange:submit", "reason:other-source"]]


@pytest.mark.parametrize("caller", ["citizen", "officer"])
def test_a_citizen_or_an_officer_may_not_read_a_batch(world: World, caller: str) -> None:
    status_url = _a_processed_border_batch(world)
    headers = (
        world.headers(citizen(world.kyiv_person))
        if caller == "citizen"
        else world.headers(OFFICER_KYIV, purpose=PURPOSE)
    )
    refused = world.client.get(status_url, headers=headers)
    assert refused.status_code == 403, refused.text


def test_an_officer_decides_an_uncertain_identity(world: World) -> None:
    person_id = _open_reviews(world, 1)
    reviews = world.client.get(
        "/api/v1/exchange/reviews", headers=world.headers(ADMIN, purpose="DATA-CLARIFICATION")
    ).json()
    assert reviews["next_cursor"] is None
    [review] = reviews["items"]
    detail = world.client.get(
        f"/api/v1/exchange/reviews/{review['review_id']}",
        headers=world.headers(ADMIN, purpose="DATA-CLARIFICATION"),
    ).json()
    assert detail["record"]["surname"] == "Гудзь"
    assert detail["candidates"][0]["person"]["surname"] == "Ґудзь"
    linked = world.client.post(
        f"/api/v1/exchange/reviews/{review['review_id']}/link",
        json={"person_id": str(person_id)},
        headers=world.headers(ADMIN, purpose="DATA-CLARIFICATION"),
    )
    assert linked.status_code == 200, linked.text
    assert linked.json()["state"] == "applied"
    again = world.client.post(
        f"/api/v1/exchange/reviews/{review['review_id']}/reject",
        headers=world.headers(ADMIN, purpose="DATA-CLARIFICATION"),
    )
    assert again.status_code == 409
    with make_session_factory(world.engine)() as session:  # the crossing keeps its own day
        [crossing] = get_state(session, person_id).border_crossings
    assert (crossing.data["direction"], crossing.valid_from) == ("exit", dt.date(2026, 11, 1))


def _every_page(world: World, path: str, limit: int) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = world.client.get(
            path, params=params, headers=world.headers(ADMIN, purpose="DATA-CLARIFICATION")
        )
        assert response.status_code == 200, response.text
        pages += 1
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items, pages


def test_the_quarantine_is_listed_page_by_page_to_its_end(world: World) -> None:
    # An operator after a bad night has more quarantined records than one page holds.
    keys = SourceKeys("border")
    install_keys(world, keys)
    broken = [f"{{broken {n}" for n in range(7)]
    body = lines(*broken)
    sent = send(world, keys, body)
    assert sent.status_code == 202
    drain(world)

    items, pages = _every_page(world, "/api/v1/exchange/quarantine", limit=3)

    assert pages == 3
    assert [item["raw"] for item in items] == broken  # oldest first, then in line order


def _open_reviews(world: World, count: int) -> uuid.UUID:
    """``count`` border crossings (x-1, x-2, ...) under a misspelled name and no identifier of
    the registered person: as many open reviews. Returns the person, their one candidate."""
    keys = SourceKeys("border")
    install_keys(world, keys)
    with make_session_factory(world.engine)() as session, session.begin():
        person_id = register_person(session)
    body = lines(
        *(
            message(f"x-{n}", "exit", {"crossed_on": f"2026-11-0{n}"},
                    surname="Гудзь", patronymic=None, sex=None)
            for n in range(1, count + 1)
        )
    )  # fmt: skip
    assert send(world, keys, body).status_code == 202
    drain(world)
    return person_id


def test_open_reviews_are_listed_page_by_page_to_their_end(world: World) -> None:
    _open_reviews(world, 5)

    items, pages = _every_page(world, "/api/v1/exchange/reviews", limit=2)

    assert pages == 3
    assert len({item["review_id"] for item in items}) == 5
    assert [item["position"] for item in items] == [1, 2, 3, 4, 5]
    assert all(
        dt.datetime.fromisoformat(item["created_at"]).utcoffset() == dt.timedelta(0)
        for item in items
    )


def test_a_page_of_reviews_costs_the_same_statements_whatever_its_length(world: World) -> None:
    _open_reviews(world, 5)
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    def listed(limit: int) -> int:
        statements.clear()
        event.listen(world.engine, "before_cursor_execute", count)
        try:
            response = world.client.get(
                "/api/v1/exchange/reviews",
                params={"limit": limit},
                headers=world.headers(ADMIN, purpose="DATA-CLARIFICATION"),
            )
        finally:
            event.remove(world.engine, "before_cursor_execute", count)
        assert response.status_code == 200, response.text
        assert len(response.json()["items"]) == limit
        return len(statements)

    assert listed(5) == listed(1)  # the records of a page read at once, not one per review


@pytest.mark.parametrize("path", ["/api/v1/exchange/quarantine", "/api/v1/exchange/reviews"])
@pytest.mark.parametrize(
    "cursor",
    [
        "AAAA",
        keyset_cursor(["2026-11-01T00:00:00+00:00"]),
        keyset_cursor(["yesterday", "5f0c0a3e-4d6f-4c1e-9a57-1a1f8b0c2d3e", 1]),
        keyset_cursor(["2026-11-01T00:00:00+00:00", "not a uuid", 1]),
        keyset_cursor({"after": 1}),
    ],
)
def test_a_cursor_the_service_did_not_issue_is_a_422(world: World, path: str, cursor: str) -> None:
    response = world.client.get(
        path, params={"cursor": cursor}, headers=world.headers(ADMIN, purpose="DATA-CLARIFICATION")
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {"field": "cursor", "reason": "not a cursor this service issued"}
    ]


def test_a_csv_header_naming_a_field_and_its_parts_rejects_the_batch(world: World) -> None:
    # "subject" beside "subject.surname" spells two values for one place: a 422 naming the
    # column, not a 500.
    keys = SourceKeys("border")
    install_keys(world, keys)
    body = b"source_record_id,subject,subject.surname\nc-1,x,y\n"
    response = world.client.post(
        "/api/v1/exchange/border/batches",
        content=body,
        headers={
            **world.headers(BORDER),
            "X-Batch-Signature": keys.sign(body),
            "Content-Type": "text/csv",
        },
    )
    assert response.status_code == 422, response.text
    assert response.json()["reason"] == "invalid-csv"
    assert "'subject'" in response.json()["detail"]


@pytest.mark.parametrize(
    "line",
    [
        "[" * 5000 + "]" * 5000,  # nested past any parser's depth
        '{"source_record_id": "\\ud800", "message_type": "exit"}',  # a lone surrogate
        '{"source_record_id": "x-\\u0000", "message_type": "exit"}',  # NUL: no text column
    ],
    ids=["deep", "lone-surrogate", "nul-escape"],
)
def test_a_line_the_register_cannot_store_is_quarantined_beside_the_others(
    world: World, line: str
) -> None:
    keys = SourceKeys("border")
    install_keys(world, keys)
    with make_session_factory(world.engine)() as session, session.begin():
        register_person(session)
    body = lines(message("x-1", "exit", {"crossed_on": "2026-11-01"}), line)
    sent = send(world, keys, body)
    assert sent.status_code == 202, sent.text
    drain(world)
    status = world.client.get(sent.json()["status_url"], headers=world.headers(BORDER)).json()
    assert status["counts"]["applied"] == 1 and status["counts"]["quarantined"] == 1
    listed = world.client.get(
        "/api/v1/exchange/quarantine", headers=world.headers(ADMIN, purpose="DATA-CLARIFICATION")
    )
    assert listed.status_code == 200, listed.text
    [record] = listed.json()["items"]
    assert record["reason"].startswith("malformed") and record["source_record_id"] is None


@pytest.mark.parametrize("batch_format", ["jsonl", "csv"])
def test_a_time_without_its_utc_offset_is_quarantined_naming_the_field(
    world: World, batch_format: str
) -> None:
    keys = SourceKeys("border")
    install_keys(world, keys)
    with make_session_factory(world.engine)() as session, session.begin():
        register_person(session)
    if batch_format == "csv":
        body = (
            "source_record_id,recorded_at,message_type,subject.surname,subject.given_name,"
            "subject.birth_date,payload.crossed_on\n"
            "x-1,2026-11-10T09:00:00,exit,Ґудзь,Тарас,1990-03-15,2026-11-01\n"
            "x-2,2026-11-10T11:00:00+02:00,exit,Ґудзь,Тарас,1990-03-15,2026-11-01\n"
        ).encode()
    else:
        naive = message("x-1", "exit", {"crossed_on": "2026-11-01"})
        naive["recorded_at"] = "2026-11-10T09:00:00"
        body = lines(naive, message("x-2", "exit", {"crossed_on": "2026-11-01"}))
    content_type = "text/csv" if batch_format == "csv" else "application/x-ndjson"
    sent = world.client.post(
        "/api/v1/exchange/border/batches",
        content=body,
        headers={
            **world.headers(BORDER),
            "X-Batch-Signature": keys.sign(body),
            "Content-Type": content_type,
        },
    )
    assert sent.status_code == 202, sent.text
    drain(world)
    status = world.client.get(sent.json()["status_url"], headers=world.headers(BORDER)).json()
    assert status["counts"]["applied"] == 1 and status["counts"]["quarantined"] == 1
    listed = world.client.get(
        "/api/v1/exchange/quarantine", headers=world.headers(ADMIN, purpose="DATA-CLARIFICATION")
    )
    assert listed.status_code == 200, listed.text
    [record] = listed.json()["items"]
    assert record["source_record_id"] == "x-1"
    assert record["reason"] == "invalid: recorded_at: a time without its UTC offset"


def test_a_nul_byte_rejects_the_batch_with_its_line(world: World) -> None:
    keys = SourceKeys("border")
    install_keys(world, keys)
    body = lines(message("x-1", "exit", {"crossed_on": "2026-11-01"}), '{"a": 1}\x00')
    response = send(world, keys, body)
    assert response.status_code == 422, response.text
    assert response.json()["reason"] == "nul-character"
    assert response.json()["detail"] == "line 2: a NUL character (0x00) in text"


@pytest.mark.parametrize(
    "body",
    [
        b'{"corrected": {"source_record_id": "\\ud800"}}',  # a lone surrogate
        b'{"corrected": {"payload": {"share": NaN}}}',  # json.loads takes it; orjson writes null
    ],
    ids=["lone-surrogate", "nan"],
)
def test_a_correction_that_is_not_unicode_text_is_a_422(world: World, body: bytes) -> None:
    keys = SourceKeys("border")
    install_keys(world, keys)
    sent = send(world, keys, lines("{broken"))
    assert sent.status_code == 202
    drain(world)
    batch_id = sent.json()["batch_id"]
    replay = world.client.post(
        f"/api/v1/exchange/quarantine/{batch_id}/1/replay",
        content=body,
        headers={
            **world.headers(ADMIN, purpose="DATA-CLARIFICATION"),
            "Content-Type": "application/json",
        },
    )
    assert replay.status_code == 422, replay.text
    assert replay.json()["errors"] == [
        {
            "field": "corrected",
            "reason": "not storable: NaN or Infinity, a lone surrogate or an integer past 64 bits",
        }
    ]


def test_a_link_chooses_among_the_candidates_compared(world: World) -> None:
    person_id = _open_reviews(world, 1)
    headers = world.headers(ADMIN, purpose="DATA-CLARIFICATION")
    [review] = world.client.get("/api/v1/exchange/reviews", headers=headers).json()["items"]
    link = f"/api/v1/exchange/reviews/{review['review_id']}/link"
    # Another region's person, and an id of no one: neither was compared with the record.
    for other in (world.lviv_person, uuid.uuid4()):
        refused = world.client.post(link, json={"person_id": str(other)}, headers=headers)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"] == [
            {"field": "person_id", "reason": f"person {other} is not a candidate of this review"}
        ]
    # The review is still open, and the candidate can be linked.
    still = world.client.get("/api/v1/exchange/reviews", headers=headers).json()["items"]
    assert [r["review_id"] for r in still] == [review["review_id"]]
    linked = world.client.post(link, json={"person_id": str(person_id)}, headers=headers)
    assert linked.status_code == 200, linked.text
    assert linked.json()["state"] == "applied" and linked.json()["person_id"] == str(person_id)


def _worker(world: World, source: str, body: bytes, hours: int) -> None:
    """A batch of ``source`` received ``hours`` after NOW and processed by a worker whose
    clock reads that time: a birth in it comes after what was processed at NOW."""
    at = NOW + dt.timedelta(hours=hours)
    with make_session_factory(world.engine)() as session, session.begin():
        receive_batch(session, source=source, body=body, signature=None, ring=None, now=at)
    Processor(sessions=make_session_factory(world.engine), clock=lambda: at).process_pending()


def _birth(world: World, record_id: str, surname: str, hours: int) -> None:
    """A child nobody else's records are about is born (of a family named ``surname``)."""
    child = {"surname": surname, "given_name": "Орест", "birth_date": "2026-10-30", "sex": "male"}
    _worker(world, "civil_status", lines(message(record_id, "birth", child, **child)), hours)


def test_a_rejected_review_is_not_offered_again_after_births(world: World) -> None:
    _open_reviews(world, 1)
    officer = world.headers(ADMIN, purpose="DATA-CLARIFICATION")
    [review] = world.client.get("/api/v1/exchange/reviews", headers=officer).json()["items"]
    rejected = world.client.post(
        f"/api/v1/exchange/reviews/{review['review_id']}/reject", headers=officer
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["state"] == "quarantined"
    reason = rejected.json()["reason"]
    assert reason.startswith("no-matching-person: an officer found that the subject is none of")

    _birth(world, "b-1", "Кривоніс", hours=1)  # the crossing is tried again: the same candidate

    assert world.client.get("/api/v1/exchange/reviews", headers=officer).json()["items"] == []
    listed = world.client.get("/api/v1/exchange/quarantine", headers=officer).json()["items"]
    assert [(r["source_record_id"], r["reason"]) for r in listed] == [("x-1", reason)]

    with make_session_factory(world.engine)() as session, session.begin():
        identity = {"surname": "Гудзь", "given_name": "Тарас", "patronymic": "Петрович",
                    "birth_date": "1990-03-16", "sex": "male"}  # fmt: skip
        facts = [new_fact(FactKind.identity, identity, source="civil_status")]
        other = create_person(session, facts=facts, now=NOW).person_id
    _birth(world, "b-2", "Стецюк", hours=2)  # now someone new is a candidate too

    [again] = world.client.get("/api/v1/exchange/reviews", headers=officer).json()["items"]
    detail = world.client.get(f"/api/v1/exchange/reviews/{again['review_id']}", headers=officer)
    assert detail.status_code == 200, detail.text
    assert [c["person_id"] for c in detail.json()["candidates"]] == [str(other)]
    [earlier] = detail.json()["rejected_before"]
    assert (earlier["review_id"], earlier["decided_by"], earlier["persons"]) == (
        review["review_id"],
        ADMIN.actor,
        1,
    )


def test_an_invalidation_of_an_unknown_document_waits_for_an_operator(world: World) -> None:
    with make_session_factory(world.engine)() as session, session.begin():
        holder = register_person(session)
    booklet = make_document_number("passport_booklet", 4242)
    document = {"document_kind": "passport_booklet", "number": booklet}
    invalidated = message(
        "g-1", "document_invalidated", document | {"on": "2026-11-02"},
        surname=None, given_name=None, patronymic=None, birth_date=None, sex=None,
    )  # fmt: skip
    _worker(world, "demographic", lines(invalidated), hours=0)
    operator = world.headers(ADMIN, purpose="DATA-CLARIFICATION")
    [record] = world.client.get("/api/v1/exchange/quarantine", headers=operator).json()["items"]
    assert record["reason"].startswith(
        "unknown-identifier: the register holds no passport booklet with the number this "
        "invalidation names, and the message names no person"
    )

    _birth(world, "b-1", "Кривоніс", hours=1)  # a birth brings no document: not retried

    still = world.client.get("/api/v1/exchange/quarantine", headers=operator).json()["items"]
    assert still == [record]
    with make_session_factory(world.engine)() as session:
        decided = session.scalars(
            select(LinkDecision).where(LinkDecision.batch_id == uuid.UUID(record["batch_id"]))
        ).all()
        assert len(decided) == 1  # processed once

    # The booklet's issuance arrives late; the operator replays the invalidation.
    issued = message("g-0", "document_issued", document | {"on": "2010-05-05"}, rnokpp=RNOKPP)
    _worker(world, "demographic", lines(issued), hours=2)
    replay = world.client.post(
        f"/api/v1/exchange/quarantine/{record['batch_id']}/{record['position']}/replay",
        json={},
        headers=operator,
    )
    assert replay.status_code == 200, replay.text
    assert (replay.json()["state"], replay.json()["person_id"]) == ("applied", str(holder))
