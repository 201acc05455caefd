"""Python's cyclic garbage collector around bulk work.

Intake builds, for each chunk of records, a large graph of short-lived objects (states parsed
from JSON, facts, candidate blocks, the session's identity map). With the collector on, the
allocations of one chunk trigger thousands of young collections and dozens of full ones, each
walking every object still alive, the chunk's whole graph included: measured in the intake
workers of ``oberih bench ingest --records 100000``, 26-38% of their CPU, growing with each
slice. Reference counting frees almost all of that graph as soon as the chunk ends; what it
cannot (reference cycles) waits for the collector's next run, at most one chunk later.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off for the ``with`` block (and back on after it, when it was on).

    Process-wide: another thread's work in the meantime is not collected either, which costs
    memory for the block's duration, never correctness (reference counting still frees every
    object that is not in a cycle). Nested or concurrent blocks leave it on once the block that
    found it on has ended.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
