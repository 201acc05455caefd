"""``oberih import`` and ``oberih exchange ...`` on both engines."""

from __future__ import annotations

import json
import stat
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner, Result

from oberih.cli import app
from oberih.db.engine import make_session_factory
from oberih.exchange.cli import EXIT_CONFIGURATION
from oberih.exchange.models import ExchangeBatch, ExchangeRecord
from oberih.exchange.services import Processor, open_reviews, receive_batch
from oberih.exchange.signing import load_key_ring
from oberih.persons.facts import FactKind
from oberih.persons.services import create_person
from tests.factories import new_fact
from tests.integration.exchange.helpers import NOW, RNOKPP, lines, message, register_person


def test_a_signed_file_is_imported_and_its_quarantine_replayed(
    engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_session_factory(engine)() as session, session.begin():
        register_person(session)
    runner = CliRunner()
    keys_file, private_key = tmp_path / "keys.json", tmp_path / "civil.pem"
    monkeypatch.setenv("OBERIH_EXCHANGE_KEYS_FILE", str(keys_file))
    made = runner.invoke(
        app,
        ["exchange", "keygen", "civil_status", "--kid", "cs-1",
         "--private-key", str(private_key), "--keys-file", str(keys_file)],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(
        lines(
            message("d-1", "death", {"date_of_death": "2026-10-20"}, rnokpp=RNOKPP),
            message("d-2", "death", {"date_of_death": "soon"}, rnokpp=RNOKPP),
        )
    )
    unsigned = runner.invoke(
        app, ["import", "civil_status", str(feed), "--database-url", database_url]
    )
    assert unsigned.exit_code == 1 and "signature-missing" in unsigned.output
    signed = runner.invoke(
        app, ["exchange", "sign", str(feed), "--private-key", str(private_key), "--kid", "cs-1"]
    )
    assert signed.exit_code == 0, signed.output
    imported = runner.invoke(
        app, ["import", "civil_status", str(feed), "--process", "--database-url", database_url]
    )
    assert imported.exit_code == 0, imported.output
    report = json.loads(imported.output.strip().splitlines()[-1])
    assert report["counts"]["applied"] == 1 and report["counts"]["quarantined"] == 1

    listed = runner.invoke(app, ["exchange", "quarantine", "list", "--database-url", database_url])
    [entry] = [json.loads(line) for line in listed.output.strip().splitlines()]
    assert entry["reason"].startswith("invalid")
    corrected = tmp_path / "fixed.json"
    corrected.write_text(
        json.dumps(message("d-2", "death", {"date_of_death": "2026-10-20"}, rnokpp=RNOKPP))
    )
    replayed = runner.invoke(
        app,
        ["exchange", "quarantine", "replay", entry["batch_id"], str(entry["position"]),
         "--corrected", str(corrected), "--database-url", database_url],
    )  # fmt: skip
    assert replayed.exit_code == 0, replayed.output
    # The same death under another record id: the fact is new, the state the same.
    assert json.loads(replayed.output)["state"] == "applied"


def test_merge_and_unmerge_from_the_command_line(engine: Engine, database_url: str) -> None:

    with make_session_factory(engine)() as session, session.begin():
        survivor = register_person(session)
        identity = {
            "surname": "Ґудзь",
            "given_name": "Тарас",
            "birth_date": "1990-03-15",
            "sex": "male",
        }
        absorbed = create_person(
            session, facts=[new_fact(FactKind.identity, identity, source="civil_status")], now=NOW
        ).person_id
    runner = CliRunner()
    merged = runner.invoke(
        app, ["exchange", "merge", str(survivor), str(absorbed), "--database-url", database_url]
    )
    assert merged.exit_code == 0, merged.output
    merge_id = json.loads(merged.output)["merge_id"]
    undone = runner.invoke(app, ["exchange", "unmerge", merge_id, "--database-url", database_url])
    assert undone.exit_code == 0, undone.output
    assert json.loads(undone.output)["undone"] is True
    again = runner.invoke(app, ["exchange", "unmerge", merge_id, "--database-url", database_url])
    assert again.exit_code == 1
    assert again.output.strip() == "oberih: refused: this merge is already undone"


@pytest.mark.parametrize(
    ("absorbed", "says"),
    [
        ("self", "refused: a person cannot be merged into themself"),
        ("00000000-0000-4000-8000-000000000000", "no such person: "),
    ],
)
def test_a_merge_the_register_refuses_is_one_line(
    engine: Engine, database_url: str, absorbed: str, says: str
) -> None:
    with make_session_factory(engine)() as session, session.begin():
        survivor = str(register_person(session))
    refused = CliRunner().invoke(
        app,
        ["exchange", "merge", survivor, survivor if absorbed == "self" else absorbed,
         "--database-url", database_url],
    )  # fmt: skip
    assert refused.exit_code == 1
    assert refused.output.startswith(f"oberih: {says}")
    assert len(refused.output.strip().splitlines()) == 1


def _keygen(keys_file: Path, private_key: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        app,
        ["exchange", "keygen", "tax", "--private-key", str(private_key),
         "--keys-file", str(keys_file), *extra],
    )  # fmt: skip


def test_keygen_makes_its_directories_and_a_key_only_its_owner_reads(tmp_path: Path) -> None:
    keys_file, private_key = tmp_path / "ring" / "keys.json", tmp_path / "secret" / "tax.pem"
    made = _keygen(keys_file, private_key, "--kid", "tax-1")
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(private_key.stat().st_mode) == 0o600
    assert [entry["kid"] for entry in json.loads(keys_file.read_text())["keys"]] == ["tax-1"]
    assert load_key_ring(keys_file).find("tax", "tax-1") is not None


@pytest.mark.parametrize(
    ("key_file", "options", "says"),
    [
        ("tax.pem", ("--kid", "tax-2"), "exists; a signing key is never overwritten"),
        ("other.pem", ("--kid", "tax-1"), "key 'tax-1' of tax is already registered"),
        ("other.pem", ("--kid", "tax-3", "--algorithm", "RS256"), "use EdDSA or ES256"),
    ],
)
def test_keygen_never_replaces_a_key_nor_registers_one_id_twice(
    tmp_path: Path, key_file: str, options: tuple[str, ...], says: str
) -> None:
    keys_file, private_key = tmp_path / "keys.json", tmp_path / "tax.pem"
    assert _keygen(keys_file, private_key, "--kid", "tax-1").exit_code == 0
    ring, key = keys_file.read_bytes(), private_key.read_bytes()

    refused = _keygen(keys_file, tmp_path / key_file, *options)

    assert refused.exit_code == 2
    assert says in " ".join(refused.output.replace("│", " ").split())
    assert keys_file.read_bytes() == ring and private_key.read_bytes() == key
    assert not (tmp_path / "other.pem").exists()


def test_an_unusable_key_ring_stops_an_import_in_one_line(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys_file = tmp_path / "keys.json"
    keys_file.write_text('{"keys": [{"source": "tax", "kid": "tax-1"}]}')
    monkeypatch.setenv("OBERIH_EXCHANGE_KEYS_FILE", str(keys_file))
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(lines(message("d-1", "death", {"date_of_death": "2026-10-20"})))
    result = CliRunner().invoke(
        app, ["import", "civil_status", str(feed), "--database-url", database_url]
    )
    assert result.exit_code == EXIT_CONFIGURATION
    assert result.output.strip() == (
        f"oberih: key ring {keys_file}: keys[0]: missing alg, public_key"
    )


NO_SUCH = "00000000-0000-4000-8000-000000000000"


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (["exchange", "batch", NO_SUCH], f"no such batch: {NO_SUCH}"),
        (["exchange", "review", "show", NO_SUCH], f"no such review: {NO_SUCH}"),
        (["exchange", "review", "link", NO_SUCH, NO_SUCH], f"no such review: {NO_SUCH}"),
        (["exchange", "review", "reject", NO_SUCH], f"no such review: {NO_SUCH}"),
        (["exchange", "quarantine", "replay", NO_SUCH, "1"], f"no such record: {NO_SUCH}/1"),
    ],
)
def test_what_the_register_does_not_hold_is_named_in_one_line(
    database_url: str, command: list[str], says: str
) -> None:
    # An officer's or operator's mistyped id at 3 a.m.: the id and what it is not, exit 1.
    result = CliRunner().invoke(app, [*command, "--database-url", database_url])
    assert result.exit_code == 1
    assert result.output.strip() == f"oberih: {says}"


def test_a_review_decision_the_register_refuses_is_said_in_one_line(
    engine: Engine, database_url: str
) -> None:
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        register_person(session)
        crossing = message(
            "x-1", "exit", {"crossed_on": "2026-11-01"},
            surname="Гудзь", patronymic=None, sex=None,
        )  # fmt: skip
        batch = receive_batch(
            session, source="border", body=lines(crossing), signature=None, ring=None, now=NOW
        )
        batch_id = batch.id
    Processor(sessions=sessions, clock=lambda: NOW).process_pending(batch_id=batch_id)
    with sessions() as session:
        [review] = open_reviews(session)
        review_id = str(review.id)
    runner = CliRunner()

    def decide(*command: str) -> Result:
        return runner.invoke(
            app, ["exchange", "review", *command, review_id, "--database-url", database_url]
        )

    # Not a candidate: the person was not compared with the record; the review stays open.
    stranger = runner.invoke(
        app,
        ["exchange", "review", "link", review_id, NO_SUCH, "--database-url", database_url],
    )
    assert stranger.exit_code == 1
    assert stranger.output.strip() == (
        f"oberih: refused: person {NO_SUCH} is not a candidate of this review"
    )
    assert decide("reject").exit_code == 0
    again = decide("reject")
    assert again.exit_code == 1
    assert again.output.strip() == "oberih: refused: this identity review is already decided"


def test_an_unmerge_of_no_merge_is_named_in_one_line(database_url: str) -> None:
    result = CliRunner().invoke(
        app, ["exchange", "unmerge", NO_SUCH, "--database-url", database_url]
    )
    assert result.exit_code == 1
    assert result.output.strip() == f"oberih: no such merge: {NO_SUCH}"


KNOWN_SOURCES = "known: civil_status, demographic, tax, education, health, border, social, employer"


@pytest.mark.parametrize(
    "command",
    [
        ["import", "civil-status", "FEED"],
        ["exchange", "schema", "civil-status"],
        ["exchange", "quarantine", "list", "--source", "civil-status"],
    ],
)
def test_a_mistyped_source_register_is_named_in_one_line(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("OBERIH_DATABASE_URL", database_url)
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(lines(message("d-1", "death", {"date_of_death": "2026-10-20"})))
    result = CliRunner().invoke(app, [str(feed) if part == "FEED" else part for part in command])
    assert result.exit_code == 1, result.output
    assert result.output == f"oberih: unknown source register 'civil-status'; {KNOWN_SOURCES}\n"


def _signed_feed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A feed file and the civil status register's private key (its ring configured)."""
    keys_file, private_key = tmp_path / "keys.json", tmp_path / "civil.pem"
    monkeypatch.setenv("OBERIH_EXCHANGE_KEYS_FILE", str(keys_file))
    made = CliRunner().invoke(
        app,
        ["exchange", "keygen", "civil_status", "--kid", "cs-1",
         "--private-key", str(private_key), "--keys-file", str(keys_file)],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    return tmp_path / "feed.jsonl", private_key


def _sign(path: Path, private_key: Path) -> None:
    signed = CliRunner().invoke(
        app, ["exchange", "sign", str(path), "--private-key", str(private_key), "--kid", "cs-1"]
    )
    assert signed.exit_code == 0, signed.output


def test_a_rejected_batch_is_one_line_on_stderr(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed, private_key = _signed_feed(tmp_path, monkeypatch)
    other = tmp_path / "other.jsonl"
    other.write_bytes(lines(message("d-9", "death", {"date_of_death": "2026-10-21"})))
    _sign(other, private_key)
    feed.write_bytes(lines(message("d-1", "death", {"date_of_death": "2026-10-20"})))
    # The signature of another file: the longest reason, once wrapped by Rich at 80 columns.
    result = CliRunner().invoke(
        app,
        ["import", "civil_status", str(feed), "--signature", f"{other}.jws",
         "--database-url", database_url],
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "oberih: batch rejected (bad-signature): "
        "the signature by key 'cs-1' does not match the batch bytes\n"
    )


def test_a_signature_file_is_read_as_told(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed, _ = _signed_feed(tmp_path, monkeypatch)
    feed.write_bytes(lines(message("d-1", "death", {"date_of_death": "2026-10-20"})))
    # A signature file named that is not there is the operator's mistake, not an unsigned batch.
    missing = CliRunner().invoke(
        app,
        ["import", "civil_status", str(feed), "--signature", str(tmp_path / "feed.jws"),
         "--database-url", database_url],
    )  # fmt: skip
    assert missing.exit_code == 2
    assert "does not exist" in missing.output
    # A signature that is not even ASCII is malformed, said in one line.
    Path(f"{feed}.jws").write_bytes(b"\xff\xfe\x00garbage")
    binary = CliRunner().invoke(
        app, ["import", "civil_status", str(feed), "--database-url", database_url]
    )
    assert binary.exit_code == 1
    assert binary.output == (
        "oberih: batch rejected (signature-malformed): the signature is not a compact JWS\n"
    )


def test_a_nul_character_rejects_the_batch_naming_its_line(
    engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed, private_key = _signed_feed(tmp_path, monkeypatch)
    feed.write_bytes(
        lines(message("d-1", "death", {"date_of_death": "2026-10-20"}))
        + b'{"source_record_id": "d\x00"}\n'
    )
    _sign(feed, private_key)
    result = CliRunner().invoke(
        app, ["import", "civil_status", str(feed), "--database-url", database_url]
    )
    assert result.exit_code == 1, result.output
    assert result.output == (
        "oberih: batch rejected (nul-character): line 2: a NUL character (0x00) in text\n"
    )
    with make_session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(ExchangeBatch)) == 0


@pytest.mark.parametrize(
    ("content", "says"),
    [(b"\xff{}", "not UTF-8 text"), (b'{"source_record_id": "d\x00"}', "a NUL character")],
)
def test_a_correction_that_is_not_text_is_refused(
    engine: Engine, database_url: str, tmp_path: Path, content: bytes, says: str
) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(lines('{"source_record_id": "d'))
    imported = CliRunner().invoke(
        app,
        ["import", "civil_status", str(feed), "--trusted", "--process",
         "--database-url", database_url],
    )  # fmt: skip
    assert json.loads(imported.output)["counts"]["quarantined"] == 1, imported.output
    corrected = tmp_path / "fixed.json"
    corrected.write_bytes(content)
    batch_id = json.loads(imported.output)["batch_id"]
    result = CliRunner().invoke(
        app,
        ["exchange", "quarantine", "replay", batch_id, "1", "--corrected", str(corrected),
         "--database-url", database_url],
    )  # fmt: skip
    assert result.exit_code == 2
    assert says in " ".join(result.output.replace("│", " ").split())
    with make_session_factory(engine)() as session:
        record = session.get(ExchangeRecord, (uuid.UUID(batch_id), 1))
        assert record is not None and record.state == "quarantined"
        assert record.raw == '{"source_record_id": "d'


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_an_import_quarantines_a_time_without_its_utc_offset(
    engine: Engine, database_url: str, tmp_path: Path, suffix: str
) -> None:
    with make_session_factory(engine)() as session, session.begin():
        register_person(session)
    feed = tmp_path / f"feed{suffix}"
    if suffix == ".csv":
        feed.write_text(
            "source_record_id,recorded_at,message_type,subject.rnokpp,payload.date_of_death\n"
            f"d-1,2026-11-10T09:00:00,death,{RNOKPP},2026-10-20\n"
        )
    else:
        death = message("d-1", "death", {"date_of_death": "2026-10-20"}, rnokpp=RNOKPP)
        feed.write_bytes(lines({**death, "recorded_at": "2026-11-10T09:00:00"}))
    imported = CliRunner().invoke(
        app,
        ["import", "civil_status", str(feed), "--trusted", "--process",
         "--database-url", database_url],
    )  # fmt: skip
    assert imported.exit_code == 0, imported.output
    assert json.loads(imported.output)["counts"]["quarantined"] == 1, imported.output
    listed = CliRunner().invoke(
        app, ["exchange", "quarantine", "list", "--database-url", database_url]
    )
    [entry] = [json.loads(line) for line in listed.output.strip().splitlines()]
    assert entry["reason"] == "invalid: death.recorded_at: a time without its UTC offset"


@pytest.mark.parametrize("command", [["quarantine", "list"], ["review", "list"]])
def test_a_list_limit_is_at_least_one(database_url: str, command: list[str]) -> None:
    # PostgreSQL refuses a negative LIMIT; SQLite would list everything.
    result = CliRunner().invoke(
        app, ["exchange", *command, "--limit", "-1", "--database-url", database_url]
    )
    assert result.exit_code == 2


def _open_review(engine: Engine, database_url: str, tmp_path: Path) -> tuple[str, str]:
    """A review opened by an uncertain crossing, and its one candidate."""
    with make_session_factory(engine)() as session, session.begin():
        person_id = register_person(session)
    feed = tmp_path / "border.jsonl"
    feed.write_bytes(
        lines(
            message(
                "x-1", "exit", {"crossed_on": "2026-11-01"},
                surname="Гудзь", patronymic=None, sex=None,
            )
        )
    )  # fmt: skip
    imported = CliRunner().invoke(
        app,
        ["import", "border", str(feed), "--trusted", "--process", "--database-url", database_url],
    )
    assert json.loads(imported.output)["counts"]["review"] == 1, imported.output
    listed = CliRunner().invoke(app, ["exchange", "review", "list", "--database-url", database_url])
    return json.loads(listed.output)["review_id"], str(person_id)


@pytest.mark.parametrize("person", ["another", "nobody"])
def test_a_review_links_only_to_a_candidate(
    engine: Engine, database_url: str, tmp_path: Path, person: str
) -> None:
    review_id, candidate = _open_review(engine, database_url, tmp_path)
    if person == "another":
        with make_session_factory(engine)() as session, session.begin():
            identity = {
                "surname": "Ковальчук", "given_name": "Петро",
                "birth_date": "1980-01-02", "sex": "male",
            }  # fmt: skip
            other = str(
                create_person(
                    session,
                    facts=[new_fact(FactKind.identity, identity, source="civil_status")],
                    now=NOW,
                ).person_id
            )
    else:
        other = NO_SUCH
    runner = CliRunner()
    refused = runner.invoke(
        app, ["exchange", "review", "link", review_id, other, "--database-url", database_url]
    )
    assert refused.exit_code == 1
    assert refused.output == (
        f"oberih: refused: person {other} is not a candidate of this review\n"
    )
    # Nothing was decided: the review is still open and links to its candidate.
    linked = runner.invoke(
        app, ["exchange", "review", "link", review_id, candidate, "--database-url", database_url]
    )
    assert linked.exit_code == 0, linked.output
    assert json.loads(linked.output)["state"] == "applied"


def test_a_rejected_review_is_not_listed_again_after_a_birth(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    review_id, _candidate = _open_review(engine, database_url, tmp_path)
    runner = CliRunner()
    rejected = runner.invoke(
        app, ["exchange", "review", "reject", review_id, "--database-url", database_url]
    )
    assert rejected.exit_code == 0, rejected.output
    said = json.loads(rejected.output)
    assert said["state"] == "quarantined"
    assert said["reason"].startswith("no-matching-person: an officer found that the subject")

    births = tmp_path / "births.jsonl"
    child = {"surname": "Кривоніс", "given_name": "Орест", "birth_date": "2026-10-30",
             "sex": "male"}  # fmt: skip
    births.write_bytes(lines(message("b-1", "birth", child, **child)))
    imported = runner.invoke(
        app,
        ["import", "civil_status", str(births), "--trusted", "--process",
         "--database-url", database_url],
    )  # fmt: skip
    assert json.loads(imported.output)["counts"]["applied"] == 1, imported.output

    listed = runner.invoke(app, ["exchange", "review", "list", "--database-url", database_url])
    assert listed.exit_code == 0 and listed.output == ""
    quarantine = runner.invoke(
        app, ["exchange", "quarantine", "list", "--database-url", database_url]
    )
    [line] = quarantine.output.splitlines()
    assert json.loads(line)["reason"] == said["reason"]
