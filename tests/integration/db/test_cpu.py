"""The benchmarks' meter of the database's CPU: it counts the work of connections that open and
close while it runs, and only that database's."""

from __future__ import annotations

import pytest
from sqlalchemy import make_url, text

from oberih.db.cpu import DatabaseCpuMeter
from oberih.db.engine import make_engine

# About a second of one core on this machine, whatever else it runs.
BUSY = "SELECT count(*) FROM generate_series(1, 5000000) AS n WHERE n % 7 = 3"


def _busy(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            connection.execute(text(BUSY))
    finally:
        engine.dispose()  # the backend ends before the meter does


@pytest.mark.postgres
def test_the_work_of_a_connection_that_came_and_went_is_counted(
    postgres_database_url: str,
) -> None:
    database = make_url(postgres_database_url).database
    with DatabaseCpuMeter(database, poll_seconds=0.05) as meter:
        _busy(postgres_database_url)
    assert meter.seconds > 0.1


@pytest.mark.postgres
def test_another_databases_work_is_not_counted(postgres_database_url: str) -> None:
    url = make_url(postgres_database_url)
    with DatabaseCpuMeter(url.database, poll_seconds=0.05) as meter:
        _busy(url.set(database="postgres").render_as_string(hide_password=False))
    assert meter.seconds < 0.05


def test_without_a_database_server_nothing_is_measured() -> None:
    with DatabaseCpuMeter(None) as meter:
        pass
    assert meter.seconds == 0.0


@pytest.mark.postgres
def test_the_meter_reports_its_own_cpu_for_callers_to_take_out(
    postgres_database_url: str,
) -> None:
    database = make_url(postgres_database_url).database
    with DatabaseCpuMeter(database, poll_seconds=0.01) as meter:
        _busy(postgres_database_url)
    assert 0.0 < meter.polling_seconds < meter.seconds
