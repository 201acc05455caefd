"""CPU time of the PostgreSQL processes working for one database, for the benchmarks.

The benchmarks report the database's share of the work beside their own processes', because on
a 2-core machine the two compete for the same cores. PostgreSQL names its backends
``postgres: USER DATABASE HOST ...`` and its autovacuum workers ``postgres: autovacuum worker
DATABASE``; the server's shared processes (WAL writer, checkpointer) are not counted. Only a
server on this machine can be measured: elsewhere the figures are zero.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

import psutil

# How often a ``DatabaseCpuMeter`` looks: a backend that ends between two looks loses at most
# this much of its CPU time from the sum.
POLL_SECONDS = 0.2


def database_cpu_times(database: str) -> dict[tuple[int, float], float]:
    """CPU seconds used so far by each of this machine's PostgreSQL processes working for
    ``database``, by (pid, start time): a pid reused by a later process is another process.
    Only PostgreSQL's processes have their command line read (the costly part of a look)."""
    used: dict[tuple[int, float], float] = {}
    for process in psutil.process_iter(["name"]):
        if process.info["name"] != "postgres":
            continue
        try:
            with process.oneshot():
                title, times = " ".join(process.cmdline()), process.cpu_times()
                started = process.create_time()
        except psutil.Error:  # ended meanwhile
            continue
        if f" {database}" in title:
            used[(process.pid, started)] = times.user + times.system
    return used


class DatabaseCpuMeter:
    """CPU seconds the database's processes use while the meter runs (``with`` block), including
    those of backends that start and end meanwhile (they are looked at every
    ``POLL_SECONDS``: intake's workers open their connections and close them per slice).
    ``database`` None (an engine without server processes, SQLite) measures nothing.
    ``polling_seconds`` is the meter's own CPU time, which a caller measuring its process's
    CPU meanwhile takes out again."""

    def __init__(self, database: str | None, *, poll_seconds: float = POLL_SECONDS) -> None:
        self._database = database
        self._poll_seconds = poll_seconds
        self._before: dict[tuple[int, float], float] = {}
        self._last: dict[tuple[int, float], float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # ``_last`` is written by the polling thread
        self.polling_seconds = 0.0

    def __enter__(self) -> DatabaseCpuMeter:
        if self._database is None:
            return self
        self._before = database_cpu_times(self._database)
        self._last = dict(self._before)
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, name="database-cpu", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        self._look()

    @property
    def seconds(self) -> float:
        """CPU seconds used since the meter started (so far, or in all once it has stopped)."""
        with self._lock:
            return sum(used - self._before.get(key, 0.0) for key, used in self._last.items())

    def _poll(self) -> None:
        while not self._stop.wait(self._poll_seconds):
            self._look()

    def _look(self) -> None:
        if self._database is None:
            return
        started = time.thread_time()
        seen = database_cpu_times(self._database)
        with self._lock:
            self._last.update(seen)
            self.polling_seconds += time.thread_time() - started
